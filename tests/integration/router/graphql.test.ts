// POST /graphql against a real router (listening) in front of real replica processes, spoken to
// over HTTP and, for subscriptions, by graphql-ws over WebSocket: one round trip for what an
// operator looks at, every query and mutation, each auth failure, depth and cost limits, a
// subscription receiving a weight change and a rollout step within a second, and 1,000 predictions
// split 70/25/5 like REST's.
import t, { type Test } from 'tap';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { ADMIN_TOKEN, auth, buildRouter, tinyUpstream, untilAllAvailable, weightsFile } from '../../helpers/router.ts';

const READ_TOKEN = 'read-only-token-0123456789';

interface Answer<T = Record<string, unknown>> {
  status: number;
  data: T | null;
  errors?: { message: string; path?: string[]; extensions: { code: string } }[];
}

async function setup(t: Test, overrides: Parameters<typeof buildRouter>[2] = {}) {
  const [blue, green, canary] = await Promise.all(
    [
      ['blue', '1.0.0'],
      ['green', '1.1.0'],
      ['canary', '2.0.0'],
    ].map(([name, version]) => tinyUpstream(t, name, { UPSTREAM_VERSION: version, UPSTREAM_LABEL: 'positive' })),
  );
  const file = await weightsFile(t, `environments:\n  blue: { weight: 70, replicas: [${blue.url}] }\n  green: { weight: 25, replicas: [${green.url}] }\n  canary: { weight: 5, replicas: [${canary.url}] }\n`);
  const app = await buildRouter(t, file, { readToken: READ_TOKEN, ...overrides });
  await untilAllAvailable(app);
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const gql = async <T = Record<string, unknown>>(query: string, o: { token?: string | null; variables?: Record<string, unknown>; headers?: Record<string, string> } = {}): Promise<Answer<T>> => {
    const token = o.token === undefined ? ADMIN_TOKEN : o.token;
    const res = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...o.headers },
      body: JSON.stringify({ query, variables: o.variables }),
    });
    return { status: res.status, ...((await res.json()) as Omit<Answer<T>, 'status'>) };
  };
  return { app, base, gql };
}

const codes = (a: Answer) => a.errors?.map((e) => e.extensions.code) ?? [];

t.test('one round trip: environments, the report and the last ten decisions', async (t) => {
  const { gql } = await setup(t);
  await gql('mutation { setWeights(weights: [{environment: "blue", weight: 60}]) { name } }');
  const a = await gql<{ environments: { name: string; weight: number; share: number; versions: string[]; replicas: { healthy: boolean }[]; stats: { requests: number } }[]; report: { versions: unknown[] }; history: { decisions: { kind: string; message: string }[] } }>(
    '{ environments { name weight share versions replicas { healthy inFlight } stats(window: 30) { requests rps p95Ms } } report { startedAt baseline versions { environment modelVersion requests } shadows } history(first: 10) { decisions { at kind action message weightsAfter } endCursor hasNextPage } }',
  );
  t.equal(a.status, 200);
  t.same(a.errors, undefined);
  t.same(a.data!.environments.map((e) => [e.name, e.weight, e.versions]), [['blue', 60, ['1.0.0']], ['green', 25, ['1.1.0']], ['canary', 5, ['2.0.0']]]);
  t.ok(a.data!.environments.every((e) => e.replicas.every((r) => r.healthy)));
  t.equal(a.data!.history.decisions[0].kind, 'weights');
  t.match(a.data!.history.decisions[0].message, /blue 70 → 60/);
});

t.test('every query, the mutations, and the history a page at a time', async (t) => {
  const { app, gql } = await setup(t);
  const q = await gql('{ deployments { name } models { name stage } rollouts { current { id } last { id } } drift { environment drifted } releases { current last } controller { routerId leader } }');
  t.same(q.errors, undefined);
  t.match(q.data, { deployments: [], models: [], rollouts: { current: null, last: null }, controller: { leader: true } });

  const predicted = await gql<{ predict: { sentiment: string; requestId: string; environment: string; modelVersion: string } }>('{ predict(text: "a fine film") { sentiment confidence modelVersion environment requestId } }', { token: null });
  t.same(predicted.errors, undefined);
  const p = predicted.data!.predict;
  t.equal(p.sentiment, 'positive');
  const feedback = await gql(`mutation { sendFeedback(requestId: "${p.requestId}", label: "positive") { requestId recorded } }`, { token: null });
  t.same(feedback.data, { sendFeedback: { requestId: p.requestId, recorded: true } }, 'feedback joins a GraphQL prediction by its request id');
  t.same(codes(await gql(`mutation { sendFeedback(requestId: "${p.requestId}", label: "positive") { recorded } }`, { token: null })), ['ERR_FEEDBACK_EXISTS']);
  t.same(codes(await gql('mutation { sendFeedback(requestId: "nope", label: "positive") { recorded } }', { token: null })), ['ERR_PREDICTION_NOT_FOUND']);
  const report = await gql<{ report: { versions: { environment: string; feedback: number }[] } }>('{ report { versions { environment feedback onlineAccuracy } } }');
  t.equal(report.data!.report.versions.find((v) => v.environment === p.environment)?.feedback, 1);

  const started = await gql<{ startRollout: { id: string; state: string; target: string; stepPercent: number } }>('mutation { startRollout(input: {target: "green", baseline: "blue", steps: [50, 100], pauseSeconds: 600, analysis: false}) { id state target stepPercent } }');
  t.same(started.errors, undefined);
  t.match(started.data!.startRollout, { state: 'progressing', target: 'green', stepPercent: 50 });
  t.match((await gql('mutation { pauseRollout { state } }')).data, { pauseRollout: { state: 'paused' } });
  t.match((await gql('mutation { resumeRollout { state } }')).data, { resumeRollout: { state: 'progressing' } });
  t.match((await gql('mutation { abortRollout { state } }')).data, { abortRollout: { state: 'aborted' } });
  t.same(codes(await gql('mutation { abortRollout { state } }')), ['ERR_NO_ROLLOUT']);
  t.same(codes(await gql('mutation { startRollout(input: {target: "green", steps: [500]}) { id } }')), ['ERR_GRAPHQL_INVALID_ARGUMENT'], 'the REST schema’s rule');
  await gql('mutation { setWeights(weights: [{environment: "canary", weight: 0, shadow: 10}]) { name } }');
  const rolledBack = await gql<{ rollback: { weights: Record<string, number> } }>('mutation { rollback }');
  t.equal(rolledBack.data!.rollback.weights.canary, 5, 'rollback puts back the weights from before the last change');
  t.same(codes(await gql('mutation { setWeights(weights: [{environment: "nowhere", weight: 1}]) { name } }')), ['ERR_WEIGHTS_INVALID']);

  // The trail a page at a time: no entry twice, none left out.
  const all = (await app.history.list({ limit: 1000 })).map((e) => e.message);
  const seen: string[] = [];
  let after: string | null = null;
  for (let page = 0; page < 50; page++) {
    const a: Answer<{ history: { decisions: { message: string }[]; endCursor: string | null; hasNextPage: boolean } }> = await gql('query ($after: String) { history(first: 3, after: $after) { decisions { message } endCursor hasNextPage } }', { variables: { after } });
    seen.push(...a.data!.history.decisions.map((d) => d.message));
    after = a.data!.history.endCursor;
    if (!a.data!.history.hasNextPage) break;
  }
  t.same(seen, all, `${all.length} decisions in pages of 3`);
  t.same(codes(await gql('{ history(after: "garbage") { hasNextPage } }')), ['ERR_GRAPHQL_INVALID_ARGUMENT']);
});

t.test('auth as REST: tokens for reads and changes, API keys for predict; errors carry ERR_* codes', async (t) => {
  const { gql } = await setup(t, { apiKeys: { inline: 'key-one' } });
  const none = await gql('{ environments { name } }', { token: null });
  t.same(codes(none), ['ERR_UNAUTHORIZED']);
  t.same(none.data, { environments: null }, 'the field is null, with its error');
  t.same(codes(await gql('mutation { rollback }', { token: READ_TOKEN })), ['ERR_READ_ONLY_TOKEN']);
  t.same(codes(await gql('{ environments { name } }', { token: 'wrong-token-0123456789' })), ['ERR_UNAUTHORIZED']);
  t.same((await gql('{ environments { name } }', { token: READ_TOKEN })).errors, undefined, 'the read-only token reads');
  t.same(codes(await gql('{ predict(text: "a") { sentiment } }', { token: null })), ['ERR_UNAUTHORIZED'], 'predict needs an API key here');
  t.same((await gql('{ predict(text: "a") { sentiment } }', { token: null, headers: { 'x-api-key': 'key-one' } })).errors, undefined);
  const partial = await gql<{ predict: unknown; environments: unknown }>('{ predict(text: "a") { sentiment } environments { name } }', { token: null, headers: { 'x-api-key': 'key-one' } });
  t.ok(partial.data!.predict && partial.data!.environments === null, 'one field refused, the other answered');
  t.same(codes(partial), ['ERR_UNAUTHORIZED']);
});

t.test('documents too deep, too costly, or introspecting are refused before they run', async (t) => {
  const { gql } = await setup(t, { graphql: { enabled: true, introspection: false, maxDepth: 3, maxCost: 100 } });
  const deep = await gql('{ history { decisions { checks { metric } } } }');
  t.equal(deep.status, 400);
  t.same(codes(deep), ['ERR_GRAPHQL_QUERY_REFUSED']);
  t.match(deep.errors![0].message, /depth/);
  const costly = await gql('query ($n: Int) { history(first: $n) { decisions { at kind action message } } }', { variables: { n: 50 } });
  t.same(codes(costly), ['ERR_GRAPHQL_QUERY_REFUSED']);
  t.match(costly.errors![0].message, /costs 2\d\d, more than graphql.max_cost \(100\)/);
  t.same((await gql('query ($n: Int) { history(first: $n) { decisions { at } } }', { variables: { n: 5 } })).errors, undefined, 'a smaller page passes');
  const introspect = await gql('{ __schema { types { name } } }');
  t.equal(introspect.status, 400);
  t.match(introspect.errors![0].message, /introspection has been disabled/);
  t.equal((await fetch(`${(await setup(t)).base}/graphiql`)).status, 404, 'no GraphiQL unless enabled');
});

t.test('subscriptions: a weight change and a rollout step arrive within a second; stats every second', async (t) => {
  const { base, gql } = await setup(t);
  const url = `${base.replace('http', 'ws')}/graphql`;
  const client: Client = createClient({ url, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${READ_TOKEN}` }, retryAttempts: 0 });
  t.teardown(() => client.dispose());
  const received: { kind: string; action: string; message: string; at: number }[] = [];
  const subscribed = new Promise<void>((resolve, reject) => {
    client.subscribe<{ decisions: { kind: string; action: string; message: string } }>(
      { query: 'subscription { decisions { kind action message weightsAfter } }' },
      { next: (m) => void received.push({ ...m.data!.decisions, at: Date.now() }), error: reject, complete: () => {} },
    );
    // graphql-ws has no "subscribed" event: a decision made now is the one to wait for.
    setTimeout(resolve, 300);
  });
  await subscribed;
  const changedAt = Date.now();
  await gql('mutation { setWeights(weights: [{environment: "green", weight: 30}]) { name } }');
  const waitFor = async (match: (d: (typeof received)[number]) => boolean) => {
    for (let i = 0; i < 200 && !received.some(match); i++) await new Promise((r) => setTimeout(r, 10));
    return received.find(match);
  };
  const weight = await waitFor((d) => d.kind === 'weights' && /green 25 → 30/.test(d.message));
  t.ok(weight, 'the weight change arrived');
  t.ok(weight!.at - changedAt < 1000, `within a second (${weight!.at - changedAt} ms)`);
  const stepAt = Date.now();
  await gql('mutation { startRollout(input: {target: "canary", baseline: "blue", steps: [20, 100], pauseSeconds: 600, analysis: false}) { id } }');
  const step = await waitFor((d) => d.kind === 'weights' && d.action === 'rollout_step');
  t.ok(step, 'the rollout step arrived');
  t.ok(step!.at - stepAt < 1000, `within a second (${step!.at - stepAt} ms)`);
  t.ok(await waitFor((d) => d.kind === 'rollout' && d.action === 'started'));

  const ticks: { environment: string; stats: { requests: number } }[][] = [];
  await new Promise<void>((resolve, reject) => {
    const stop = client.subscribe<{ stats: { environment: string; stats: { requests: number } }[] }>(
      { query: 'subscription { stats(window: 5) { environment stats { requests rps errorRate p95Ms } } }' },
      {
        next: (m) => {
          ticks.push(m.data!.stats);
          if (ticks.length === 2) {
            stop();
            resolve();
          }
        },
        error: reject,
        complete: () => {},
      },
    );
  });
  t.same(ticks[0].map((e) => e.environment), ['blue', 'green', 'canary']);

  const anonymous = createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0 });
  t.teardown(() => anonymous.dispose());
  const refused = await new Promise<unknown>((resolve) => anonymous.subscribe({ query: 'subscription { decisions { kind } }' }, { next: resolve, error: resolve, complete: () => resolve(null) }));
  t.match(JSON.stringify(refused), /ERR_UNAUTHORIZED/, 'a subscription needs a token');
});

t.test('1,000 predictions through GraphQL split 70/25/5 like REST', async (t) => {
  const { gql } = await setup(t);
  const served: Record<string, number> = { blue: 0, green: 0, canary: 0 };
  for (let i = 0; i < 50; i++) {
    const answers = await Promise.all(Array.from({ length: 20 }, () => gql<{ predict: { environment: string } }>('{ predict(text: "a fine film") { environment modelVersion } }', { token: null })));
    for (const a of answers) served[a.data!.predict.environment]++;
  }
  // Binomial bounds at about four standard deviations: a correct split fails this once in ~30,000 runs.
  t.ok(served.blue >= 640 && served.blue <= 760, `blue ${served.blue}`);
  t.ok(served.green >= 195 && served.green <= 305, `green ${served.green}`);
  t.ok(served.canary >= 20 && served.canary <= 85, `canary ${served.canary}`);
  const batch = await gql<{ predictBatch: { sentiment: string; requestId: string }[] }>('{ predictBatch(texts: ["one", "two", "three"]) { sentiment requestId } }', { token: null });
  t.equal(new Set(batch.data!.predictBatch.map((p) => p.requestId)).size, 3, 'each text its own prediction');
  t.same(codes(await gql(`{ predictBatch(texts: [${Array.from({ length: 65 }, () => '"x"').join(',')}]) { sentiment } }`, { token: null })), ['ERR_GRAPHQL_INVALID_ARGUMENT']);
});
