// Temporary folders for tests and benchmarks that go away with the process that made them, even
// when a test ends without reaching its own clean-up (a killed server's data, a fixture bundle
// shared by a whole file): repeated runs must not fill the system's temp folder.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const made = new Set<string>();
let hooked = false;

/** fs.mkdtempSync under the system's temp folder, removed when this process exits. */
export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.add(dir);
  if (!hooked) {
    hooked = true;
    process.once('exit', () => {
      for (const d of made) fs.rmSync(d, { recursive: true, force: true });
    });
  }
  return dir;
}
