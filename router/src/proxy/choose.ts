// The HTTP side of routing: read the request's facts, check that it may force an environment, ask
// the routing policy, and turn "nowhere to go" into the registry's errors.
import type { FastifyRequest } from 'fastify';
import { NoHealthyUpstreamError, RouteOverrideForbiddenError, UnknownEnvironmentError } from '../../../shared/errors.ts';
import { environmentServing } from '../routing/by-version.ts';
import { OVERRIDE_HEADER, requestFacts } from '../routing/request-facts.ts';
import type { Routing } from '../routing/routing.ts';
import type { EnvironmentSnapshot, WeightsSnapshot } from '../weights/snapshot.ts';

/** What routing reads of a request: HTTP (a FastifyRequest) or gRPC (its metadata as headers). */
export type RoutedRequest = Pick<FastifyRequest, 'headers' | 'ip' | 'params'>;

export interface ChooseDeps {
  routing: Routing;
  weights: () => WeightsSnapshot;
  /** May this request force an environment with X-Route-To? */
  mayOverride: (request: RoutedRequest) => boolean;
  /** The first pick could not take traffic and the request went elsewhere. */
  onFailover: (from: string) => void;
  /** The model versions an environment's available replicas serve. */
  versions: (environment: string) => string[];
}

export type Choose = (request: RoutedRequest) => EnvironmentSnapshot;

export function createChooser({ routing, weights, mayOverride, onFailover, versions }: ChooseDeps): Choose {
  return function choose(request) {
    const snapshot = weights();
    // A versioned route (/v2/models/{name}/versions/{version}/infer) goes to the environment that
    // serves that version, whatever the weights say.
    const { name, version } = (request.params ?? {}) as { name?: string; version?: string };
    if (version !== undefined) return environmentServing(snapshot.environments, versions, name, version);
    const facts = requestFacts(request.headers, snapshot.assignment);
    if (facts.forced !== undefined && !mayOverride(request)) throw new RouteOverrideForbiddenError(OVERRIDE_HEADER);
    const decision = routing.decide(facts);
    if (decision.environment === undefined) {
      if (decision.reason === 'unknown_environment') throw new UnknownEnvironmentError(String(facts.forced), snapshot.environments.map((e) => e.name).join(', '));
      throw new NoHealthyUpstreamError();
    }
    if (decision.failedOverFrom !== undefined) onFailover(decision.failedOverFrom);
    return decision.environment;
  };
}
