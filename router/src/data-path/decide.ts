// The data path's first stage: where a request goes. Reads what the request says about itself (a
// model version it names, X-Route-To, the sticky key), checks that it may force an environment,
// asks the routing policy (weights, availability, the guard's vetoes, failover, backups), and
// turns "nowhere to go" into the registry's errors. The only place a request's environment is
// chosen; every protocol reaches it through the core (core.ts).
import type { IncomingHttpHeaders } from 'node:http';
import { NoHealthyUpstreamError, RouteOverrideForbiddenError, UnknownEnvironmentError } from '../../../shared/errors.ts';
import { environmentServing } from '../routing/by-version.ts';
import { OVERRIDE_HEADER } from '../../../shared/api/headers.ts';
import { requestFacts } from '../routing/request-facts.ts';
import type { Routing } from '../routing/routing.ts';
import type { EnvironmentSnapshot, WeightsSnapshot } from '../weights/snapshot.ts';

/** What routing reads of a request, whatever its protocol (gRPC metadata reads as headers). */
export interface RoutedRequest {
  headers: IncomingHttpHeaders;
  ip: string;
  /** The model (and version) the request names: a versioned request goes where that version is served. */
  model?: { name?: string; version?: string };
}

export interface DecideDeps {
  routing: Routing;
  weights: () => WeightsSnapshot;
  /** May this request force an environment with X-Route-To? */
  mayOverride: (request: RoutedRequest) => boolean;
  /** The first pick could not take traffic and the request went elsewhere. */
  onFailover: (from: string) => void;
  /** The model versions an environment's available replicas serve. */
  versions: (environment: string) => string[];
}

export type Decide = (request: RoutedRequest) => EnvironmentSnapshot;

export function createDecide({ routing, weights, mayOverride, onFailover, versions }: DecideDeps): Decide {
  return function decide(request) {
    const snapshot = weights();
    // A versioned route (/v2/models/{name}/versions/{version}/...) goes to the environment that
    // serves that version, whatever the weights say.
    if (request.model?.version !== undefined) return environmentServing(snapshot.environments, versions, request.model.name, request.model.version);
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
