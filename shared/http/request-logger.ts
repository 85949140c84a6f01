// Each request's logger (request.log), made only when something logs through it. Fastify gives
// every request a pino child bound to its request id; making one serializes the bindings and
// allocates about half a kilobyte, and nearly every request of the data path never logs. This
// one holds the parent and the bindings, and makes the child on the first line written (or the
// first question only a child can answer), so a line carries request_id as before.
import type { FastifyBaseLogger, FastifyServerOptions } from 'fastify';
import type { Bindings, ChildLoggerOptions, LevelWithSilentOrString, LogFn } from 'pino';

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export class RequestLogger implements FastifyBaseLogger {
  private made: FastifyBaseLogger | undefined;
  // On the prototype (below): a closure per method would cost each request what this saves.
  declare fatal: LogFn;
  declare error: LogFn;
  declare warn: LogFn;
  declare info: LogFn;
  declare debug: LogFn;
  declare trace: LogFn;
  declare silent: LogFn;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly ownBindings: Bindings,
    private readonly options: ChildLoggerOptions,
  ) {}

  /** The pino child, made now if it was not yet. */
  logger(): FastifyBaseLogger {
    return (this.made ??= this.parent.child(this.ownBindings, this.options));
  }

  get level(): LevelWithSilentOrString {
    return this.made?.level ?? this.parent.level;
  }

  set level(level: LevelWithSilentOrString) {
    this.logger().level = level;
  }

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.logger().child(bindings, options);
  }
}

for (const level of LEVELS) {
  // pino's methods read the logger they are called on: each is called on the child itself.
  Object.defineProperty(RequestLogger.prototype, level, {
    value: function log(this: RequestLogger, ...args: unknown[]) {
      (this.logger() as unknown as Record<string, (...a: unknown[]) => void>)[level](...args);
    },
  });
}

/** Fastify's childLoggerFactory: a RequestLogger in place of pino's child. */
export const requestLoggerFactory: NonNullable<FastifyServerOptions['childLoggerFactory']> = (logger, bindings, options) => new RequestLogger(logger, bindings, options);
