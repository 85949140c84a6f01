// The Open Inference Protocol (KServe v2) REST API, so standard inference clients can call us:
// server health and metadata, model metadata and readiness, and inference, each model route
// unversioned and versioned. The model takes one BYTES input named "text" (flat, or nested as its
// shape says) and answers a "label" BYTES and a "probabilities" FP32 output.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { InvalidInferInputError, ModelNotFoundError } from '../../../../shared/errors.ts';
import { errorResponses, ErrorResponse, NON_BLANK_MESSAGE } from '../../../../shared/http/schemas.ts';
import { InferResponse, LiveResponse as Live, ModelMetadataResponse, ModelParams, ReadyResponse as Ready, ServerMetadataResponse, VersionedModelParams, inferBody, serverMetadata, type InferBody } from '../../../../shared/api/v2.ts';
import type { TextLimits } from '../../../../shared/api/prediction.ts';

export const v2Routes: FastifyPluginAsyncTypebox<{ limits: TextLimits }> = async (app, { limits }) => {
  const { predictor, lifecycle: state } = app;
  const { bundle } = predictor;
  const tags = ['v2'];
  const ready = () => state.ready && !state.draining;
  /** The model this service serves, named (and versioned) in the URL; anything else is a 404. */
  const check = (params: { name: string; version?: string }) => {
    if (params.name !== bundle.name || (params.version !== undefined && params.version !== bundle.version)) {
      throw new ModelNotFoundError(params.version === undefined ? params.name : `${params.name} version ${params.version}`, `${bundle.name} version ${bundle.version}`);
    }
  };

  app.get('/v2', { schema: { tags, operationId: 'v2ServerMetadata', summary: 'The server: its name, version and protocol extensions', response: { 200: ServerMetadataResponse } } }, async () => serverMetadata());
  app.get('/v2/health/live', { schema: { tags, operationId: 'v2ServerLive', summary: 'The server is up', response: { 200: Live } } }, async () => ({ live: true }));
  app.get('/v2/health/ready', { schema: { tags, operationId: 'v2ServerReady', summary: 'The server takes inference requests', response: { 200: Ready, 503: Ready } } }, async (_req, reply) =>
    reply.code(ready() ? 200 : 503).send({ ready: ready() }),
  );

  const metadata = () => ({
    name: bundle.name,
    versions: [bundle.version],
    platform: 'onnxruntime_onnx',
    inputs: [{ name: 'text', datatype: 'BYTES', shape: [-1] }],
    outputs: [
      { name: 'label', datatype: 'BYTES', shape: [-1] },
      { name: 'probabilities', datatype: 'FP32', shape: [-1, bundle.labels.length] },
    ],
  });

  const infer = async (body: InferBody) => {
    const [input] = body.inputs;
    // Triton's binary tensor data extension is not spoken here: say so rather than misread it.
    const binary = [body.parameters, input.parameters, ...(body.outputs ?? []).map((o) => o.parameters)].some((p) => p && Object.keys(p).some((k) => k.startsWith('binary_data')));
    if (binary) throw new InvalidInferInputError('the binary tensor data extension (binary_data*) is not supported: send tensor data as JSON');
    if (input.name !== 'text') throw new InvalidInferInputError(`unknown input "${input.name}": this model takes one BYTES input named "text"`);
    const texts = input.data.flat();
    const count = input.shape.reduce((a, b) => a * b, 1);
    if (count !== texts.length) throw new InvalidInferInputError(`input "text" has shape [${input.shape.join(', ')}] but ${texts.length} elements`);
    const rows = input.data.filter(Array.isArray);
    if (rows.length > 0 && (rows.length !== input.data.length || input.shape.length !== 2 || rows.some((r) => r.length !== input.shape[1]))) {
      throw new InvalidInferInputError(`input "text": nested data must be rows of shape [${input.shape.join(', ')}]`);
    }
    if (texts.some((t) => t.trim() === '')) throw new InvalidInferInputError(`input "text" elements ${NON_BLANK_MESSAGE}`);
    const predictions = await predictor.predict(texts);
    const wanted = new Set((body.outputs ?? [{ name: 'label' }, { name: 'probabilities' }]).map((o) => o.name));
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
    return { model_name: bundle.name, model_version: bundle.version, id: body.id, outputs };
  };

  const inferSchema = { 200: InferResponse, ...errorResponses, 404: ErrorResponse };
  for (const [suffix, params, id] of [['', ModelParams, ''], ['/versions/:version', VersionedModelParams, 'Version']] as const) {
    const base = `/v2/models/:name${suffix}`;
    app.get(base, { schema: { tags, operationId: `v2Model${id}Metadata`, summary: "The model's inputs and outputs", params, response: { 200: ModelMetadataResponse, 404: ErrorResponse } } }, async (request) => {
      check(request.params);
      return metadata();
    });
    app.get(`${base}/ready`, { schema: { tags, operationId: `v2Model${id}Ready`, summary: 'The model takes inference requests', params, response: { 200: Ready, 503: Ready, 404: ErrorResponse } } }, async (request, reply) => {
      check(request.params);
      return reply.code(ready() ? 200 : 503).send({ ready: ready() });
    });
    app.post(`${base}/infer`, {
      schema: { tags, operationId: `v2Model${id}Infer`, summary: 'Classify texts given as a BYTES tensor named "text"', params, body: inferBody(limits), response: inferSchema },
    }, async (request) => {
      check(request.params);
      return infer(request.body);
    });
  }
};
