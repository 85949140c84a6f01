// What the router remembers of each recent prediction, so that feedback (POST /feedback with the
// X-Request-Id of the answer) can be attributed to the environment and version that answered:
// bounded in count and in age, the oldest forgotten first.
//
// The order of arrival is kept in a ring beside the map, so forgetting the oldest is O(1) however
// long the router runs. (Walking the map from its start instead, as it once did, also walks the
// holes its deletions leave until the table is rebuilt: once the memory was full, every request
// paid for up to a table's worth of them, and the router got slower the longer it served.)
export interface RememberedPrediction {
  environment: string;
  version: string;
  label: string;
  at: number;
  /** The label given as feedback, once it is. */
  truth?: string;
}

export class RecentPredictions {
  private readonly byId = new Map<string, RememberedPrediction>();
  /** Ids and entries in the order remembered: `count` of them from `head`. */
  private readonly ids: (string | undefined)[];
  private readonly entries: (RememberedPrediction | undefined)[];
  private head = 0;
  private count = 0;

  constructor(
    private readonly capacity: number,
    private readonly ttlMs: number,
  ) {
    this.ids = new Array(Math.max(0, capacity));
    this.entries = new Array(Math.max(0, capacity));
  }

  remember(requestId: string, prediction: RememberedPrediction): void {
    if (this.capacity <= 0) return;
    while (this.count > 0 && (this.count >= this.capacity || prediction.at - this.entries[this.head]!.at >= this.ttlMs)) this.forgetOldest();
    const slot = (this.head + this.count) % this.capacity;
    this.ids[slot] = requestId;
    this.entries[slot] = prediction;
    this.count++;
    // An id seen again (a client reusing its request id) now means the latest prediction; the
    // older entry's slot in the ring no longer owns it.
    this.byId.set(requestId, prediction);
  }

  private forgetOldest(): void {
    const id = this.ids[this.head]!;
    if (this.byId.get(id) === this.entries[this.head]) this.byId.delete(id);
    this.ids[this.head] = undefined;
    this.entries[this.head] = undefined;
    this.head = (this.head + 1) % this.capacity;
    this.count--;
  }

  find(requestId: string, now = Date.now()): RememberedPrediction | undefined {
    const p = this.byId.get(requestId);
    return p && now - p.at < this.ttlMs ? p : undefined;
  }

  /** Predictions remembered (an id remembered twice counts once). */
  get size(): number {
    return this.byId.size;
  }
}
