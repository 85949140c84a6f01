// The service's Prometheus metrics. Every series carries model_name and model_version (registry
// default labels); label values are bounded (routes, statuses, labels), never texts or ids.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export interface HttpMetrics {
  requests: Counter<'route' | 'method' | 'status'>;
  requestDuration: Histogram<'route' | 'method'>;
}

export interface ModelMetrics {
  inferenceDuration: Histogram;
  batchSize: Histogram;
  confidence: Histogram;
  predictions: Counter<'label'>;
}

export function createHttpMetrics(registry: Registry): HttpMetrics {
  const registers = [registry];
  return {
    requests: new Counter({ name: 'inference_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['route', 'method', 'status'], registers }),
    requestDuration: new Histogram({ name: 'inference_http_request_duration_seconds', help: 'HTTP request duration', labelNames: ['route', 'method'], buckets: LATENCY_BUCKETS, registers }),
  };
}

export function createModelMetrics(registry: Registry): ModelMetrics {
  const registers = [registry];
  return {
    inferenceDuration: new Histogram({ name: 'inference_duration_seconds', help: 'Duration of one onnxruntime batch call', buckets: LATENCY_BUCKETS, registers }),
    batchSize: new Histogram({ name: 'inference_batch_size', help: 'Texts per onnxruntime call', buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256], registers }),
    confidence: new Histogram({ name: 'inference_prediction_confidence', help: 'Probability of the predicted label', buckets: [0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99], registers }),
    predictions: new Counter({ name: 'inference_predictions_total', help: 'Predictions by label', labelNames: ['label'], registers }),
  };
}

/** Read at scrape time, once the batcher exists. */
export function createQueueDepthGauge(registry: Registry, queueDepth: () => number): void {
  new Gauge({
    name: 'inference_queue_depth',
    help: 'Texts waiting for the micro-batcher',
    registers: [registry],
    collect() {
      this.set(queueDepth());
    },
  });
}
