// A client that sends more than the body limit reads the 413, with fetch as most clients are
// written: the rest of the body is read and dropped before the answer goes out (without that,
// the socket closed under a client still sending, and fetch saw EPIPE two times in three).
import t from 'tap';
import path from 'node:path';
import { fixtureBundleDir } from '../helpers/build-app.ts';
import { ROOT, startProcess } from '../../testkit/processes.ts';
import { record } from './harness.ts';
import { weightsFile } from '../helpers/router.ts';

const TRIES = 5;
const ELEVEN_MB = JSON.stringify({ text: 'x'.repeat(11 * 1024 * 1024) });

/** The same 11 MB as a stream of 64 KB chunks: no Content-Length, chunked on the wire. */
function chunked(): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(ELEVEN_MB);
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.subarray(offset, (offset += 65_536)));
    },
  });
}

async function tryOversized(url: string, stream: boolean): Promise<string> {
  try {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: stream ? chunked() : ELEVEN_MB, ...(stream ? { duplex: 'half' } : {}) } as RequestInit);
    const body = (await res.json()) as { code?: string };
    return `${res.status} ${body.code}`;
  } catch (err) {
    return (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
  }
}

t.test('an 11 MB body gets a readable 413 from the service and through the router', async (t) => {
  const service = await startProcess({ MODEL_DIR: await fixtureBundleDir(), INFERENCE_WORKERS: '0' });
  t.teardown(() => service.stop('SIGKILL'));
  const file = await weightsFile(t, `environments:\n  blue: { weight: 1, replicas: [${service.url}] }\n`);
  const router = await startProcess({ ROUTER_WEIGHTS_FILE: file, ROUTER_ADMIN_TOKEN: 'oversized-body-token-0123456789', ROUTER_PORT: '0' }, path.join(ROOT, 'router/src/server.ts'));
  t.teardown(() => router.stop('SIGKILL'));

  const outcomes: string[] = [];
  for (const [name, base] of [['service', service.url], ['router', router.url]] as const) {
    for (const stream of [false, true]) {
      for (let i = 0; i < TRIES; i++) {
        const outcome = await tryOversized(`${base}/predict`, stream);
        outcomes.push(outcome);
        t.equal(outcome, '413 FST_ERR_CTP_BODY_TOO_LARGE', `${name}, ${stream ? 'chunked' : 'with Content-Length'}, try ${i + 1}: the 413 is read`);
      }
    }
  }
  const ok = await fetch(`${router.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":"still fine"}' });
  t.equal(ok.status, 200, 'and the next request is served');
  await record({
    scenario: 'Oversized body',
    what: `fetch sends 11 MB (limit 1 MB) to the service and the router, with Content-Length and chunked, ${TRIES} times each`,
    sent: outcomes.length,
    failed: outcomes.filter((o) => !o.startsWith('413')).length,
    failures: Object.fromEntries(outcomes.filter((o) => !o.startsWith('413')).map((o) => [o, 1])),
    p99_ms: null,
    worst_ms: null,
    recovery: 'every client read its 413 JSON error; the connection closed cleanly after it',
  });
});
