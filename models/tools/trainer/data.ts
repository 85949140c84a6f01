// Reads the labelled SST files (tab-separated, header row: sentence, label[, fine_label]).
import fs from 'node:fs';
import path from 'node:path';

export interface LabelledText {
  text: string;
  label: string;
  /** SST's fine label (0 very negative … 4 very positive), where the file has one. */
  fine?: number;
}

export function readTsv(file: string): LabelledText[] {
  const [header, ...lines] = fs.readFileSync(file, 'utf8').split('\n');
  const columns = header.split('\t');
  // Sentence files name the text column "sentence"; the phrase file names it "phrase".
  const textCol = columns.includes('sentence') ? columns.indexOf('sentence') : columns.indexOf('phrase');
  const labelCol = columns.indexOf('label');
  const fineCol = columns.indexOf('fine_label');
  if (textCol < 0 || labelCol < 0) throw new Error(`${file}: expected sentence (or phrase) and label columns, found ${columns.join(', ')}`);
  return lines
    .filter((l) => l.trim() !== '')
    .map((line) => {
      const cells = line.split('\t');
      return fineCol < 0 ? { text: cells[textCol], label: cells[labelCol] } : { text: cells[textCol], label: cells[labelCol], fine: Number(cells[fineCol]) };
    });
}

/** The data folder (holding sst3/ and sst2/), from the caller or SENTIMENT_DATA_DIR. */
export function dataDir(given?: string): string {
  const dir = given ?? process.env.SENTIMENT_DATA_DIR;
  if (!dir) throw new Error('set SENTIMENT_DATA_DIR to the folder holding sst3/ and sst2/ (or pass --data)');
  if (!fs.existsSync(path.join(dir, 'sst3', 'train.tsv'))) throw new Error(`${dir}: no sst3/train.tsv there`);
  return dir;
}
