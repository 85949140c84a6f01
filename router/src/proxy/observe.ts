// What the data path records about each proxied request: the seed's request counter and latency
// histogram (by the environment and the model version that answered: during a rolling update an
// environment serves two), the sliding windows (rate, errors, latency, mean confidence) that the
// admin API, rollouts and guards read, the experiment (label mix, feedback attribution) and the
// drift monitor's windows.
import type { AnswerSummary } from '../../../shared/api/prediction.ts';
import type { DriftMonitor } from '../drift/monitor.ts';
import type { Experiment } from '../experiments/experiment.ts';
import type { RouterMetrics } from '../metrics.ts';
import { PairMap } from '../stats/pair-map.ts';
import type { StatsWindows } from '../stats/windows.ts';

/** The protocol a request came in on: REST (http), the Open Inference Protocol's gRPC, or GraphQL's predict. */
export type Protocol = 'http' | 'grpc' | 'graphql';

export interface Observer {
  /** `answer`: what a 200 /predict answer says (label, confidence, pieces); null for other answers. */
  answered(requestId: string, environment: string, version: string, status: number, answer: AnswerSummary | null, latencyMs: number, protocol?: Protocol): void;
  failed(requestId: string, environment: string, version: string, status: number, latencyMs: number, protocol?: Protocol): void;
}

export function createObserver(metrics: Pick<RouterMetrics, 'requests' | 'latency'>, stats: StatsWindows, experiment: Experiment, drift: DriftMonitor): Observer {
  // Label sets are few (environment × version × protocol × status); resolving each once keeps
  // label hashing off the hot path, and the lookup builds no key string.
  interface Series {
    /** Made on the first answer: a series that only failed has no latency. */
    histogram?: { observe: (v: number) => void };
    counters: Map<number, { inc: () => void }>;
  }
  const series = new PairMap<Map<Protocol, Series>>();
  const seriesOf = (environment: string, version: string, protocol: Protocol): Series => {
    let byProtocol = series.get(environment, version);
    if (!byProtocol) series.set(environment, version, (byProtocol = new Map()));
    let s = byProtocol.get(protocol);
    if (!s) byProtocol.set(protocol, (s = { counters: new Map() }));
    return s;
  };
  const count = (s: Series, environment: string, version: string, status: number, protocol: Protocol) => {
    let counter = s.counters.get(status);
    if (!counter) s.counters.set(status, (counter = metrics.requests.labels({ backend: environment, model_version: version, status: String(status), protocol })));
    counter.inc();
  };
  return {
    // A gRPC call's status is the HTTP status its replica answered (grpc/status.ts maps it).
    answered(requestId, environment, version, status, answer, latencyMs, protocol = 'http') {
      const s = seriesOf(environment, version, protocol);
      count(s, environment, version, status, protocol);
      (s.histogram ??= metrics.latency.labels({ backend: environment, model_version: version, protocol })).observe(latencyMs / 1000);
      stats.record(environment, version, latencyMs, status >= 500, answer?.confidence ?? null);
      experiment.record(requestId, environment, version, latencyMs, status >= 500, answer);
      if (answer) drift.record(environment, version, answer.label, answer.confidence, answer.pieces, answer.unknownPieces);
    },
    // The latency histogram holds answers only, as it always has; the windows count the failure.
    failed(requestId, environment, version, status, latencyMs, protocol = 'http') {
      count(seriesOf(environment, version, protocol), environment, version, status, protocol);
      stats.record(environment, version, latencyMs, true, null);
      experiment.record(requestId, environment, version, latencyMs, true, null);
    },
  };
}
