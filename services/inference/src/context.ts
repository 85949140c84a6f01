import type { Predictor } from './predictor.ts';
import type { TextLimits } from './schemas/predict.ts';

/** What route plugins share: the model, its predictor and the lifecycle state. */
export interface ServiceContext {
  predictor: Predictor;
  limits: TextLimits;
  state: { ready: boolean; draining: boolean };
}
