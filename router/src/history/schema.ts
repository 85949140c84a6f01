// One entry of the decision trail, as the file stores it and GET /admin/history shows it.
import { Type, type Static } from '@sinclair/typebox';
import { BanditArm } from '../rollouts/bandit-schema.ts';

/** What an automated decision was made on. */
export const DecisionRecord = Type.Object({
  metric: Type.String({ description: 'e.g. error_rate, p95_latency_ms' }),
  value: Type.Union([Type.Number(), Type.Null()]),
  threshold: Type.Number(),
  window_seconds: Type.Number(),
  sample: Type.Integer({ description: 'requests in the window' }),
  passed: Type.Boolean(),
});
export type DecisionRecord = Static<typeof DecisionRecord>;

const Weights = Type.Record(Type.String(), Type.Number());

export const HistoryEntry = Type.Object({
  at: Type.String(),
  kind: Type.Union([Type.Literal('weights'), Type.Literal('rollout'), Type.Literal('analysis'), Type.Literal('guard'), Type.Literal('bandit'), Type.Literal('stage'), Type.Literal('release')]),
  /** weights: what changed them; rollout: started, step, paused, resumed, completed, aborted, failed, restored (picked up after a restart, or by a newly elected controller); guard/analysis: the action; bandit: started, update, excluded, paused, resumed, stopped; stage: the stage a model version moved to; release: started, resumed, <step>_passed / _failed, promoted, rolled_back, refused, abandoned. */
  action: Type.String(),
  environment: Type.Optional(Type.String()),
  message: Type.String(),
  router: Type.Optional(Type.String({ description: 'the router that made the change or decision (with a state store)' })),
  rollout_id: Type.Optional(Type.String()),
  weights_before: Type.Optional(Weights),
  weights_after: Type.Optional(Weights),
  checks: Type.Optional(Type.Array(DecisionRecord)),
  bandit_id: Type.Optional(Type.String()),
  model: Type.Optional(Type.String()),
  model_version: Type.Optional(Type.String()),
  release_id: Type.Optional(Type.String({ description: 'the release (npm run release) that made or asked for it' })),
  arms: Type.Optional(Type.Array(BanditArm, { description: "a bandit update: each arm's feedback, posterior and the weight it got" })),
});
export type HistoryEntry = Static<typeof HistoryEntry>;
