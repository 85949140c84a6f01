// The OpenAPI documents users generate clients from: the committed ones (docs/openapi/, and the
// client types in clients/) are what the code documents, and both lint clean with redocly's
// recommended rules.
import t from 'tap';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { DOCUMENTS_DIR, README, readmeWithTables, ROUTER_CLIENT_TYPES, routerClientTypes, routerDocument, serviceDocument } from '../../tools/openapi-documents.ts';
import { ROOT } from '../../testkit/processes.ts';

const REDOCLY = path.join(ROOT, 'node_modules/.bin/redocly');

/** The one warning kept: probes, /info and /v2 (server metadata) take no input and no credentials, so never answer 4xx. */
const NO_4XX_ON_PURPOSE = new Set(['/health/live', '/health/ready', '/health', '/info', '/v2', '/v2/health/live', '/v2/health/ready']);

interface Problem {
  ruleId: string;
  severity: 'error' | 'warn';
  message: string;
  location: { pointer: string }[];
}

async function lint(file: string): Promise<Problem[]> {
  // Exit code 1 means errors were found: the JSON report is read either way.
  const { stdout } = await promisify(execFile)(REDOCLY, ['lint', '--format=json', '--config', path.join(ROOT, 'redocly.yaml'), file], {
    cwd: ROOT,
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
    maxBuffer: 16 * 1024 * 1024,
  }).catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? '' }));
  return (JSON.parse(stdout) as { problems: Problem[] }).problems;
}

const pathOf = (pointer: string) => decodeURIComponent(pointer.split('/')[2] ?? '').replaceAll('~1', '/');

const documents = [
  { name: 'router', file: 'router.json', build: routerDocument },
  { name: 'inference service', file: 'inference-service.json', build: serviceDocument },
];

for (const { name, file, build } of documents) {
  t.test(`the ${name}'s document`, async (t) => {
    const live = await build();
    const committed = JSON.parse(await fs.readFile(path.join(DOCUMENTS_DIR, file), 'utf8'));
    t.same(committed, live, `docs/openapi/${file} is current (npm run openapi writes it)`);

    const operations = Object.values(live.paths as Record<string, Record<string, { operationId?: string; summary?: string }>>).flatMap((item) => Object.values(item));
    const ids = operations.map((o) => o.operationId);
    t.ok(ids.every(Boolean), 'every operation has an operationId');
    t.equal(new Set(ids).size, ids.length, 'operationIds are unique');
    t.ok((live.servers as unknown[]).length > 0, 'servers are declared');

    const problems = await lint(path.join(DOCUMENTS_DIR, file));
    t.same(problems.filter((p) => p.severity === 'error').map((p) => `${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`), [], 'redocly lint: no errors');
    const unexplained = problems.filter((p) => p.severity === 'warn' && !(p.ruleId === 'operation-4xx-response' && NO_4XX_ON_PURPOSE.has(pathOf(p.location[0].pointer))));
    t.same(unexplained.map((p) => `${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`), [], 'redocly lint: no warning but the probes\' missing 4xx');
  });
}

t.test('the router client types are generated from the router document', async (t) => {
  t.equal(await fs.readFile(ROUTER_CLIENT_TYPES, 'utf8'), await routerClientTypes(await routerDocument()), 'clients/router-api.ts is current (npm run openapi writes it)');
});

t.test("the README's endpoint and settings tables list every route and every setting", async (t) => {
  const readme = await fs.readFile(README, 'utf8');
  t.equal(readme, await readmeWithTables(await routerDocument(), await serviceDocument()), 'README.md\'s tables are current (npm run openapi writes them)');
});

t.test('the proxied routes carry the service\'s own schemas, headers and errors', async (t) => {
  const router = (await routerDocument()) as { paths: Record<string, Record<string, any>> };
  const service = (await serviceDocument()) as { paths: Record<string, Record<string, any>> };
  for (const p of ['/predict', '/predict/batch', '/v2/models/{name}/infer']) {
    const proxied = router.paths[p].post;
    const own = service.paths[p].post;
    t.same(proxied.requestBody, own.requestBody, `${p}: the request body is the service's`);
    t.same(proxied.responses['200'].content, own.responses['200'].content, `${p}: the answer is the service's`);
    t.ok(proxied.responses['200'].headers['x-environment'] && proxied.responses['200'].headers['x-model-version'], `${p}: the routing headers of the answer`);
    t.same(proxied.parameters.filter((x: { in: string }) => x.in === 'header').map((x: { name: string }) => x.name).sort(), ['x-request-id', 'x-route-to', 'x-user-id'], `${p}: the request headers`);
    for (const status of ['400', '401', '413', '429', '502', '503', '504']) t.ok(proxied.responses[status], `${p}: ${status} documented`);
    t.same(proxied.security, [{}, { apiKey: [] }], `${p}: API key when configured`);
  }
});
