// grpc.health.v1.Health (the service Kubernetes' gRPC probes, grpc_health_probe and gRPC load
// balancers ask) for the server as a whole ('') and the inference service by name: SERVING exactly
// while `ready()` says so. Check reads it at each call; Watch streams a status when it changes
// (looked at every refreshMs) and is ended when the server closes, so an open Watch never holds a
// shutdown for the whole grace period. The .proto is grpc-health-check's (the grpc-node project's).
import * as grpc from '@grpc/grpc-js';
import { service as healthService, type ServingStatus } from 'grpc-health-check';

type WatchStatus = ServingStatus | 'SERVICE_UNKNOWN';
interface Watcher {
  call: grpc.ServerWritableStream<{ service: string }, { status: WatchStatus }>;
  last: WatchStatus;
}

export function addHealthService(server: grpc.Server, services: readonly string[], ready: () => boolean, refreshMs = 1000): { close: () => void } {
  const known = new Set(['', ...services]);
  const status = (service: string): WatchStatus => (!known.has(service) ? 'SERVICE_UNKNOWN' : ready() ? 'SERVING' : 'NOT_SERVING');
  const watchers = new Set<Watcher>();

  server.addService(healthService, {
    check: (call: grpc.ServerUnaryCall<{ service: string }, { status: ServingStatus }>, callback: grpc.sendUnaryData<{ status: ServingStatus }>) => {
      const now = status(call.request.service);
      if (now === 'SERVICE_UNKNOWN') callback({ code: grpc.status.NOT_FOUND, details: `no health status for service "${call.request.service}"` });
      else callback(null, { status: now });
    },
    watch: (call: Watcher['call']) => {
      const watcher = { call, last: status(call.request.service) };
      watchers.add(watcher);
      call.on('cancelled', () => watchers.delete(watcher));
      call.write({ status: watcher.last });
    },
  });

  const timer = setInterval(() => {
    for (const w of watchers) {
      const now = status(w.call.request.service);
      if (now === w.last) continue;
      w.last = now;
      w.call.write({ status: now });
    }
  }, refreshMs);
  timer.unref();

  return {
    /** Watchers hear NOT_SERVING, then their streams end. */
    close: () => {
      clearInterval(timer);
      for (const w of watchers) {
        if (w.last !== 'SERVICE_UNKNOWN' && w.last !== 'NOT_SERVING') w.call.write({ status: 'NOT_SERVING' });
        w.call.end();
      }
      watchers.clear();
    },
  };
}
