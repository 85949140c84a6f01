// The live dashboard: one self-contained page (no external scripts, styles or fonts) that polls
// the admin API every second with the browser's own credentials and draws what it reads.
// Sparklines keep the last two minutes in the page; nothing is stored on the router.
import { createHash } from 'node:crypto';

export const DASHBOARD_POLL_MS = 1000;

export const DASHBOARD_HTML = String.raw`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sentiment router · live</title>
<style>
  :root { --bg: #f6f7f9; --card: #fff; --ink: #1a202c; --muted: #718096; --line: #e2e8f0; --bad: #c53030; --good: #2f855a; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; background: var(--bg); color: var(--ink); }
  header { display: flex; flex-wrap: wrap; gap: 16px; align-items: baseline; padding: 12px 20px; background: #1a202c; color: #fff; }
  header h1 { font-size: 18px; margin: 0; }
  header .meta { color: #cbd5e0; font-size: 13px; }
  header .stale { color: #feb2b2; }
  main { padding: 16px 20px; display: grid; gap: 16px; }
  section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; }
  h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); margin: 0 0 10px; }
  .bars { display: grid; grid-template-columns: 90px 1fr; gap: 6px 10px; align-items: center; }
  .bar { display: flex; height: 22px; border-radius: 4px; overflow: hidden; background: var(--line); }
  .bar span { display: block; height: 100%; color: #fff; font-size: 12px; line-height: 22px; padding-left: 6px; white-space: nowrap; overflow: hidden; transition: width .4s; }
  .envs { display: grid; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); gap: 12px; }
  .env { border: 1px solid var(--line); border-top: 4px solid var(--c); border-radius: 8px; padding: 10px 12px; }
  .env h3 { margin: 0 0 2px; font-size: 16px; display: flex; justify-content: space-between; }
  .env .versions { color: var(--muted); font-size: 12px; }
  .figures { display: grid; grid-template-columns: repeat(3, 1fr); gap: 6px; margin: 8px 0; }
  .figure b { display: block; font-size: 18px; font-variant-numeric: tabular-nums; }
  .figure small { color: var(--muted); font-size: 11px; text-transform: uppercase; }
  .bad { color: var(--bad); }
  svg.spark { width: 100%; height: 40px; display: block; }
  .spark-label { color: var(--muted); font-size: 11px; display: flex; justify-content: space-between; }
  table { width: 100%; border-collapse: collapse; font-size: 13px; }
  th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
  th { color: var(--muted); font-weight: 600; font-size: 12px; }
  td.num { font-variant-numeric: tabular-nums; }
  .dot { display: inline-block; width: 9px; height: 9px; border-radius: 50%; margin-right: 6px; background: var(--good); }
  .dot.down { background: var(--bad); }
  .dot.out { background: #dd6b20; }
  .kind { font-size: 11px; text-transform: uppercase; padding: 1px 6px; border-radius: 3px; background: var(--line); }
  .kind.guard, .kind.analysis { background: #fefcbf; }
  .kind.bandit { background: #e9d8fd; }
  .empty { color: var(--muted); }
  .progress { height: 8px; background: var(--line); border-radius: 4px; overflow: hidden; margin: 6px 0; }
  .progress span { display: block; height: 100%; background: #3182ce; }
</style>
</head>
<body>
<header>
  <h1>Sentiment router</h1>
  <span class="meta" data-testid="status">connecting…</span>
  <span class="meta" id="weights-meta"></span>
  <span class="meta" id="controller" data-testid="controller"></span>
</header>
<main>
  <section><h2>Traffic split — configured vs observed (last 10 s)</h2><div class="bars" id="split"></div></section>
  <section><h2>Environments</h2><div class="envs" id="envs"></div></section>
  <section><h2>Rollout</h2><div id="rollout" data-testid="rollout"></div></section>
  <section><h2>Bandit</h2><div id="bandit" data-testid="bandit"></div></section>
  <section><h2>Drift</h2><table><thead><tr><th>environment</th><th>model</th><th>window</th><th>state</th><th>tests (p-value against threshold)</th></tr></thead><tbody id="drift" data-testid="drift"></tbody></table></section>
  <section><h2>Replicas</h2><table><thead><tr><th>environment</th><th>replica</th><th>model</th><th>state</th><th>in flight</th><th>ejections</th><th>last check</th></tr></thead><tbody id="replicas"></tbody></table></section>
  <section><h2>Decisions</h2><table><thead><tr><th>time</th><th>kind</th><th>what</th></tr></thead><tbody id="history"></tbody></table></section>
</main>
<script>
'use strict';
var POLL_MS = ${DASHBOARD_POLL_MS};
var WINDOW = 10;
var KEEP = 120;
var PALETTE = { blue: '#2b6cb0', green: '#2f855a', canary: '#d69e2e' };
var EXTRA = ['#805ad5', '#c05621', '#2c7a7b', '#b83280', '#4a5568'];
var series = {};
var lastOk = 0;

function color(name, i) { return PALETTE[name] || EXTRA[i % EXTRA.length]; }
function el(tag, attrs, children) {
  var node = document.createElement(tag);
  for (var k in attrs || {}) {
    if (k === 'text') node.textContent = attrs[k];
    else if (k === 'style') node.style.cssText = attrs[k];
    else node.setAttribute(k, attrs[k]);
  }
  (children || []).forEach(function (c) { if (c) node.appendChild(c); });
  return node;
}
function fixed(v, digits, unit) { return v === null || v === undefined || !isFinite(v) ? '–' : v.toFixed(digits) + (unit || ''); }
function percent(v) { return fixed(v * 100, v > 0 && v < 0.01 ? 2 : 1, '%'); }
function ago(iso) { var s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000); return s < 90 ? Math.round(s) + ' s ago' : s < 5400 ? Math.round(s / 60) + ' min ago' : Math.round(s / 3600) + ' h ago'; }

function spark(values, stroke) {
  var svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('class', 'spark');
  svg.setAttribute('viewBox', '0 0 ' + KEEP + ' 40');
  svg.setAttribute('preserveAspectRatio', 'none');
  var finite = values.filter(function (v) { return v !== null && isFinite(v); });
  var max = Math.max.apply(null, finite.concat([1e-9]));
  var offset = KEEP - values.length;
  var points = values.map(function (v, i) { return v === null || !isFinite(v) ? null : (offset + i) + ',' + (38 - (v / max) * 34).toFixed(1); }).filter(Boolean);
  var line = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
  line.setAttribute('points', points.join(' '));
  line.setAttribute('fill', 'none');
  line.setAttribute('stroke', stroke);
  line.setAttribute('stroke-width', '1.5');
  line.setAttribute('vector-effect', 'non-scaling-stroke');
  svg.appendChild(line);
  return svg;
}

function remember(name, stats) {
  var s = series[name] || (series[name] = { rps: [], p95: [] });
  s.rps.push(stats ? stats.rps : 0);
  s.p95.push(stats ? stats.p95_ms : null);
  if (s.rps.length > KEEP) { s.rps.shift(); s.p95.shift(); }
  return s;
}

function renderSplit(envs, stats) {
  var totalWeight = envs.reduce(function (a, e) { return a + e.share; }, 0) || 1;
  var totalRps = envs.reduce(function (a, e) { return a + ((stats[e.name] || {}).rps || 0); }, 0);
  function bar(share) {
    return el('div', { class: 'bar' }, envs.map(function (e, i) {
      var p = share(e);
      return p > 0 ? el('span', { style: 'width:' + (p * 100) + '%;background:' + color(e.name, i), title: e.name + ' ' + percent(p), text: e.name + ' ' + percent(p) }) : null;
    }));
  }
  var root = document.getElementById('split');
  root.replaceChildren(
    el('div', { text: 'configured' }), bar(function (e) { return e.share / totalWeight; }),
    el('div', { text: 'observed' }), totalRps > 0 ? bar(function (e) { return ((stats[e.name] || {}).rps || 0) / totalRps; }) : el('div', { class: 'empty', text: 'no traffic in the last ' + WINDOW + ' s' })
  );
}

function figure(label, value, testid, bad) {
  return el('div', { class: 'figure' }, [el('b', { text: value, 'data-testid': testid, class: bad ? 'bad' : '' }), el('small', { text: label })]);
}

function renderEnvironments(envs, stats) {
  var totalRps = envs.reduce(function (a, e) { return a + ((stats[e.name] || {}).rps || 0); }, 0);
  document.getElementById('envs').replaceChildren.apply(document.getElementById('envs'), envs.map(function (e, i) {
    var s = stats[e.name] || null;
    var hist = remember(e.name, s);
    var id = 'env-' + e.name;
    var versions = e.model_versions.length ? e.model_versions.join(', ') : 'no model yet';
    return el('div', { class: 'env', style: '--c:' + color(e.name, i), 'data-testid': id }, [
      el('h3', {}, [el('span', { text: e.name + (e.backup ? ' (backup)' : '') }), el('span', { class: e.healthy_replicas === 0 && e.replicas > 0 ? 'bad' : '', text: e.healthy_replicas + '/' + e.replicas + ' replicas', 'data-testid': id + '-replicas' })]),
      el('div', { class: 'versions', text: 'model ' + versions }),
      el('div', { class: 'figures' }, [
        figure('weight', percent(e.share), id + '-configured'),
        figure('observed', totalRps > 0 ? percent(((s && s.rps) || 0) / totalRps) : '–', id + '-observed'),
        figure('req/s', fixed(s && s.rps, 1), id + '-rps'),
        figure('errors', s ? percent(s.error_rate) : '–', id + '-error-rate', s && s.error_rate > 0.01),
        figure('p50 / p95 ms', s ? fixed(s.p50_ms, 0) + ' / ' + fixed(s.p95_ms, 0) : '–', id + '-p95', s && s.p95_ms > 100),
        figure('p99 ms', fixed(s && s.p99_ms, 0), id + '-p99', s && s.p99_ms > 100),
        figure('confidence', fixed(s && s.mean_confidence, 3), id + '-confidence'),
      ]),
      el('div', { class: 'spark-label' }, [el('span', { text: 'req/s, last ' + KEEP + ' s' }), el('span', { text: 'max ' + fixed(Math.max.apply(null, hist.rps.concat([0])), 1) })]),
      spark(hist.rps, color(e.name, i)),
      el('div', { class: 'spark-label' }, [el('span', { text: 'p95 latency' }), el('span', { text: 'max ' + fixed(Math.max.apply(null, hist.p95.filter(function (v) { return v !== null; }).concat([0])), 0) + ' ms' })]),
      spark(hist.p95, '#4a5568'),
    ]);
  }));
}

function renderReplicas(replicas) {
  var body = document.getElementById('replicas');
  if (!replicas.length) return body.replaceChildren(el('tr', {}, [el('td', { colspan: '7', class: 'empty', text: 'no replicas registered' })]));
  body.replaceChildren.apply(body, replicas.map(function (r) {
    var state = !r.healthy ? 'down' : !r.available ? 'ejected' : 'up';
    return el('tr', { 'data-testid': 'replica-row' }, [
      el('td', { text: r.environment }),
      el('td', { text: r.url }),
      el('td', { text: (r.model || '?') + ' ' + (r.model_version || '') }),
      el('td', {}, [el('span', { class: 'dot ' + (state === 'down' ? 'down' : state === 'ejected' ? 'out' : '') }), document.createTextNode(state)]),
      el('td', { class: 'num', text: String(r.in_flight) }),
      el('td', { class: 'num', text: String(r.ejections) }),
      el('td', { class: r.last_check_error ? 'bad' : 'empty', text: r.last_check_error || 'ok' }),
    ]);
  }));
}

function renderRollout(rollouts) {
  var root = document.getElementById('rollout');
  var r = rollouts.current;
  if (!r) {
    var last = rollouts.last;
    return root.replaceChildren(el('div', { class: 'empty', text: last ? 'none in progress; the last, ' + last.baseline + ' → ' + last.target + ', ' + last.state + ' ' + ago(last.updated_at) + ': ' + last.message : 'none in progress' }));
  }
  var done = (r.step_index + 1) / r.steps.length;
  var parts = [
    el('div', { text: r.baseline + ' → ' + r.target + ' · ' + r.state + ' · step ' + (r.step_index + 1) + ' of ' + r.steps.length + ' (' + r.step_percent + '% on ' + r.target + ') · ' + r.phase }),
    el('div', { class: 'progress' }, [el('span', { style: 'width:' + (done * 100) + '%' })]),
    el('div', { class: 'empty', text: r.message }),
  ];
  if (r.last_analysis) parts.push(el('div', { text: 'last analysis: ' + r.last_analysis.verdict + ' — ' + r.last_analysis.summary }));
  root.replaceChildren.apply(root, parts);
}

function renderBandit(view) {
  var root = document.getElementById('bandit');
  var b = view.bandit;
  if (!b) return root.replaceChildren(el('div', { class: 'empty', text: 'none (POST /admin/bandit starts one)' }));
  var parts = [
    el('div', { text: b.arms.join(' · ') + ' · ' + b.state + ' · ' + b.updates + ' weight changes · every ' + b.interval_seconds + ' s · each arm ' + b.floor_percent + '–' + b.cap_percent + '%' }),
    el('div', { class: 'empty', text: b.message }),
  ];
  if (b.last_update) {
    parts.push(el('table', {}, [
      el('thead', {}, [el('tr', {}, ['arm', 'labels', 'accuracy (posterior mean, 95%)', 'P(best)', 'weight'].map(function (h) { return el('th', { text: h }); }))]),
      el('tbody', {}, b.last_update.arms.map(function (a) {
        return el('tr', { 'data-testid': 'bandit-arm' }, [
          el('td', { text: a.environment }),
          el('td', { class: 'num', text: String(a.feedback) }),
          el('td', { class: 'num', text: a.posterior_mean.toFixed(3) + ' [' + a.ci95[0].toFixed(3) + ', ' + a.ci95[1].toFixed(3) + ']' }),
          el('td', { class: 'num', text: a.p_best.toFixed(3) }),
          el('td', { class: 'num', text: String(a.weight) }),
        ]);
      })),
    ]));
  }
  b.excluded.forEach(function (e) { parts.push(el('div', { class: 'bad', text: e.environment + ' excluded: ' + e.reason })); });
  root.replaceChildren.apply(root, parts);
}

function renderDrift(view) {
  var body = document.getElementById('drift');
  if (!view.environments.length) return body.replaceChildren(el('tr', {}, [el('td', { colspan: '5', class: 'empty', text: 'no predictions yet' })]));
  body.replaceChildren.apply(body, view.environments.map(function (e) {
    var state = !e.tests.length ? 'not tested' : e.drifted ? 'DRIFTED' : 'ok';
    var tests = e.tests.length ? e.tests.map(function (t) { return (t.passed ? '' : '✗ ') + t.name + ' vs ' + t.against + ' ' + t.p_value.toExponential(1) + ' / ' + t.threshold.toExponential(1); }).join(' · ') : (e.note || '');
    return el('tr', { 'data-testid': 'drift-' + e.environment }, [
      el('td', { text: e.environment }),
      el('td', { text: e.model_version }),
      el('td', { class: 'num', text: String(e.requests) }),
      el('td', { class: e.drifted ? 'bad' : 'empty', text: state }),
      el('td', { text: tests }),
    ]);
  }));
}

function renderHistory(entries) {
  var body = document.getElementById('history');
  if (!entries.length) return body.replaceChildren(el('tr', {}, [el('td', { colspan: '3', class: 'empty', text: 'no decisions yet' })]));
  body.replaceChildren.apply(body, entries.map(function (h) {
    return el('tr', { 'data-testid': 'history-entry' }, [
      el('td', { text: new Date(h.at).toLocaleTimeString(), title: h.at }),
      el('td', {}, [el('span', { class: 'kind ' + h.kind, text: h.kind + ' · ' + h.action })]),
      el('td', { text: (h.environment ? h.environment + ': ' : '') + h.message }),
    ]);
  }));
}

function get(path) {
  return fetch(path, { credentials: 'same-origin', headers: { accept: 'application/json' } }).then(function (res) {
    if (!res.ok) throw new Error(path + ': ' + res.status + (res.status === 401 ? ' (sign in with the admin or read-only token as the password)' : ''));
    return res.json();
  });
}

function tick() {
  Promise.all([get('/admin/config'), get('/admin/stats?window=' + WINDOW), get('/admin/replicas'), get('/admin/rollouts'), get('/admin/history?limit=15'), get('/admin/bandit'), get('/admin/drift')]).then(function (r) {
    var config = r[0], stats = r[1].environments;
    lastOk = Date.now();
    document.getElementById('weights-meta').textContent = 'weights generation ' + config.generation + ' · ' + (config.last_reload.ok ? 'last reload ok' : 'last reload FAILED: ' + config.last_reload.failure);
    var c = config.controller;
    document.getElementById('controller').textContent = config.weights_kept_in === 'store'
      ? c.routers.length + ' routers (' + c.routers.join(', ') + ') · this one ' + c.router_id + ' · controller ' + (c.leader || 'none') + (c.paused_reason ? ' · held: ' + c.paused_reason : '')
      : 'one router: weights kept in its file';
    renderSplit(config.environments, stats);
    renderEnvironments(config.environments, stats);
    renderReplicas(r[2]);
    renderRollout(r[3]);
    renderHistory(r[4]);
    renderBandit(r[5]);
    renderDrift(r[6]);
    var status = document.querySelector('[data-testid=status]');
    status.textContent = 'live · updated ' + new Date().toLocaleTimeString();
    status.className = 'meta';
  }).catch(function (err) {
    var status = document.querySelector('[data-testid=status]');
    status.textContent = (lastOk ? 'stale since ' + new Date(lastOk).toLocaleTimeString() + ': ' : '') + err.message;
    status.className = 'meta stale';
  }).finally(function () { setTimeout(tick, POLL_MS); });
}
tick();
</script>
</body>
</html>
`;

const inlineScript = /<script>([\s\S]*)<\/script>/.exec(DASHBOARD_HTML)?.[1] ?? '';

/** The page may run its own inline script (by hash) and nothing else, and talk only to this origin. */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  `script-src 'sha256-${createHash('sha256').update(inlineScript).digest('base64')}'`,
  "style-src 'unsafe-inline'",
  "connect-src 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');
