// Deploys a version to an environment of the running deployment: edits the deployment file as the
// controller's own edits are (validated whole, then atomically), then follows the rolling update
// through the router's admin API until every replica of the version is ready, or the update stops.
// npm run deploy and npm run release both go through it.
import fs from 'node:fs';
import path from 'node:path';
import { request } from 'undici';
import { DEPLOYMENTS_PATH, type DeploymentStatus, type EnvironmentStatus } from '../../shared/api/deployments.ts';
import { parseDeployment, withEnvironment } from './deployment.ts';
import type { Running } from './running.ts';

const POLL_MS = 500;

export interface DeployRequest {
  running: Running;
  environment: string;
  model: string;
  version: string;
  replicas: number;
  timeoutMs: number;
  /** Each change of the update, one line. */
  say: (line: string) => void;
}

/** "green: 2.0.0 1/3 ready, 1 starting; still serving 1.1.0 ×2". */
export function describeEnvironment(e: EnvironmentStatus): string {
  const mine = e.replicas.filter((r) => r.version === e.version);
  const count = (phase: string) => mine.filter((r) => r.phase === phase).length;
  const others = new Map<string, number>();
  for (const r of e.replicas) if (r.version !== e.version && r.phase !== 'stopping') others.set(r.version, (others.get(r.version) ?? 0) + 1);
  const draining = e.replicas.filter((r) => r.version !== e.version && r.phase === 'stopping').length;
  return [
    `${e.name}: ${e.version} ${count('ready')}/${e.desired_replicas} ready`,
    count('starting') ? `, ${count('starting')} starting` : '',
    others.size ? `; still serving ${[...others].map(([v, n]) => `${v} ×${n}`).join(', ')}` : '',
    draining ? `; ${draining} draining` : '',
  ].join('');
}

export async function deploymentStatus(running: Running): Promise<DeploymentStatus | undefined> {
  const res = await request(`${running.routerUrl}${DEPLOYMENTS_PATH}`, { headers: { authorization: `Bearer ${running.token}` }, headersTimeout: 5000, bodyTimeout: 5000 });
  if (res.statusCode !== 200) return (await res.body.dump(), undefined);
  return (await res.body.json()) as DeploymentStatus;
}

/** Is the environment serving exactly this version on this many ready replicas? */
export const isDeployed = (e: EnvironmentStatus | undefined, version: string, replicas: number) =>
  e !== undefined && e.version === version && e.update.state === 'completed' && e.ready_replicas === replicas && e.versions.length === (replicas > 0 ? 1 : 0) && (replicas === 0 || e.versions[0] === version);

/** Resolves once deployed; throws with the reason the update stopped (or did not finish in time). */
export async function deployVersion(r: DeployRequest): Promise<void> {
  const file = r.running.deploymentFile;
  const text = fs.readFileSync(file, 'utf8');
  const edited = withEnvironment(text, r.environment, { model: r.model, version: r.version, replicas: r.replicas });
  parseDeployment(edited);
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  fs.writeFileSync(tmp, edited);
  fs.renameSync(tmp, file);
  const writtenAt = new Date().toISOString();
  r.say(`${r.environment} → ${r.model} ${r.version} × ${r.replicas} (${path.relative(process.cwd(), file)} updated)`);
  const deadline = Date.now() + r.timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const s = await deploymentStatus(r.running).catch(() => undefined);
    // Only a report made after the edit, of the version asked for, says anything about this deploy.
    const fresh = s !== undefined && s.reported_at >= writtenAt;
    if (fresh && !s.last_reload.ok && s.last_reload.failure) throw new Error(`the controller rejected the file: ${s.last_reload.failure.message}`);
    const e = fresh ? s.environments.find((env) => env.name === r.environment) : undefined;
    if (e && e.version === r.version) {
      const line = describeEnvironment(e);
      if (line !== last) r.say(line);
      last = line;
      if (e.update.state === 'failed' && e.last_error?.version === r.version) throw new Error(`the update stopped: ${e.last_error.reason}`);
      if (isDeployed(e, r.version, r.replicas)) return;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  throw new Error(`not done within ${r.timeoutMs / 1000} s; last seen: ${last || 'no report of the new version'}`);
}

/** The bundle folder of a version, refusing one that is not there. */
export function bundleDir(modelsDir: string, model: string, version: string): string {
  const dir = path.join(modelsDir, model, version);
  if (!fs.existsSync(path.join(dir, 'model.onnx'))) throw new Error(`no bundle at ${path.relative(process.cwd(), dir)} (model.onnx missing)`);
  return dir;
}
