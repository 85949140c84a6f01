// Benchmarks measure what `npm start` runs: the compiled JavaScript in dist/.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { ROOT } from '../../testkit/processes.ts';

export function buildDist(): void {
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.build.json')], { stdio: 'inherit' });
}
