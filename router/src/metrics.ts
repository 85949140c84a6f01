// The router's Prometheus metrics, in three groups, each made by the plugin that owns what it
// measures (once that exists, so gauges read live state at scrape time). The seed's request
// counter and latency histogram keep their names and their `backend` label, since the seed's
// PromQL depends on them; every other label says `environment`.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { EventLoopLoad } from './proxy/event-loop-load.ts';
import type { ReplicaRegistry } from './replicas/registry.ts';
import type { StatsWindows } from './stats/windows.ts';
import type { WeightsStore } from './weights/store.ts';

export interface RouterMetrics {
  requests: Counter<'backend' | 'model_version' | 'status' | 'protocol'>;
  latency: Histogram<'backend' | 'model_version' | 'protocol'>;
  retries: Counter<'environment' | 'reason'>;
  hedges: Counter<'environment'>;
  shed: Counter<'environment'>;
  failovers: Counter<'environment'>;
  coalescedBatch: Histogram<'environment'>;
  coalescedOverflow: Counter<'environment'>;
  coalescedSpaced: Counter<'environment'>;
  coalescedLight: Counter<'environment'>;
  shadowRequests: Counter<'environment' | 'result'>;
  shadowAgreement: Counter<'environment' | 'agree'>;
}

/** The data path's metrics. */
export function createRouterMetrics(registry: Registry): RouterMetrics {
  const registers = [registry];
  return {
    requests: new Counter({ name: 'sentiment_api_requests_total', help: 'Proxied requests by environment (backend), model version, status and protocol (http, graphql, or grpc with the status its replica answered)', labelNames: ['backend', 'model_version', 'status', 'protocol'], registers }),
    latency: new Histogram({
      name: 'sentiment_api_latency_seconds',
      help: 'Router-observed latency of answered requests, by environment (backend), model version and protocol',
      labelNames: ['backend', 'model_version', 'protocol'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    retries: new Counter({ name: 'router_retries_total', help: 'Requests retried on another replica', labelNames: ['environment', 'reason'], registers }),
    shed: new Counter({ name: 'router_shed_total', help: 'Requests answered 503 at once because every replica of their environment had replica.max_in_flight requests in flight', labelNames: ['environment'], registers }),
    hedges: new Counter({ name: 'router_hedges_total', help: 'Requests also sent to a second replica because the first had not answered within the hedge delay', labelNames: ['environment'], registers }),
    failovers: new Counter({ name: 'router_failover_total', help: 'Requests whose chosen environment was down and went elsewhere, by the environment chosen first', labelNames: ['environment'], registers }),
    coalescedBatch: new Histogram({
      name: 'router_coalesced_batch_size',
      help: 'Predictions per /predict/batch call made by request coalescing',
      labelNames: ['environment'],
      buckets: [1, 2, 4, 8, 16, 32, 64],
      registers,
    }),
    coalescedOverflow: new Counter({
      name: 'router_coalesced_overflow_total',
      help: 'Batches sent while every replica of the environment had one in flight, because the oldest had overstayed the usual round trip (a stalled replica)',
      labelNames: ['environment'],
      registers,
    }),
    coalescedSpaced: new Counter({
      name: 'router_coalesced_spaced_total',
      help: "Batches that waited for coalesce.busy_interval_ms after their environment's previous one, the router being busy (coalesce.busy_requests and busy_utilization)",
      labelNames: ['environment'],
      registers,
    }),
    coalescedLight: new Counter({
      name: 'router_coalesced_light_total',
      help: 'Batches that left at once while their environment had one out, the router holding fewer than coalesce.light_requests coalesced requests (light load)',
      labelNames: ['environment'],
      registers,
    }),
    shadowRequests: new Counter({ name: 'router_shadow_requests_total', help: 'Mirrored requests by shadow environment and result (compared, failed, dropped)', labelNames: ['environment', 'result'], registers }),
    shadowAgreement: new Counter({ name: 'router_shadow_agreement_total', help: "Compared mirrored predictions by whether the shadow's label agreed with the primary's", labelNames: ['environment', 'agree'], registers }),
  };
}

/**
 * The seed's sentiment_prediction_confidence: mean confidence per environment (backend) and model
 * version over the last minute, so `avg by (model_version) (sentiment_prediction_confidence)`
 * gives each version's mean confidence.
 */
export function createConfidenceGauge(registry: Registry, stats: StatsWindows): void {
  new Gauge({
    name: 'sentiment_prediction_confidence',
    help: 'Mean confidence of the predictions answered in the last 60 s, by environment (backend) and model version',
    labelNames: ['backend', 'model_version'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [environment, version, s] of stats.versionStats(60)) if (s.mean_confidence !== null) this.set({ backend: environment, model_version: version }, s.mean_confidence);
    },
  });
}

/** Requests the coalescer holds (what coalesce.busy_requests and light_requests compare). */
export function createCoalescerGauge(registry: Registry, held: () => number): void {
  new Gauge({
    name: 'router_coalesced_held',
    help: 'Coalesced /predict requests the router holds, waiting for a batch or in one that is out',
    registers: [registry],
    collect() {
      this.set(held());
    },
  });
}

/** How busy the router's one event loop is (what coalesce.busy_utilization compares). */
export function createEventLoopGauge(registry: Registry, load: EventLoopLoad): void {
  new Gauge({
    name: 'router_event_loop_utilization',
    help: "Share of the last 200 ms the router's event loop spent running rather than waiting for I/O (0 to 1)",
    registers: [registry],
    collect() {
      this.set(load.utilization);
    },
  });
}

/** Replica health as the router sees it; returns the ejection counter the health monitor feeds. */
export function createReplicaMetrics(registry: Registry, replicas: ReplicaRegistry): { ejections: Counter<'environment'>; discovery: Counter<'environment' | 'result'> } {
  const registers = [registry];
  new Gauge({
    name: 'router_replica_healthy',
    help: '1 when a replica takes traffic (active check up and not ejected)',
    labelNames: ['environment', 'replica'],
    registers,
    collect() {
      this.reset();
      for (const r of replicas.all()) this.set({ environment: r.environment, replica: r.url }, r.available ? 1 : 0);
    },
  });
  new Gauge({
    name: 'router_replica_in_flight',
    help: 'Requests in flight per replica',
    labelNames: ['environment', 'replica'],
    registers,
    collect() {
      this.reset();
      for (const r of replicas.all()) this.set({ environment: r.environment, replica: r.url }, r.inFlight);
    },
  });
  return {
    ejections: new Counter({ name: 'router_ejections_total', help: 'Replicas ejected by outlier detection', labelNames: ['environment'], registers }),
    discovery: new Counter({ name: 'router_discovery_lookups_total', help: 'DNS discovery lookups by result: changed, unchanged, empty (no records) or failed (replicas kept)', labelNames: ['environment', 'result'], registers }),
  };
}

/** The weights in force and the file's reloads; returns the reload counter the store feeds. */
export function createWeightsMetrics(registry: Registry, store: WeightsStore): Counter<'result'> {
  const registers = [registry];
  new Gauge({
    name: 'router_environment_weight',
    help: 'Configured weight per environment',
    labelNames: ['environment'],
    registers,
    collect() {
      this.reset();
      for (const e of store.snapshot.environments) this.set({ environment: e.name }, e.weight);
    },
  });
  new Gauge({
    name: 'router_config_last_reload_successful',
    help: '1 when the last read of the weights file was valid',
    registers,
    collect() {
      this.set(store.lastFailure ? 0 : 1);
    },
  });
  new Gauge({
    name: 'router_config_last_reload_success_timestamp_seconds',
    help: 'When the weights in force were loaded',
    registers,
    collect() {
      this.set(Date.parse(store.lastSuccessAt) / 1000);
    },
  });
  return new Counter({ name: 'router_config_reloads_total', help: 'Weights file reloads by result', labelNames: ['result'], registers });
}
