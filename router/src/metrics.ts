// Router metrics, with the seed's names for the request counter and latency histogram.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { UpstreamRegistry } from './upstreams/registry.ts';
import type { WeightsStore } from './weights/store.ts';

export interface RouterMetrics {
  requests: Counter<'backend' | 'model_version' | 'status'>;
  latency: Histogram<'backend' | 'model_version'>;
  retries: Counter<'backend' | 'reason'>;
  ejections: Counter<'backend'>;
  failovers: Counter<'from'>;
  reloads: Counter<'result'>;
  coalescedBatch: Histogram<'backend'>;
  coalescedOverflow: Counter<'backend'>;
}

export function createRouterMetrics(registry: Registry, upstreams: () => UpstreamRegistry, store: () => WeightsStore | undefined): RouterMetrics {
  const registers = [registry];
  new Gauge({
    name: 'router_upstream_healthy',
    help: '1 when a replica takes traffic (active check up and not ejected)',
    labelNames: ['backend', 'replica'],
    registers,
    collect() {
      this.reset();
      for (const r of upstreams().all()) this.set({ backend: r.environment, replica: r.url }, r.available ? 1 : 0);
    },
  });
  new Gauge({
    name: 'router_upstream_in_flight',
    help: 'Requests in flight per replica',
    labelNames: ['backend', 'replica'],
    registers,
    collect() {
      this.reset();
      for (const r of upstreams().all()) this.set({ backend: r.environment, replica: r.url }, r.inFlight);
    },
  });
  new Gauge({
    name: 'router_environment_weight',
    help: 'Configured weight per environment',
    labelNames: ['backend', 'model_version'],
    registers,
    collect() {
      this.reset();
      for (const e of store()?.snapshot.environments ?? []) this.set({ backend: e.name, model_version: e.modelVersion }, e.weight);
    },
  });
  new Gauge({
    name: 'router_config_last_reload_successful',
    help: '1 when the last read of the weights file was valid',
    registers,
    collect() {
      this.set(store()?.lastFailure ? 0 : 1);
    },
  });
  new Gauge({
    name: 'router_config_last_reload_success_timestamp_seconds',
    help: 'When the weights in force were loaded',
    registers,
    collect() {
      const at = store()?.lastSuccessAt;
      if (at) this.set(Date.parse(at) / 1000);
    },
  });
  return {
    requests: new Counter({ name: 'sentiment_api_requests_total', help: 'Proxied requests by environment, model version and status', labelNames: ['backend', 'model_version', 'status'], registers }),
    latency: new Histogram({
      name: 'sentiment_api_latency_seconds',
      help: 'Router-observed latency of proxied requests',
      labelNames: ['backend', 'model_version'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    retries: new Counter({ name: 'router_retries_total', help: 'Requests retried on another replica', labelNames: ['backend', 'reason'], registers }),
    ejections: new Counter({ name: 'router_ejections_total', help: 'Replicas ejected by outlier detection', labelNames: ['backend'], registers }),
    failovers: new Counter({ name: 'router_failover_total', help: 'Requests whose chosen environment was down and went elsewhere', labelNames: ['from'], registers }),
    reloads: new Counter({ name: 'router_config_reloads_total', help: 'Weights file reloads by result', labelNames: ['result'], registers }),
    coalescedBatch: new Histogram({
      name: 'router_coalesced_batch_size',
      help: 'Predictions per /predict/batch call made by request coalescing',
      labelNames: ['backend'],
      buckets: [1, 2, 4, 8, 16, 32, 64],
      registers,
    }),
    coalescedOverflow: new Counter({
      name: 'router_coalesced_overflow_total',
      help: 'Batches sent while every replica of the environment had one in flight, because the oldest had overstayed the usual round trip (a stalled replica)',
      labelNames: ['backend'],
      registers,
    }),
  };
}
