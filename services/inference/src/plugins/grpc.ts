// The Open Inference Protocol's gRPC service on a port of its own (GRPC_PORT), answered by the same
// code as the REST routes (open-inference.ts): a ModelInfer request is turned into the REST body,
// checked against the very schema POST /v2/models/{name}/infer uses, and run. `app.grpc.listen()`
// binds it (server.ts); closing the app stops new calls and lets calls in flight finish before the
// model is released.
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { inferBody, serverMetadata, type InferBody } from '../../../../shared/api/v2.ts';
import type { TextLimits } from '../../../../shared/api/prediction.ts';
import { InvalidInferInputError } from '../../../../shared/errors.ts';
import { requestedModel, type ModelInferRequest, type ModelRequest } from '../../../../shared/grpc/proto.ts';
import { serveGrpc } from '../../../../shared/grpc/server.ts';
import { toGrpcResponse, toJsonRequest } from '../../../../shared/grpc/tensors.ts';
import { createOpenInference } from '../open-inference.ts';

export interface GrpcOptions {
  limits: TextLimits & { bodyBytes: number };
  /** How long calls in flight may take to finish when the service stops. */
  graceMs: number;
}

const grpcService: FastifyPluginAsync<GrpcOptions> = async (app, { limits, graceMs }) => {
  const api = createOpenInference(app.predictor, app.lifecycle);
  const schema = TypeCompiler.Compile(inferBody(limits));

  /** The request as the REST route would get it, held to the same schema (limits included). */
  function restBody(request: ModelInferRequest): { body: InferBody; raw: boolean } {
    const { body, raw } = toJsonRequest(request);
    const error = schema.Errors(body).First();
    if (error) throw new InvalidInferInputError(`${error.path || 'request'}: ${error.message}`);
    return { body: body as InferBody, raw };
  }

  serveGrpc(
    app,
    {
      ServerMetadata: async () => serverMetadata(),
      ModelReady: async (request: ModelRequest) => {
        api.check(requestedModel(request));
        return { ready: api.ready() };
      },
      ModelMetadata: async (request: ModelRequest) => {
        api.check(requestedModel(request));
        return api.metadata();
      },
      ModelInfer: async (request: ModelInferRequest) => {
        api.check(requestedModel({ name: request.model_name, version: request.model_version }));
        const { body, raw } = restBody(request);
        return toGrpcResponse(await api.infer(body), raw);
      },
    },
    { maxMessageBytes: limits.bodyBytes, graceMs, ready: api.ready },
  );
};

// Registered after the model, so it closes first: no call is left when the batcher drains.
export const grpcPlugin = fp(grpcService, { name: 'grpc', dependencies: ['model', 'metrics'] });
