// What the data path records about each proxied request: the seed's request counter and latency
// histogram (by the environment and version that answered) and the environment's sliding window
// (rate, errors, latency, mean confidence) that the admin API and, later, guards read.
import { answerConfidence } from '../../../shared/api/prediction.ts';
import type { RouterMetrics } from '../metrics.ts';
import type { StatsWindows } from '../stats/windows.ts';
import type { EnvironmentSnapshot } from '../weights/snapshot.ts';

export interface Observer {
  answered(served: EnvironmentSnapshot, status: number, body: Buffer, latencyMs: number): void;
  failed(target: EnvironmentSnapshot, status: number, latencyMs: number): void;
}

export function createObserver(metrics: Pick<RouterMetrics, 'requests' | 'latency'>, stats: StatsWindows): Observer {
  // Label sets are few (environment × version × status); resolving each once keeps label hashing
  // off the hot path.
  const counters = new Map<string, { inc: () => void }>();
  const histograms = new Map<string, { observe: (v: number) => void }>();
  const count = (env: EnvironmentSnapshot, status: number) => {
    const key = `${env.name}\u0000${env.modelVersion}\u0000${status}`;
    let counter = counters.get(key);
    if (!counter) counters.set(key, (counter = metrics.requests.labels({ backend: env.name, model_version: env.modelVersion, status: String(status) })));
    counter.inc();
  };
  const observe = (env: EnvironmentSnapshot, latencyMs: number) => {
    const key = `${env.name}\u0000${env.modelVersion}`;
    let histogram = histograms.get(key);
    if (!histogram) histograms.set(key, (histogram = metrics.latency.labels({ backend: env.name, model_version: env.modelVersion })));
    histogram.observe(latencyMs / 1000);
  };
  return {
    answered(served, status, body, latencyMs) {
      count(served, status);
      observe(served, latencyMs);
      stats.of(served.name).record(latencyMs, status >= 500, status === 200 ? answerConfidence(body) : null);
    },
    // The latency histogram holds answers only, as it always has; the window counts the failure.
    failed(target, status, latencyMs) {
      count(target, status);
      stats.of(target.name).record(latencyMs, true, null);
    },
  };
}
