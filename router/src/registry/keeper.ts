// Where the model registry is kept: a file written durably at every change (embedded: one router),
// or one hash in the shared state store, changed by a compare-and-set on its version (several
// routers: a change computed from a state another router changed meanwhile is computed again).
import fsp from 'node:fs/promises';
import { writeDurably } from '../../../shared/durable-file.ts';
import { StateConflictError, StateStoreUnavailableError } from '../../../shared/errors.ts';
import type { StateStore } from '../state/store.ts';
import type { ReleaseRecord, StageRecord } from './schema.ts';

export interface RegistryState {
  /** By `model@version`. */
  stages: Record<string, StageRecord>;
  release: { current: ReleaseRecord | null; last: ReleaseRecord | null };
}

export const emptyRegistry = (): RegistryState => ({ stages: {}, release: { current: null, last: null } });

export interface RegistryKeeper {
  read(): Promise<RegistryState>;
  /** Applies `change` to the state as kept, all or nothing, and keeps the result; answers what `change` answered. */
  update<T>(change: (state: RegistryState) => T): Promise<T>;
}

export class FileRegistryKeeper implements RegistryKeeper {
  private state: RegistryState = emptyRegistry();
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(private readonly file: string | undefined) {}

  static async open(file: string | undefined): Promise<FileRegistryKeeper> {
    const keeper = new FileRegistryKeeper(file);
    if (file) {
      try {
        keeper.state = { ...emptyRegistry(), ...(JSON.parse(await fsp.readFile(file, 'utf8')) as RegistryState) };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    return keeper;
  }

  async read(): Promise<RegistryState> {
    return structuredClone(this.state);
  }

  update<T>(change: (state: RegistryState) => T): Promise<T> {
    // One change at a time: each is computed from the state the last one kept.
    const run = this.queue.then(async () => {
      const next = structuredClone(this.state);
      const result = change(next);
      if (this.file) await writeDurably(this.file, `${this.file}.${process.pid}.tmp`, `${JSON.stringify(next)}\n`);
      this.state = next;
      return result;
    });
    this.queue = run.catch(() => {});
    return run;
  }
}

// KEYS: the registry hash. ARGV: the version read, the new state. Answers the new version, or -1.
const COMPARE_AND_SET = `
local v = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if v ~= tonumber(ARGV[1]) then return -1 end
redis.call('HSET', KEYS[1], 'version', v + 1, 'state', ARGV[2])
return v + 1`;

/** Attempts before a change that keeps meeting other routers' changes gives up (409). */
const ATTEMPTS = 10;

export class StoreRegistryKeeper implements RegistryKeeper {
  constructor(private readonly store: StateStore) {}

  private get key(): string {
    return `${this.store.prefix}registry`;
  }

  private async readVersioned(): Promise<{ version: number; state: RegistryState }> {
    if (!this.store.up) throw new StateStoreUnavailableError('the model registry');
    try {
      const [version, text] = await this.store.redis.hmget(this.key, 'version', 'state');
      this.store.answered();
      return { version: Number(version ?? 0), state: text ? { ...emptyRegistry(), ...(JSON.parse(text) as RegistryState) } : emptyRegistry() };
    } catch (err) {
      this.store.failed('registry', err);
      throw new StateStoreUnavailableError('the model registry', { cause: err });
    }
  }

  async read(): Promise<RegistryState> {
    return (await this.readVersioned()).state;
  }

  async update<T>(change: (state: RegistryState) => T): Promise<T> {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const { version, state } = await this.readVersioned();
      const result = change(state);
      let answer: number;
      try {
        answer = (await this.store.redis.eval(COMPARE_AND_SET, 1, this.key, version, JSON.stringify(state))) as number;
        this.store.answered();
      } catch (err) {
        this.store.failed('registry', err);
        throw new StateStoreUnavailableError('the model registry', { cause: err });
      }
      if (answer !== -1) return result;
    }
    throw new StateConflictError('the model registry kept changing under this change');
  }
}
