// A gRPC server's life: listen on host:port (0 picks a free port), and close the way the HTTP
// servers do: new calls are refused, calls in flight finish, and whatever is still open after the
// grace period is cut.
import * as grpc from '@grpc/grpc-js';

export interface GrpcListening {
  server: grpc.Server;
  /** host:port, as a gRPC client dials it. */
  address: string;
}

export function createGrpcServer(maxMessageBytes: number): grpc.Server {
  return new grpc.Server({ 'grpc.max_receive_message_length': maxMessageBytes, 'grpc.max_send_message_length': maxMessageBytes });
}

export function listenGrpc(server: grpc.Server, host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    server.bindAsync(`${host.includes(':') ? `[${host}]` : host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, bound) => {
      if (err) reject(err);
      else resolve(`${host.includes(':') ? `[${host}]` : host}:${bound}`);
    });
  });
}

export function closeGrpc(server: grpc.Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    timer.unref();
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
