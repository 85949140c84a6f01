// The launcher's environment, validated once at start (the one place it reads process.env).
import { Type, type Static } from '@sinclair/typebox';
import { LogLevel, readEnv } from '../../shared/config.ts';

export const LauncherEnv = Type.Object({
  DEPLOYMENT_FILE: Type.String({ default: 'deploy/local.yaml', minLength: 1, description: 'the deployment to run and reconcile, relative to the repository' }),
  ROUTER_ADMIN_TOKEN: Type.Optional(Type.String({ minLength: 16, description: 'admin token for the router; generated into .run/admin-token when unset' })),
  RUN_DIR: Type.String({ default: '.run', minLength: 1, description: 'where npm start keeps the admin token, the logs and the controller file, relative to the repository' }),
  LOG_LEVEL: LogLevel,
});
export type LauncherConfig = Static<typeof LauncherEnv>;

export function loadLauncherConfig(env: NodeJS.ProcessEnv = process.env): LauncherConfig {
  return readEnv(LauncherEnv, env);
}
