// For commands run beside `npm start` (npm run deploy, npm run demo): where the running controller's
// router listens and the admin token it uses, read from its run folder; a clear error otherwise.
import fs from 'node:fs';
import path from 'node:path';
import type { LauncherConfig } from './config.ts';
import { ADMIN_TOKEN_FILE, CONTROLLER_FILE, type ControllerFile } from './run-dir.ts';

export interface Running {
  routerUrl: string;
  token: string;
  deploymentFile: string;
}

export function findRunning(root: string, config: LauncherConfig): Running {
  const runDir = path.resolve(root, config.RUN_DIR);
  const file = path.join(runDir, CONTROLLER_FILE);
  let controller: ControllerFile;
  try {
    controller = JSON.parse(fs.readFileSync(file, 'utf8')) as ControllerFile;
    process.kill(controller.pid, 0);
  } catch {
    throw new Error(`npm start is not running here (no live controller in ${path.relative(process.cwd(), file)}): start it first`);
  }
  const token = config.ROUTER_ADMIN_TOKEN ?? fs.readFileSync(path.join(runDir, ADMIN_TOKEN_FILE), 'utf8').trim();
  return { routerUrl: controller.router_url, token, deploymentFile: path.resolve(controller.deployment_file) };
}
