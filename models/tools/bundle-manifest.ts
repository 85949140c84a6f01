// npm run bundle:manifest -- <bundle-dir>... [--sign private.pem] [--verify [--public-key public.pem]]
// npm run bundle:manifest -- --keygen <prefix>   (writes <prefix>.pem, private, and <prefix>.pub.pem)
//
// Writes each bundle's manifest.json (the sha256 of every file; a plain Hugging Face export gets
// one this way), signs it with an Ed25519 private key (manifest.sig), or checks a bundle as the
// service and the controller do before loading or deploying it.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { readPublicKey, signManifest, verifyBundle, writeManifest } from '../../shared/bundle/manifest.ts';

const { values, positionals } = parseArgs({ options: { sign: { type: 'string' }, verify: { type: 'boolean', default: false }, 'public-key': { type: 'string' }, keygen: { type: 'string' } }, allowPositionals: true });

if (values.keygen) {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
  fs.writeFileSync(`${values.keygen}.pem`, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  fs.writeFileSync(`${values.keygen}.pub.pem`, publicKey.export({ type: 'spki', format: 'pem' }));
  console.log(`${values.keygen}.pem (private: keep it out of the repository) and ${values.keygen}.pub.pem (give it to the services: BUNDLE_PUBLIC_KEY_FILE)`);
  process.exit(0);
}
if (positionals.length === 0) {
  console.error('usage: npm run bundle:manifest -- <bundle-dir>... [--sign private.pem] | --verify [--public-key public.pem] | --keygen <prefix>');
  process.exit(2);
}
let failed = false;
for (const dir of positionals) {
  try {
    if (values.verify) {
      const publicKey = values['public-key'] ? readPublicKey(values['public-key']) : undefined;
      const r = verifyBundle(dir, { requireManifest: true, publicKey });
      console.log(`${dir}: ${r.files} files match manifest.json${r.signed ? '; manifest.sig verifies' : ''}`);
      continue;
    }
    const manifest = writeManifest(dir);
    let signed = '';
    if (values.sign) {
      signManifest(dir, crypto.createPrivateKey(fs.readFileSync(values.sign)));
      signed = ', signed (manifest.sig)';
    }
    console.log(`${dir}: manifest.json written, ${Object.keys(manifest.files).length} files${signed}`);
  } catch (err) {
    failed = true;
    console.error(`${dir}: ${(err as Error).message}`);
  }
}
process.exit(failed ? 1 : 0);
