// The client side of deploy/cluster-test.sh: talks to the instances over loopback HTTP only, as browsers and apps
// behind a load balancer would (each request picks its instance; one cookie jar for all, cookies ignore the port).
//
//   node driver.mjs scenarios              the multi-instance scenarios (flow A->B->C, revocation, concurrent refresh)
//   node driver.mjs load NAME SECONDS MAX  a bounded load run; faults are injected by the script meanwhile. It ends
//                                          when SECONDS have passed or MAX requests were sent, whichever is first,
//                                          then checks that every token received as issued still works.
//   node driver.mjs serves B               instance B alone serves a whole flow (after its restart)
//
// Environment: INSTANCES (space-separated base URLs, A first), ISSUER, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI,
// USERS (space-separated user names, all with PASSWORD), PASSWORD, RESULTS (folder for the JSON summaries).
// Exit code 0 when every check holds, 1 otherwise; the summary is printed either way.
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const instances = env('INSTANCES').split(' ');
for (const url of instances) {
  const host = new URL(url).hostname;
  // Loopback only: this driver never sends traffic anywhere else.
  if (!(host === 'localhost' || host === '[::1]' || /^127\./.test(host))) throw new Error(`not a loopback address: ${url}`);
}
const names = instances.map((_, i) => String.fromCharCode(65 + i));
const clientId = env('CLIENT_ID');
const clientSecret = env('CLIENT_SECRET');
const redirectUri = env('REDIRECT_URI');
const users = env('USERS').split(' ');
const password = env('PASSWORD');
const basic = 'Basic ' + Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64');

class CookieJar {
  #cookies = new Map();
  update(response) {
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some((a) => /^\s*expires=.*1970/i.test(a) || /^\s*max-age=0\s*$/i.test(a));
      if (!value || expired) this.#cookies.delete(name);
      else this.#cookies.set(name, value);
    }
  }
  header() {
    return [...this.#cookies].map(([n, v]) => `${n}=${v}`).join('; ');
  }
}

/** One HTTP exchange; never throws: a connection failure is { status: 0, network: code }. */
async function send(instance, path, { method = 'GET', form, jar, client = false, timeout = 15000 } = {}) {
  const headers = {};
  if (jar) headers.cookie = jar.header();
  if (client) headers.authorization = basic;
  if (form) headers['content-type'] = 'application/x-www-form-urlencoded';
  const started = performance.now();
  try {
    const response = await fetch(new URL(path, instances[instance]), {
      method, headers, body: form ? new URLSearchParams(form) : undefined, redirect: 'manual', signal: AbortSignal.timeout(timeout),
    });
    if (jar) jar.update(response);
    const text = await response.text();
    let json = null;
    if ((response.headers.get('content-type') ?? '').includes('json') && text) {
      try { json = JSON.parse(text); } catch { /* counted as unclean below */ }
    }
    return { status: response.status, headers: response.headers, text, json, ms: performance.now() - started, instance };
  } catch (error) {
    const code = error.cause?.code ?? error.name ?? 'error';
    return { status: 0, network: code, ms: performance.now() - started, instance };
  }
}

/**
 * A clean 503: Retry-After, no-store, and either the RFC 6749 error JSON temporarily_unavailable (protocol
 * endpoints) or the HTML error page (pages, the authorization endpoint), never a stack trace.
 */
function cleanUnavailable(r, expectJson) {
  if (r.status !== 503 || !r.headers.get('retry-after')) return false;
  if (/\bat [\w.]+\(|Exception/.test(r.text)) return false;
  return expectJson ? r.json?.error === 'temporarily_unavailable' : r.text.includes('temporarily unavailable');
}

/** The value of a form field on a page, as a browser would submit it (HTML character references decoded). */
function inputValue(html, name) {
  const tag = html.match(new RegExp(`<input[^>]*name="${name}"[^>]*>`))?.[0];
  const raw = tag?.match(/value="([^"]*)"/)?.[1];
  if (raw === undefined) return undefined;
  return raw.replace(/&(#x[0-9a-f]+|#\d+|amp|quot|lt|gt|apos);/gi, (_, e) =>
    e[0] === '#' ? String.fromCodePoint(e[1].toLowerCase() === 'x' ? parseInt(e.slice(2), 16) : Number(e.slice(1)))
      : { amp: '&', quot: '"', lt: '<', gt: '>', apos: "'" }[e.toLowerCase()]);
}

function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

function authorizePath(challenge, state) {
  return '/connect/authorize?' + new URLSearchParams({
    response_type: 'code', client_id: clientId, redirect_uri: redirectUri, scope: 'openid profile offline_access',
    code_challenge: challenge, code_challenge_method: 'S256', state, nonce: randomBytes(8).toString('hex'),
  });
}

async function signIn(jar, instance, user, finishOn = instance) {
  const page = await send(instance, '/account/login?ReturnUrl=%2F', { jar });
  if (page.status !== 200) throw new Error(`login page on ${names[instance]}: ${page.status || page.network}`);
  const token = inputValue(page.text, '__RequestVerificationToken');
  if (!token) throw new Error('no antiforgery token on the login page');
  const response = await send(finishOn, '/account/login?ReturnUrl=%2F', {
    method: 'POST', jar, form: { Username: user, Password: password, ReturnUrl: '/', __RequestVerificationToken: token },
  });
  if (response.status !== 302) throw new Error(`sign-in on ${names[finishOn]}: ${response.status || response.network}`);
}

/** /connect/authorize with a signed-in session: the code (or the failed response). */
async function authorize(jar, instance) {
  const { verifier, challenge } = pkce();
  const state = randomBytes(8).toString('hex');
  const r = await send(instance, authorizePath(challenge, state), { jar });
  if (r.status === 302) {
    const location = new URL(r.headers.get('location'), instances[instance]);
    if (location.href.startsWith(redirectUri) && location.searchParams.get('state') === state && location.searchParams.get('code')) {
      return { r, code: location.searchParams.get('code'), verifier };
    }
  }
  return { r };
}

const redeem = (instance, code, verifier) => send(instance, '/connect/token', {
  method: 'POST', client: true, form: { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier },
});
const refresh = (instance, token) => send(instance, '/connect/token', {
  method: 'POST', client: true, form: { grant_type: 'refresh_token', refresh_token: token },
});
const introspect = (instance, token) => send(instance, '/connect/introspect', { method: 'POST', client: true, form: { token } });
const revoke = (instance, token, hint) => send(instance, '/connect/revoke', {
  method: 'POST', client: true, form: { token, token_type_hint: hint },
});

/** Signs in on A, finishes on B (the antiforgery token made on A must decrypt on B), gets tokens from B. */
async function tokensFor(user, { start = 0, finish = 1, redeemOn = 1 } = {}) {
  const jar = new CookieJar();
  const { verifier, challenge } = pkce();
  const state = randomBytes(8).toString('hex');
  const first = await send(start, authorizePath(challenge, state), { jar });
  if (first.status !== 302 || !first.headers.get('location').includes('/account/login')) throw new Error(`authorize on ${names[start]}: ${first.status}`);
  const loginPath = new URL(first.headers.get('location'), instances[start]);
  const page = await send(start, loginPath.pathname + loginPath.search, { jar });
  // The form as the page has it (its ReturnUrl and antiforgery token), posted to another instance.
  const token = inputValue(page.text, '__RequestVerificationToken');
  const returnUrl = inputValue(page.text, 'ReturnUrl');
  const posted = await send(finish, loginPath.pathname + loginPath.search, {
    method: 'POST', jar, form: { Username: user, Password: password, ReturnUrl: returnUrl, __RequestVerificationToken: token },
  });
  if (posted.status !== 302) throw new Error(`sign-in on ${names[finish]}: ${posted.status}`);
  const back = await send(finish, posted.headers.get('location'), { jar });
  const location = new URL(back.headers.get('location') ?? 'http://invalid/', instances[finish]);
  if (back.status !== 302 || !location.href.startsWith(redirectUri) || location.searchParams.get('state') !== state) {
    const page = back.text.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').slice(0, 400);
    throw new Error(`authorize on ${names[finish]} after sign-in: ${back.status} ${location} ${page}`);
  }
  const redeemed = await redeem(redeemOn, location.searchParams.get('code'), verifier);
  if (redeemed.status !== 200) throw new Error(`code redemption on ${names[redeemOn]}: ${redeemed.status} ${redeemed.text}`);
  return { jar, tokens: redeemed.json };
}

/** A code flow for a browser that is already signed in: authorize on one instance, redeem on another. */
async function codeFlow(jar, authorizeOn, redeemOn) {
  const a = await authorize(jar, authorizeOn);
  if (!a.code) throw new Error(`authorize on ${names[authorizeOn]}: ${a.r.status || a.r.network} ${a.r.headers?.get('location') ?? ''}`);
  const redeemed = await redeem(redeemOn, a.code, a.verifier);
  if (redeemed.status !== 200) throw new Error(`code redemption on ${names[redeemOn]}: ${redeemed.status || redeemed.network} ${redeemed.text ?? ''}`);
  return redeemed.json;
}

// ---------------------------------------------------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------------------------------------------------
const checks = [];
function check(name, ok, detail = '') {
  checks.push({ name, ok, detail });
  console.log(`  ${ok ? 'PASS' : 'FAIL'}  ${name}${detail ? `: ${detail}` : ''}`);
}

async function scenarios() {
  const [A, B, C] = [0, 1, 2];
  // 1. A code flow started on A completes on B and refreshes on C.
  const { jar, tokens } = await tokensFor(users[0], { start: A, finish: B, redeemOn: B });
  const refreshed = await refresh(C, tokens.refresh_token);
  check('code flow: authorize on A, sign-in and code on B, redeem on B, refresh on C', refreshed.status === 200 && !!refreshed.json.refresh_token,
    `refresh on C -> ${refreshed.status}`);
  const jwks = await Promise.all(instances.map((_, i) => send(i, '/.well-known/jwks')));
  check('all instances publish the same JWKS (one shared key file)', jwks.every((r) => r.text === jwks[0].text), JSON.parse(jwks[0].text).keys.map((k) => k.kid).join(','));
  const everywhere = await Promise.all(instances.map((_, i) => introspect(i, refreshed.json.access_token)));
  check('the access token from C is active at introspection on A, B and C', everywhere.every((r) => r.json?.active === true));

  // 2. A revocation on A shows at introspection on C at once.
  const second = await codeFlow(jar, A, B);
  const before = await introspect(C, second.access_token);
  const revoked = await revoke(A, second.refresh_token, 'refresh_token');
  const after = await introspect(C, second.access_token);
  const afterRefresh = await introspect(B, second.refresh_token);
  check('revocation on A (refresh token): its access token is inactive at introspection on C in the next request',
    before.json?.active === true && revoked.status === 200 && after.json?.active === false && afterRefresh.json?.active === false,
    `before ${before.json?.active}, revoke ${revoked.status}, after ${after.json?.active} (${Math.round(after.ms)} ms later)`);

  // 3. The same refresh token sent to A and B at the same moment: exactly one success.
  const rounds = 20;
  let exactlyOne = 0;
  const outcomes = {};
  for (let round = 0; round < rounds; round++) {
    const t = await codeFlow(jar, A, C);
    const results = await Promise.all([refresh(A, t.refresh_token), refresh(B, t.refresh_token)]);
    const key = results.map((r) => r.status).join('/');
    outcomes[key] = (outcomes[key] ?? 0) + 1;
    if (results.filter((r) => r.status === 200).length === 1 && results.some((r) => r.json?.error === 'invalid_grant')) exactlyOne++;
  }
  check(`same refresh token to A and B at once: exactly one success in each of ${rounds} rounds`, exactlyOne === rounds,
    `A/B status pairs ${JSON.stringify(outcomes)}`);
  return checks.every((c) => c.ok);
}

// ---------------------------------------------------------------------------------------------------------------------
// Bounded load
// ---------------------------------------------------------------------------------------------------------------------
async function load(name, seconds, maxRequests) {
  let deadline = Infinity;
  let sent = 0;
  const budget = () => performance.now() < deadline && sent < maxRequests;
  const stats = { byStatus: {}, byInstance: names.map(() => ({ ok: 0, unavailable: 0, refused: 0, rejected: 0, other: 0 })), unclean: [], uncleanReady: 0, network: {}, timeline: [] };
  // refresh: code-flow family -> its refresh token; chainOf: access token -> the rotating chain that received it
  const issued = { accessTokens: [], refreshTokens: new Map(), chainOf: new Map() };
  const lost = [];
  const inactiveSeen = []; // access tokens introspection called inactive during the run
  let next = 0;
  const pick = () => next++ % instances.length;

  function record(kind, r, expectJson = true) {
    sent++;
    const second = Math.max(0, Math.floor((performance.now() - (deadline - seconds * 1000)) / 1000));
    stats.timeline[second] ??= { ok: 0, unavailable: 0, refused: 0, rejected: 0, other: 0 };
    const slot = stats.byInstance[r.instance];
    let outcome;
    if (r.status === 0) {
      outcome = 'refused';
      stats.network[r.network] = (stats.network[r.network] ?? 0) + 1;
    } else if (r.status >= 200 && r.status < 400) {
      outcome = 'ok';
    } else if (cleanUnavailable(r, expectJson)) {
      outcome = 'unavailable';
    } else if (r.status === 400 && r.json?.error) {
      outcome = 'rejected'; // a protocol answer (invalid_grant): judged by the "nothing lost" check
    } else {
      outcome = 'other';
      if (stats.unclean.length < 20) stats.unclean.push({ kind, instance: names[r.instance], status: r.status, body: r.text.slice(0, 300) });
    }
    const key = `${kind} ${r.status || r.network}`;
    stats.byStatus[key] = (stats.byStatus[key] ?? 0) + 1;
    slot[outcome]++;
    stats.timeline[second][outcome]++;
    return outcome;
  }

  // Setup (before any fault): one chain of refresh tokens per rotating worker, one signed-in browser per code worker.
  const rotators = 8;
  const browsers = 3;
  const jars = [];
  for (let i = 0; i < browsers; i++) {
    const jar = new CookieJar();
    await signIn(jar, i % 3, users[i % users.length], (i + 1) % 3);
    jars.push(jar);
  }
  const chains = [];
  for (let i = 0; i < rotators; i++) {
    const tokens = await codeFlow(jars[i % browsers], i % 3, (i + 2) % 3);
    chains.push(tokens.refresh_token);
    issued.accessTokens.push(tokens.access_token);
    issued.chainOf.set(tokens.access_token, i);
  }
  // The script injects its fault once this file exists, so the fault always falls inside the timed run.
  writeFileSync(join(env('RESULTS'), `${name}.started`), '');
  console.log(`  setup: ${rotators} refresh-token chains, ${browsers} signed-in browsers; load for ${seconds} s or ${maxRequests} requests`);
  const started = performance.now();
  deadline = started + seconds * 1000;

  // A connection refused never reached a server: the same request goes to the next instance, as a load balancer
  // would do. A reset after the request was sent may have been processed: the client cannot know, so it retries too
  // and whatever follows is reported (a rotation the dead instance committed makes the retry look like reuse).
  async function rotate(index) {
    let token = chains[index];
    let inDoubt = false;
    while (budget()) {
      const r = await refresh(pick(), token);
      const outcome = record('refresh', r);
      if (outcome === 'ok') {
        token = r.json.refresh_token;
        chains[index] = token;
        issued.accessTokens.push(r.json.access_token);
        issued.chainOf.set(r.json.access_token, index);
        inDoubt = false;
      } else if (outcome === 'refused') {
        inDoubt ||= r.network !== 'ECONNREFUSED';
      } else if (r.status === 400) {
        lost.push({ chain: index, error: r.json?.error, afterUncertainResponse: inDoubt });
        return; // this chain's family is gone
      } else {
        await sleep(100);
      }
    }
  }

  async function browse(index) {
    const jar = jars[index];
    while (budget()) {
      const instance = pick();
      const a = await authorize(jar, instance);
      const outcome = record('authorize', a.r, false);
      if (!a.code) {
        if (outcome === 'ok') throw new Error(`authorize answered ${a.r.status} without a code: ${a.r.headers.get('location')}`);
        await sleep(100);
        continue;
      }
      // A code is redeemed once; a 503 leaves it valid (the transaction rolled back), so it is presented again.
      let inDoubt = false;
      while (budget()) {
        const r = await redeem(pick(), a.code, a.verifier);
        const o = record('code', r);
        if (o === 'refused') inDoubt ||= r.network !== 'ECONNREFUSED';
        if (o === 'ok') {
          issued.accessTokens.push(r.json.access_token);
          issued.refreshTokens.set(`browser-${index}-${sent}`, r.json.refresh_token);
          break;
        }
        if (r.status === 400) {
          lost.push({ code: true, error: r.json?.error, afterUncertainResponse: inDoubt });
          break;
        }
        await sleep(100);
      }
    }
  }

  async function introspectLoop(index) {
    while (budget()) {
      const token = issued.accessTokens[(index * 7919 + sent) % issued.accessTokens.length];
      const r = await introspect(pick(), token);
      const outcome = record('introspect', r);
      if (outcome === 'ok' && r.json?.active !== true) inactiveSeen.push(token);
      if (outcome !== 'ok') await sleep(100);
    }
  }

  async function probe() {
    while (budget()) {
      for (let i = 0; i < instances.length; i++) {
        const r = await send(i, '/health/ready', { timeout: 5000 });
        const key = `ready ${names[i]} ${r.status || r.network}`;
        stats.byStatus[key] = (stats.byStatus[key] ?? 0) + 1;
        if (r.status !== 0 && r.status !== 200 && r.status !== 503) {
          stats.uncleanReady++;
          stats.unclean.push({ kind: 'ready', instance: names[i], status: r.status });
        }
      }
      await sleep(250);
    }
  }

  await Promise.all([
    ...chains.map((_, i) => rotate(i)),
    ...jars.map((_, i) => browse(i)),
    introspectLoop(0), introspectLoop(1),
    probe(),
  ]);
  const elapsed = (performance.now() - started) / 1000;

  // Afterwards: every token received as issued still works. Access tokens: active at introspection (spread over the
  // instances). Refresh tokens: the latest of each chain and each code-flow family refreshes once more. A request that
  // finds no server (an instance still restarting) or a 503 goes to the next instance, as a load balancer would.
  // A chain whose family was revoked by reuse detection after a response cut off by kill -9 is the one loss a client
  // cannot avoid without a reuse leeway (Tokens:RefreshTokenReuseLeeway): its tokens are counted apart.
  await sleep(500);
  const inDoubtChains = new Set(lost.filter((l) => l.chain !== undefined && l.afterUncertainResponse).map((l) => l.chain));
  const lostChains = new Set(lost.filter((l) => l.chain !== undefined).map((l) => l.chain));
  async function settled(call) {
    let r = await call(pick());
    for (let attempt = 0; attempt < 20 && (r.status === 0 || r.status === 503); attempt++) {
      await sleep(250);
      r = await call(pick());
    }
    return r;
  }
  // Seen inactive during the run: a loss unless its family was revoked after a cut-off response (counted below).
  for (const token of inactiveSeen) {
    if (!inDoubtChains.has(issued.chainOf.get(token))) lost.push({ introspection: 'inactive during the run', chain: issued.chainOf.get(token) ?? 'code flow' });
  }
  let inactive = 0;
  let revokedWithInDoubtChain = 0;
  let unverified = 0;
  const failures = [];
  const queue = [...issued.accessTokens];
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (queue.length) {
      const token = queue.pop();
      const r = await settled((i) => introspect(i, token));
      if (r.status !== 200) {
        unverified++;
        failures.push(`introspect ${r.status || r.network}`);
      } else if (r.json.active !== true) {
        if (inDoubtChains.has(issued.chainOf.get(token))) revokedWithInDoubtChain++;
        else inactive++;
      }
    }
  }));
  const refreshTokens = [...chains.filter((_, i) => !lostChains.has(i)), ...issued.refreshTokens.values()];
  let refreshFailures = 0;
  for (const token of refreshTokens) {
    const r = await settled((i) => refresh(i, token));
    if (r.status !== 200) {
      refreshFailures++;
      failures.push(`refresh ${r.status || r.network} ${r.json?.error ?? ''}`);
    }
  }

  const total = stats.byInstance.reduce((s, x) => s + x.ok + x.unavailable + x.refused + x.rejected + x.other, 0);
  const unclean = stats.byInstance.reduce((s, x) => s + x.other, 0) + stats.uncleanReady;
  const count500 = Object.entries(stats.byStatus).filter(([k]) => / 5\d\d$/.test(k) && !k.endsWith(' 503')).reduce((s, [, v]) => s + v, 0);
  const summary = {
    name, elapsed: Number(elapsed.toFixed(1)), requests: total, perSecond: Math.round(total / elapsed),
    byStatus: Object.fromEntries(Object.entries(stats.byStatus).sort()), byInstance: Object.fromEntries(names.map((n, i) => [n, stats.byInstance[i]])),
    network: stats.network, timeline: stats.timeline.map((t, s) => ({ s, ...(t ?? {}) })),
    unclean: stats.unclean, lost,
    verification: { accessTokens: issued.accessTokens.length, inactive, revokedWithInDoubtChain, unverified, refreshTokens: refreshTokens.length, refreshFailures },
    failures: failures.slice(0, 20),
  };
  writeFileSync(join(env('RESULTS'), `${name}.json`), JSON.stringify(summary, null, 2));

  console.log(`  ${total} requests in ${summary.elapsed} s (${summary.perSecond}/s)`);
  console.log('  responses:');
  for (const [key, value] of Object.entries(summary.byStatus)) console.log(`    ${key.padEnd(34)} ${value}`);
  console.log('  per instance (ok / clean 503 / no connection / 400 / other):');
  for (const [n, x] of Object.entries(summary.byInstance)) console.log(`    ${n}: ${x.ok} / ${x.unavailable} / ${x.refused} / ${x.rejected} / ${x.other}`);
  console.log('  per second (ok/clean 503/no connection/400/other):');
  const line = summary.timeline.map((t) => `${String(t.s).padStart(2)}s ${t.ok ?? 0}/${t.unavailable ?? 0}/${t.refused ?? 0}/${t.rejected ?? 0}/${t.other ?? 0}`);
  for (let i = 0; i < line.length; i += 6) console.log('    ' + line.slice(i, i + 6).join('  '));
  if (Object.keys(stats.network).length) console.log(`  connection failures: ${JSON.stringify(stats.network)}`);
  for (const u of stats.unclean) console.log(`  UNCLEAN: ${JSON.stringify(u)}`);
  for (const l of lost) console.log(`  LOST: ${JSON.stringify(l)}`);
  const { verification: v } = summary;
  console.log(`  afterwards: ${v.accessTokens} access tokens received -> ${v.accessTokens - v.inactive - v.revokedWithInDoubtChain - v.unverified} active,`
    + ` ${v.inactive} inactive, ${v.revokedWithInDoubtChain} inactive with a family revoked after a cut-off response, ${v.unverified} unverifiable;`
    + ` ${v.refreshTokens} latest refresh tokens -> ${v.refreshTokens - v.refreshFailures} refresh, ${v.refreshFailures} fail`);
  for (const f of summary.failures) console.log(`  FAILED CHECK: ${f}`);
  return { summary, unclean, count500 };
}

const [mode, ...rest] = process.argv.slice(2);
if (mode === 'scenarios') {
  process.exit((await scenarios()) ? 0 : 1);
} else if (mode === 'load') {
  const [name, seconds, max] = rest;
  const { summary, unclean, count500 } = await load(name, Number(seconds), Number(max));
  const v = summary.verification;
  const inDoubt = summary.lost.filter((l) => l.afterUncertainResponse).length;
  check('zero 500s and zero unclean answers: every response a success, a clean 503, or no connection (instance down)', count500 === 0 && unclean === 0,
    `${count500} 5xx other than 503, ${unclean} unclean`);
  check('nothing lost: every access token received is active, every latest refresh token refreshes'
    + ' (apart from a family revoked by reuse detection because kill -9 cut off the response to a rotation it had committed)',
    v.inactive === 0 && v.unverified === 0 && v.refreshFailures === 0 && summary.lost.length === inDoubt,
    `${summary.lost.length} loss(es), ${inDoubt} of them a chain whose rotation response was cut off by the kill`
    + ` (${v.revokedWithInDoubtChain} access tokens of it inactive)`);
  console.log(`RESULT ${name}: ${JSON.stringify({ requests: summary.requests, lost: summary.lost.length, inDoubt, ...v })}`);
  process.exit(checks.every((c) => c.ok) ? 0 : 1);
} else if (mode === 'serves') {
  // One instance alone does a whole flow: sign-in, code, redemption, refresh, introspection of a token issued before.
  const instance = names.indexOf(rest[0]);
  const jar = new CookieJar();
  await signIn(jar, instance, users[0]);
  const tokens = await codeFlow(jar, instance, instance);
  const refreshed = await refresh(instance, tokens.refresh_token);
  const introspected = await introspect(instance, tokens.access_token);
  check(`${rest[0]} alone: sign-in, code, redemption, refresh and introspection`, refreshed.status === 200 && introspected.json?.active === true,
    `refresh ${refreshed.status}, introspection active ${introspected.json?.active}`);
  process.exit(checks.every((c) => c.ok) ? 0 : 1);
} else {
  console.error('usage: node driver.mjs scenarios | load NAME SECONDS MAX_REQUESTS | serves INSTANCE');
  process.exit(2);
}
