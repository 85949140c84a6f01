// npm run monitor: a real Prometheus (Debian's binary) against the running `npm start`. Its config
// is deploy/prometheus/prometheus.yml with the discovery files of this run folder and the alert
// rules beside it, written into the run folder; its data stays there too. Ctrl-C stops it.
//   npm run monitor [-- --port 9090]
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parseDocument } from 'yaml';
import { loadLauncherConfig } from './config.ts';
import { failWith, ROOT } from './paths.ts';
import { findRunning } from './running.ts';

const { values } = parseArgs({ options: { port: { type: 'string', default: '9090' } } });
const fail: (message: string) => never = failWith('monitor');

if (spawnSync('prometheus', ['--version']).status !== 0) fail('prometheus is not installed (Debian: apt-get install prometheus)');
const config = loadLauncherConfig();
try {
  findRunning(ROOT, config);
} catch (err) {
  fail((err as Error).message);
}
const runDir = path.resolve(ROOT, config.RUN_DIR);
const dir = path.join(runDir, 'prometheus');
fs.mkdirSync(dir, { recursive: true });

// The shipped config, pointed at this run's discovery files and at the shipped alert rules.
const shipped = path.join(ROOT, 'deploy', 'prometheus');
const doc = parseDocument(fs.readFileSync(path.join(shipped, 'prometheus.yml'), 'utf8'));
doc.set('rule_files', [path.join(shipped, 'alerts.yml')]);
doc.setIn(['scrape_configs', 0, 'file_sd_configs', 0, 'files'], [path.join(dir, 'router.json')]);
doc.setIn(['scrape_configs', 1, 'file_sd_configs', 0, 'files'], [path.join(dir, 'replicas.json')]);
const configFile = path.join(dir, 'prometheus.yml');
fs.writeFileSync(configFile, doc.toString());

const address = `127.0.0.1:${values.port}`;
const prometheus = spawn('prometheus', [`--config.file=${configFile}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=${address}`, '--storage.tsdb.retention.time=1d'], {
  stdio: ['ignore', 'ignore', fs.openSync(path.join(runDir, 'logs', 'prometheus.log'), 'a')],
});
process.stdout.write(`monitor: Prometheus on http://${address} (targets: http://${address}/targets, alerts: http://${address}/alerts); Ctrl-C stops it\n`);
const stop = () => prometheus.kill('SIGTERM');
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
prometheus.on('exit', (code) => process.exit(code ?? 0));
