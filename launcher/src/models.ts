// The model registry: every bundle under the models folder (models/<name>/<version>/ holding a
// model.onnx), with the metadata its trainer wrote (architecture, training date, held-out
// metrics) and its size on disk. The controller adds where each one runs.
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Value } from '@sinclair/typebox/value';
import type { ModelBundleView } from '../../shared/api/deployments.ts';
import { BUNDLE_FILES } from '../../shared/bundle/layout.ts';
import { Lineage } from '../../shared/bundle/lineage.ts';
import { MANIFEST_FILE, SIGNATURE_FILE } from '../../shared/bundle/manifest.ts';
import { BundleMetadata } from '../../shared/bundle/schemas.ts';

/** Sub-folders, links to folders included (a bundle may be linked in from elsewhere). */
async function dirs(dir: string): Promise<string[]> {
  const names = await fsp.readdir(dir).catch(() => [] as string[]);
  const isDir = await Promise.all(names.map((n) => fsp.stat(path.join(dir, n)).then((s) => s.isDirectory(), () => false)));
  return names.filter((_, i) => isDir[i]).sort();
}

async function metadataOf(dir: string): Promise<BundleMetadata> {
  try {
    const data: unknown = JSON.parse(await fsp.readFile(path.join(dir, BUNDLE_FILES.metadata), 'utf8'));
    return Value.Check(BundleMetadata, data) ? data : {};
  } catch {
    return {};
  }
}

const text = (value: unknown) => (typeof value === 'string' ? value : null);

export type ScannedBundle = Omit<ModelBundleView, 'running_in'>;

export async function scanModels(modelsDir: string): Promise<ScannedBundle[]> {
  const bundles: ScannedBundle[] = [];
  for (const name of await dirs(modelsDir)) {
    for (const version of await dirs(path.join(modelsDir, name))) {
      const dir = path.join(modelsDir, name, version);
      const files = await fsp.readdir(dir);
      if (!files.includes(BUNDLE_FILES.model)) continue;
      const stats = await Promise.all(files.map((f) => fsp.stat(path.join(dir, f))));
      const sizes = stats.filter((s) => s.isFile()).map((s) => s.size);
      const metadata = await metadataOf(dir);
      bundles.push({
        name,
        version,
        path: dir,
        size_bytes: sizes.reduce((a, b) => a + b, 0),
        architecture: text(metadata.architecture),
        description: text(metadata.description),
        training_date: text(metadata.training_date),
        metrics: metadata.metrics ?? {},
        lineage: Value.Check(Lineage, metadata.lineage) ? metadata.lineage : null,
        integrity: { manifest: files.includes(MANIFEST_FILE), signed: files.includes(SIGNATURE_FILE) },
      });
    }
  }
  return bundles;
}
