// deploy/local.yaml: which environments run which model version with how many replicas.
import fs from 'node:fs';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parse } from 'yaml';
import { ConfigError } from '../../shared/errors.ts';
import { ENV_NAME_PATTERN } from '../../router/index.ts';

export const Topology = Type.Object(
  {
    router: Type.Object(
      {
        host: Type.String(),
        port: Type.Integer({ minimum: 0, maximum: 65535, description: '0: an ephemeral port, shown in the banner' }),
        weights_file: Type.String(),
        env: Type.Optional(Type.Record(Type.String(), Type.String())),
      },
      { additionalProperties: false },
    ),
    services: Type.Object(
      {
        host: Type.String(),
        first_port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65000, description: 'replicas take consecutive ports from here; 0 or absent: ephemeral ports' })),
        models_dir: Type.String(),
        nice: Type.Optional(Type.Integer({ minimum: 0, maximum: 19, description: 'scheduling niceness of every replica process' })),
        env: Type.Optional(Type.Record(Type.String(), Type.String())),
      },
      { additionalProperties: false },
    ),
    environments: Type.Record(
      Type.String({ pattern: ENV_NAME_PATTERN }),
      Type.Object({ model: Type.String(), version: Type.String(), replicas: Type.Integer({ minimum: 0, maximum: 32 }) }, { additionalProperties: false }),
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type Topology = Static<typeof Topology>;

export function readTopology(file: string): Topology {
  const data = parse(fs.readFileSync(file, 'utf8'));
  const error = Value.Errors(Topology, data).First();
  if (error) throw new ConfigError(`${file}: ${error.path || '/'} ${error.message}`);
  return data as Topology;
}

export interface ReplicaPlan {
  environment: string;
  index: number;
  /** 0: an ephemeral port. */
  port: number;
  model: string;
  version: string;
}

export function planReplicas(t: Topology): ReplicaPlan[] {
  let port = t.services.first_port ?? 0;
  return Object.entries(t.environments).flatMap(([environment, e]) =>
    Array.from({ length: e.replicas }, (_, index) => ({ environment, index, port: port ? port++ : 0, model: e.model, version: e.version })),
  );
}
