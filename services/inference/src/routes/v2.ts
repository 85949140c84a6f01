// KServe Open Inference Protocol v2 (REST) subset, so standard inference clients can call us.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { InvalidInferInputError, ModelNotFoundError } from '../../../../shared/errors.ts';
import { errorResponses, ErrorResponse, NON_BLANK_MESSAGE } from '../../../../shared/http/schemas.ts';
import { InferResponse, ModelMetadataResponse, ModelParams, inferBody } from '../../../../shared/api/v2.ts';
import type { TextLimits } from '../../../../shared/api/prediction.ts';

export const v2Routes: FastifyPluginAsyncTypebox<{ limits: TextLimits }> = async (app, { limits }) => {
  const { predictor, lifecycle: state } = app;
  const { bundle } = predictor;
  const tags = ['v2'];
  const ready = () => state.ready && !state.draining;
  const Live = Type.Object({ live: Type.Boolean() });
  const Ready = Type.Object({ ready: Type.Boolean() });
  const checkName = (name: string) => {
    if (name !== bundle.name) throw new ModelNotFoundError(name, bundle.name);
  };

  app.get('/v2/health/live', { schema: { tags, operationId: 'v2ServerLive', summary: 'The server is up', response: { 200: Live } } }, async () => ({ live: true }));
  app.get('/v2/health/ready', { schema: { tags, operationId: 'v2ServerReady', summary: 'The server takes inference requests', response: { 200: Ready, 503: Ready } } }, async (_req, reply) =>
    reply.code(ready() ? 200 : 503).send({ ready: ready() }),
  );

  app.get('/v2/models/:name', { schema: { tags, operationId: 'v2ModelMetadata', summary: "The model's inputs and outputs", params: ModelParams, response: { 200: ModelMetadataResponse, 404: ErrorResponse } } }, async (request) => {
    checkName(request.params.name);
    return {
      name: bundle.name,
      versions: [bundle.version],
      platform: 'onnxruntime_onnx',
      inputs: [{ name: 'text', datatype: 'BYTES', shape: [-1] }],
      outputs: [
        { name: 'label', datatype: 'BYTES', shape: [-1] },
        { name: 'probabilities', datatype: 'FP32', shape: [-1, bundle.labels.length] },
      ],
    };
  });

  app.get('/v2/models/:name/ready', { schema: { tags, operationId: 'v2ModelReady', summary: 'The model takes inference requests', params: ModelParams, response: { 200: Ready, 503: Ready, 404: ErrorResponse } } }, async (request, reply) => {
    checkName(request.params.name);
    return reply.code(ready() ? 200 : 503).send({ ready: ready() });
  });

  app.post('/v2/models/:name/infer', {
    schema: { tags, operationId: 'v2ModelInfer', summary: 'Classify texts given as a BYTES tensor named "text"', params: ModelParams, body: inferBody(limits), response: { 200: InferResponse, ...errorResponses, 404: ErrorResponse } },
  }, async (request) => {
    checkName(request.params.name);
    const [input] = request.body.inputs;
    if (input.name !== 'text') throw new InvalidInferInputError(`unknown input "${input.name}": this model takes one BYTES input named "text"`);
    const count = input.shape.reduce((a, b) => a * b, 1);
    if (count !== input.data.length) throw new InvalidInferInputError(`input "text" has shape [${input.shape.join(', ')}] but ${input.data.length} elements`);
    if (input.data.some((t) => t.trim() === '')) throw new InvalidInferInputError(`input "text" elements ${NON_BLANK_MESSAGE}`);
    const predictions = await predictor.predict(input.data);
    const wanted = new Set((request.body.outputs ?? [{ name: 'label' }, { name: 'probabilities' }]).map((o) => o.name));
    const outputs = [];
    if (wanted.has('label')) outputs.push({ name: 'label', datatype: 'BYTES', shape: [count], data: predictions.map((p) => p.sentiment) });
    if (wanted.has('probabilities')) {
      outputs.push({
        name: 'probabilities',
        datatype: 'FP32',
        shape: [count, bundle.labels.length],
        data: predictions.flatMap((p) => bundle.labels.map((l) => p.probabilities[l])),
      });
    }
    if (outputs.length === 0) throw new InvalidInferInputError('requested outputs must include "label" or "probabilities"');
    return { model_name: bundle.name, model_version: bundle.version, id: request.body.id, outputs };
  });
};
