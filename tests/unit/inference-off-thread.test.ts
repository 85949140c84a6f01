// onnxruntime-node's run() is synchronous; the service runs it in a worker thread so that a slow
// model never stalls the event loop that serves HTTP.
import t from 'tap';
import { loadBundle } from '../../services/inference/src/bundle/load-bundle.ts';
import { GraphBuilder, ElemType } from '../../models/tools/onnx/graph-builder.ts';
import { declareBertInputs } from '../../models/tools/onnx/layers.ts';
import { Random } from '../../models/tools/random.ts';
import { tempFixtureBundle } from '../fixtures/bert-fixture.ts';

/** A graph that spends a while in 1024×1024 matrix products that depend on the input. */
function slowModel(rounds: number): Uint8Array {
  const g = new GraphBuilder('slow');
  const { ids } = declareBertInputs(g, false);
  g.output('logits', ElemType.FLOAT, ['batch', 2]);
  const n = 1024;
  const w = g.initializer('w', { dims: [n, n], data: new Random(1).fill(n * n, 0.01) });
  const idsF = g.node('Cast', [ids], { to: ElemType.FLOAT });
  const zero = g.node('Mul', [g.node('ReduceSum', [idsF], { keepdims: 0 }), g.scalar('zero', 0)]);
  let x = g.node('Add', [w, zero]);
  for (let i = 0; i < rounds; i++) x = g.node('MatMul', [x, w]);
  const total = g.node('Mul', [g.node('ReduceSum', [x], { keepdims: 0 }), g.scalar('zero2', 0)]);
  const rowSum = g.node('ReduceSum', [idsF, g.ints('axis1', [1])], { keepdims: 1 });
  const two = g.node('Concat', [rowSum, rowSum], { axis: 1 });
  g.node('Add', [g.node('Mul', [two, g.scalar('zero3', 0)]), total], {}, 'logits');
  return g.toBytes();
}

t.test('the event loop keeps ticking while a slow batch runs', async (t) => {
  const dir = await tempFixtureBundle({ override: { 'model.onnx': slowModel(12), 'config.json': '{"id2label":{"0":"NEGATIVE","1":"POSITIVE"}}' } });
  const bundle = await loadBundle(dir, { workers: 1, intraOpThreads: 1, interOpThreads: 1 });
  t.teardown(() => bundle.classifier.release());

  let ticks = 0;
  const timer = setInterval(() => ticks++, 5);
  const started = performance.now();
  await bundle.classifier.run(bundle.encoder.pad([bundle.encoder.encode('good')]));
  const ms = performance.now() - started;
  clearInterval(timer);
  t.ok(ms > 50, `the batch took ${ms.toFixed(0)} ms`);
  t.ok(ticks >= 3, `${ticks} timer ticks of 5 ms ran during a ${ms.toFixed(0)} ms inference`);
});
