// The router's public entry point: what the launcher, benchmarks and tests may use.
export { build, type AppConfig } from './src/app.ts';
export { loadRouterConfig, routerConfig, RouterEnv, type RouterConfig } from './src/config.ts';
export { ENVIRONMENT_HEADER, MODEL_VERSION_HEADER, PROXIED_ROUTES } from './src/proxy/routes.ts';
export { OVERRIDE_HEADER } from './src/routing/request-facts.ts';
export { ENV_NAME_PATTERN, REPLICA_URL_PATTERN, WeightsFile, WeightsUpdate } from './src/weights/schema.ts';
export { parseWeights } from './src/weights/parse.ts';
