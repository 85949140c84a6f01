// Writes that survive a crash at any point and, once they resolve, a power cut: what a process
// acknowledges to a client (a weight change, a history entry, a feedback record) is on disk first.
import fsp from 'node:fs/promises';
import path from 'node:path';

/**
 * Replaces `file` with `text` so that a crash at any point leaves the old or the new version,
 * never a partial one: the text is written and fsynced under a temporary name, renamed over the
 * file, and the folder fsynced.
 */
export async function writeDurably(file: string, tmp: string, text: string): Promise<void> {
  const handle = await fsp.open(tmp, 'w', 0o644);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fsp.rename(tmp, file);
  const dir = await fsp.open(path.dirname(file), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/** Appends a line and waits until it is on disk (a torn last line is what a crash can leave). */
export async function appendDurably(file: string, line: string, mode = 0o600): Promise<void> {
  const handle = await fsp.open(file, 'a', mode);
  try {
    await handle.appendFile(line);
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

/** The JSON lines of an append-only file; [] when it does not exist; a torn or bad line skipped. */
export async function readJsonLines<T>(file: string, onBadLine: () => void = () => {}): Promise<T[]> {
  const text = await fsp.readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return '';
    throw err;
  });
  const out: T[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as T);
    } catch {
      onBadLine();
    }
  }
  return out;
}

/**
 * An append-only file of JSON lines written one at a time, in order, each on disk before its
 * append() resolves; a failed append does not stop the ones after it.
 */
export class AppendLog {
  private writing: Promise<void> = Promise.resolve();

  constructor(readonly file: string) {}

  append(value: unknown): Promise<void> {
    const next = this.writing.then(() => appendDurably(this.file, `${JSON.stringify(value)}\n`));
    this.writing = next.catch(() => {});
    return next;
  }

  /** Resolves once every append so far has finished. */
  flush(): Promise<void> {
    return this.writing;
  }
}
