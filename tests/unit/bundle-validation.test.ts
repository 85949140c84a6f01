// A bundle that cannot be served fails at load with one message naming the file and the problem.
import t from 'tap';
import { loadBundle } from '../../services/inference/src/bundle/load-bundle.ts';
import { BundleError } from '../../shared/errors.ts';
import { tempFixtureBundle } from '../../testkit/bert-fixture.ts';
import { GraphBuilder, ElemType } from '../../models/tools/onnx/graph-builder.ts';

const runtime = { workers: 1, intraOpThreads: 1, interOpThreads: 1 };

function graph(build: (g: GraphBuilder) => void): Uint8Array {
  const g = new GraphBuilder('bad');
  build(g);
  return g.toBytes();
}

const cases: { name: string; options: Parameters<typeof tempFixtureBundle>[0]; file: string; problem: RegExp }[] = [
  { name: 'missing model.onnx', options: { omit: 'model.onnx' }, file: 'model.onnx', problem: /missing/ },
  { name: 'missing tokenizer.json', options: { omit: 'tokenizer.json' }, file: 'tokenizer.json', problem: /missing/ },
  { name: 'missing config.json', options: { omit: 'config.json' }, file: 'config.json', problem: /missing/ },
  { name: 'config.json not JSON', options: { override: { 'config.json': '{ "id2label": ' } }, file: 'config.json', problem: /not valid JSON/ },
  { name: 'config.json without id2label', options: { override: { 'config.json': '{"model_type":"bert"}' } }, file: 'config.json', problem: /id2label/ },
  { name: 'id2label with a gap', options: { override: { 'config.json': '{"id2label":{"0":"NEG","2":"POS"}}' } }, file: 'config.json', problem: /without gaps/ },
  { name: 'labels do not match the output width', options: { override: { 'config.json': '{"id2label":{"0":"a","1":"b","2":"c"}}' } }, file: 'model.onnx', problem: /\[batch, 2\].*config\.json id2label has 3 labels/ },
  { name: 'model.onnx is not ONNX', options: { override: { 'model.onnx': 'not a model' } }, file: 'model.onnx', problem: /cannot be loaded/ },
  { name: 'tokenizer.json is not a tokenizer', options: { override: { 'tokenizer.json': '{"model":{"type":"Nope","vocab":{}}}' } }, file: 'tokenizer.json', problem: /not a usable tokenizer/ },
  {
    name: 'graph input the service cannot feed',
    options: { override: { 'model.onnx': graph((g) => { g.input('pixel_values', ElemType.FLOAT, ['batch', 3]); g.output('logits', ElemType.FLOAT, ['batch', 2]); g.node('Identity', ['pixel_values'], {}, 'logits'); }) } },
    file: 'model.onnx',
    problem: /pixel_values/,
  },
  {
    name: 'graph without logits output',
    options: { override: { 'model.onnx': graph((g) => { g.input('input_ids', ElemType.INT64, ['batch', 'seq']); g.output('hidden', ElemType.INT64, ['batch', 'seq']); g.node('Identity', ['input_ids'], {}, 'hidden'); }) } },
    file: 'model.onnx',
    problem: /no logits or probabilities output/,
  },
  {
    name: 'logits of a fixed wrong width',
    options: { override: { 'model.onnx': graph((g) => { g.input('input_ids', ElemType.INT64, ['batch', 3]); g.output('logits', ElemType.FLOAT, ['batch', 3]); g.node('Cast', ['input_ids'], { to: ElemType.FLOAT }, 'logits'); }) } },
    file: 'model.onnx',
    problem: /shape \[batch, 3\].*2 labels/,
  },
];

for (const c of cases) {
  t.test(c.name, async (t) => {
    const dir = await tempFixtureBundle(c.options);
    const err = await loadBundle(dir, runtime).then(() => null, (e: unknown) => e);
    t.ok(err instanceof BundleError, 'a BundleError');
    const e = err as BundleError;
    t.ok(e.file.endsWith(c.file), `names ${c.file}: ${e.message}`);
    t.match(e.message, c.problem);
  });
}

t.test('a directory that does not exist', async (t) => {
  await t.rejects(loadBundle('/nonexistent/bundle/1.0.0', runtime), /bundle directory does not exist/);
});
