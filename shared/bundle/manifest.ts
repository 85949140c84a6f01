// A bundle's integrity: manifest.json lists every file of the bundle with its sha256, written by
// the tools that build or change bundles (trainer, quantize, ensemble, evaluate); manifest.sig, when
// present, is an Ed25519 signature of manifest.json's bytes (node:crypto). The service checks a
// bundle before loading it and the controller before deploying it: a file changed, missing or
// added since the manifest was written refuses the bundle with the file named. A bundle without a
// manifest (a plain Hugging Face export) loads as before unless a manifest or signature is required.
import crypto, { type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { BundleError } from '../errors.ts';

export const MANIFEST_FILE = 'manifest.json';
export const SIGNATURE_FILE = 'manifest.sig';

export const BundleManifest = Type.Object(
  {
    format: Type.Literal(1),
    algorithm: Type.Literal('sha256'),
    files: Type.Record(Type.String({ minLength: 1 }), Type.String({ pattern: '^[0-9a-f]{64}$' }), { description: 'path inside the bundle → hex sha256' }),
  },
  { additionalProperties: false },
);
export type BundleManifest = Static<typeof BundleManifest>;

export interface IntegrityPolicy {
  /** Refuse a bundle without manifest.json. */
  requireManifest: boolean;
  /** When set, manifest.sig must verify with it (and a bundle must have one). */
  publicKey?: KeyObject;
}

export const NO_POLICY: IntegrityPolicy = { requireManifest: false };

export interface IntegrityResult {
  manifest: boolean;
  signed: boolean;
  files: number;
}

/** Every file of the bundle but the manifest and its signature, as paths inside it, sorted. */
function bundleFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (sub: string) => {
    for (const entry of fs.readdirSync(path.join(dir, sub), { withFileTypes: true })) {
      const rel = sub ? `${sub}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(rel);
      else if (rel !== MANIFEST_FILE && rel !== SIGNATURE_FILE) out.push(rel);
    }
  };
  walk('');
  return out.sort();
}

function sha256(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** Writes manifest.json for the bundle as it is now. A signature of an earlier manifest no longer holds: it is removed. */
export function writeManifest(dir: string): BundleManifest {
  const manifest: BundleManifest = { format: 1, algorithm: 'sha256', files: Object.fromEntries(bundleFiles(dir).map((f) => [f, sha256(path.join(dir, f))])) };
  fs.writeFileSync(path.join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  fs.rmSync(path.join(dir, SIGNATURE_FILE), { force: true });
  return manifest;
}

/** Before a tool writes a bundle's files: a manifest of what was there before would no longer hold. */
export function unsealBundle(dir: string): void {
  fs.rmSync(path.join(dir, MANIFEST_FILE), { force: true });
  fs.rmSync(path.join(dir, SIGNATURE_FILE), { force: true });
}

/** After a tool changed a bundle: its manifest written again, if it has one (and said so, if that drops a signature). */
export function refreshManifest(dir: string, say: (line: string) => void = () => {}): void {
  if (!fs.existsSync(path.join(dir, MANIFEST_FILE))) return;
  const signed = fs.existsSync(path.join(dir, SIGNATURE_FILE));
  writeManifest(dir);
  if (signed) say(`${dir}: manifest written again; its signature no longer holds and was removed (npm run bundle:manifest -- ${dir} --sign <key> signs it again)`);
}

/** Signs manifest.json with an Ed25519 private key: manifest.sig, base64. */
export function signManifest(dir: string, privateKey: KeyObject): void {
  const signature = crypto.sign(null, fs.readFileSync(path.join(dir, MANIFEST_FILE)), privateKey);
  fs.writeFileSync(path.join(dir, SIGNATURE_FILE), `${signature.toString('base64')}\n`);
}

/** Checks the bundle against its manifest (and signature) under the policy; throws a BundleError naming the file. */
export function verifyBundle(dir: string, policy: IntegrityPolicy = NO_POLICY): IntegrityResult {
  const manifestPath = path.join(dir, MANIFEST_FILE);
  const signaturePath = path.join(dir, SIGNATURE_FILE);
  if (!fs.existsSync(manifestPath)) {
    if (policy.requireManifest || policy.publicKey) throw new BundleError(manifestPath, `is missing: bundles must carry a manifest${policy.publicKey ? ' and its signature' : ''} here (npm run bundle:manifest -- ${dir})`);
    return { manifest: false, signed: false, files: 0 };
  }
  const bytes = fs.readFileSync(manifestPath);
  let manifest: unknown;
  try {
    manifest = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new BundleError(manifestPath, `is not valid JSON (${(err as Error).message})`);
  }
  const error = Value.Errors(BundleManifest, manifest).First();
  if (error) throw new BundleError(manifestPath, `field ${error.path || '/'} ${error.message}`);
  const listed = (manifest as BundleManifest).files;
  let signed = false;
  if (policy.publicKey || fs.existsSync(signaturePath)) {
    if (!fs.existsSync(signaturePath)) throw new BundleError(signaturePath, 'is missing: this deployment only loads signed bundles');
    if (policy.publicKey) {
      const signature = Buffer.from(fs.readFileSync(signaturePath, 'utf8').trim(), 'base64');
      if (!crypto.verify(null, bytes, policy.publicKey, signature)) throw new BundleError(signaturePath, 'does not verify with the configured public key: the manifest was changed or signed by another key');
      signed = true;
    }
  }
  const present = bundleFiles(dir);
  for (const file of Object.keys(listed)) {
    if (!present.includes(file)) throw new BundleError(path.join(dir, file), 'is listed in manifest.json but missing');
  }
  for (const file of present) {
    if (!(file in listed)) throw new BundleError(path.join(dir, file), 'is not listed in manifest.json: added after the manifest was written');
    if (sha256(path.join(dir, file)) !== listed[file]) throw new BundleError(path.join(dir, file), 'does not match its sha256 in manifest.json: changed after the manifest was written');
  }
  return { manifest: true, signed, files: present.length };
}

/** An Ed25519 public key from a PEM file, or a clear error naming the file. */
export function readPublicKey(file: string): KeyObject {
  try {
    const key = crypto.createPublicKey(fs.readFileSync(file));
    if (key.asymmetricKeyType !== 'ed25519') throw new Error(`an ${key.asymmetricKeyType} key, not ed25519`);
    return key;
  } catch (err) {
    throw new BundleError(file, `is not an Ed25519 public key in PEM (${(err as Error).message})`);
  }
}
