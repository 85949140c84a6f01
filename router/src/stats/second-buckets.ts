// A ring of one-second buckets, each stamped with the second it holds: a bucket left over from an
// older lap of the ring is cleared when its slot is next used, and never counted as recent.

export class SecondBuckets<B extends { second: number }> {
  private readonly ring: B[];

  constructor(
    readonly seconds: number,
    create: () => Omit<B, 'second'>,
    private readonly clear: (bucket: B) => void,
  ) {
    this.ring = Array.from({ length: seconds }, () => Object.assign(create(), { second: -1 }) as B);
  }

  /** The bucket of the second `now` falls in. */
  at(now: number): B {
    const second = Math.floor(now / 1000);
    const b = this.ring[second % this.seconds];
    if (b.second !== second) {
      b.second = second;
      this.clear(b);
    }
    return b;
  }

  /** The buckets of the last `span` seconds up to `now`. */
  recent(span: number, now: number): B[] {
    const newest = Math.floor(now / 1000);
    return this.ring.filter((b) => b.second > newest - span && b.second <= newest);
  }
}
