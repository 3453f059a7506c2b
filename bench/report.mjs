// Turns bench/run.sh's results.jsonl into the table printed at the end of the run (Markdown, so BENCHMARKS.md can
// hold it as it is). Usage: node report.mjs RESULTS_JSONL VERSIONS_TXT
import { readFileSync } from 'node:fs';

const [resultsFile, versionsFile] = process.argv.slice(2);
const lines = readFileSync(resultsFile, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line));
const versions = readFileSync(versionsFile, 'utf8').trim();

const rows = [
  { id: 'a', name: '(a) client_credentials', signatures: 1 },
  { id: 'b', name: '(b) refresh-token rotation', signatures: 2 },
  { id: 'c', name: '(c) code + PKCE flow (flows/s)', signatures: 2 },
  { id: 'd', name: '(d) introspection', signatures: 0 },
  { id: 'e', name: '(e) JWKS', signatures: 0 },
  { id: 'f', name: '(f) discovery', signatures: 0 },
];
const targets = [
  { id: 'sqlite', name: 'ours, SQLite' },
  { id: 'postgresql', name: 'ours, PostgreSQL' },
  { id: 'peer', name: 'oidc-provider' },
];

const signPerSecond = lines.find((l) => l.meta === 'rs256')?.sign_per_s;
const result = (target, row) => lines.find((l) => l.target === target && l.row === row)?.result;
const process_ = (target) => lines.find((l) => l.target === target && l.meta === 'process');

/** Completed units per second: answers that did what the row measures (for (c), whole flows). */
function rate(r, row) {
  if (!r) return undefined;
  return (row === 'c' ? r.flows : r.ok) / (r.duration_us / 1e6);
}
const errors = (r) => r.bad + r.socket_errors;
const entry = (target, row) => lines.find((l) => l.target === target && l.row === row);
/** Server-side CPU (the process, plus PostgreSQL's when it runs) per completed unit, in microseconds. */
function cpuPerUnit(target, row) {
  const e = entry(target, row);
  if (!e || e.cpu_s === undefined) return undefined;
  const units = row === 'c' ? e.result.flows : e.result.ok;
  return units ? (e.cpu_s * 1e6) / units : undefined;
}
const ms = (us) => (us / 1000).toFixed(2);
const fixed = (n) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));

const out = [];
out.push('```', versions, `RS256 ceiling (openssl speed -seconds 3 rsa2048, one core): ${signPerSecond} sign/s`, '```', '');
out.push('| Row | Server | req/s | p50 ms | p99 ms | errors | vs oidc-provider | vs RS256 limit | CPU µs/req | vs oidc-provider, CPU |');
out.push('|---|---|--:|--:|--:|--:|--:|--:|--:|--:|');
const ratios = {};
const cpuRatios = {};
for (const row of rows) {
  const peerRate = rate(result('peer', row.id), row.id);
  const peerCpu = cpuPerUnit('peer', row.id);
  for (const target of targets) {
    const r = result(target.id, row.id);
    if (!r) continue;
    const value = rate(r, row.id);
    const versusPeer = target.id !== 'peer' && peerRate ? value / peerRate : undefined;
    ratios[`${target.id}.${row.id}`] = versusPeer;
    const cpu = cpuPerUnit(target.id, row.id);
    const versusPeerCpu = target.id !== 'peer' && peerCpu && cpu ? peerCpu / cpu : undefined;
    cpuRatios[`${target.id}.${row.id}`] = versusPeerCpu;
    const versusSigning = row.signatures && signPerSecond ? `${((value * row.signatures / signPerSecond) * 100).toFixed(0)} %` : '';
    out.push(`| ${row.name} | ${target.name} | ${fixed(value)} | ${ms(r.p50_us)} | ${ms(r.p99_us)} | ${errors(r)} | `
      + `${versusPeer ? versusPeer.toFixed(2) + 'x' : ''} | ${versusSigning} | ${cpu ? cpu.toFixed(0) : ''} | `
      + `${versusPeerCpu ? versusPeerCpu.toFixed(2) + 'x' : ''} |`);
  }
}
const loads = lines.filter((l) => l.load_before !== undefined).map((l) => l.load_before);
if (loads.length) {
  out.push('', `1-minute load average before the measured runs: ${Math.min(...loads).toFixed(2)} to ${Math.max(...loads).toFixed(2)} `
    + '(about 1 to 2 means only the bench ran; more means other work shared the cores and req/s is understated, CPU µs/req much less so).');
}
out.push('');
out.push('| Server | RSS after the run | process start to first discovery answer |');
out.push('|---|--:|--:|');
for (const target of targets) {
  const p = process_(target.id);
  if (p) out.push(`| ${target.name} | ${(p.rss_kb / 1024).toFixed(0)} MB | ${p.startup_ms} ms |`);
}

// The targets, checked against this run.
const checks = [];
const check = (label, value, goal, unit = 'x', higherIsBetter = true) => {
  if (value === undefined || Number.isNaN(value)) return;
  const met = higherIsBetter ? value >= goal : value <= goal;
  const shown = unit === 'x' ? `${value.toFixed(2)}x` : unit === '%' ? `${(value * 100).toFixed(0)} %` : `${value.toFixed(0)} ${unit}`;
  const goalShown = unit === 'x' ? `${goal}x` : unit === '%' ? `${goal * 100} %` : `${goal} ${unit}`;
  checks.push(`- ${met ? 'met' : 'MISSED'}: ${label}: ${shown} (target ${higherIsBetter ? '>=' : '<='} ${goalShown})`);
};
for (const target of ['sqlite', 'postgresql']) {
  const name = targets.find((t) => t.id === target).name;
  const a = rate(result(target, 'a'), 'a');
  if (a && signPerSecond) check(`(a) ${name} vs RS256 limit`, a / signPerSecond, 0.8, '%');
  check(`(d) ${name} vs oidc-provider`, ratios[`${target}.d`], target === 'sqlite' ? 2 : 1);
  check(`(e) ${name} vs oidc-provider`, ratios[`${target}.e`], 5);
  check(`(f) ${name} vs oidc-provider`, ratios[`${target}.f`], 5);
  check(`(c) ${name} vs oidc-provider`, ratios[`${target}.c`], 1.5);
  if (target === 'postgresql') check(`(b) ${name} vs oidc-provider`, ratios[`${target}.b`], 1);
  const p = process_(target);
  if (p) {
    check(`${name} RSS after the run`, p.rss_kb / 1024, 120, 'MB', false);
    check(`${name} start to first discovery answer`, p.startup_ms, 1500, 'ms', false);
  }
  const errorCount = rows.map((row) => result(target, row.id)).filter(Boolean).reduce((sum, r) => sum + errors(r), 0);
  check(`${name} errors, all rows`, errorCount, 0, 'errors', false);
}
if (checks.length) out.push('', 'Targets of issue 9 in this run:', ...checks);
console.log(out.join('\n'));
