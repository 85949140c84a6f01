// One replica and the router in front of it, compiled, with deploy/local.yaml's replica and router
// settings (rate limit off): what the protocol benchmarks (gRPC, GraphQL) put each protocol through.
// Both are killed when the benchmark's process exits, whatever happens before.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readDeployment } from '../../launcher/index.ts';
import { BUILT_SERVICE_ENTRY, ROOT, startProcess, type RunningProcess } from '../../testkit/processes.ts';
import { buildDist } from './build.ts';

export async function routerWithReplica(version: string, name: string): Promise<{ replica: RunningProcess; router: RunningProcess; stop: () => Promise<void> }> {
  buildDist();
  const deployed = readDeployment(path.join(ROOT, 'deploy', 'local.yaml'));
  const replica = await startProcess({ ...deployed.services.env, MODELS_DIR: path.join(ROOT, 'models'), MODEL_NAME: 'sentiment', MODEL_VERSION: version }, BUILT_SERVICE_ENTRY);
  const procs: RunningProcess[] = [replica];
  process.on('exit', () => procs.forEach((p) => p.proc.kill('SIGKILL')));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${name}-`));
  const weights = path.join(dir, 'weights.yaml');
  fs.writeFileSync(weights, `environments:\n  blue: { weight: 100, replicas: [${replica.url}] }\n`);
  const router = await startProcess(
    { ...(deployed.router.config_file ? { ROUTER_CONFIG_FILE: path.resolve(ROOT, deployed.router.config_file) } : {}), ...deployed.router.env, ROUTER_WEIGHTS_FILE: weights, ROUTER_ADMIN_TOKEN: `${name}-admin-token-0123456789`, ROUTER_PORT: '0', ROUTER_RATE_LIMIT_MAX: '0', ROUTER_HEALTH_INTERVAL_MS: '1000' },
    path.join(ROOT, 'dist/router/src/server.js'),
  );
  procs.push(router);
  return { replica, router, stop: async () => void (await Promise.all(procs.map((p) => p.stop()))) };
}
