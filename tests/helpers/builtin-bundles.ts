// The sentiment versions the repository ships (models/sentiment/), named rather than listed from
// the folder so that a missing one fails the tests, and where each one's files and metadata are.
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from '../../testkit/processes.ts';

export const VERSIONS = ['1.0.0', '1.1.0', '1.2.0', '2.0.0', '3.0.0', '4.0.0'];
export const bundleDir = (version: string) => path.join(ROOT, 'models', 'sentiment', version);
export const metadata = (version: string) => JSON.parse(fs.readFileSync(path.join(bundleDir(version), 'metadata.json'), 'utf8'));
