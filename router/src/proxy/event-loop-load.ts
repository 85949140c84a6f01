// How busy the router is: its event loop's utilization (the share of the time it spent running
// callbacks rather than waiting for I/O), measured over short windows. One event loop does all
// the router's work, so near 1 it is the bottleneck and every wake-up it saves counts; near 0,
// sending work at once costs nothing.
import { performance, type EventLoopUtilization } from 'node:perf_hooks';

export class EventLoopLoad {
  private last: EventLoopUtilization = performance.eventLoopUtilization();
  private value = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(windowMs = 200) {
    this.timer = setInterval(() => this.sample(), windowMs).unref();
  }

  /** Over the last whole window, 0 to 1. */
  get utilization(): number {
    return this.value;
  }

  private sample(): void {
    const now = performance.eventLoopUtilization();
    this.value = performance.eventLoopUtilization(now, this.last).utilization;
    this.last = now;
  }

  close(): void {
    clearInterval(this.timer);
  }
}
