// A process started with an IPC channel (by the launcher) tells its parent the address it listens
// on, so replicas can take ephemeral ports instead of a block reserved in advance.
export interface ListeningMessage {
  type: 'listening';
  url: string;
}

export const isListeningMessage = (message: unknown): message is ListeningMessage =>
  typeof message === 'object' && message !== null && (message as ListeningMessage).type === 'listening' && typeof (message as ListeningMessage).url === 'string';

export function announceListening(url: string): void {
  process.send?.({ type: 'listening', url } satisfies ListeningMessage);
}
