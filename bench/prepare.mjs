// Prepares one server for the measured runs of bench/run.sh, through the protocol only (no database access):
//   - a sign-in session for the bench user (ours: the login form; oidc-provider: its interaction, see server.mjs;
//     OpenIddict: its sign-in page, which signs the bench user in without a form, see openiddict/Program.cs),
//   - two pools of fresh refresh tokens (warm-up and measured run), each from its own authorization-code flow, and a
//     few more for bench/race.mjs,
//   - a live access token for the introspection row,
// and checks on the way that each server really issues what the bench claims (JWT access tokens for the resource signed
// with ALG, and verifiable with the server's published JWKS; introspection answering active:true). Writes DIR/wrk.conf
// (key=value, read by bench/wrk/bench.lua) and the pools.
//
// Usage: node prepare.mjs KIND BASE_URL DIR POOL_SIZE [ALG]    (KIND: ours | peer | openiddict; ALG: RS256 (default) | ES256)
// Environment: CLIENT_ID CLIENT_SECRET API_ID API_SECRET RESOURCE REDIRECT_URI, and for ours BENCH_USER BENCH_PASSWORD;
// RACE_ROUNDS (default 3): refresh tokens for bench/race.mjs.
import { createHash, createPublicKey, randomBytes, verify } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [kind, base, dir, poolArg, alg = 'RS256'] = process.argv.slice(2);
if (!['ours', 'peer', 'openiddict'].includes(kind) || !base || !dir || !poolArg || !['RS256', 'ES256'].includes(alg)) {
  console.error('usage: node prepare.mjs ours|peer|openiddict BASE_URL DIR POOL_SIZE [RS256|ES256]');
  process.exit(2);
}
const poolSize = Number(poolArg);
const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const client = { id: env('CLIENT_ID'), secret: env('CLIENT_SECRET') };
const api = { id: env('API_ID'), secret: env('API_SECRET') };
const resource = env('RESOURCE');
const redirectUri = env('REDIRECT_URI');

// RFC 6749 §2.3.1: id and secret are form-urlencoded, then joined and base64-encoded.
const basic = ({ id, secret }) =>
  'Basic ' + Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64');

class CookieJar {
  #cookies = new Map();

  update(response) {
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a) || /^\s*expires=.*1970/i.test(a));
      if (!value || expired) this.#cookies.delete(name);
      else this.#cookies.set(name, value);
    }
  }

  header(filter = () => true) {
    return [...this.#cookies].filter(([name]) => filter(name)).map(([n, v]) => `${n}=${v}`).join('; ');
  }
}

const jar = new CookieJar();

async function request(url, options = {}) {
  const response = await fetch(url, {
    redirect: 'manual',
    ...options,
    headers: { cookie: jar.header(), ...options.headers },
  });
  jar.update(response);
  return response;
}

async function fail(what, response) {
  throw new Error(`${what}: HTTP ${response.status} ${await response.text()}`);
}

const discoveryResponse = await request(`${base}/.well-known/openid-configuration`);
if (discoveryResponse.status !== 200) await fail('discovery', discoveryResponse);
const discovery = await discoveryResponse.json();
const path = (url) => new URL(url).pathname;

async function signIn() {
  // The first authorization request signs in: through server.mjs's interaction handler (peer), or through the
  // OpenIddict server's sign-in page, which signs the bench user in without a form (openiddict/Program.cs).
  if (kind !== 'ours') return;
  const page = await request(`${base}/account/login?ReturnUrl=%2F`);
  if (page.status !== 200) await fail('login page', page);
  const html = await page.text();
  const field = html.match(/<input[^>]*name="__RequestVerificationToken"[^>]*>/);
  const token = field?.[0].match(/value="([^"]+)"/)?.[1];
  if (!token) throw new Error('no antiforgery token on the login page');
  const response = await request(`${base}/account/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      Username: env('BENCH_USER'), Password: env('BENCH_PASSWORD'), ReturnUrl: '/', __RequestVerificationToken: token,
    }),
  });
  if (response.status !== 302) await fail('sign-in', response);
}

function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** GET the authorization endpoint and follow the server's own redirects until it sends the code to the client. */
async function authorize({ scope, resource: indicator, challenge, consent = false }) {
  const state = randomBytes(8).toString('hex');
  const query = new URLSearchParams({
    response_type: 'code', client_id: client.id, redirect_uri: redirectUri, scope, state,
    code_challenge: challenge, code_challenge_method: 'S256', resource: indicator,
  });
  // oidc-provider honours offline_access only with prompt=consent (OpenID Connect Core §11).
  if (consent) query.set('prompt', 'consent');
  let url = `${discovery.authorization_endpoint}?${query}`;
  for (let hop = 0; hop < 10; hop++) {
    const response = await request(url);
    if (![302, 303].includes(response.status)) await fail(`authorize ${url}`, response);
    const location = new URL(response.headers.get('location'), url);
    if (location.href.startsWith(redirectUri)) {
      const code = location.searchParams.get('code');
      if (!code || location.searchParams.get('state') !== state) throw new Error(`authorization failed: ${location}`);
      return code;
    }
    url = location.href;
  }
  throw new Error('too many redirects');
}

async function token(form, credentials = client) {
  const response = await request(discovery.token_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(credentials) },
    body: new URLSearchParams(form),
  });
  if (response.status !== 200) await fail(`token ${form.grant_type}`, response);
  return response.json();
}

async function codeFlow(scope, indicator, consent) {
  const { verifier, challenge } = pkce();
  const code = await authorize({ scope, resource: indicator, challenge, consent });
  return token({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier, resource: indicator });
}

function jwtHeader(value) {
  const parts = value.split('.');
  if (parts.length !== 3) return null;
  return JSON.parse(Buffer.from(parts[0], 'base64url').toString());
}

const jwksResponse = await request(discovery.jwks_uri);
if (jwksResponse.status !== 200) await fail('JWKS', jwksResponse);
const jwks = (await jwksResponse.json()).keys;

/**
 * The token is a JWT signed with the expected algorithm, and its signature verifies with the key of its kid in the
 * JWKS: the header alone would not show that an ES256 signature is in the JWS form (r || s, RFC 7518 §3.4).
 */
function expectJwt(what, value) {
  const header = jwtHeader(value);
  if (header?.alg !== alg) throw new Error(`${what} is not an ${alg} JWT: ${JSON.stringify(header)}`);
  const jwk = jwks.find((k) => k.kid === header.kid);
  if (!jwk) throw new Error(`${what}: no key ${header.kid} in the JWKS`);
  const [encodedHeader, payload, signature] = value.split('.');
  const key = createPublicKey({ key: jwk, format: 'jwk' });
  const valid = verify('sha256', Buffer.from(`${encodedHeader}.${payload}`), alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key,
    Buffer.from(signature, 'base64url'));
  if (!valid) throw new Error(`${what}: the ${alg} signature does not verify with the JWKS key ${header.kid}`);
}

await signIn();

// The refresh-token pools: one family per flow, so every measured request presents a token never used before. The
// race pool (bench/race.mjs) holds a few more, one per round of simultaneous redemptions.
const raceRounds = Number(process.env.RACE_ROUNDS || 3);
const pools = { warmup: [], measure: [], race: [] };
for (const [name, pool] of Object.entries(pools)) {
  while (pool.length < (name === 'race' ? raceRounds : poolSize)) {
    const tokens = await codeFlow('openid offline_access api', resource, kind === 'peer');
    if (!tokens.refresh_token) throw new Error(`no refresh token: ${JSON.stringify(tokens)}`);
    pool.push(tokens.refresh_token);
  }
}

// Equivalence checks: the resource's access tokens are ALG JWTs on both servers, from every grant the bench drives.
const viaCode = await codeFlow('openid api', resource, false);
expectJwt('access token (authorization_code)', viaCode.access_token);
expectJwt('id token', viaCode.id_token);
const viaClient = await token({ grant_type: 'client_credentials', scope: 'api', resource });
expectJwt('access token (client_credentials)', viaClient.access_token);

// The introspection row's token: ours and OpenIddict introspect their JWT; oidc-provider refuses JWTs
// (unsupported_token_type), so it gets its only introspectable kind, an opaque access token for the same API (see
// oidc-provider/server.mjs).
const introspected = kind !== 'peer' ? viaCode.access_token : (await codeFlow('openid api', `${resource}/opaque`, false)).access_token;
const check = await request(discovery.introspection_endpoint, {
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(api) },
  body: new URLSearchParams({ token: introspected }),
});
const checked = await check.json();
if (check.status !== 200 || checked.active !== true) throw new Error(`introspection: ${check.status} ${JSON.stringify(checked)}`);

const sessionCookies = {
  ours: (name) => /^(__Host-)?idsrv\.session/.test(name),
  peer: (name) => name.startsWith('_session'),
  openiddict: (name) => name === 'bench.session',
};
const sessionCookie = jar.header(sessionCookies[kind]);
if (!sessionCookie) throw new Error('no session cookie');
const { verifier, challenge } = pkce();
const conf = {
  authorize_path: path(discovery.authorization_endpoint),
  token_path: path(discovery.token_endpoint),
  introspect_path: path(discovery.introspection_endpoint),
  jwks_path: path(discovery.jwks_uri),
  discovery_path: '/.well-known/openid-configuration',
  client_auth: basic(client),
  api_auth: basic(api),
  client_id: client.id,
  resource,
  redirect_uri: redirectUri,
  cookie: sessionCookie,
  code_verifier: verifier,
  code_challenge: challenge,
  introspect_token: introspected,
};
writeFileSync(join(dir, 'wrk.conf'), Object.entries(conf).map(([k, v]) => `${k}=${v}\n`).join(''));
writeFileSync(join(dir, 'refresh-warmup.txt'), pools.warmup.join('\n') + '\n');
writeFileSync(join(dir, 'refresh-measure.txt'), pools.measure.join('\n') + '\n');
writeFileSync(join(dir, 'refresh-race.txt'), pools.race.join('\n') + '\n');
console.log(`prepared ${kind}: ${alg} tokens, ${poolSize}+${poolSize} refresh tokens, session cookie, introspection token (${introspected.split('.').length === 3 ? 'JWT' : 'opaque'})`);
