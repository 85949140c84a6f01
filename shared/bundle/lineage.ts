// A bundle's lineage, recorded in its metadata.json when a tool builds it (and so covered by its
// manifest): a hash of the data files it was trained and selected on, the code commit that built
// it, and the version it was derived from. The model registry shows it beside the bundle's stage.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { Nullable } from '../http/schemas.ts';

export const Lineage = Type.Object({
  training_data_sha256: Nullable(Type.String({ description: 'sha256 over the data files it was trained and selected on, in the order of training_files (null: the data was not at hand)' })),
  training_files: Type.Array(Type.String(), { description: 'those files, relative to the data folder' }),
  code_commit: Nullable(Type.String({ description: 'the git commit of the code that built it (null: not built from a git checkout)' })),
  code_dirty: Nullable(Type.Boolean({ description: 'whether that checkout had uncommitted changes' })),
  parent_version: Nullable(Type.String({ description: 'the version it was derived from (null: trained from scratch)' })),
  recorded_at: Type.String(),
});
export type Lineage = Static<typeof Lineage>;

/** The data files a bundle's metadata names (training_data, and its members' for an ensemble), e.g. sst3/train.tsv. */
export function dataFilesOf(metadata: { training_data?: unknown; members?: unknown }): string[] {
  const members = Array.isArray(metadata.members) ? metadata.members.map((m: { training_data?: unknown }) => m?.training_data ?? null) : [];
  const text = JSON.stringify([metadata.training_data ?? null, ...members]);
  return [...new Set(text.match(/[\w.-]+\/[\w.-]+\.tsv/g) ?? [])].sort();
}

/** sha256 over each file's name and bytes; null when one is missing. */
export function hashDataFiles(dataDir: string | undefined, files: string[]): string | null {
  if (!dataDir || files.length === 0) return null;
  const hash = crypto.createHash('sha256');
  for (const file of files) {
    const full = path.join(dataDir, file);
    if (!fs.existsSync(full)) return null;
    hash.update(`${file}\0`).update(fs.readFileSync(full));
  }
  return hash.digest('hex');
}

/** The commit checked out at `root`, and whether it has changes; nulls outside a git checkout. */
export function codeCommit(root: string): { commit: string | null; dirty: boolean | null } {
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const status = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return { commit, dirty: status.trim().length > 0 };
  } catch {
    return { commit: null, dirty: null };
  }
}

export function lineageOf(metadata: { training_data?: unknown; members?: unknown }, options: { dataDir?: string; root: string; parent: string | null }): Lineage {
  const files = dataFilesOf(metadata);
  const code = codeCommit(options.root);
  return {
    training_data_sha256: hashDataFiles(options.dataDir, files),
    training_files: files,
    code_commit: code.commit,
    code_dirty: code.dirty,
    parent_version: options.parent,
    recorded_at: new Date().toISOString(),
  };
}
