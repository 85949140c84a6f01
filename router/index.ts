// The router's public entry point: what the launcher, benchmarks and tests may use.
export { build, type AppConfig } from './src/app.ts';
export { loadRouterConfig, parseRouterFile, ROUTER_OVERRIDES, RouterEnv, RouterSettings, type RouterConfig } from './src/config.ts';
export { PROXIED_ROUTES } from './src/proxy/routes.ts';
export { API_KEY_HEADER, ENVIRONMENT_HEADER, MODEL_VERSION_HEADER, OVERRIDE_HEADER, REQUEST_ID_HEADER } from '../shared/api/headers.ts';
export { ENV_NAME_PATTERN, REPLICA_URL_PATTERN, WeightsFile, WeightsUpdate } from './src/weights/schema.ts';
export { parseWeights } from './src/weights/parse.ts';
