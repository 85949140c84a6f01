// One sliding window per environment, made on first use.
import { SlidingWindow } from './window.ts';

export class StatsWindows {
  private readonly windows = new Map<string, SlidingWindow>();

  of(environment: string): SlidingWindow {
    let window = this.windows.get(environment);
    if (!window) this.windows.set(environment, (window = new SlidingWindow()));
    return window;
  }
}
