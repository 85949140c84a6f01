// The Open Inference Protocol's gRPC service as part of a Fastify app (the inference service and
// the router each serve one): its handlers as async functions, counted and timed (handlers.ts);
// `app.grpc.listen()` binds it on host:port (0 picks a free port); closing the app closes it the
// way the HTTP servers close: new calls are refused, calls in flight finish, and whatever is still
// open after the grace period is cut. Registered after what its handlers use, it closes first.
// Beside it, the standard grpc.health.v1.Health service (health.ts), SERVING exactly when
// ServerReady says ready.
import * as grpc from '@grpc/grpc-js';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { noDelayFromListener } from '../http/no-delay.ts';
import { startupFailure } from '../logger.ts';
import { announceListening } from '../parent.ts';
import { createGrpcMetrics, unary, type UnaryHandler } from './handlers.ts';
import { addHealthService } from './health.ts';
import { loadInferenceService } from './proto.ts';

declare module 'fastify' {
  interface FastifyInstance {
    grpc: { listen: (host: string, port: number) => Promise<string> };
  }
}

// Each RPC's request and answer types are its own; the service definition checks them at run time.
// ServerLive and ServerReady are answered here, from `ready`.
export type InferenceHandlers = Record<'ServerMetadata' | 'ModelReady' | 'ModelMetadata' | 'ModelInfer', UnaryHandler<any, any>>;

export interface ServeOptions {
  maxMessageBytes: number;
  /** How long calls in flight may take to finish when the app closes. */
  graceMs: number;
  /** Taking calls now: ServerReady and the health service answer from it. */
  ready: () => boolean;
}

export const INFERENCE_SERVICE = 'inference.GRPCInferenceService';

export function serveGrpc(app: FastifyInstance, handlers: InferenceHandlers, { maxMessageBytes, graceMs, ready }: ServeOptions): void {
  const log = (app.log as Logger).child({ component: 'grpc' });
  const metrics = createGrpcMetrics(app.metricsRegistry);
  const server = new grpc.Server({ 'grpc.max_receive_message_length': maxMessageBytes, 'grpc.max_send_message_length': maxMessageBytes });
  const all = { ...handlers, ServerLive: async () => ({ live: true }), ServerReady: async () => ({ ready: ready() }) };
  server.addService(loadInferenceService().service, Object.fromEntries(Object.entries(all).map(([method, handler]) => [method, unary(method, metrics, log, handler)])));

  const health = addHealthService(server, [INFERENCE_SERVICE], ready);
  app.decorate('grpc', { listen: (host: string, port: number) => listen(server, host, port) });
  app.addHook('onClose', () => {
    health.close();
    return close(server, graceMs);
  });
}

export interface ListenAt {
  host: string;
  port: number;
  grpcPort: number;
  /** The setting that names the gRPC port, for the error line. */
  grpcSetting: string;
}

/**
 * An entry point's last step: gRPC first, then HTTP (once the HTTP address is announced, both are
 * up), and a parent process told both. Exits 1 with one clear line when the gRPC port cannot be had.
 */
export async function listenBoth(app: FastifyInstance, log: Logger, at: ListenAt): Promise<string> {
  let address: string;
  try {
    address = await app.grpc.listen(at.host, at.grpcPort);
  } catch (err) {
    log.fatal(startupFailure(err), `cannot listen for gRPC on port ${at.grpcPort} (${at.grpcSetting})`);
    process.exit(1);
  }
  app.log.info(`gRPC listening at ${address}`);
  const url = await app.listen({ host: at.host, port: at.port });
  noDelayFromListener(app.server);
  announceListening(url, address);
  return address;
}

function listen(server: grpc.Server, host: string, port: number): Promise<string> {
  const at = host.includes(':') ? `[${host}]` : host;
  return new Promise((resolve, reject) => {
    server.bindAsync(`${at}:${port}`, grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(`${at}:${bound}`)));
  });
}

function close(server: grpc.Server, graceMs: number): Promise<void> {
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
