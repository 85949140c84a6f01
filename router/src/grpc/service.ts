// The Open Inference Protocol's gRPC service on the router (ROUTER_GRPC_PORT): an adapter of the
// data path (data-path/core.ts), as the HTTP routes are. ModelInfer is admitted like a public HTTP
// request (API key, rate limit), then handled by the same core: the routing policy (the weights,
// sticky users by the same metadata keys as the HTTP headers, X-Route-To, a version going to the
// environment serving it), the send with its hedges, retries, shedding and health accounting, and
// the same metrics with protocol="grpc". Replicas are reached over their REST v2 endpoint, the one
// upstream protocol every rule of the data path is built on. Health and metadata are the router's
// own, or an available replica's, as on REST (v2/).
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import * as grpc from '@grpc/grpc-js';
import type { IncomingHttpHeaders } from 'node:http';
import { serverMetadata } from '../../../shared/api/v2.ts';
import { BadGatewayError } from '../../../shared/errors.ts';
import { requestedModel, type ModelInferRequest, type ModelRequest } from '../../../shared/grpc/proto.ts';
import { serveGrpc, type ServeOptions } from '../../../shared/grpc/server.ts';
import { grpcError } from '../../../shared/grpc/status.ts';
import { toGrpcResponse, toJsonRequest, type JsonInferResponse } from '../../../shared/grpc/tensors.ts';
import { ENVIRONMENT_HEADER, MODEL_VERSION_HEADER, REQUEST_ID_HEADER } from '../../../shared/api/headers.ts';
import { requestIdFrom } from '../../../shared/http/request-id.ts';
import { askReplica, routerReady } from '../v2/model-replica.ts';

/** gRPC metadata as the HTTP headers the data path reads (keys are lower-case in both). */
function headersOf(metadata: grpc.Metadata): IncomingHttpHeaders {
  const headers: IncomingHttpHeaders = {};
  for (const [key, value] of Object.entries(metadata.getMap())) if (typeof value === 'string') headers[key] = value;
  return headers;
}

/** "ipv4:127.0.0.1:5000" or "ipv6:[::1]:5000" → the address alone. */
function peerAddress(peer: string): string {
  const address = peer.replace(/^ipv[46]:/, '');
  const bracketed = /^\[(.*)\]:\d+$/.exec(address);
  return bracketed ? bracketed[1] : address.replace(/:\d+$/, '');
}

/** A replica's JSON error answer as a gRPC status (its code in the error-code trailer). */
function replicaError(status: number, body: string) {
  try {
    const error = JSON.parse(body) as { code?: string; message?: string; error?: string };
    return grpcError(status, error.code, error.message ?? error.error ?? `replica answered ${status}`);
  } catch {
    return grpcError(status, undefined, `replica answered ${status}`);
  }
}

const grpcService: FastifyPluginAsync<Omit<ServeOptions, 'ready'>> = async (app, options) => {
  async function fromReplica(model: ModelRequest, call: grpc.ServerUnaryCall<ModelRequest, unknown>, tail: '' | '/ready') {
    const { name, version } = requestedModel(model);
    const { status, body } = await askReplica(app, { headers: headersOf(call.metadata), ip: peerAddress(call.getPeer()) }, name, version, tail);
    if (status === 200 || (tail === '/ready' && status === 503)) return JSON.parse(body) as object;
    throw replicaError(status, body);
  }

  async function modelInfer(request: ModelInferRequest, call: grpc.ServerUnaryCall<ModelInferRequest, unknown>) {
    const { dataPath } = app;
    const headers = headersOf(call.metadata);
    const ip = peerAddress(call.getPeer());
    const id = requestIdFrom({ headers });
    await dataPath.admit({ headers, ip });
    const version = request.model_version || undefined;
    const { body, raw } = toJsonRequest(request);
    const name = encodeURIComponent(request.model_name);
    const path = version === undefined ? `/v2/models/${name}/infer` : `/v2/models/${name}/versions/${encodeURIComponent(version)}/infer`;
    const outcome = await dataPath.handle(
      {
        id,
        protocol: 'grpc',
        headers,
        ip,
        model: { name: request.model_name, version },
        outgoing: () => ({ path, headers: { 'content-type': 'application/json', 'x-forwarded-for': ip, 'x-forwarded-proto': 'grpc', [REQUEST_ID_HEADER]: id }, body: JSON.stringify(body) }),
      },
      app.log.child({ component: 'grpc', request_id: id }),
    );
    const { served } = outcome;
    const metadata = new grpc.Metadata();
    metadata.set(ENVIRONMENT_HEADER, served.name);
    metadata.set(MODEL_VERSION_HEADER, outcome.version);
    metadata.set(REQUEST_ID_HEADER, id);
    call.sendMetadata(metadata);
    if (outcome.status !== 200) throw replicaError(outcome.status, outcome.body.toString('utf8'));
    let answer: JsonInferResponse;
    try {
      answer = JSON.parse(outcome.body.toString('utf8')) as JsonInferResponse;
    } catch (err) {
      throw new BadGatewayError(served.name, { cause: err });
    }
    return toGrpcResponse(answer, raw);
  }

  serveGrpc(
    app,
    {
      ServerMetadata: async () => serverMetadata(),
      ModelReady: (request: ModelRequest, call: grpc.ServerUnaryCall<ModelRequest, unknown>) => fromReplica(request, call, '/ready'),
      ModelMetadata: (request: ModelRequest, call: grpc.ServerUnaryCall<ModelRequest, unknown>) => fromReplica(request, call, ''),
      ModelInfer: modelInfer,
    },
    // Closed before the data path (registered after it): calls in flight finish on live replicas.
    { ...options, ready: () => routerReady(app) },
  );
};

export const grpcPlugin = fp(grpcService, { name: 'grpc', dependencies: ['proxy', 'replicas', 'routing-policy', 'weights'] });
