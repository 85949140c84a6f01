// POST /graphql (mercurius): one query for what an operator looks at, mutations for what they
// change, and subscriptions (WebSocket, the graphql-ws protocol) for decisions as they happen and
// stats every second, over the same services as the REST admin API and the data path. Who may do
// what is REST's rule: the admin token changes, the read-only token reads, API keys (and the rate
// limit) guard predict. Documents are bounded before they run: depth, cost (each field 1, a list
// of N asked for N times), no introspection or GraphiQL unless enabled. Errors carry the project's
// ERR_* codes in extensions.code.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { GraphQLError, NoSchemaIntrospectionCustomRule, type ValidationRule } from 'graphql';
import { getComplexity, simpleEstimator, type ComplexityEstimator } from 'graphql-query-complexity';
import mercurius, { type MercuriusContext } from 'mercurius';
import { errorKind, GraphQLQueryRefusedError, isOwnError } from '../../../shared/errors.ts';
import { accessOf, type AccessTokens } from '../auth.ts';
import { decisionOf, ReplicaRefusal, resolvers } from '../graphql/resolvers.ts';
import { SDL } from '../graphql/schema.ts';
import type { GraphQLContext } from '../graphql/context.ts';

export interface GraphQLSettings {
  enabled: boolean;
  introspection: boolean;
  maxDepth: number;
  maxCost: number;
}

/** A list field costs its children once per item asked for: history(first), predictBatch(texts). */
const listEstimator: ComplexityEstimator = ({ args, childComplexity }) => {
  if (typeof args.first === 'number') return 1 + args.first * Math.max(1, childComplexity);
  if (Array.isArray(args.texts)) return 1 + args.texts.length * Math.max(1, childComplexity);
  return undefined;
};

const REFUSED = new GraphQLQueryRefusedError('').code;

/** The code an error answers with: the project's own, a replica's, or a refused document's. */
function codeOf(error: GraphQLError): string {
  const original = error.originalError;
  if (original && (isOwnError(original) || original instanceof ReplicaRefusal)) return (original as { code: string }).code;
  // Not valid against the schema, too deep, introspection while it is off: mercurius's MER_ERR_GQL_*.
  const refused = !original || original instanceof GraphQLError || String((original as { code?: unknown }).code ?? '').startsWith('MER_ERR_GQL_');
  return refused ? REFUSED : 'ERR_INTERNAL';
}

const graphql: FastifyPluginAsync<{ tokens: AccessTokens; settings: GraphQLSettings; maxBatchTexts: number }> = async (app, { tokens, settings, maxBatchTexts }) => {
  if (!settings.enabled) return;
  const contextOf = (request: FastifyRequest, authorization = request.headers.authorization) => ({ app, access: accessOf(authorization, tokens), headers: request.headers, ip: request.ip });
  const estimators = [listEstimator, simpleEstimator({ defaultComplexity: 1 })];
  const introspection: ValidationRule[] = settings.introspection ? [] : [NoSchemaIntrospectionCustomRule];
  // In a scope of its own: mercurius's websocket support adds an onRequest and an onResponse hook,
  // which would otherwise run on every request the router takes, /predict included.
  await app.register(async (scope) => {
    // Its own schema document describes it (docs/graphql/schema.graphql), not the OpenAPI one.
    scope.addHook('onRoute', (route) => {
      if (route.url.startsWith('/graphql') || route.url.startsWith('/graphiql')) route.schema = { ...route.schema, hide: true };
    });
    await scope.register(mercurius, {
      schema: SDL,
      resolvers: resolvers({ maxBatchTexts }) as never,
      path: '/graphql',
      graphiql: settings.introspection,
      queryDepth: settings.maxDepth,
      validationRules: introspection,
      context: (request) => contextOf(request),
      subscription: {
        // The token comes in connection_init's payload ({authorization: "Bearer …"}), or on the upgrade request.
        context: (_socket, request) => contextOf(request),
        onConnect: ({ payload }) => {
          const authorization = typeof payload?.authorization === 'string' ? payload.authorization : undefined;
          return authorization === undefined ? true : { access: accessOf(authorization, tokens) };
        },
        keepAlive: 15_000,
      },
      errorFormatter: (execution, context) => {
        const errors = execution.errors.map((e) => {
          const code = codeOf(e);
          if (code === 'ERR_INTERNAL') (context as unknown as MercuriusContext).app.log.error({ err: e.originalError ?? e }, 'graphql resolver failed');
          // mercurius gathers a document's validation errors under one; each one says what is wrong.
          const inner = (e.originalError as { errors?: { message: string }[] } | undefined)?.errors;
          const message = code === 'ERR_INTERNAL' ? 'internal error' : inner?.length ? inner.map((i) => i.message).join('; ') : e.message;
          return { message, locations: e.locations, path: e.path, extensions: { code, error: errorKind(code) } };
        });
        // A document refused before it ran is the client's error; a field that failed leaves the others' data (200).
        const refused = execution.data === undefined || execution.data === null ? errors.every((e) => e.extensions.code === REFUSED) : false;
        return { statusCode: refused ? 400 : 200, response: { data: execution.data ?? null, errors } };
      },
    });
    // The cost is counted once the variables are known (history(first: $n) costs n times its fields).
    scope.graphql.addHook('preExecution', (schema, document, _context, variables) => {
      const cost = getComplexity({ schema, query: document, variables, estimators });
      if (cost > settings.maxCost) throw new GraphQLQueryRefusedError(`the query costs ${cost}, more than graphql.max_cost (${settings.maxCost}): ask for fewer fields or smaller pages`);
    });
    // Decisions as they are recorded here, and a tick a second for the stats subscription.
    app.history.onRecord((entry) => void scope.graphql.pubsub.publish({ topic: 'DECISIONS', payload: { decision: decisionOf(entry) } }));
    const tick = setInterval(() => void scope.graphql.pubsub.publish({ topic: 'STATS_TICK', payload: { at: Date.now() } }), 1000);
    tick.unref();
    scope.addHook('onClose', async () => clearInterval(tick));
  });
};

export type { GraphQLContext };
export const graphqlPlugin = fp(graphql, { name: 'graphql', dependencies: ['proxy', 'rollouts', 'registry', 'history', 'drift'] });
