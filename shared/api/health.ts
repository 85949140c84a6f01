// The service's health and info API: the router and the launcher probe READY_PATH, and learn a
// replica's model from INFO_PATH.
import { Type, type Static } from '@sinclair/typebox';

export const ProbeResponse = Type.Object({ status: Type.String() });

export const HealthResponse = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('starting'), Type.Literal('draining')]),
  model_loaded: Type.Boolean(),
  version: Type.String(),
  name: Type.String(),
});

export const InfoResponse = Type.Object(
  {
    name: Type.String(),
    version: Type.String(),
    labels: Type.Array(Type.String()),
    inputs: Type.Array(Type.String()),
    output: Type.String(),
    max_length: Type.Integer(),
    concurrency: Type.Integer({ minimum: 1, description: 'how many batches the replica runs side by side (its inference workers): a router coalescing requests keeps that many batches in flight to it' }),
    metadata: Type.Record(Type.String(), Type.Unknown()),
    integrity: Type.Optional(Type.Object({ manifest: Type.Boolean({ description: "the bundle's files matched its manifest.json when it was loaded" }), signed: Type.Boolean({ description: 'its manifest.sig verified with the configured public key' }) })),
  },
  { additionalProperties: false },
);

/** What the router reads of INFO_PATH: which model and version a replica serves, and how many batches it runs at once (1 when it does not say). */
export const ReplicaIdentity = Type.Object({ name: Type.String({ minLength: 1 }), version: Type.String({ minLength: 1 }), concurrency: Type.Optional(Type.Integer({ minimum: 1 })) });
export type ReplicaIdentity = Static<typeof ReplicaIdentity>;

export const LIVE_PATH = '/health/live';
export const READY_PATH = '/health/ready';
export const INFO_PATH = '/info';
