// What npm run release is told: the gates a bundle must pass and how it is brought to traffic
// (deploy/release.yaml, validated whole; an error names the field). Every threshold is stated here,
// and the release report repeats the ones in force.
import fs from 'node:fs';
import path from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parse as parseYaml } from 'yaml';
import { AnalysisOptions } from '../../../router/src/rollouts/schema.ts';
import { ENV_NAME_PATTERN } from '../../../router/index.ts';

const Fraction = (def: number, description: string) => Type.Number({ default: def, minimum: 0, maximum: 1, description });

export const ReleaseSettings = Type.Object(
  {
    environments: Type.Array(Type.String({ pattern: ENV_NAME_PATTERN }), {
      default: ['canary', 'blue'],
      minItems: 1,
      description: "where the candidate may be deployed, in order: the first that does not serve production (its weight is 0 until the rollout). After a release production runs there and the environment it left is the backup, so two environments take turns (blue-green)",
    }),
    replicas: Type.Optional(Type.Integer({ minimum: 1, maximum: 32, description: "the candidate's replicas (default: as many as the environment it takes traffic from runs)" })),
    baseline: Type.Optional(Type.String({ pattern: ENV_NAME_PATTERN, description: "the environment traffic moves from (default: the heaviest one serving production's version)" })),
    offline: Type.Object(
      {
        max_accuracy_drop: Fraction(0.01, "sst3 test accuracy may be below production's by at most this (0.01: one point)"),
        max_macro_f1_drop: Fraction(0.01, "sst3 test macro-F1 may be below production's by at most this"),
        min_recall: Type.Record(Type.String(), Type.Number({ minimum: 0, maximum: 1 }), { default: { negative: 0.5, neutral: 0.2, positive: 0.5 }, description: 'per-class recall floors on sst3 test' }),
        checklist: Type.String({ default: 'models/checklist/sentiment.json', minLength: 1, description: 'the behavioural suite (relative to the repository)' }),
        max_checklist_drop: Fraction(0.02, "the suite's pass rate may be below production's by at most this"),
        latency_factor: Type.Number({ default: 3, minimum: 1, description: "one text's P95 in the service's code path (the best of three rounds, alternating with production) may be at most this many times production's..." }),
        latency_budget_ms: Type.Number({ default: 10, minimum: 0, description: '...or at most this (a tenth of the 100 ms P95 target), whichever is larger' }),
        latency_texts: Type.Integer({ default: 300, minimum: 20, maximum: 5000, description: 'sst3 test texts timed one at a time, per version' }),
      },
      { default: {}, additionalProperties: false },
    ),
    shadow: Type.Object(
      {
        percent: Type.Number({ default: 20, minimum: 0, maximum: 100, description: "share of the production traffic mirrored to the candidate (0: no shadow step)" }),
        requests: Type.Integer({ default: 300, minimum: 1, description: 'mirrored requests compared before the rollout' }),
        max_seconds: Type.Integer({ default: 600, minimum: 1, description: 'or this long, whichever comes first' }),
        min_agreement: Type.Number({ default: 0, minimum: 0, maximum: 1, description: "share of mirrored answers with production's label below which the release stops (0: shown, not a gate)" }),
        max_failed_share: Fraction(0.05, 'share of mirrored requests the candidate failed (errors, timeouts) above which the release stops and rolls back'),
      },
      { default: {}, additionalProperties: false },
    ),
    rollout: Type.Object(
      {
        steps: Type.Array(Type.Number({ minimum: 0.1, maximum: 100 }), { default: [10, 50, 100], minItems: 1, maxItems: 20, description: 'percent of the pair\'s traffic on the candidate at each step' }),
        pause_seconds: Type.Number({ default: 60, minimum: 0, maximum: 86_400, description: 'time at each step before its analysis' }),
        analysis: Type.Optional(AnalysisOptions),
      },
      { default: {}, additionalProperties: false },
    ),
    timeout_seconds: Type.Integer({ default: 7200, minimum: 10, description: 'the whole release, from its start (a resumed one counts from its resumption)' }),
    deploy_timeout_seconds: Type.Integer({ default: 300, minimum: 10, description: 'for the candidate\'s replicas to be ready' }),
  },
  { additionalProperties: false },
);
export type ReleaseSettings = Static<typeof ReleaseSettings>;

/** The settings in the file (defaults for what it leaves out); an error names the file and the field. */
export function readReleaseSettings(file: string | undefined): ReleaseSettings {
  let document: unknown = {};
  if (file) {
    try {
      document = parseYaml(fs.readFileSync(file, 'utf8'), { uniqueKeys: true }) ?? {};
    } catch (err) {
      throw new Error(`${path.relative(process.cwd(), file)}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  const settings = Value.Default(ReleaseSettings, structuredClone(document));
  const error = Value.Errors(ReleaseSettings, settings).First();
  if (error) throw new Error(`invalid ${file ? path.relative(process.cwd(), file) : 'release settings'}: ${error.path || '/'}: ${error.message}`);
  return settings as ReleaseSettings;
}
