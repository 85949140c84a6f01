// Unary gRPC handlers written as async functions: the answer or the error (as a gRPC status, see
// status.ts) goes back through the callback, and every call is counted and timed by method and
// status code under the names grpc-ecosystem's Prometheus middleware uses.
import * as grpc from '@grpc/grpc-js';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { Logger } from 'pino';
import { toGrpcError, type GrpcError } from './status.ts';

export interface GrpcMetrics {
  handled: Counter<'grpc_method' | 'grpc_code'>;
  handling: Histogram<'grpc_method'>;
}

export function createGrpcMetrics(registry: Registry): GrpcMetrics {
  const registers = [registry];
  return {
    handled: new Counter({ name: 'grpc_server_handled_total', help: 'gRPC calls completed, by method and status code', labelNames: ['grpc_method', 'grpc_code'], registers }),
    handling: new Histogram({ name: 'grpc_server_handling_seconds', help: 'gRPC call duration, by method', labelNames: ['grpc_method'], buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers }),
  };
}

export type UnaryHandler<Req, Res> = (request: Req, call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res>;

export function unary<Req, Res>(method: string, metrics: GrpcMetrics, log: Logger, handler: UnaryHandler<Req, Res>): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const started = performance.now();
    const finish = (code: number) => {
      metrics.handled.inc({ grpc_method: method, grpc_code: grpc.status[code] ?? String(code) });
      metrics.handling.observe({ grpc_method: method }, (performance.now() - started) / 1000);
    };
    handler(call.request, call).then(
      (response) => {
        finish(0);
        callback(null, response);
      },
      (err: unknown) => {
        const status: GrpcError = isGrpcError(err) ? err : toGrpcError(err);
        if (status.code === grpc.status.INTERNAL || status.code === grpc.status.UNKNOWN) log.error({ err, method }, 'gRPC call failed');
        finish(status.code);
        callback(status);
      },
    );
  };
}

const isGrpcError = (err: unknown): err is GrpcError => typeof err === 'object' && err !== null && typeof (err as GrpcError).code === 'number' && typeof (err as GrpcError).details === 'string';
