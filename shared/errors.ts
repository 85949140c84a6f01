// The one registry of the errors this project raises, router and service alike, in the style of
// fastify's lib/errors.js. Each error has a code (match on it, never on the message), an HTTP
// status and a message. The shared error handler renders every one as { error, message, code },
// where `error` is the code's kind (ERR_NO_HEALTHY_UPSTREAM → no_healthy_upstream), so the same
// condition answers with the same status and body from every process. docs/errors.md lists them.
import createError from '@fastify/error';

/** Message arguments, optionally followed by { cause }. */
type Args<T extends unknown[]> = [...T, { cause?: unknown }?];

const CODES = new Set<string>();

/** Every code in the registry (docs/errors.md lists each one; a test keeps the two in step). */
export const ERROR_CODES: ReadonlySet<string> = CODES;

function define<T extends unknown[] = []>(code: string, message: string, statusCode: number) {
  CODES.add(code);
  return createError<Args<T>>(code, message, statusCode);
}

export const ERROR_CODE_PREFIX = 'ERR_';

/** ERR_NO_HEALTHY_UPSTREAM → no_healthy_upstream. */
export const errorKind = (code: string) => code.slice(ERROR_CODE_PREFIX.length).toLowerCase();

// ---- Start-up: the process exits with one clear line ----------------------------------------

/** An environment variable or a config file that fails validation; names the field. */
export const ConfigError = define<[string]>('ERR_CONFIG_INVALID', '%s', 500);

/** A model bundle that cannot be served: names the file and the problem. */
export class BundleError extends define<[string, string]>('ERR_BUNDLE_INVALID', '%s: %s', 500) {
  readonly file: string;
  constructor(file: string, problem: string, options?: { cause?: unknown }) {
    super(...([file, problem, ...(options ? [options] : [])] as Args<[string, string]>));
    this.file = file;
  }
}

// ---- Client errors ----------------------------------------------------------------------------

export const RouteNotFoundError = define<[string, string]>('ERR_NOT_FOUND', 'route %s %s not found', 404);
export const UnauthorizedError = define<[string]>('ERR_UNAUTHORIZED', 'a valid %s is required', 401);
export const RateLimitedError = define<[number, string]>('ERR_TOO_MANY_REQUESTS', 'rate limit of %d requests per %s exceeded', 429);
/** The read-only token on a call that changes something. */
export const ReadOnlyTokenError = define<[string]>('ERR_READ_ONLY_TOKEN', 'the read-only token cannot call %s: it needs the admin token', 403);
/** X-Route-To from a client that may not force an environment. */
export const RouteOverrideForbiddenError = define<[string]>('ERR_ROUTE_OVERRIDE_FORBIDDEN', '%s needs an admin token or an allow-listed address', 403);
/** A request or an admin call names an environment the weights file does not configure. */
export const UnknownEnvironmentError = define<[string, string]>('ERR_UNKNOWN_ENVIRONMENT', 'no environment named "%s" is configured (known: %s)', 400);
export const ReplicaNotFoundError = define<[string, string]>('ERR_REPLICA_NOT_FOUND', '%s is not registered in %s', 404);
export const ReplicaExistsError = define<[string, string]>('ERR_REPLICA_EXISTS', '%s is already registered in %s', 409);
/** A change the process would write back to a config file it may only read (a ConfigMap). */
export const ConfigReadOnlyError = define<[string]>('ERR_CONFIG_READ_ONLY', '%s is read-only here (mounted from a Kubernetes ConfigMap?): change it at its source, and every router reloads it', 409);
/** A weights file or weights update that fails validation; the message names the field. */
export const WeightsInvalidError = define<[string]>('ERR_WEIGHTS_INVALID', '%s', 400);
/** The router runs without a controller (or it has not reported yet): nothing to show. */
export const NoControllerReportError = define<[string]>('ERR_NO_CONTROLLER_REPORT', 'no controller has reported %s to this router (npm start runs one)', 404);
export const RolloutInvalidError = define<[string]>('ERR_ROLLOUT_INVALID', 'cannot start this rollout: %s', 400);
export const RolloutConflictError = define<[string, string]>('ERR_ROLLOUT_IN_PROGRESS', 'rollout %s of %s is in progress: pause, abort or let it finish first', 409);
export const NoRolloutError = define('ERR_NO_ROLLOUT', 'no rollout is in progress', 404);
export const BanditRunningError = define<[string]>('ERR_BANDIT_RUNNING', 'a bandit is setting the weights of %s: stop it first', 409);
export const NoBanditError = define('ERR_NO_BANDIT', 'no bandit is running or paused', 404);
export const BanditInvalidError = define<[string]>('ERR_BANDIT_INVALID', '%s', 400);
export const NothingToRollBackError = define('ERR_NOTHING_TO_ROLL_BACK', 'there is nothing to roll back to: no rollout and no earlier weights in the history', 409);
export const StageUnknownVersionError = define<[string, string, string]>('ERR_MODEL_VERSION_NOT_FOUND', 'no bundle %s %s in the registry (known: %s)', 404);
export const ReleaseRunningError = define<[string]>('ERR_RELEASE_RUNNING', 'release %s is in progress: one release at a time (let it finish, or abandon it with npm run release -- --abandon)', 409);
export const ReleaseNotCurrentError = define<[string]>('ERR_RELEASE_NOT_CURRENT', 'release %s is not the one in progress (it ended, or was abandoned)', 409);
/** A GraphQL argument outside what the field takes (the REST schemas' rules); names the argument. */
export const InvalidGraphQLArgumentError = define<[string, string]>('ERR_GRAPHQL_INVALID_ARGUMENT', 'argument %s: expected %s', 400);
/** A GraphQL document refused before it runs: too deep, too costly, introspection while it is off, or not valid against the schema. */
export const GraphQLQueryRefusedError = define<[string]>('ERR_GRAPHQL_QUERY_REFUSED', '%s', 400);
export const PredictionNotFoundError = define<[string]>('ERR_PREDICTION_NOT_FOUND', 'no recent prediction has the request id %s (too old, or never answered here)', 404);
export const StateStoreUnavailableError = define<[string]>('ERR_STATE_STORE_UNAVAILABLE', 'the shared state store cannot be reached: %s cannot be recorded now', 503);
/** A change computed from control state that another router changed meanwhile, or made by a deposed controller. */
export const StateConflictError = define<[string]>('ERR_STATE_CONFLICT', 'the change was not made: %s; read the state again and retry', 409);
export const FeedbackExistsError = define<[string]>('ERR_FEEDBACK_EXISTS', 'the prediction %s already has feedback', 409);
export const ModelNotFoundError = define<[string, string]>('ERR_MODEL_NOT_FOUND', 'model %s is not served here (this service serves %s)', 404);
export const InvalidInferInputError = define<[string]>('ERR_INVALID_INFER_INPUT', '%s', 400);

// ---- Server side: overload and gateway failures -------------------------------------------

/** A bounded queue is full (the service's batcher, the router's coalescer): retry later. */
export const OverloadedError = define('ERR_OVERLOADED', 'too many requests are waiting; retry later', 503);
export const NoHealthyUpstreamError = define('ERR_NO_HEALTHY_UPSTREAM', 'no healthy environment can take this request', 503);
/** The connection to a replica failed before any answer (safe to send elsewhere). */
export const UpstreamUnreachableError = define<[string]>('ERR_UPSTREAM_UNREACHABLE', 'the %s environment could not be reached', 502);
export const UpstreamTimeoutError = define<[string]>('ERR_UPSTREAM_TIMEOUT', 'the %s environment did not answer in time', 504);
/** A replica answered with something the router cannot use. */
export const BadGatewayError = define<[string]>('ERR_BAD_GATEWAY', 'the %s environment gave an unusable answer', 502);
export const ResponseTooLargeError = define<[number]>('ERR_RESPONSE_TOO_LARGE', 'upstream response over %d bytes', 502);

/** Raised by this project (its message is safe to show, 5xx included). */
export const isOwnError = (err: unknown): err is Error & { code: string; statusCode: number } =>
  typeof (err as { code?: unknown })?.code === 'string' && CODES.has((err as { code: string }).code);
