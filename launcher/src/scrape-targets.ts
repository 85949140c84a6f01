// Prometheus file-based service discovery: the router and every ready replica as scrape targets,
// written (atomically) to the run folder whenever the deployment changes, so a Prometheus started
// with deploy/prometheus/prometheus.yml follows rolling updates and autoscaling.
import fs from 'node:fs';
import path from 'node:path';
import type { DeploymentStatus } from '../../shared/api/deployments.ts';

interface TargetGroup {
  targets: string[];
  labels: Record<string, string>;
}

function writeAtomically(file: string, groups: TargetGroup[]): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(groups, null, 2)}\n`);
  fs.renameSync(tmp, file);
}

export function writeScrapeTargets(dir: string, routerUrls: string[], status: DeploymentStatus): void {
  fs.mkdirSync(dir, { recursive: true });
  writeAtomically(path.join(dir, 'router.json'), routerUrls.length ? [{ targets: routerUrls.map((url) => new URL(url).host), labels: { component: 'router' } }] : []);
  writeAtomically(
    path.join(dir, 'replicas.json'),
    status.environments.flatMap((e) =>
      e.replicas.filter((r) => r.phase === 'ready' && r.url).map((r) => ({ targets: [new URL(r.url as string).host], labels: { component: 'replica', environment: e.name, replica_id: r.id } })),
    ),
  );
}
