// This project's name and version (package.json), for what a server says about itself (the Open
// Inference Protocol's server metadata). Found by walking up from this file, so it works from the
// sources, from dist/ and in the images alike.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface PackageInfo {
  name: string;
  version: string;
  /** The folder holding package.json: the repository, or /app in the images. */
  root: string;
}

function find(): PackageInfo {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<PackageInfo>;
      if (pkg.name && pkg.version) return { name: pkg.name, version: pkg.version, root: dir };
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

export const PACKAGE: PackageInfo = find();
