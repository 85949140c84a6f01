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
