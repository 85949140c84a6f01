// Values kept per (environment, model version): the data path looks several of them up for every
// request (metrics, windows, the experiment, drift, the feedback memory). Two levels of Map, so a
// lookup builds no key string (an `${environment}\0${version}` key is a new string to allocate
// and hash on every request).
export class PairMap<V> {
  private readonly byFirst = new Map<string, Map<string, V>>();

  get(first: string, second: string): V | undefined {
    return this.byFirst.get(first)?.get(second);
  }

  set(first: string, second: string, value: V): void {
    let bySecond = this.byFirst.get(first);
    if (!bySecond) this.byFirst.set(first, (bySecond = new Map()));
    bySecond.set(second, value);
  }

  *values(): Generator<V> {
    for (const bySecond of this.byFirst.values()) yield* bySecond.values();
  }

  clear(): void {
    this.byFirst.clear();
  }
}
