import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { errorResponses } from '../../../../shared/http/schemas.ts';
import { BATCH_PATH, BatchResponse, PREDICT_PATH, PredictResponse, batchBody, predictBody, type TextLimits } from '../../../../shared/api/prediction.ts';

const elapsedMs = (started: number) => Math.round((performance.now() - started) * 1000) / 1000;

export const predictRoutes: FastifyPluginAsyncTypebox<{ limits: TextLimits }> = async (app, { limits }) => {
  const { predictor } = app;
  const version = predictor.bundle.version;

  app.post(PREDICT_PATH, {
    schema: {
      tags: ['predict'],
      operationId: 'predict',
      summary: 'Classify one text',
      body: predictBody(limits),
      response: { 200: PredictResponse, ...errorResponses },
    },
  }, async (request) => {
    const started = performance.now();
    const [prediction] = await predictor.predict([request.body.text]);
    return { text: request.body.text, ...prediction, model_version: version, latency_ms: elapsedMs(started) };
  });

  app.post(BATCH_PATH, {
    schema: {
      tags: ['predict'],
      operationId: 'predictBatch',
      summary: 'Classify many texts in batched inference calls',
      body: batchBody(limits),
      response: { 200: BatchResponse, ...errorResponses },
    },
  }, async (request) => {
    const started = performance.now();
    const { texts } = request.body;
    const predictions = await predictor.predict(texts);
    return {
      predictions: predictions.map((p, i) => ({ text: texts[i], ...p })),
      count: predictions.length,
      latency_ms: elapsedMs(started),
      model_version: version,
    };
  });
};
