// npm run quantize: dynamic int8 quantization of a bundle's graph. On the BERT-shaped fixture, the
// command writes a bundle the service loads, with every dense layer as DynamicQuantizeMatMul and
// probabilities close to the original's. (On the shipped transformer, with the SST data:
// tests/models/quantize-accuracy.test.ts.)
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
import { nodeArgs } from '../../testkit/entry.ts';

const run = promisify(execFile);
const quantize = (...args: string[]) => run(process.execPath, [...nodeArgs(path.join(ROOT, 'models/tools/quantize.ts')), ...args], { cwd: ROOT, env: { ...process.env, SENTIMENT_DATA_DIR: '' } });
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
