// Autoscaling on the real launcher: a bounded load scales an environment up, and it scales back
// down once the load stops, with no failed request; every decision says what it was made on.
import t from 'tap';
import type { DeploymentStatus } from '../../shared/api/deployments.ts';
import { startLauncher } from '../helpers/launcher.ts';
import { steadyLoad } from '../helpers/load.ts';
import { until } from '../helpers/router.ts';

t.test('load scales blue up; idleness scales it back down; no request fails', async (t) => {
  const launcher = await startLauncher(t, {
    environments: { blue: { version: '1.0.0', replicas: 1, autoscale: '{ min: 1, max: 2, target_cpu_percent: 15 }' } },
    weights: { blue: 1 },
    extraYaml: 'autoscaling: { interval_seconds: 1, scale_down_stabilization_seconds: 3 }\n',
  });
  const blue = async () => (await launcher.admin<DeploymentStatus>('/admin/deployments')).body.environments.find((e) => e.name === 'blue');

  const load = steadyLoad(launcher.base, 8, 90_000);
  await until(async () => {
    const b = await blue();
    return b !== undefined && b.desired_replicas > 1 && b.ready_replicas === b.desired_replicas;
  }, 90_000, 250);
  const scaled = await blue();
  t.ok((scaled?.ready_replicas ?? 0) > 1, `scaled up to ${scaled?.ready_replicas} ready replicas under load`);
  const result = await load.stop();

  await until(async () => {
    const b = await blue();
    return b?.desired_replicas === 1 && b.ready_replicas === 1 && b.replicas.length === 1;
  }, 60_000, 250);
  const idle = await blue();
  t.pass('back to one replica once the load stopped');

  t.same(result.failed, [], `no request failed (${result.sent} sent)`);
  const decisions = idle?.autoscale?.decisions ?? [];
  const up = decisions.find((d) => d.action === 'scale_up');
  const down = decisions.find((d) => d.action === 'scale_down');
  t.ok(up && down, 'the status keeps the decisions that changed the count');
  t.equal(up?.metric, 'cpu_utilization_percent');
  t.ok((up?.value ?? 0) > 15 * 1.1, `scaled up on ${up?.value}% CPU against a 15% target`);
  t.ok(up && up.desired_replicas > up.current_replicas, `${up?.current_replicas} → ${up?.desired_replicas}: ${up?.reason}`);
  t.ok(down && down.desired_replicas < down.current_replicas, `${down?.current_replicas} → ${down?.desired_replicas}: ${down?.reason}`);
  t.match(launcher.output(), /"msg":"autoscaling blue: 1 → \d replicas"/, 'each change is logged');
  const metrics = await (await fetch(`${launcher.base}/metrics`)).text();
  t.match(metrics, /deployment_desired_replicas\{environment="blue",service="router"\} 1/, 'desired replicas are a metric');
  t.match(metrics, /deployment_ready_replicas\{environment="blue",service="router"\} 1/, 'and ready replicas');
});
