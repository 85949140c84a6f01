// What the router remembers of each recent prediction, so that feedback (POST /feedback with the
// X-Request-Id of the answer) can be attributed to the environment and version that answered:
// bounded in count and in age, the oldest forgotten first.
//
// Every request adds one, so the memory is laid out to cost the same on the millionth request as
// on the first: a ring of slots in arrival order, in columns allocated once at start (typed arrays
// for the time, the environment and version, the label and the feedback, plus the request ids),
// and an open-addressing index from id to slot in one more typed array. Remembering writes a slot
// and an index entry; forgetting the oldest clears them (backward-shift deletion, no tombstones),
// so nothing allocated per request outlives it but its id, and once the memory is full it neither
// grows nor asks the garbage collector for anything. (A Map of objects, as it once was, kept about
// 200 bytes per prediction on the heap, and walking it from its start to find the oldest also
// walked the holes its deletions left: the router got slower the longer it served.)
import { PairMap } from '../stats/pair-map.ts';

export interface RememberedPrediction {
  environment: string;
  version: string;
  label: string;
  at: number;
  /** The label given as feedback, once it is. */
  truth?: string;
}

/** Values a column stores as small numbers (labels): few and recurring. */
class Interned {
  private readonly index = new Map<string, number>();
  readonly values: string[] = [];

  id(value: string): number {
    let i = this.index.get(value);
    if (i === undefined) {
      i = this.values.length;
      this.values.push(value);
      this.index.set(value, i);
    }
    return i;
  }
}

/** Environment and version pairs as small numbers, looked up without building a key string. */
class InternedPairs {
  private readonly index = new PairMap<number>();
  readonly values: (readonly [environment: string, version: string])[] = [];

  id(environment: string, version: string): number {
    let i = this.index.get(environment, version);
    if (i === undefined) {
      i = this.values.push([environment, version]) - 1;
      this.index.set(environment, version, i);
    }
    return i;
  }
}

/** FNV-1a over the id's UTF-16 code units: the index's hash. */
function hashOf(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

const NONE = 0;

export class RecentPredictions {
  /** The ring: `count` slots from `head`, oldest first. */
  private head = 0;
  private count = 0;
  private readonly ids: (string | undefined)[];
  private readonly at: Float64Array;
  private readonly pair: Uint32Array;
  private readonly label: Uint32Array;
  /** The feedback's label, interned and plus one (0: none yet). */
  private readonly truth: Uint32Array;
  /** Open addressing, linear probing: slot + 1 of the id's latest prediction (0: empty). */
  private readonly table: Uint32Array;
  private readonly mask: number;
  /** How many ids the index holds (an id remembered twice is one). */
  private indexed = 0;
  private readonly pairs = new InternedPairs();
  private readonly labels = new Interned();

  constructor(
    private readonly capacity: number,
    private readonly ttlMs: number,
  ) {
    const n = Math.max(0, capacity);
    this.ids = new Array<string | undefined>(n).fill(undefined);
    this.at = new Float64Array(n);
    this.pair = new Uint32Array(n);
    this.label = new Uint32Array(n);
    this.truth = new Uint32Array(n);
    // At most half full, so probes stay short.
    let size = 2;
    while (size < 2 * n) size *= 2;
    this.table = new Uint32Array(n > 0 ? size : 0);
    this.mask = size - 1;
  }

  remember(requestId: string, prediction: RememberedPrediction): void {
    if (this.capacity <= 0) return;
    while (this.count > 0 && (this.count >= this.capacity || prediction.at - this.at[this.head] >= this.ttlMs)) this.forgetOldest();
    const slot = (this.head + this.count) % this.capacity;
    this.count++;
    this.ids[slot] = requestId;
    this.at[slot] = prediction.at;
    this.pair[slot] = this.pairs.id(prediction.environment, prediction.version);
    this.label[slot] = this.labels.id(prediction.label);
    this.truth[slot] = prediction.truth === undefined ? NONE : this.labels.id(prediction.truth) + 1;
    // An id seen again (a client reusing its request id) now means the latest prediction; the
    // older slot in the ring no longer owns it.
    const i = this.position(requestId);
    if (this.table[i] === 0) this.indexed++;
    this.table[i] = slot + 1;
  }

  find(requestId: string, now = Date.now()): Readonly<RememberedPrediction> | undefined {
    const slot = this.slotOf(requestId);
    if (slot < 0 || now - this.at[slot] >= this.ttlMs) return undefined;
    const [environment, version] = this.pairs.values[this.pair[slot]];
    const truth = this.truth[slot];
    return { environment, version, label: this.labels.values[this.label[slot]], at: this.at[slot], ...(truth === NONE ? {} : { truth: this.labels.values[truth - 1] }) };
  }

  /** Records the feedback's label on a remembered prediction; false when it is not remembered. */
  setTruth(requestId: string, truth: string, now = Date.now()): boolean {
    const slot = this.slotOf(requestId);
    if (slot < 0 || now - this.at[slot] >= this.ttlMs) return false;
    this.truth[slot] = this.labels.id(truth) + 1;
    return true;
  }

  /** Predictions remembered (an id remembered twice counts once). */
  get size(): number {
    return this.indexed;
  }

  private slotOf(requestId: string): number {
    if (this.capacity <= 0) return -1;
    const entry = this.table[this.position(requestId)];
    return entry === 0 ? -1 : entry - 1;
  }

  /** The id's index position: where it is, or the empty one where it would go. */
  private position(requestId: string): number {
    let i = hashOf(requestId) & this.mask;
    for (;;) {
      const entry = this.table[i];
      if (entry === 0 || this.ids[entry - 1] === requestId) return i;
      i = (i + 1) & this.mask;
    }
  }

  private forgetOldest(): void {
    const slot = this.head;
    const id = this.ids[slot]!;
    const i = this.position(id);
    // Only when this slot still holds the id's latest prediction.
    if (this.table[i] === slot + 1) this.unindex(i);
    this.ids[slot] = undefined;
    this.head = (this.head + 1) % this.capacity;
    this.count--;
  }

  /** Empties index position i, moving back the entries after it that probed past it. */
  private unindex(i: number): void {
    this.indexed--;
    let hole = i;
    let j = i;
    for (;;) {
      j = (j + 1) & this.mask;
      const entry = this.table[j];
      if (entry === 0) break;
      const home = hashOf(this.ids[entry - 1]!) & this.mask;
      // The entry at j may fill the hole when its home is not in the cyclic range (hole, j].
      if ((j > hole && (home <= hole || home > j)) || (j < hole && home <= hole && home > j)) {
        this.table[hole] = entry;
        hole = j;
      }
    }
    this.table[hole] = 0;
  }
}
