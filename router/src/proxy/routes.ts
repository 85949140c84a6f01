// The proxied routes as a client sees them: the service's own request and answer schemas (one
// source, shared/api/), the headers the router reads and adds, and the errors either side can
// answer. Documentation only: the body travels as bytes, and the replica that answers validates
// it against these same schemas, so the router compiles no validator for them.
import { Type, type TSchema } from '@sinclair/typebox';
import type { FastifySchema, HTTPMethods } from 'fastify';
import { BATCH_PATH, BatchResponse, DEFAULT_TEXT_LIMITS, PREDICT_PATH, PredictResponse, batchBody, predictBody } from '../../../shared/api/prediction.ts';
import { InferResponse, ModelParams, VersionedModelParams, inferBody } from '../../../shared/api/v2.ts';
import { ErrorResponse } from '../../../shared/http/schemas.ts';
import { ENVIRONMENT_HEADER, MODEL_VERSION_HEADER, OVERRIDE_HEADER, REQUEST_ID_HEADER } from '../../../shared/api/headers.ts';

/** Either no credentials or an API key: keys are needed once the router is configured with some. */
export const PUBLIC_SECURITY: Record<string, string[]>[] = [{}, { apiKey: [] }];

const RequestHeaders = Type.Object({
  'x-user-id': Type.Optional(Type.String({ description: "sticky A/B key (the weights file's assignment.header, X-User-Id by default; or its assignment.cookie): one key stays in one environment while the weights stand" })),
  [OVERRIDE_HEADER]: Type.Optional(Type.String({ description: 'send the request to this environment (needs the admin bearer token or an allow-listed address)' })),
  [REQUEST_ID_HEADER]: Type.Optional(Type.String({ maxLength: 128, description: 'your id for this request, echoed back and used by POST /feedback; one is made when absent' })),
});

const answerHeaders = {
  [ENVIRONMENT_HEADER]: Type.String({ description: 'the environment that answered (blue, green, canary…)' }),
  [MODEL_VERSION_HEADER]: Type.String({ description: 'the model version that answered' }),
  [REQUEST_ID_HEADER]: Type.String({ description: 'the request id (for POST /feedback)' }),
};

// @fastify/swagger reads a response's description from x-response-description and its headers
// from headers, and keeps both out of the body's schema.
const response = (schema: TSchema, description: string) => ({ ...schema, 'x-response-description': description });
const answered = (schema: TSchema, description: string) => ({ ...response(schema, description), headers: answerHeaders });

const errors = {
  400: response(ErrorResponse, 'invalid body (validated by the replica; the message names the field) or an unknown X-Route-To environment'),
  401: response(ErrorResponse, 'API keys are configured and X-API-Key is missing or wrong'),
  403: response(ErrorResponse, 'X-Route-To without the admin token or an allow-listed address'),
  413: response(ErrorResponse, 'body over the size limit'),
  415: response(ErrorResponse, 'not application/json'),
  429: response(ErrorResponse, 'rate limit exceeded (Retry-After says when to come back)'),
  502: response(ErrorResponse, 'the chosen environment gave no usable answer after retries'),
  503: response(ErrorResponse, 'overloaded or no healthy environment (Retry-After)'),
  504: response(ErrorResponse, 'the chosen environment did not answer in time'),
};

const documented = (operationId: string, summary: string, schema: FastifySchema): FastifySchema => ({
  tags: ['predict'],
  operationId,
  summary,
  description: 'Routed to an environment by weight (or by the sticky key, or X-Route-To), retried once elsewhere when a replica fails before answering; the answer is the replica\'s, byte for byte.',
  security: PUBLIC_SECURITY,
  headers: RequestHeaders,
  ...schema,
});

export const PROXIED_ROUTES: { method: HTTPMethods; url: string; schema: FastifySchema }[] = [
  {
    method: 'POST',
    url: PREDICT_PATH,
    schema: documented('predict', 'Classify one text', { body: predictBody(DEFAULT_TEXT_LIMITS), response: { 200: answered(PredictResponse, 'the prediction'), ...errors } }),
  },
  {
    method: 'POST',
    url: BATCH_PATH,
    schema: documented('predictBatch', 'Classify many texts in one call', { body: batchBody(DEFAULT_TEXT_LIMITS), response: { 200: answered(BatchResponse, 'the predictions, in order'), ...errors } }),
  },
  {
    method: 'POST',
    url: '/v2/models/:name/infer',
    schema: documented('v2ModelInfer', 'Open Inference Protocol v2: classify texts given as a BYTES tensor named "text"', {
      params: ModelParams,
      body: inferBody(DEFAULT_TEXT_LIMITS),
      response: { 200: answered(InferResponse, 'the label and probabilities tensors'), ...errors, 404: response(ErrorResponse, 'the replica serves another model') },
    }),
  },
  {
    method: 'POST',
    url: '/v2/models/:name/versions/:version/infer',
    schema: documented('v2ModelVersionInfer', 'Open Inference Protocol v2: classify texts with one model version', {
      description: 'Sent to the environment whose replicas serve that version, whatever the weights say (sticky keys and X-Route-To do not apply); retried and hedged like the rest.',
      params: VersionedModelParams,
      body: inferBody(DEFAULT_TEXT_LIMITS),
      response: { 200: answered(InferResponse, 'the label and probabilities tensors'), ...errors, 404: response(ErrorResponse, 'no environment serves that model version') },
    }),
  },
];

/** The routes' schemas are for clients; the replica validates (see the header). */
export const documentationOnly = () => () => true;
