// Where the launcher and its commands run from: the repository's root (the same whether they run
// compiled from dist/ or as TypeScript under tsx), and how a command gives up: one line, exit 1.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeFlags } from '../../shared/runtime/node-flags.ts';

const HERE = fileURLToPath(import.meta.url);

export const ROOT = path.resolve(path.dirname(HERE), HERE.includes('/dist/') ? '../../..' : '../..');

/** How to run one of the project's entry points (e.g. 'router/src/server') as this process runs. */
export const entryArgs = (entry: string) => [...nodeFlags(entry), ...(path.extname(HERE) === '.ts' ? ['--import', 'tsx', path.join(ROOT, `${entry}.ts`)] : [path.join(ROOT, 'dist', `${entry}.js`)])];

/** A command's way out: `name: message` on stderr, exit 1. */
export const failWith =
  (name: string) =>
  (message: string): never => {
    process.stderr.write(`${name}: ${message}\n`);
    process.exit(1);
  };
