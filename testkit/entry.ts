// How tests and benchmarks run one of the project's TypeScript entry points in a process of its
// own: compiled from dist/ when dist/ is current (npm test builds it first), else through tsx.
// Compiled, a service starts in 1.25 s of CPU against 2.4 s through tsx (a router 1.7 against
// 2.9), and the suite starts dozens of them. "Current" means every source file under the compiled folders has a
// compiled counterpart at least as new, so an edit not yet built is always run as written.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeFlags } from '../shared/runtime/node-flags.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** The folders tsconfig.build.json compiles into dist/, read from it. */
const COMPILED: string[] = JSON.parse(readFileSync(path.join(ROOT, 'tsconfig.build.json'), 'utf8')).include;

let current: boolean | undefined;

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules') out.push(...sources(file));
    } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(file);
  }
  return out;
}

/** Is dist/ built from the sources as they are now? (Checked once per process.) */
export function distIsCurrent(): boolean {
  if (current === undefined) {
    try {
      current = COMPILED.flatMap((dir) => sources(path.join(ROOT, dir))).every((file) => {
        const built = path.join(ROOT, 'dist', path.relative(ROOT, file).replace(/\.ts$/, '.js'));
        return statSync(built).mtimeMs >= statSync(file).mtimeMs;
      });
    } catch {
      current = false;
    }
  }
  return current;
}

/**
 * The node arguments that run `entry` (a path under the repository, its .ts source or its dist/
 * build): its dist/ build when current, with the flags it always runs with (shared/runtime/node-flags.ts)
 * unless `flags` replaces them.
 */
export function nodeArgs(entry: string, flags?: readonly string[]): string[] {
  const relative = path.relative(ROOT, path.resolve(ROOT, entry));
  // Named as shared/runtime/node-flags.ts names it, whether source or build: 'router/src/server'.
  flags ??= nodeFlags(relative.replace(/^dist\//, '').replace(/\.(ts|js)$/, ''));
  if (!entry.endsWith('.ts')) return [...flags, entry];
  if (COMPILED.some((dir) => relative.startsWith(`${dir}/`)) && distIsCurrent()) return [...flags, path.join(ROOT, 'dist', relative.replace(/\.ts$/, '.js'))];
  return [...flags, '--import', 'tsx', entry];
}
