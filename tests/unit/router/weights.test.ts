// Every kind of invalid weights file is rejected with the field's path.
import t from 'tap';
import { parseWeights } from '../../../router/src/weights/parse.ts';
import { WeightsInvalidError } from '../../../shared/errors.ts';

const valid = `environments:
  blue: { weight: 70 }
  green: { weight: 30, replicas: [http://127.0.0.1:9001] }
`;

t.test('a valid file parses', async (t) => {
  const w = parseWeights(valid);
  t.equal(w.environments.blue.weight, 70);
  t.same(w.environments.green.replicas, ['http://127.0.0.1:9001']);
});

const invalid: [string, string, RegExp][] = [
  ['bad YAML', 'environments:\n  blue: { weight: [70\n', /not valid YAML/],
  ['negative weight', valid.replace('weight: 70', 'weight: -5'), /\/environments\/blue\/weight/],
  ['unknown field', valid.replace('weight: 70', 'weight: 70, wieght: 3'), /\/environments\/blue/],
  ['unknown top-level field', `${valid}extra: 1\n`, /\/extra|must not have additional/i],
  ['zero total', valid.replace('weight: 70', 'weight: 0').replace('weight: 30', 'weight: 0'), /add up to 0/],
  ['truncated file', valid.slice(0, 30), /\/environments\/blue|not valid YAML/],
  ['empty file', '', /empty/],
  ['weight is a string', valid.replace('weight: 70', 'weight: lots'), /\/environments\/blue\/weight/],
  ['a model version (the replicas say which they serve)', valid.replace('weight: 70', 'weight: 70, model_version: 1.0.0'), /\/environments\/blue/],
  ['bad replica URL', valid.replace('http://127.0.0.1:9001', 'ftp://x'), /\/environments\/green\/replicas\/0/],
  ['bad environment name', valid.replace('blue:', 'Blue Env:'), /\/environments/],
];

for (const [name, text, message] of invalid) {
  t.test(`rejects: ${name}`, async (t) => {
    const err = (() => {
      try {
        parseWeights(text);
        return null;
      } catch (e) {
        return e;
      }
    })();
    t.ok(err instanceof WeightsInvalidError, 'a WeightsInvalidError');
    t.equal((err as { code: string }).code, 'ERR_WEIGHTS_INVALID');
    t.match((err as Error).message, message);
  });
}
