// npm run quantize: dynamic int8 quantization of a bundle's graph. On the BERT-shaped fixture, the
// command writes a bundle the service loads, with every dense layer as DynamicQuantizeMatMul and
// probabilities close to the original's. On the shipped transformer (sentiment 2.0.0), with the
// SST data: label agreement with fp32 of at least 99% and accuracy within 0.5 points on sst3 test.
import t from 'tap';
import { verifyBundle } from '../../shared/bundle/manifest.ts';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import onnxProto from 'onnx-proto';
import { bundleProbabilities } from '../helpers/bundle-probabilities.ts';
import { quantizeDynamic } from '../../models/tools/quantize/dynamic-int8.ts';
import { quantizeEmbeddings } from '../../models/tools/quantize/embeddings.ts';
import { shiftClassBias } from '../../models/tools/transformer/calibrate.ts';
import { fixtureModelBytes, tempFixtureBundle } from '../../testkit/bert-fixture.ts';
import { fixtureBundleDir } from '../helpers/build-app.ts';
import { ROOT } from '../../testkit/processes.ts';

const run = promisify(execFile);
const quantize = (...args: string[]) => run(process.execPath, ['--import', 'tsx', path.join(ROOT, 'models/tools/quantize.ts'), ...args], { cwd: ROOT, env: { ...process.env, SENTIMENT_DATA_DIR: '' } });
const ops = (file: string) => onnxProto.onnx.ModelProto.decode(fs.readFileSync(file)).graph!.node!.map((n) => n.opType);

t.test('the fixture: every constant-weight MatMul/Gemm quantized, a servable bundle, close answers', async (t) => {
  const source = await fixtureBundleDir();
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'quantize-')), '0.0.1-int8');
  t.teardown(() => fs.rmSync(path.dirname(out), { recursive: true, force: true }));
  const { stdout } = await quantize(source, out);
  t.match(stdout, /ops quantized/, 'the command says what it did');
  const before = ops(path.join(source, 'model.onnx'));
  const after = ops(path.join(out, 'model.onnx'));
  const dense = before.filter((op) => op === 'MatMul' || op === 'Gemm').length;
  t.ok(dense > 0, `the fixture has ${dense} dense layers`);
  t.equal(after.filter((op) => op === 'DynamicQuantizeMatMul').length, dense, 'each became a DynamicQuantizeMatMul');
  t.equal(after.filter((op) => op === 'MatMul' || op === 'Gemm').length, 0, 'none is left in float');
  for (const file of fs.readdirSync(source).filter((f) => f !== 'model.onnx')) t.ok(fs.existsSync(path.join(out, file)), `${file} copied`);
  const metadata = JSON.parse(fs.readFileSync(path.join(out, 'metadata.json'), 'utf8'));
  t.match(metadata, { version: '0.0.1-int8', quantization: { per_channel: true, quantized_ops: dense } }, 'the metadata says how it was quantized');
  t.equal(verifyBundle(out, { requireManifest: true }).manifest, true, 'sealed: its own manifest.json matches every file');

  const texts = ['a good film', 'an awful , bad plot', 'the movie was not great', 'is'];
  const [a, b] = [await bundleProbabilities(source, texts), await bundleProbabilities(out, texts)];
  const worst = Math.max(...a.flatMap((row, i) => row.map((p, j) => Math.abs(p - b[i][j]))));
  t.ok(worst < 0.02, `probabilities within 0.02 of the original's (worst ${worst.toFixed(4)})`);
  t.same(b.map((r) => r.indexOf(Math.max(...r))), a.map((r) => r.indexOf(Math.max(...r))), 'the same labels');
});

t.test('embedding tables as int8 rows: every row Gather reads int8, the answers stay close, tables under the size threshold stay float', async (t) => {
  const source = await fixtureBundleDir();
  const { bytes, report } = quantizeEmbeddings(fixtureModelBytes(), 1);
  t.same(report.quantized.map((q) => q.table).sort(), ['embeddings.position_embeddings.weight', 'embeddings.token_type_embeddings.weight', 'embeddings.word_embeddings.weight'], 'the three tables');
  // A byte per value plus a 4-byte scale per row: the fixture's rows are only 8 wide.
  t.equal(report.bytesAfter, report.bytesBefore / 4 + (report.bytesBefore / 4 / 8) * 4, `${report.bytesBefore} → ${report.bytesAfter} bytes`);
  const graph = onnxProto.onnx.ModelProto.decode(bytes).graph!;
  t.notOk(graph.initializer!.some((i) => i.name === 'embeddings.word_embeddings.weight'), 'the float table is gone');
  const out = await tempFixtureBundle({ override: { 'model.onnx': bytes } });
  const texts = ['a good film', 'an awful , bad plot', 'the movie was not great', 'is'];
  const [a, b] = [await bundleProbabilities(source, texts), await bundleProbabilities(out, texts)];
  const worst = Math.max(...a.flatMap((row, i) => row.map((p, j) => Math.abs(p - b[i][j]))));
  t.ok(worst < 0.01, `probabilities within 0.01 of the original's (worst ${worst.toFixed(4)})`);
  t.same(quantizeEmbeddings(fixtureModelBytes()).report.quantized, [], 'by default only tables of 1,024 rows or more: none in the fixture');
});

t.test("a neutral shift on a graph whose logits come from no constant bias (the fused quantized op) adds one Add, shifting that class's logit only", async (t) => {
  const quantized = quantizeDynamic(fixtureModelBytes()).bytes;
  const last = onnxProto.onnx.ModelProto.decode(quantized).graph!.node!.at(-1)!;
  t.equal(last.opType, 'DynamicQuantizeMatMul', 'the classifier bias is fused into the last op');
  const shifted = shiftClassBias(quantized, 1, 2, 2);
  t.equal(onnxProto.onnx.ModelProto.decode(shifted).graph!.node!.at(-1)!.opType, 'Add');
  const [plain, moved] = [await tempFixtureBundle({ override: { 'model.onnx': quantized } }), await tempFixtureBundle({ override: { 'model.onnx': shifted } })];
  const texts = ['a good film', 'an awful , bad plot'];
  const [a, b] = [await bundleProbabilities(plain, texts), await bundleProbabilities(moved, texts)];
  // Softmax over two classes: adding 2 to the second logit multiplies its odds by e².
  a.forEach((row, i) => t.ok(Math.abs(b[i][1] / b[i][0] - (Math.exp(2) * row[1]) / row[0]) < 1e-3 * (b[i][1] / b[i][0]), `text ${i}: odds × e²`));
});

t.test('a graph with nothing to quantize is refused; the original is never overwritten', async (t) => {
  const source = await fixtureBundleDir();
  await t.rejects(quantize(source, source), 'same folder in and out');
  await t.rejects(quantize(source), 'too few arguments');
  const empty = onnxProto.onnx.ModelProto.encode({ irVersion: 8, opsetImport: [{ domain: '', version: 14 }], graph: { name: 'g', node: [{ opType: 'Relu', input: ['x'], output: ['y'] }] } }).finish();
  t.same(quantizeDynamic(empty).report.quantized, [], 'no MatMul: nothing quantized');
});

const DATA = process.env.SENTIMENT_DATA_DIR;
const TRANSFORMER = path.join(ROOT, 'models/sentiment/2.0.0');
const isTransformer = fs.existsSync(path.join(TRANSFORMER, 'config.json')) && JSON.parse(fs.readFileSync(path.join(TRANSFORMER, 'config.json'), 'utf8')).model_type === 'bert';
for (const flags of [[], ['--embeddings'], ['--embeddings-only']]) {
  const embeddings = flags.length > 0;
  const what = flags.length === 0 ? 'its dense layers' : flags[0] === '--embeddings' ? 'with its embeddings as int8 rows' : 'only its embeddings, as int8 rows';
  t.test(`sentiment 2.0.0 in int8 (${what}): ≥ 99% label agreement and accuracy within 0.5 points on sst3 test`, { skip: !DATA ? 'SENTIMENT_DATA_DIR is not set (.ci/run sets it): sst3 test is what the agreement is measured on' : !isTransformer ? 'models/sentiment/2.0.0 is not the transformer' : false, timeout: 300_000 }, async (t) => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'quantize-')), '2.0.0-int8');
    t.teardown(() => fs.rmSync(path.dirname(out), { recursive: true, force: true }));
    await run(process.execPath, ['--import', 'tsx', path.join(ROOT, 'models/tools/quantize.ts'), TRANSFORMER, out, '--data', DATA!, ...flags], { cwd: ROOT });
    const { quantization } = JSON.parse(fs.readFileSync(path.join(out, 'metadata.json'), 'utf8'));
    t.ok(quantization.agreement.label_agreement >= 0.99, `label agreement ${(quantization.agreement.label_agreement * 100).toFixed(2)}% (≥ 99%)`);
    const drop = Math.abs(quantization.agreement.accuracy_before - quantization.agreement.accuracy_after);
    t.ok(drop <= 0.005, `accuracy ${(quantization.agreement.accuracy_before * 100).toFixed(2)}% → ${(quantization.agreement.accuracy_after * 100).toFixed(2)}% (within 0.5 points)`);
    const ratio = quantization.model_bytes.after / quantization.model_bytes.before;
    t.ok(ratio < (flags.length === 0 ? 0.8 : flags[0] === '--embeddings' ? 0.3 : 0.5), `model ${(quantization.model_bytes.before / 1e6).toFixed(1)} → ${(quantization.model_bytes.after / 1e6).toFixed(1)} MB`);
    if (embeddings) t.same(quantization.embeddings.tables.map((e: { table: string }) => e.table), ['tokens.weight'], 'the vocabulary table, not the 128 positions');
    if (flags[0] === '--embeddings-only') t.equal(quantization.quantized_ops, 0, 'the dense layers stay float');
  });
}
