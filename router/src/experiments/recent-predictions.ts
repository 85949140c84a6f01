// What the router remembers of each recent prediction, so that feedback (POST /feedback with the
// X-Request-Id of the answer) can be attributed to the environment and version that answered:
// bounded in count and in age, the oldest forgotten first.
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

  constructor(
    private readonly capacity: number,
    private readonly ttlMs: number,
  ) {}

  remember(requestId: string, prediction: RememberedPrediction): void {
    if (this.capacity <= 0) return;
    this.byId.delete(requestId);
    this.byId.set(requestId, prediction);
    // Map iterates in insertion order: the first entries are the oldest.
    for (const [id, p] of this.byId) {
      if (this.byId.size <= this.capacity && prediction.at - p.at < this.ttlMs) break;
      this.byId.delete(id);
    }
  }

  find(requestId: string, now = Date.now()): RememberedPrediction | undefined {
    const p = this.byId.get(requestId);
    return p && now - p.at < this.ttlMs ? p : undefined;
  }

  get size(): number {
    return this.byId.size;
  }
}
