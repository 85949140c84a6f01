// Where the router asks about a model: an available replica serving it, of the environment the
// weights choose or, for a version, of the one serving that version; and the replica's own answer
// to a metadata or readiness path. REST (server-routes.ts) and gRPC (grpc/service.ts) both use it.
import type { FastifyInstance } from 'fastify';
import { request } from 'undici';
import { NoHealthyUpstreamError } from '../../../shared/errors.ts';
import { environmentServing } from '../routing/by-version.ts';
import { pickLeastOutstanding } from '../routing/replica.ts';
import type { Replica } from '../replicas/replica.ts';

/** Ready while the router is not draining and some replica can take traffic. */
export const routerReady = (app: FastifyInstance): boolean => !app.lifecycle.draining && app.replicas.all().some((r) => r.available);

export function replicaFor(app: FastifyInstance, name: string, version?: string): Replica {
  const { replicas, weights, routingPolicy } = app;
  const environment = version === undefined ? routingPolicy.decide({}).environment : environmentServing(weights.snapshot.environments, (e) => replicas.versions(e), name, version);
  if (!environment) throw new NoHealthyUpstreamError();
  const candidates = replicas.replicas(environment.name).filter((r) => version === undefined || r.modelVersion === version);
  const replica = pickLeastOutstanding(candidates);
  if (!replica) throw new NoHealthyUpstreamError();
  return replica;
}

/** GET /v2/models/{name}[/versions/{version}][/ready] from a replica serving it: its status and JSON body. */
export async function askReplica(app: FastifyInstance, name: string, version: string | undefined, tail: '' | '/ready'): Promise<{ status: number; body: string }> {
  const replica = replicaFor(app, name, version);
  const path = `/v2/models/${encodeURIComponent(name)}${version === undefined ? '' : `/versions/${encodeURIComponent(version)}`}${tail}`;
  const res = await request(`${replica.url}${path}`, { dispatcher: replica.pool, headersTimeout: 2000, bodyTimeout: 2000 });
  return { status: res.statusCode, body: await res.body.text() };
}
