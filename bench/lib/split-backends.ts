// The backends bench:router and bench:router-flags put proxies in front of: blue 1.0.0, green
// 1.1.0 and canary 2.0.0 split 70/25/5, one compiled service process each run with a deployment's
// replica settings (its services.env), and a weights file in a fresh folder that names them.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BUILT_SERVICE_ENTRY, ROOT, startProcess, type RunningProcess } from '../../testkit/processes.ts';

export interface SplitBackend {
  name: string;
  version: string;
  weight: number;
  url: string;
}

/** The admin token of the routers a bench starts in front of these backends. */
export const BENCH_ADMIN_TOKEN = 'bench-admin-token-0123456789';

/**
 * What a bench's router in front of these backends runs with: their weights file, health checks
 * every second (rise 2, fall 2), no rate limit (HAProxy has none), and the guard only reporting:
 * acting, it sets an environment whose P95 outgrows the others' to weight 0, and the router would
 * serve a cheaper split than the proxies it is compared with (the canary, a transformer, is the
 * one whose P95 grows under saturation).
 */
export function benchRouterEnv(weightsFile: string): Record<string, string> {
  return { ROUTER_WEIGHTS_FILE: weightsFile, ROUTER_ADMIN_TOKEN: BENCH_ADMIN_TOKEN, ROUTER_PORT: '0', ROUTER_HEALTH_INTERVAL_MS: '1000', ROUTER_HEALTH_RISE: '2', ROUTER_HEALTH_FALL: '2', ROUTER_RATE_LIMIT_MAX: '0', ROUTER_GUARD_MODE: 'alert' };
}

/** Started processes go into `procs` (the caller stops them); `nice` > 0 lowers their priority. */
export async function startSplitBackends(serviceEnv: Record<string, string> | undefined, nice: number, procs: RunningProcess[], folderPrefix: string): Promise<{ backends: SplitBackend[]; dir: string; weightsFile: string }> {
  const backends: SplitBackend[] = [];
  for (const e of [
    { name: 'blue', version: '1.0.0', weight: 70 },
    { name: 'green', version: '1.1.0', weight: 25 },
    { name: 'canary', version: '2.0.0', weight: 5 },
  ]) {
    const p = await startProcess({ ...serviceEnv, MODELS_DIR: path.join(ROOT, 'models'), MODEL_VERSION: e.version }, BUILT_SERVICE_ENTRY);
    procs.push(p);
    if (nice > 0) os.setPriority(p.proc.pid!, nice);
    backends.push({ ...e, url: p.url });
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), folderPrefix));
  const weightsFile = path.join(dir, 'weights.yaml');
  fs.writeFileSync(weightsFile, `environments:\n${backends.map((b) => `  ${b.name}: { weight: ${b.weight}, replicas: [${b.url}] }`).join('\n')}\n`);
  return { backends, dir, weightsFile };
}
