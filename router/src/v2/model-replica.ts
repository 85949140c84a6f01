// What the router answers about a model from a replica serving it: its metadata or readiness, asked
// through the data path's own decision and send (data-path/core.ts query: the weights choose the
// environment, or a version goes where it is served; the replica is picked, counted in flight and
// its health accounted like any request). REST (server-routes.ts) and gRPC (grpc/service.ts) both
// use it.
import type { FastifyInstance } from 'fastify';
import type { RoutedRequest } from '../data-path/decide.ts';

/** Ready while the router is not draining and some replica can take traffic. */
export const routerReady = (app: FastifyInstance): boolean => !app.lifecycle.draining && app.replicas.all().some((r) => r.available);

/** GET /v2/models/{name}[/versions/{version}][/ready] from a replica serving it: its status and JSON body. */
export async function askReplica(app: FastifyInstance, from: Pick<RoutedRequest, 'headers' | 'ip'>, name: string, version: string | undefined, tail: '' | '/ready'): Promise<{ status: number; body: string }> {
  const path = `/v2/models/${encodeURIComponent(name)}${version === undefined ? '' : `/versions/${encodeURIComponent(version)}`}${tail}`;
  const { result } = await app.dataPath.query({ headers: from.headers, ip: from.ip, model: { name, version }, path }, app.log);
  return { status: result.statusCode, body: result.body.toString('utf8') };
}
