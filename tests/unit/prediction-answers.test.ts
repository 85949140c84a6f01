// How the router reads replicas' answers: a batch answer split into the /predict answers its
// texts would have had, and the summary (label, confidence, word pieces) of an answer, read from
// its bytes or from the object the router already holds.
import t from 'tap';
import { answerSummary, singleAnswers, summaryOf, type BatchResponse } from '../../shared/api/prediction.ts';

const batch = JSON.parse(
  JSON.stringify({
    predictions: [
      { text: 'a triumph', sentiment: 'positive', confidence: 0.97, probabilities: { negative: 0.03, positive: 0.97 }, pieces: 4, unknown_pieces: 0 },
      // A replica of another implementation: no piece counts, a field of its own.
      { text: 'dull', sentiment: 'negative', confidence: 0.9, probabilities: { negative: 0.9, positive: 0.1 }, calibrated: true },
    ],
    count: 2,
    latency_ms: 1.5,
    model_version: '1.0.0',
  }),
) as BatchResponse;

t.test('each prediction becomes the /predict answer, its fields in the service’s order', async (t) => {
  const [a, b] = singleAnswers(batch);
  t.same(Object.keys(a), ['text', 'sentiment', 'confidence', 'probabilities', 'model_version', 'latency_ms', 'pieces', 'unknown_pieces']);
  t.same(a, { text: 'a triumph', sentiment: 'positive', confidence: 0.97, probabilities: { negative: 0.03, positive: 0.97 }, model_version: '1.0.0', latency_ms: 1.5, pieces: 4, unknown_pieces: 0 });
  t.same(Object.keys(b), ['text', 'sentiment', 'confidence', 'probabilities', 'calibrated', 'model_version', 'latency_ms'], "a replica's own field passes through; no piece counts invented");
});

t.test('a "__proto__" field in an answer is left out, not made the prototype', async (t) => {
  const hostile = JSON.parse('{"predictions":[{"text":"x","sentiment":"positive","confidence":1,"probabilities":{"positive":1},"__proto__":{"polluted":true}}],"count":1,"latency_ms":1,"model_version":"1.0.0"}') as BatchResponse;
  const [single] = singleAnswers(hostile);
  t.equal(Object.getPrototypeOf(single), Object.prototype);
  t.equal((single as unknown as { polluted?: boolean }).polluted, undefined);
  t.notOk(JSON.stringify(single).includes('polluted'));
});

t.test('the summary of a coalesced answer is what its bytes say', async (t) => {
  for (const single of singleAnswers(batch)) t.same(summaryOf(single), answerSummary(Buffer.from(JSON.stringify(single))));
  t.same(summaryOf(singleAnswers(batch)[1]), { label: 'negative', confidence: 0.9, pieces: null, unknownPieces: null });
});
