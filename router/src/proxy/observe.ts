// What the data path records about each proxied request: the seed's request counter and latency
// histogram (by the environment and the model version that answered: during a rolling update an
// environment serves two), the sliding windows (rate, errors, latency, mean confidence) that the
// admin API, rollouts and guards read, the experiment (label mix, feedback attribution) and the
// drift monitor's windows.
import type { AnswerSummary } from '../../../shared/api/prediction.ts';
import type { DriftMonitor } from '../drift/monitor.ts';
import type { Experiment } from '../experiments/experiment.ts';
import type { RouterMetrics } from '../metrics.ts';
import type { StatsWindows } from '../stats/windows.ts';

/** The protocol a request came in on: REST (http), the Open Inference Protocol's gRPC, or GraphQL's predict. */
export type Protocol = 'http' | 'grpc' | 'graphql';

export interface Observer {
  /** `answer`: what a 200 /predict answer says (label, confidence, pieces); null for other answers. */
  answered(requestId: string, environment: string, version: string, status: number, answer: AnswerSummary | null, latencyMs: number, protocol?: Protocol): void;
  failed(requestId: string, environment: string, version: string, status: number, latencyMs: number, protocol?: Protocol): void;
}

export function createObserver(metrics: Pick<RouterMetrics, 'requests' | 'latency'>, stats: StatsWindows, experiment: Experiment, drift: DriftMonitor): Observer {
  // Label sets are few (environment × version × status); resolving each once keeps label hashing
  // off the hot path.
  const counters = new Map<string, { inc: () => void }>();
  const histograms = new Map<string, { observe: (v: number) => void }>();
  const count = (environment: string, version: string, status: number, protocol: Protocol) => {
    const key = `${environment}\u0000${version}\u0000${status}\u0000${protocol}`;
    let counter = counters.get(key);
    if (!counter) counters.set(key, (counter = metrics.requests.labels({ backend: environment, model_version: version, status: String(status), protocol })));
    counter.inc();
  };
  const observe = (environment: string, version: string, latencyMs: number, protocol: Protocol) => {
    const key = `${environment}\u0000${version}\u0000${protocol}`;
    let histogram = histograms.get(key);
    if (!histogram) histograms.set(key, (histogram = metrics.latency.labels({ backend: environment, model_version: version, protocol })));
    histogram.observe(latencyMs / 1000);
  };
  return {
    // A gRPC call's status is the HTTP status its replica answered (grpc/status.ts maps it).
    answered(requestId, environment, version, status, answer, latencyMs, protocol = 'http') {
      count(environment, version, status, protocol);
      observe(environment, version, latencyMs, protocol);
      stats.record(environment, version, latencyMs, status >= 500, answer?.confidence ?? null);
      experiment.record(requestId, environment, version, latencyMs, status >= 500, answer);
      if (answer) drift.record(environment, version, answer.label, answer.confidence, answer.pieces, answer.unknownPieces);
    },
    // The latency histogram holds answers only, as it always has; the windows count the failure.
    failed(requestId, environment, version, status, latencyMs, protocol = 'http') {
      count(environment, version, status, protocol);
      stats.record(environment, version, latencyMs, true, null);
      experiment.record(requestId, environment, version, latencyMs, true, null);
    },
  };
}
