// onnxruntime-node's run() is synchronous; the service runs it in a worker thread so that a slow
// model never stalls the event loop that serves HTTP.
import t from 'tap';
import { loadBundle } from '../../services/inference/src/bundle/load-bundle.ts';
import { slowModelBytes, tempFixtureBundle } from '../../testkit/bert-fixture.ts';

t.test('the event loop keeps ticking while a slow batch runs', async (t) => {
  const dir = await tempFixtureBundle({ override: { 'model.onnx': slowModelBytes(12), 'config.json': '{"id2label":{"0":"NEGATIVE","1":"POSITIVE"}}' } });
  const bundle = await loadBundle(dir, { workers: 1, intraOpThreads: 1, interOpThreads: 1 });
  t.teardown(() => bundle.classifier.release());

  // Inline, run() would hold the event loop until it returned: not one tick could run meanwhile.
  // The graph takes far longer than three ticks on any machine (12 products of 1024×1024 matrices).
  let ticks = 0;
  const timer = setInterval(() => ticks++, 5);
  const ticksDuringRun = await bundle.classifier.run(bundle.encoder.pad([bundle.encoder.encode('good')])).then(() => ticks);
  clearInterval(timer);
  t.ok(ticksDuringRun >= 3, `${ticksDuringRun} timer ticks ran while the inference was running`);
});
