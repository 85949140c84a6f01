// What the controller (npm start's launcher) reports to the router's admin API, and the router
// shows: the state of each environment's deployment, and the model registry (the bundles it can
// deploy). One schema for the report, the answer and the OpenAPI document.
import { Type, type Static } from '@sinclair/typebox';
import { Lineage } from '../bundle/lineage.ts';
import { Nullable } from '../http/schemas.ts';

export const ReplicaStatus = Type.Object({
  id: Type.String(),
  version: Type.String(),
  phase: Type.Union([Type.Literal('starting'), Type.Literal('ready'), Type.Literal('stopping')]),
  url: Nullable(Type.String()),
  pid: Nullable(Type.Integer()),
  started_at: Type.String(),
});

/** A rolling update of an environment's replicas (the router's traffic shifts are rollouts). */
export const UpdateStatus = Type.Object({
  state: Type.Union([Type.Literal('completed'), Type.Literal('progressing'), Type.Literal('failed')]),
  message: Type.String(),
  since: Type.String(),
});

export const ScalingDecision = Type.Object({
  at: Type.String(),
  metric: Type.String(),
  value: Type.Number(),
  target: Type.Number(),
  current_replicas: Type.Integer(),
  desired_replicas: Type.Integer(),
  action: Type.String(),
  reason: Type.String(),
});
export type ScalingDecision = Static<typeof ScalingDecision>;

export const EnvironmentStatus = Type.Object({
  name: Type.String(),
  model: Type.String(),
  version: Type.String({ description: 'the version the deployment asks for' }),
  desired_replicas: Type.Integer(),
  ready_replicas: Type.Integer({ description: 'replicas ready and registered with the router' }),
  updated_replicas: Type.Integer({ description: 'replicas of the desired version (any phase)' }),
  versions: Type.Array(Type.String(), { description: 'versions of the replicas running now' }),
  replicas: Type.Array(ReplicaStatus),
  update: UpdateStatus,
  last_error: Nullable(Type.Object({ version: Type.String(), reason: Type.String(), at: Type.String() })),
  autoscale: Nullable(
    Type.Object({
      min: Type.Integer(),
      max: Type.Integer(),
      target_cpu_percent: Type.Number(),
      last_decision: Nullable(ScalingDecision),
      decisions: Type.Array(ScalingDecision, { description: 'the recent decisions that changed the replica count, oldest first' }),
    }),
  ),
});
export type EnvironmentStatus = Static<typeof EnvironmentStatus>;

export const DeploymentStatus = Type.Object({
  file: Type.String({ description: 'the deployment file the controller reconciles' }),
  reported_at: Type.String(),
  last_reload: Type.Object({ ok: Type.Boolean(), failure: Nullable(Type.Object({ path: Type.String(), message: Type.String(), at: Type.String() })) }),
  environments: Type.Array(EnvironmentStatus),
});
export type DeploymentStatus = Static<typeof DeploymentStatus>;

export const ModelBundleView = Type.Object({
  name: Type.String(),
  version: Type.String(),
  path: Type.String(),
  size_bytes: Type.Integer(),
  architecture: Nullable(Type.String()),
  description: Nullable(Type.String()),
  training_date: Nullable(Type.String()),
  metrics: Type.Record(Type.String(), Type.Unknown(), { description: "the bundle's metadata.json metrics (accuracy, macro-F1, per-class recall)" }),
  lineage: Nullable(Lineage),
  integrity: Type.Object({ manifest: Type.Boolean({ description: 'carries manifest.json (the sha256 of every file)' }), signed: Type.Boolean({ description: 'carries manifest.sig' }) }),
  running_in: Type.Array(Type.String(), { description: 'environments with replicas serving this bundle now' }),
});
export type ModelBundleView = Static<typeof ModelBundleView>;

export const ModelRegistryView = Type.Object({ models_dir: Type.String(), reported_at: Type.String(), models: Type.Array(ModelBundleView) });
export type ModelRegistryView = Static<typeof ModelRegistryView>;

export const DEPLOYMENTS_PATH = '/admin/deployments';
export const MODELS_PATH = '/admin/models';
export const REPLICAS_PATH = '/admin/replicas';
