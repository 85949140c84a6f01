// The Prometheus files in deploy/prometheus/, checked by Prometheus's own promtool: the config, the
// alert rules, and the rules' unit tests (each alert fires when it should, and not before).
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { ROOT } from '../../testkit/processes.ts';

const PROMTOOL = spawnSync('promtool', ['--version']).status === 0 ? 'promtool' : undefined;
const skip = PROMTOOL ? false : 'promtool is not installed (apt-get install prometheus; .ci/run installs it)';
const dir = path.join(ROOT, 'deploy', 'prometheus');
const promtool = (...args: string[]) => execFileSync('promtool', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

t.test('promtool check config', { skip }, async (t) => {
  t.match(promtool('check', 'config', 'prometheus.yml'), /SUCCESS: prometheus\.yml is valid/);
});

t.test('promtool check rules', { skip }, async (t) => {
  t.match(promtool('check', 'rules', 'alerts.yml'), /SUCCESS: 9 rules found/);
});

t.test('promtool test rules: every alert fires when it should', { skip }, async (t) => {
  t.match(promtool('test', 'rules', 'alerts.test.yml'), /SUCCESS/);
});
