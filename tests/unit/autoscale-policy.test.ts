// The HPA rule: proportional, within a tolerance, bounded, at most doubling a step, quick up and
// slow down (stabilization window), every decision explained.
import t from 'tap';
import { decide, recommend, type Recommendation } from '../../launcher/src/autoscale-policy.ts';

const bounds = { min: 1, max: 6, targetCpuPercent: 70 };
const settings = { tolerance: 0.1, scaleDownStabilizationMs: 60_000 };

t.test('proportional to utilization over the target, rounded up', async (t) => {
  t.equal(recommend(2, 140, bounds, settings).replicas, 4);
  t.equal(recommend(2, 100, bounds, settings).replicas, 3, 'ceil(2 × 100 / 70) = 3');
  t.equal(recommend(4, 35, bounds, settings).replicas, 2);
  t.match(recommend(2, 100, bounds, settings).reason, 'ceil(2 × 100.0 / 70) = 3');
});

t.test('no change within the tolerance band', async (t) => {
  t.equal(recommend(3, 75, bounds, settings).replicas, 3, '75 / 70 is within 10%');
  t.equal(recommend(3, 64, bounds, settings).replicas, 3);
  t.equal(recommend(3, 80, bounds, settings).replicas, 4, '80 / 70 is not');
});

t.test('bounded by min and max, and by doubling per step', async (t) => {
  t.equal(recommend(1, 1000, { ...bounds, max: 20 }, settings).replicas, 5, 'one replica at 1000%: at most +4 in one step');
  t.equal(recommend(4, 1000, { ...bounds, max: 20 }, settings).replicas, 8, 'four: at most double');
  t.equal(recommend(3, 1000, bounds, settings).replicas, 6, 'never above max');
  t.equal(recommend(3, 0, bounds, settings).replicas, 1, 'never below min');
  t.equal(recommend(0, 0, { ...bounds, min: 2 }, settings).replicas, 2, 'nothing to measure: the minimum');
});

t.test('up at once; down only after the load stayed low for the window', async (t) => {
  let history: Recommendation[] = [];
  const step = (now: number, current: number, utilization: number) => {
    const out = decide({ now, current, utilization, bounds, settings, history });
    history = out.history;
    return out.decision;
  };
  const up = step(0, 2, 140);
  t.equal(up.action, 'scale_up');
  t.equal(up.desired_replicas, 4);
  t.same({ metric: up.metric, value: up.value, target: up.target, current: up.current_replicas }, { metric: 'cpu_utilization_percent', value: 140, target: 70, current: 2 }, 'explained: metric, value, target, current');
  const dip = step(5_000, 4, 10);
  t.equal(dip.action, 'hold', 'a dip right after does not scale down');
  t.match(dip.reason, /held at 4 until the load stays low for 60 s/);
  t.equal(step(30_000, 4, 10).action, 'hold');
  const down = step(65_000, 4, 10);
  t.equal(down.action, 'scale_down', 'once the high recommendation left the window');
  t.equal(down.desired_replicas, 1);
});
