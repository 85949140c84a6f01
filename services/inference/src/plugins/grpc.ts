// The Open Inference Protocol's gRPC service on a port of its own (GRPC_PORT), answered by the same
// code as the REST routes (open-inference.ts): a ModelInfer request is turned into the REST body,
// checked against the very schema POST /v2/models/{name}/infer uses, and run. `app.grpc.listen()`
// binds it (server.ts); closing the app stops new calls and lets calls in flight finish before the
// model is released.
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import type { Logger } from 'pino';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { inferBody, serverMetadata, type InferBody } from '../../../../shared/api/v2.ts';
import type { TextLimits } from '../../../../shared/api/prediction.ts';
import { InvalidInferInputError } from '../../../../shared/errors.ts';
import { createGrpcMetrics, unary } from '../../../../shared/grpc/handlers.ts';
import { loadInferenceService, type ModelInferRequest, type ModelRef } from '../../../../shared/grpc/proto.ts';
import { closeGrpc, createGrpcServer, listenGrpc } from '../../../../shared/grpc/server.ts';
import { toGrpcResponse, toJsonRequest } from '../../../../shared/grpc/tensors.ts';
import { createOpenInference } from '../open-inference.ts';

declare module 'fastify' {
  interface FastifyInstance {
    grpc: { listen: (host: string, port: number) => Promise<string> };
  }
}

export interface GrpcOptions {
  limits: TextLimits & { bodyBytes: number };
  /** How long calls in flight may take to finish when the service stops. */
  graceMs: number;
}

/** An empty version in a gRPC request means "whichever you serve". */
const modelRef = (r: ModelRef) => ({ name: r.name, version: r.version || undefined });

const grpcService: FastifyPluginAsync<GrpcOptions> = async (app, { limits, graceMs }) => {
  const api = createOpenInference(app.predictor, app.lifecycle);
  const schema = TypeCompiler.Compile(inferBody(limits));
  const log = (app.log as Logger).child({ component: 'grpc' });
  const metrics = createGrpcMetrics(app.metricsRegistry);
  const server = createGrpcServer(limits.bodyBytes);

  /** The request as the REST route would get it, held to the same schema (limits included). */
  function restBody(request: ModelInferRequest): { body: InferBody; raw: boolean } {
    const { body, raw } = toJsonRequest(request);
    const error = schema.Errors(body).First();
    if (error) throw new InvalidInferInputError(`${error.path || 'request'}: ${error.message}`);
    return { body: body as InferBody, raw };
  }

  server.addService(loadInferenceService().service, {
    ServerLive: unary('ServerLive', metrics, log, async () => ({ live: true })),
    ServerReady: unary('ServerReady', metrics, log, async () => ({ ready: api.ready() })),
    ServerMetadata: unary('ServerMetadata', metrics, log, async () => serverMetadata()),
    ModelReady: unary('ModelReady', metrics, log, async (request: ModelRef) => {
      api.check(modelRef(request));
      return { ready: api.ready() };
    }),
    ModelMetadata: unary('ModelMetadata', metrics, log, async (request: ModelRef) => {
      api.check(modelRef(request));
      return api.metadata();
    }),
    ModelInfer: unary('ModelInfer', metrics, log, async (request: ModelInferRequest) => {
      api.check(modelRef({ name: request.model_name, version: request.model_version }));
      const { body, raw } = restBody(request);
      return toGrpcResponse(await api.infer(body), raw);
    }),
  });

  app.decorate('grpc', { listen: (host: string, port: number) => listenGrpc(server, host, port) });
  app.addHook('onClose', () => closeGrpc(server, graceMs));
};

// Registered after the model, so it closes first: no call is left when the batcher drains.
export const grpcPlugin = fp(grpcService, { name: 'grpc', dependencies: ['model', 'metrics'] });
