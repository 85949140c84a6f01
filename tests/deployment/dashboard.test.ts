// GET /dashboard in a real browser (Debian's chromium through playwright-core): the page loads
// with the read-only token given at the browser's login prompt, shows every environment, and its
// numbers move under load; a rollout, then a bandit learning from feedback, are shown as they run. The screenshot is left in tests/artifacts/dashboard.png.
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { request } from 'undici';
import { chromium, type Page } from 'playwright-core';
import { ROOT, startProcess } from '../../testkit/processes.ts';
import { steadyLoad } from '../helpers/load.ts';
import { tinyUpstream, until, weightsFile } from '../helpers/router.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ADMIN_TOKEN = 'dashboard-admin-token-0123456789';
const READ_TOKEN = 'dashboard-read-token-0123456789';
const ARTIFACTS = path.join(ROOT, 'tests/artifacts');

const text = (page: Page, testid: string) => page.locator(`[data-testid="${testid}"]`).innerText();

t.test('the dashboard in Chromium', { skip: fs.existsSync(CHROMIUM) ? false : `no browser at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)` }, async (t) => {
  const upstreams = await Promise.all([
    tinyUpstream(t, 'blue', { UPSTREAM_VERSION: '1.0.0', UPSTREAM_LABEL: 'positive' }),
    tinyUpstream(t, 'green', { UPSTREAM_VERSION: '1.1.0', UPSTREAM_LABEL: 'positive' }),
    tinyUpstream(t, 'canary', { UPSTREAM_VERSION: '2.0.0', UPSTREAM_LABEL: 'positive' }),
  ]);
  const file = await weightsFile(t, `environments:\n  blue: { weight: 70, replicas: [${upstreams[0].url}] }\n  green: { weight: 25, replicas: [${upstreams[1].url}] }\n  canary: { weight: 5, replicas: [${upstreams[2].url}] }\n`);
  const router = await startProcess({ ROUTER_WEIGHTS_FILE: file, ROUTER_ADMIN_TOKEN: ADMIN_TOKEN, ROUTER_READ_TOKEN: READ_TOKEN, ROUTER_PORT: '0', ROUTER_HEALTH_INTERVAL_MS: '100' }, path.join(ROOT, 'router/src/server.ts'));
  t.teardown(() => router.stop('SIGKILL'));

  const anonymous = await request(`${router.url}/dashboard`);
  await anonymous.body.dump();
  t.equal(anonymous.statusCode, 401, 'no credentials, no page');
  t.match(String(anonymous.headers['www-authenticate']), /Basic realm=/, 'the browser is asked to log in');
  const readOnlyWrite = await request(`${router.url}/admin/weights`, { method: 'PUT', headers: { authorization: `Bearer ${READ_TOKEN}`, 'content-type': 'application/json' }, body: '{"weights":{"blue":1}}' });
  t.equal(readOnlyWrite.statusCode, 403, 'the read-only token changes nothing');
  t.equal(((await readOnlyWrite.body.json()) as { code: string }).code, 'ERR_READ_ONLY_TOKEN');

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  t.teardown(() => browser.close());
  const context = await browser.newContext({ httpCredentials: { username: 'viewer', password: READ_TOKEN }, viewport: { width: 1280, height: 1100 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
  page.on('pageerror', (err) => problems.push(err.message));

  const response = await page.goto(`${router.url}/dashboard`);
  t.equal(response?.status(), 200, 'the page loads with the read-only token');
  for (const name of ['blue', 'green', 'canary']) await page.locator(`[data-testid="env-${name}"]`).waitFor({ timeout: 30_000 });
  t.pass('every environment is shown');
  t.equal(await text(page, 'env-blue-configured'), '70.0%', 'the configured split');
  t.equal(await text(page, 'env-canary-configured'), '5.0%');
  t.equal(await text(page, 'controller'), 'one router: weights kept in its file', 'which router decides (one, without a state store)');
  await until(async () => (await page.locator('[data-testid="replica-row"]').count()) === 3, 30_000);
  t.pass('every replica is listed');
  t.match(await text(page, 'env-blue-replicas'), /^1\/1 replicas$/, 'replica health');
  const idle = await text(page, 'env-blue-rps');

  const load = steadyLoad(router.url, 8, 60_000);
  t.teardown(() => load.stop());
  await page.waitForFunction(() => Number(document.querySelector('[data-testid="env-blue-rps"]')?.textContent) > 1, undefined, { timeout: 30_000 });
  const busy = await text(page, 'env-blue-rps');
  t.not(busy, idle, `req/s moved under load: ${idle} → ${busy}`);
  await page.waitForFunction(() => /%$/.test(document.querySelector('[data-testid="env-canary-observed"]')?.textContent ?? ''), undefined, { timeout: 30_000 });
  t.equal(await text(page, 'env-blue-error-rate'), '0.0%', 'no errors under load');
  t.equal(await text(page, 'env-green-confidence'), '0.750', 'mean confidence, as the replicas answered it');
  const observedBlue = parseFloat(await text(page, 'env-blue-observed'));
  t.ok(observedBlue > 50 && observedBlue < 90, `observed blue share near its 70%: ${observedBlue}%`);

  const change = await request(`${router.url}/admin/weights`, { method: 'PUT', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: '{"weights":{"blue":60,"green":30,"canary":10}}' });
  t.equal(change.statusCode, 200);
  await change.body.dump();
  await page.locator('[data-testid="history-entry"]').first().waitFor({ timeout: 30_000 });
  await page.waitForFunction(() => document.querySelector('[data-testid="env-canary-configured"]')?.textContent === '10.0%', undefined, { timeout: 30_000 });
  t.pass('a weight change shows in the split and the decision trail');

  const rollout = await request(`${router.url}/admin/rollouts`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: '{"target":"green","baseline":"blue","steps":[50,100],"pause_seconds":3600,"analysis":false}' });
  t.equal(rollout.statusCode, 201, 'a rollout starts');
  await rollout.body.dump();
  await page.waitForFunction(() => /blue → green · progressing · step 1 of 2/.test(document.querySelector('[data-testid="rollout"]')?.textContent ?? ''), undefined, { timeout: 30_000 });
  t.pass('the rollout in progress is shown with its step');
  t.notMatch(await text(page, 'rollout'), /null|undefined/, 'no empty value printed');

  // A bandit in the rollout's place: its arms, posteriors and weights, as it learns from feedback.
  const adminCall = async (method: 'POST', url: string, body?: unknown) => {
    const res = await request(`${router.url}${url}`, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body ?? {}) });
    await res.body.dump();
    return res.statusCode;
  };
  t.equal(await adminCall('POST', '/admin/rollouts/current/abort'), 200);
  t.equal(await adminCall('POST', '/admin/bandit', { arms: ['blue', 'green', 'canary'], interval_seconds: 1, min_feedback: 5, seed: 1 }), 201, 'a bandit starts');
  await page.waitForFunction(() => /blue · green · canary · running/.test(document.querySelector('[data-testid="bandit"]')?.textContent ?? ''), undefined, { timeout: 30_000 });
  const right: Record<string, number> = { blue: 0.6, green: 0.9, canary: 0.5 };
  for (let i = 0; i < 2000 && (await page.locator('[data-testid="bandit-arm"]').count()) < 3; i++) {
    const answer = await request(`${router.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":"a film"}' });
    await answer.body.dump();
    const label = Math.random() < right[String(answer.headers['x-environment'])] ? 'positive' : 'negative';
    const fed = await request(`${router.url}/feedback`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ request_id: answer.headers['x-request-id'], label }) });
    await fed.body.dump();
  }
  t.equal(await page.locator('[data-testid="bandit-arm"]').count(), 3, 'each arm with its labels, posterior, P(best) and weight');
  t.notMatch(await text(page, 'bandit'), /null|undefined|NaN/, 'no empty value printed');
  // These replicas report no word pieces, so drift has nothing to test: the table says so.
  t.notMatch(await text(page, 'drift'), /null|undefined|NaN/, 'the drift table, with no empty value printed');

  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard.png'), fullPage: true });
  const result = await load.stop();
  t.same(result.failed, [], `no request failed (${result.sent} sent)`);
  t.same(problems, [], 'no script error and no blocked resource in the page');
});
