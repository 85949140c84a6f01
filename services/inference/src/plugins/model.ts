// The model as a plugin: `app.predictor` runs the loaded bundle through the micro-batcher and
// feeds the model metrics. When the app closes (after in-flight requests), queued batches drain
// and the model is released.
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import type { BatcherOptions } from '../../../../shared/batching/micro-batcher.ts';
import type { LoadedBundle } from '../bundle/load-bundle.ts';
import { createModelMetrics, createQueueDepthGauge } from '../metrics.ts';
import { Predictor } from '../predictor.ts';

declare module 'fastify' {
  interface FastifyInstance {
    predictor: Predictor;
  }
}

const model: FastifyPluginAsync<{ bundle: LoadedBundle; batching: BatcherOptions & { splitCostTokens?: number } }> = async (app, { bundle, batching }) => {
  const metrics = createModelMetrics(app.metricsRegistry);
  const predictor = new Predictor(bundle, batching, {
    onBatch: (size) => metrics.batchSize.observe(size),
    onInference: (seconds) => metrics.inferenceDuration.observe(seconds),
    onPrediction: (p) => {
      metrics.confidence.observe(p.confidence);
      metrics.predictions.inc({ label: p.sentiment });
    },
  });
  createQueueDepthGauge(app.metricsRegistry, () => predictor.queued);
  app.decorate('predictor', predictor);
  app.addHook('onClose', async () => {
    await predictor.drain();
    await bundle.classifier.release();
  });
};

export const modelPlugin = fp(model, { name: 'model', dependencies: ['metrics'] });
