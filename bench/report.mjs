// Turns bench/run.sh's results.jsonl into the table printed at the end of the run (Markdown, so BENCHMARKS.md can
// hold it as it is). Usage: node report.mjs RESULTS_JSONL VERSIONS_TXT
import { readFileSync } from 'node:fs';

const [resultsFile, versionsFile] = process.argv.slice(2);
const lines = readFileSync(resultsFile, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line));
const versions = readFileSync(versionsFile, 'utf8').trim();

// Each line of the table: a row of the load, measured on some targets, compared with a peer and a signing ceiling.
// The ES256 line is row (a) again, on the targets that sign ES256, next to the RS256 one. OpenIddict is the second
// comparison: its columns appear when it ran.
const rs256 = ['sqlite', 'postgresql', 'postgresql-scale', 'peer', 'openiddict'];
// (c256) and (d256): (c) and (d) with 256 connections, on ours and oidc-provider.
const crowded = ['sqlite', 'postgresql', 'postgresql-scale', 'peer'];
const rows = [
  { id: 'a', name: '(a) client_credentials', signatures: 1, targets: rs256, peer: 'peer', ceiling: 'rs256' },
  { id: 'a', name: '(a) client_credentials, ES256', signatures: 1, targets: ['sqlite-es256', 'peer-es256'], peer: 'peer-es256', ceiling: 'es256' },
  { id: 'b', name: '(b) refresh-token rotation', signatures: 2, targets: rs256, peer: 'peer', ceiling: 'rs256' },
  { id: 'c', name: '(c) code + PKCE flow (flows/s)', signatures: 2, targets: rs256, peer: 'peer', ceiling: 'rs256' },
  { id: 'd', name: '(d) introspection', signatures: 0, targets: rs256, peer: 'peer' },
  { id: 'c256', name: '(c) code + PKCE flow, 256 connections', signatures: 2, targets: crowded, peer: 'peer', ceiling: 'rs256' },
  { id: 'd256', name: '(d) introspection, 256 connections', signatures: 0, targets: crowded, peer: 'peer' },
  { id: 'e', name: '(e) JWKS', signatures: 0, targets: [...rs256, 'kestrel'], peer: 'peer' },
  { id: 'f', name: '(f) discovery', signatures: 0, targets: [...rs256, 'kestrel'], peer: 'peer' },
];
const targets = [
  { id: 'sqlite', name: 'ours, SQLite' },
  { id: 'postgresql', name: 'ours, PostgreSQL' },
  { id: 'postgresql-scale', name: 'ours, PostgreSQL, 100k grants / 1M tokens' },
  { id: 'peer', name: 'oidc-provider' },
  { id: 'openiddict', name: 'OpenIddict' },
  { id: 'kestrel', name: 'bare Kestrel, fixed JSON' },
  { id: 'sqlite-es256', name: 'ours, SQLite, ES256' },
  { id: 'peer-es256', name: 'oidc-provider, ES256' },
];
const targetName = (id) => targets.find((t) => t.id === id).name;

const ceilings = {
  rs256: lines.find((l) => l.meta === 'rs256')?.sign_per_s,
  es256: lines.find((l) => l.meta === 'es256')?.sign_per_s,
};
const signPerSecond = ceilings.rs256;
const result = (target, row) => lines.find((l) => l.target === target && l.row === row)?.result;
const process_ = (target) => lines.find((l) => l.target === target && l.meta === 'process');

/** Completed units per second: answers that did what the row measures (for (c), whole flows). */
function rate(r, row) {
  if (!r) return undefined;
  return (isFlow(row) ? r.flows : r.ok) / (r.duration_us / 1e6);
}
function isFlow(row) {
  return row === 'c' || row === 'c256';
}
const errors = (r) => r.bad + r.socket_errors;
const entry = (target, row) => lines.find((l) => l.target === target && l.row === row);
/** Server-side CPU (the process, plus PostgreSQL's when it runs) per completed unit, in microseconds. */
function cpuPerUnit(target, row) {
  const e = entry(target, row);
  if (!e || e.cpu_s === undefined) return undefined;
  const units = isFlow(row) ? e.result.flows : e.result.ok;
  return units ? (e.cpu_s * 1e6) / units : undefined;
}
const ms = (us) => (us / 1000).toFixed(2);
const fixed = (n) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));

const withOpenIddict = lines.some((l) => l.target === 'openiddict' && l.row);
const ours = (id) => !['peer', 'peer-es256', 'openiddict', 'kestrel'].includes(id);

const out = [];
out.push('```', versions);
if (ceilings.rs256) out.push(`RS256 ceiling (openssl speed -seconds 3 rsa2048, one core): ${ceilings.rs256} sign/s`);
if (ceilings.es256) out.push(`ES256 ceiling (openssl speed -seconds 3 ecdsap256, one core): ${ceilings.es256} sign/s`);
out.push('```', '');
// "vs signing limit": against the ceiling of the row's algorithm (RS256, or ES256 on the ES256 line).
out.push('| Row | Server | req/s | p50 ms | p99 ms | errors | vs oidc-provider | vs signing limit | CPU µs/req | vs oidc-provider, CPU |'
  + (withOpenIddict ? ' vs OpenIddict | vs OpenIddict, CPU |' : ''));
out.push('|---|---|--:|--:|--:|--:|--:|--:|--:|--:|' + (withOpenIddict ? '--:|--:|' : ''));
const ratios = {};
const cpuRatios = {};
for (const row of rows) {
  const peerRate = rate(result(row.peer, row.id), row.id);
  const peerCpu = cpuPerUnit(row.peer, row.id);
  const openiddictRate = row.targets.includes('openiddict') ? rate(result('openiddict', row.id), row.id) : undefined;
  const openiddictCpu = row.targets.includes('openiddict') ? cpuPerUnit('openiddict', row.id) : undefined;
  const ceiling = ceilings[row.ceiling];
  for (const id of row.targets) {
    const r = result(id, row.id);
    if (!r) continue;
    const value = rate(r, row.id);
    // Ours against each of the two others; OpenIddict against oidc-provider too (it is a server like ours).
    const versusPeer = id !== row.peer && peerRate ? value / peerRate : undefined;
    ratios[`${id}.${row.id}`] = versusPeer;
    const cpu = cpuPerUnit(id, row.id);
    const versusPeerCpu = id !== row.peer && peerCpu && cpu ? peerCpu / cpu : undefined;
    cpuRatios[`${id}.${row.id}`] = versusPeerCpu;
    const versusSigning = row.signatures && ceiling ? `${((value * row.signatures / ceiling) * 100).toFixed(0)} %` : '';
    out.push(`| ${row.name} | ${targetName(id)} | ${fixed(value)} | ${ms(r.p50_us)} | ${ms(r.p99_us)} | ${errors(r)} | `
      + `${versusPeer ? versusPeer.toFixed(2) + 'x' : ''} | ${versusSigning} | ${cpu ? cpu.toFixed(0) : ''} | `
      + `${versusPeerCpu ? versusPeerCpu.toFixed(2) + 'x' : ''} |`
      + (withOpenIddict
        ? ` ${ours(id) && openiddictRate ? (value / openiddictRate).toFixed(2) + 'x' : ''} | `
          + `${ours(id) && openiddictCpu && cpu ? (openiddictCpu / cpu).toFixed(2) + 'x' : ''} |`
        : ''));
  }
}
// bench/race.mjs: simultaneous redemptions of one refresh token, per round how many got tokens (1 is right) and how many
// of the winners' new refresh tokens still worked afterwards (more than 1 is a family forked into live chains).
const races = targets.map((t) => ({ name: t.name, race: lines.find((l) => l.target === t.id && l.meta === 'race')?.result })).filter((r) => r.race);
if (races.length) {
  out.push('', `| Server | ${races[0].race.concurrency} simultaneous redemptions of one refresh token: winners per round | their new refresh tokens still working |`);
  out.push('|---|--:|--:|');
  for (const { name, race } of races) out.push(`| ${name} | ${race.winners.join(', ')} | ${race.chains.join(', ')} |`);
}
const loads = lines.filter((l) => l.load_before !== undefined).map((l) => l.load_before);
if (loads.length) {
  out.push('', `1-minute load average before the measured runs: ${Math.min(...loads).toFixed(2)} to ${Math.max(...loads).toFixed(2)} `
    + '(about 1 to 2 means only the bench ran; more means other work shared the cores and req/s is understated, CPU µs/req much less so).');
}
out.push('');
out.push('| Server | RSS after the run | process start to first discovery answer | to /health/ready (database migrated and seeded) |');
out.push('|---|--:|--:|--:|');
for (const target of targets) {
  const p = process_(target.id);
  // The ES256 targets run (a) only: their RSS is not comparable with the others' after six rows.
  const note = target.id.endsWith('-es256') ? ' (after row (a) only)' : '';
  if (p) out.push(`| ${target.name}${note} | ${(p.rss_kb / 1024).toFixed(0)} MB | ${p.startup_ms} ms | ${p.ready_ms ?? ''} ms |`);
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
// Issue 22's goals, set by this machine's limits: (e) and (f) against bare Kestrel serving the same bytes, (a) against
// openssl's RS256 signatures per second, the database-bound rows against oidc-provider.
const kestrel = { e: rate(result('kestrel', 'e'), 'e'), f: rate(result('kestrel', 'f'), 'f') };
for (const target of ['sqlite', 'postgresql', 'postgresql-scale']) {
  const name = targetName(target);
  const a = rate(result(target, 'a'), 'a');
  if (a && signPerSecond) check(`(a) ${name} vs RS256 limit (openssl speed)`, a / signPerSecond, 0.7, '%');
  check(`(b) ${name} vs oidc-provider`, ratios[`${target}.b`], 1);
  check(`(c) ${name} vs oidc-provider`, ratios[`${target}.c`], 1);
  check(`(d) ${name} vs oidc-provider`, ratios[`${target}.d`], target === 'sqlite' ? 1.5 : 1.2);
  check(`(c256) ${name} vs oidc-provider`, ratios[`${target}.c256`], 1);
  check(`(d256) ${name} vs oidc-provider`, ratios[`${target}.d256`], target === 'sqlite' ? 1.5 : 1.2);
  for (const row of ['e', 'f']) {
    const value = rate(result(target, row), row);
    if (value && kestrel[row]) check(`(${row}) ${name} vs bare Kestrel`, value / kestrel[row], 0.9, '%');
  }
  const p = process_(target);
  if (p) {
    check(`${name} RSS after the run`, p.rss_kb / 1024, 160, 'MB', false);
    check(`${name} start to first discovery answer`, p.startup_ms, 1200, 'ms', false);
  }
  const measured = [...new Set(rows.map((row) => row.id))].map((id) => result(target, id)).filter(Boolean);
  // Only for a target that ran: no rows is not "zero errors".
  if (measured.length) check(`${name} errors, all rows`, measured.reduce((sum, r) => sum + errors(r), 0), 0, 'errors', false);
}
// With an ES256 key: (a) at least 2x oidc-provider signing ES256 with the same key.
check('(a) ES256 ours vs oidc-provider', ratios['sqlite-es256.a'], 2);
const es256 = result('sqlite-es256', 'a');
if (es256) check(`${targetName('sqlite-es256')} errors, row (a)`, errors(es256), 0, 'errors', false);
if (checks.length) out.push('', 'Targets in this run:', ...checks);
console.log(out.join('\n'));
