// A process started by the controller (with an IPC channel) tells it the address it listens on, so
// replicas can take ephemeral ports, and lives no longer than the controller: when the channel
// closes (the controller exited, was killed or crashed) it shuts down as on SIGTERM, so no orphan
// keeps its port.
export interface ListeningMessage {
  type: 'listening';
  url: string;
  /** host:port of the process's gRPC service, when it has one. */
  grpc?: string;
}

export const isListeningMessage = (message: unknown): message is ListeningMessage =>
  typeof message === 'object' && message !== null && (message as ListeningMessage).type === 'listening' && typeof (message as ListeningMessage).url === 'string';

export function announceListening(url: string, grpc?: string): void {
  process.send?.({ type: 'listening', url, grpc } satisfies ListeningMessage);
}

/** With an IPC channel to a parent: shut down (as on SIGTERM) when the channel closes. */
export function exitWithParent(): void {
  if (!process.send) return;
  process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
}
