// The inference service's public entry point: what the launcher, the trainer's tools, benchmarks
// and tests may use.
export { build, type AppConfig } from './src/app.ts';
export { loadBundle, type LoadedBundle } from './src/bundle/load-bundle.ts';
export { loadServiceConfig, serviceConfig, ServiceEnv, type ServiceConfig } from './src/config.ts';
export { TokenEncoder } from './src/model/token-encoder.ts';
export { BertWordPiece } from './src/model/bert-wordpiece.ts';
export { Predictor, type Prediction } from './src/predictor.ts';
