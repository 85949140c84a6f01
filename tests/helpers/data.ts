// The labelled SST data lives outside the repository; tests that need it skip without it.
import fs from 'node:fs';
import path from 'node:path';

export const DATA_DIR = process.env.SENTIMENT_DATA_DIR;
export const SKIP_NO_DATA =
  DATA_DIR && fs.existsSync(path.join(DATA_DIR, 'sst3', 'test.tsv'))
    ? false
    : 'SENTIMENT_DATA_DIR is unset or has no sst3/test.tsv (.ci/run sets it to ../shared/data)';
