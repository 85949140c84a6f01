// Feedback is acknowledged (202) only once it is on disk: each record is appended, one JSON line,
// to the feedback file (feedback.file) with a datasync, and read back at start, so a router restart keeps the
// experiment's online accuracy (its request counts start again). A reset is a line too.
import type { Logger } from 'pino';
import { AppendLog, readJsonLines } from '../../../shared/durable-file.ts';

export type FeedbackLine =
  | { kind: 'feedback'; at: string; request_id: string; environment: string; version: string; predicted: string; truth: string }
  | { kind: 'reset'; at: string };

export class FeedbackLog {
  private readonly appended: AppendLog | undefined;

  private constructor(
    file: string | undefined,
    /** The records since the last reset, as read at start. */
    readonly since: FeedbackLine[],
  ) {
    this.appended = file ? new AppendLog(file) : undefined;
  }

  static async open(file: string | undefined, log: Logger): Promise<FeedbackLog> {
    if (!file) return new FeedbackLog(undefined, []);
    const lines = await readJsonLines<FeedbackLine>(file, () => log.warn({ file }, 'feedback: a line that is not JSON was skipped'));
    let start = 0;
    lines.forEach((l, i) => l.kind === 'reset' && (start = i));
    return new FeedbackLog(file, lines.slice(start));
  }

  /** Resolves once the line is on disk (in order with the others); at once without a file. */
  append(line: FeedbackLine): Promise<void> {
    return this.appended?.append(line) ?? Promise.resolve();
  }
}
