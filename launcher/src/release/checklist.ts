// The behavioural suite a release runs (models/checklist/*.json, CheckList-style): templates filled
// from word lists into cases, each case checked on the bundle's answers through the serving code.
// MFT: each text gets the expected label (or not the forbidden one). INV: the texts that differ only
// in the varied slot share one label. DIR: the variant keeps the base's label, its confidence not
// lower by more than the stated drop.
import fs from 'node:fs';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { predictAll } from '../../../models/tools/trainer/evaluate.ts';
import { Random } from '../../../shared/random.ts';

const Expect = Type.Object(
  {
    label: Type.Optional(Type.String()),
    not: Type.Optional(Type.String()),
    same_label: Type.Optional(Type.Boolean()),
    max_confidence_drop: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  },
  { additionalProperties: false },
);

const SuiteTest = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    capability: Type.String({ minLength: 1 }),
    type: Type.Union([Type.Literal('MFT'), Type.Literal('INV'), Type.Literal('DIR')]),
    templates: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
    vary: Type.Optional(Type.String({ description: 'INV: the slot whose values must not change the label' })),
    expect: Expect,
  },
  { additionalProperties: false },
);

export const ChecklistSuite = Type.Object(
  {
    description: Type.Optional(Type.String()),
    seed: Type.Integer(),
    max_cases: Type.Integer({ minimum: 1, maximum: 10_000, description: 'cases per test at most (sampled with the seed)' }),
    fills: Type.Record(Type.String(), Type.Array(Type.String(), { minItems: 1 })),
    tests: Type.Array(SuiteTest, { minItems: 1 }),
  },
  { additionalProperties: false },
);
export type ChecklistSuite = Static<typeof ChecklistSuite>;
type SuiteTest = Static<typeof SuiteTest>;

export interface TestResult {
  name: string;
  capability: string;
  type: SuiteTest['type'];
  cases: number;
  passed: number;
  pass_rate: number;
  /** A few failing cases, as the texts and the labels they got. */
  failures: { texts: string[]; labels: string[] }[];
}

export interface ChecklistResult {
  suite: string;
  tests: TestResult[];
  /** The mean of the tests' pass rates. */
  pass_rate: number;
}

/** Reads and validates a suite; an error names the file and the field. */
export function readSuite(file: string): ChecklistSuite {
  const data: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
  const error = Value.Errors(ChecklistSuite, data).First();
  if (error) throw new Error(`${file}: ${error.path || '/'}: ${error.message}`);
  const suite = data as ChecklistSuite;
  for (const test of suite.tests) {
    for (const slot of test.templates.flatMap(slotsOf)) if (!suite.fills[slot]) throw new Error(`${file}: test "${test.name}" uses {${slot}}, which fills does not list`);
    if (test.type === 'INV' && !test.vary) throw new Error(`${file}: test "${test.name}" is INV and names no slot to vary`);
    if (test.type === 'DIR' && test.templates.length !== 2) throw new Error(`${file}: test "${test.name}" is DIR: templates must be [base, variant]`);
  }
  return suite;
}

const slotsOf = (template: string) => [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
const render = (template: string, values: Record<string, string>) => template.replace(/\{(\w+)\}/g, (_, slot: string) => values[slot]);
const capitalized = (text: string) => text[0].toUpperCase() + text.slice(1);

/** Every assignment of the slots' fills. */
function assignments(slots: string[], fills: Record<string, string[]>): Record<string, string>[] {
  return slots.reduce<Record<string, string>[]>((acc, slot) => acc.flatMap((a) => fills[slot].map((v) => ({ ...a, [slot]: v }))), [{}]);
}

/** The test's cases: the texts each one is checked on. */
export function casesOf(test: SuiteTest, suite: ChecklistSuite): string[][] {
  const random = new Random(suite.seed + [...test.name].reduce((h, c) => h * 31 + c.charCodeAt(0), 0));
  const unique = (xs: string[]) => [...new Set(xs)];
  let pool: string[][];
  if (test.type === 'DIR') {
    const [base, variant] = test.templates;
    pool = assignments(unique([...slotsOf(base), ...slotsOf(variant)]), suite.fills).map((a) => [render(base, a), render(variant, a)]);
  } else if (test.type === 'INV') {
    const vary = test.vary!;
    pool = test.templates.flatMap((t) =>
      assignments(unique(slotsOf(t)).filter((s) => s !== vary), suite.fills).map((a) => {
        const values = random.shuffle([...suite.fills[vary]]).slice(0, 3);
        return values.map((v) => render(t, { ...a, [vary]: v }));
      }),
    );
  } else {
    pool = test.templates.flatMap((t) => assignments(unique(slotsOf(t)), suite.fills).map((a) => [render(t, a)]));
  }
  return random.shuffle(pool).slice(0, suite.max_cases).map((texts) => texts.map(capitalized));
}

function passes(test: SuiteTest, answers: { sentiment: string; confidence: number }[]): boolean {
  const e = test.expect;
  if (test.type === 'MFT') return (e.label === undefined || answers[0].sentiment === e.label) && (e.not === undefined || answers[0].sentiment !== e.not);
  if (test.type === 'INV') return answers.every((a) => a.sentiment === answers[0].sentiment);
  const [base, variant] = answers;
  return (!e.same_label || variant.sentiment === base.sentiment) && (e.max_confidence_drop === undefined || variant.sentiment !== base.sentiment || variant.confidence >= base.confidence - e.max_confidence_drop);
}

/** Runs the suite on a bundle, through the serving code (bundle loader, tokenizer, onnxruntime). */
export async function runChecklist(dir: string, suite: ChecklistSuite, name: string): Promise<ChecklistResult> {
  const perTest = suite.tests.map((test) => ({ test, cases: casesOf(test, suite) }));
  const texts = perTest.flatMap((t) => t.cases.flat());
  const { predictions } = await predictAll(dir, texts);
  let next = 0;
  const tests = perTest.map(({ test, cases }): TestResult => {
    let passed = 0;
    const failures: TestResult['failures'] = [];
    for (const texts of cases) {
      const answers = predictions.slice(next, next + texts.length);
      next += texts.length;
      if (passes(test, answers)) passed++;
      else if (failures.length < 3) failures.push({ texts, labels: answers.map((a) => a.sentiment) });
    }
    return { name: test.name, capability: test.capability, type: test.type, cases: cases.length, passed, pass_rate: cases.length ? passed / cases.length : 1, failures };
  });
  return { suite: name, tests, pass_rate: tests.reduce((s, t) => s + t.pass_rate, 0) / tests.length };
}
