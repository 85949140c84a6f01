// A bundle's manifest and signature, as the service checks them before loading: one byte changed,
// a file missing or added, a signature from another key or none where one is required, each refused
// with the file named; a plain export without a manifest still loads unless one is required.
import t, { type Test } from 'tap';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadBundle } from '../../services/inference/src/bundle/load-bundle.ts';
import { signManifest, verifyBundle, writeManifest } from '../../shared/bundle/manifest.ts';
import { BundleError } from '../../shared/errors.ts';
import { ROOT } from '../../testkit/processes.ts';
import { tempFixtureBundle } from '../../testkit/bert-fixture.ts';

const runtime = { workers: 0, intraOpThreads: 1, interOpThreads: 1 };

function copyOf(t: Test, version = '1.0.0'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bundle-integrity-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.cpSync(path.join(ROOT, 'models/sentiment', version), dir, { recursive: true });
  return dir;
}

const refusal = async (promise: Promise<unknown>) => promise.then(() => null, (e: unknown) => e as BundleError);

t.test('the built-in bundles carry manifests that match', async (t) => {
  for (const v of fs.readdirSync(path.join(ROOT, 'models/sentiment'))) {
    const r = verifyBundle(path.join(ROOT, 'models/sentiment', v), { requireManifest: true });
    t.ok(r.manifest && r.files >= 5, `${v}: ${r.files} files match`);
  }
});

t.test('one byte changed, a file missing or added: refused before loading, the file named', async (t) => {
  const dir = copyOf(t);
  const loaded = await loadBundle(dir, runtime);
  t.same(loaded.integrity, { manifest: true, signed: false, files: 5 }, 'intact: loads, checked');
  await loaded.classifier.release();

  const model = path.join(dir, 'model.onnx');
  const bytes = fs.readFileSync(model);
  bytes[bytes.length - 100] ^= 0x01;
  fs.writeFileSync(model, bytes);
  const changed = await refusal(loadBundle(dir, runtime));
  t.ok(changed instanceof BundleError);
  t.equal(changed?.code, 'ERR_BUNDLE_INVALID');
  t.match(changed?.message, /model\.onnx: does not match its sha256 in manifest\.json: changed after the manifest was written/);

  writeManifest(dir);
  fs.rmSync(path.join(dir, 'tokenizer_config.json'));
  t.match((await refusal(loadBundle(dir, runtime)))?.message, /tokenizer_config\.json: is listed in manifest\.json but missing/);
  writeManifest(dir);
  fs.writeFileSync(path.join(dir, 'extra.onnx'), 'x');
  t.match((await refusal(loadBundle(dir, runtime)))?.message, /extra\.onnx: is not listed in manifest\.json: added after the manifest was written/);
});

t.test('without a manifest: loads as before, unless the policy requires one', async (t) => {
  const dir = await tempFixtureBundle();
  const loaded = await loadBundle(dir, runtime);
  t.same(loaded.integrity, { manifest: false, signed: false, files: 0 }, 'a plain export loads');
  await loaded.classifier.release();
  t.match((await refusal(loadBundle(dir, runtime, {}, { requireManifest: true })))?.message, /manifest\.json: is missing: bundles must carry a manifest here/);
});

t.test('signatures: verified with the configured key; another key, or none, refused', async (t) => {
  const dir = copyOf(t, '1.1.0');
  const mine = crypto.generateKeyPairSync('ed25519');
  const theirs = crypto.generateKeyPairSync('ed25519');
  t.match((await refusal(loadBundle(dir, runtime, {}, { requireManifest: true, publicKey: mine.publicKey })))?.message, /manifest\.sig: is missing: this deployment only loads signed bundles/, 'unsigned where signing is required');
  signManifest(dir, mine.privateKey);
  const loaded = await loadBundle(dir, runtime, {}, { requireManifest: true, publicKey: mine.publicKey });
  t.same(loaded.integrity, { manifest: true, signed: true, files: 5 }, 'signed with the key the service trusts: loads');
  await loaded.classifier.release();
  t.match((await refusal(loadBundle(dir, runtime, {}, { requireManifest: true, publicKey: theirs.publicKey })))?.message, /manifest\.sig: does not verify with the configured public key/, 'another key');
  // A changed file with the manifest rewritten to match: the signature no longer holds.
  const config = path.join(dir, 'config.json');
  fs.writeFileSync(config, fs.readFileSync(config, 'utf8').replace('"negative"', '"NEGATIVE"'));
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
  manifest.files['config.json'] = crypto.createHash('sha256').update(fs.readFileSync(config)).digest('hex');
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  t.match((await refusal(loadBundle(dir, runtime, {}, { requireManifest: true, publicKey: mine.publicKey })))?.message, /manifest\.sig: does not verify/, 'a manifest edited to hide a change: refused');
  writeManifest(dir);
  t.notOk(fs.existsSync(path.join(dir, 'manifest.sig')), 'a manifest written again drops the signature it no longer matches');
});
