// npm run ensemble: several bundles' graphs merged into one that answers their weighted geometric
// mean. Two fixture models that tokenize alike (different weights): the ensemble bundle loads in
// the service and answers exactly pA^wA · pB^wB, renormalized, with the weights scaled to sum to 1;
// members that tokenize differently, answer other classes or use another opset are refused.
import t, { type Test } from 'tap';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import onnxProto from 'onnx-proto';
import { bundleProbabilities } from '../helpers/bundle-probabilities.ts';
import { fixtureModelBytes, tempFixtureBundle } from '../../testkit/bert-fixture.ts';
import { ROOT } from '../../testkit/processes.ts';
import { nodeArgs } from '../../testkit/entry.ts';

const run = promisify(execFile);
const ensemble = (...args: string[]) => run(process.execPath, [...nodeArgs(path.join(ROOT, 'models/tools/ensemble.ts')), ...args], { cwd: ROOT, env: { ...process.env, SENTIMENT_DATA_DIR: '' } });
const TEXTS = ['a good film', 'an awful , bad plot', 'the movie was not great', 'is', 'good good bad'];

function outDir(t: Test) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ensemble-'));
  t.teardown(() => fs.rmSync(root, { recursive: true, force: true }));
  return path.join(root, 'sentiment', '9.0.0');
}

t.test('two members weighted 1 and 3: the weighted geometric mean of their probabilities, in one servable graph', async (t) => {
  const a = await tempFixtureBundle();
  const b = await tempFixtureBundle({ override: { 'model.onnx': fixtureModelBytes(11) } });
  const out = outDir(t);
  const { stdout } = await ensemble(out, a, `${b}=3`);
  t.match(stdout, /written/, 'the command says what it wrote');
  const [pa, pb, pe] = [await bundleProbabilities(a, TEXTS), await bundleProbabilities(b, TEXTS), await bundleProbabilities(out, TEXTS)];
  t.notSame(pa, pb, 'the members answer differently');
  const worst = Math.max(
    ...pe.flatMap((row, i) => {
      const mean = row.map((_, j) => pa[i][j] ** 0.25 * pb[i][j] ** 0.75);
      const sum = mean.reduce((x, y) => x + y, 0);
      return row.map((p, j) => Math.abs(p - mean[j] / sum));
    }),
  );
  t.ok(worst < 1e-5, `within 1e-5 of pA^0.25 · pB^0.75 renormalized (worst ${worst.toExponential(1)})`);

  const graph = onnxProto.onnx.ModelProto.decode(fs.readFileSync(path.join(out, 'model.onnx'))).graph!;
  t.same(graph.input!.map((i) => i.name).sort(), ['attention_mask', 'input_ids', 'token_type_ids'], 'the inputs once, under their own names');
  t.same(graph.output!.map((o) => o.name), ['logits']);
  const metadata = JSON.parse(fs.readFileSync(path.join(out, 'metadata.json'), 'utf8'));
  t.match(metadata, { version: '9.0.0', architecture: 'ensemble', members: [{ weight: 0.25 }, { weight: 0.75 }] }, 'the metadata names the members and their weights');
  t.equal(metadata.members[0].sha256.length, 64, "each member's graph identified by its hash");
  t.equal(JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')).model_type, 'ensemble');
});

t.test('members that do not fit together are refused, naming why; so are bad arguments', async (t) => {
  const a = await tempFixtureBundle();
  const out = outDir(t);
  const refused = async (args: string[], code: number, message: RegExp, what: string) => {
    const err = (await ensemble(...args).then(() => null, (e: { code: number; stderr: string }) => e))!;
    t.ok(err, `${what}: refused`);
    t.equal(err?.code, code, `${what}: exit ${code}`);
    t.match(err?.stderr, message, `${what}: says why`);
  };
  await refused([out, a], 2, /usage/, 'one member');
  await refused([out, a, `${a}=0`], 2, /weight must be a number above 0/, 'a zero weight');
  await refused([a, a, a], 2, /must differ from every member/, 'writing over a member');
  await refused([out, a, path.dirname(a)], 1, /no model\.onnx, not a bundle/, 'a folder that is not a bundle');
  const vocab = await tempFixtureBundle({ override: { 'tokenizer.json': fs.readFileSync(path.join(a, 'tokenizer.json'), 'utf8').replace('"good"', '"fine"') } });
  await refused([out, a, vocab], 1, /tokenizer\.json differs/, 'another tokenizer');
  const labels = await tempFixtureBundle({ override: { 'config.json': fs.readFileSync(path.join(a, 'config.json'), 'utf8').replace('"POSITIVE"', '"GOOD"') } });
  await refused([out, a, labels], 1, /id2label/, 'other classes');
  const model = onnxProto.onnx.ModelProto.decode(fixtureModelBytes(11));
  model.opsetImport = model.opsetImport!.map((o) => ({ ...o, version: Number(o.version) - 1 }));
  const opset = await tempFixtureBundle({ override: { 'model.onnx': onnxProto.onnx.ModelProto.encode(model).finish() } });
  await refused([out, a, opset], 1, /same opset/, 'another opset');
  t.notOk(fs.existsSync(path.join(out, 'model.onnx')), 'nothing written for a refused ensemble');
});
