// The real launcher (npm start's controller) in a temp folder of its own: its deployment file,
// weights file, run folder (token, logs, controller file) and models folder, on ephemeral ports.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Test } from 'tap';
import { request } from 'undici';
import { writeManifest } from '../../shared/bundle/manifest.ts';
import { childPids, ROOT } from '../../testkit/processes.ts';
import { nodeArgs } from '../../testkit/entry.ts';
import { until } from './router.ts';

export const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** The node processes a process started (tsx's esbuild helper is not one of them). */
export const nodeChildrenOf = (pid: number): number[] => {
  try {
    return childPids(pid).filter((p) => readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'node');
  } catch {
    return [];
  }
};

export const LAUNCHER_TOKEN = 'launcher-test-token-0123456789';
export const adminHeaders = { authorization: `Bearer ${LAUNCHER_TOKEN}` };

export interface LauncherSetup {
  environments: Record<string, { version: string; replicas: number; autoscale?: string }>;
  weights: Record<string, number>;
  /** Extra bundles to put in the models folder: version → files to override in a copy of 1.0.0. */
  extraBundles?: Record<string, Record<string, Buffer | string>>;
  env?: Record<string, string>;
  /** More top-level sections of the deployment file, as YAML (a `services:` line replaces the default; MODELS stands for the models folder). */
  extraYaml?: string;
  /** More fields of its router section, as flow YAML (e.g. `instances: 2`). */
  routerYaml?: string;
  /** Writes more bundles into the models folder (its path given) before the launcher starts. */
  prepareModels?: (models: string) => void | Promise<void>;
}

export interface RunningLauncher {
  proc: ChildProcess;
  base: string;
  dir: string;
  deploymentFile: string;
  output: () => string;
  env: Record<string, string>;
  admin: <T>(path: string, init?: { method?: 'GET' | 'PUT' | 'POST'; body?: unknown }) => Promise<{ status: number; body: T }>;
}

/** A models folder with links to the built-in bundles, plus copies of 1.0.0 with files replaced. */
async function modelsFolder(dir: string, extra: LauncherSetup['extraBundles'] = {}): Promise<string> {
  const models = path.join(dir, 'models', 'sentiment');
  await fs.mkdir(models, { recursive: true });
  for (const version of await fs.readdir(path.join(ROOT, 'models', 'sentiment'))) await fs.symlink(path.join(ROOT, 'models', 'sentiment', version), path.join(models, version));
  for (const [version, files] of Object.entries(extra)) {
    await fs.cp(path.join(ROOT, 'models', 'sentiment', '1.0.0'), path.join(models, version), { recursive: true });
    for (const [name, content] of Object.entries(files)) await fs.writeFile(path.join(models, version, name), content);
    // A bundle built with these files: its manifest says so.
    writeManifest(path.join(models, version));
  }
  return path.join(dir, 'models');
}

export function deploymentYaml(models: string, weights: string, environments: LauncherSetup['environments'], extra = '', router = ''): string {
  const services = /^services:/m.test(extra) ? '' : `services: { host: 127.0.0.1, models_dir: ${models}, env: { INFERENCE_WORKERS: "0", LOG_LEVEL: info } }\n`;
  return `# a test deployment
${extra.replaceAll('MODELS', models)}router: { host: 127.0.0.1, port: 0, weights_file: ${weights}${router ? `, ${router}` : ''} }
${services}
environments:
${Object.entries(environments)
  .map(([name, e]) => `  ${name}:\n    model: sentiment\n    version: ${e.version}\n    replicas: ${e.replicas}${e.autoscale ? `\n    autoscale: ${e.autoscale}` : ''}`)
  .join('\n')}
`;
}

export async function startLauncher(t: Test, setup: LauncherSetup): Promise<RunningLauncher> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'launcher-'));
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  const weights = path.join(dir, 'weights.yaml');
  await fs.writeFile(weights, `environments:\n${Object.entries(setup.weights).map(([n, w]) => `  ${n}: { weight: ${w} }`).join('\n')}\n`);
  const deploymentFile = path.join(dir, 'local.yaml');
  const models = await modelsFolder(dir, setup.extraBundles);
  await setup.prepareModels?.(models);
  await fs.writeFile(deploymentFile, deploymentYaml(models, weights, setup.environments, setup.extraYaml, setup.routerYaml));
  const env = { DEPLOYMENT_FILE: deploymentFile, RUN_DIR: path.join(dir, 'run'), ROUTER_ADMIN_TOKEN: LAUNCHER_TOKEN, ...setup.env };
  const proc = spawn(process.execPath, nodeArgs(path.join(ROOT, 'launcher/src/main.ts')), { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  proc.stdout.on('data', (d) => (output += d));
  proc.stderr.on('data', (d) => (output += d));
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  t.teardown(async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      await exited;
    }
  });
  await until(() => output.includes('sentiment-serving is up') || proc.exitCode !== null, 120_000, 200).catch((err: Error) => {
    throw new Error(`${err.message}; the launcher said:\n${output}`);
  });
  const base = /API\s+(http:\/\/127\.0\.0\.1:\d+)\/predict/.exec(output)?.[1];
  if (!base) throw new Error(`the launcher did not come up:\n${output}`);
  const admin = async <T>(p: string, init: { method?: 'GET' | 'PUT' | 'POST'; body?: unknown } = {}) => {
    const res = await request(`${base}${p}`, {
      method: init.method ?? 'GET',
      headers: { ...adminHeaders, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    const text = await res.body.text();
    return { status: res.statusCode, body: (text ? JSON.parse(text) : null) as T };
  };
  return { proc, base, dir, deploymentFile, output: () => output, env, admin };
}

/** Runs one of the commands beside npm start (launcher/src/<name>-command.ts) against the launcher. */
export function command(launcher: RunningLauncher, name: string, args: string[], env: Record<string, string> = {}): { proc: ChildProcess; output: () => string; done: Promise<{ code: number | null; output: string }> } {
  const proc = spawn(process.execPath, [...nodeArgs(path.join(ROOT, `launcher/src/${name}-command.ts`)), ...args], { cwd: ROOT, env: { ...process.env, ...launcher.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  proc.stdout.on('data', (d) => (output += d));
  proc.stderr.on('data', (d) => (output += d));
  return { proc, output: () => output, done: new Promise((resolve) => proc.once('exit', (code) => resolve({ code, output }))) };
}

/** Runs `npm run deploy`'s command against the launcher; resolves with its exit code and output. */
export function deploy(launcher: RunningLauncher, args: string[]): Promise<{ code: number | null; output: string }> {
  return command(launcher, 'deploy', args).done;
}
