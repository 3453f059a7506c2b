// A stock relying party against our server: panva's openid-client (an OpenID-certified client library) and jose for the
// resource server's offline check of the access token. OpenIdClientInteropTests starts the server on a loopback port,
// registers the clients and the user, and runs this script with their settings in the environment. Every step asserts
// with node:assert; the script exits non-zero on the first step that fails, and prints what it did.
//
// The library does the protocol checks itself: discovery metadata and issuer, the RFC 9207 iss in the authorization
// response, state, PKCE, the ID token (signature through the JWKS, iss, aud, exp, iat, nonce, at_hash), the userinfo
// sub, the refreshed ID token's sub, and the OAuth error shapes.
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import * as jose from 'jose';

const env = (name) => process.env[name] ?? assert.fail(`${name} is not set`);
const issuer = new URL(env('ISSUER'));
const resource = env('RESOURCE');
const postLogoutRedirectUri = env('POST_LOGOUT_REDIRECT_URI');
// Plain http is fine on loopback, and only there: the test server listens on 127.0.0.1.
const insecureLoopback = { execute: [client.allowInsecureRequests] };

const step = (text) => console.log(`- ${text}`);
const entities = { amp: '&', quot: '"', lt: '<', gt: '>', apos: "'" };
const decodeHtml = (text) => text.replace(/&(?:#x([0-9a-f]+)|#(\d+)|(\w+));/gi,
  (whole, hex, dec, name) => hex ? String.fromCodePoint(parseInt(hex, 16)) : dec ? String.fromCodePoint(Number(dec)) : entities[name] ?? whole);

// The browser's part, with fetch and a cookie jar: the user agent follows the server's redirects and signs in on its form.
const cookies = new Map();
async function browse(url, init = {}) {
  const response = await fetch(url, {
    ...init,
    redirect: 'manual',
    headers: { ...init.headers, cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
  });
  for (const line of response.headers.getSetCookie()) {
    const [pair] = line.split(';');
    const eq = pair.indexOf('=');
    const [name, value] = [pair.slice(0, eq), pair.slice(eq + 1)];
    if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) cookies.delete(name); else cookies.set(name, value);
  }
  return response;
}

/**
 * Follows redirects from url until one leaves the server (to the client), signing in on the login form on the way. A
 * form_post response (an auto-submitting form) ends it too: the POST the browser would send, as a Request.
 */
async function userAgent(url) {
  for (let hop = 0; hop < 10; hop++) {
    let response = await browse(url);
    if (response.status === 200 && new URL(url).pathname !== '/account/login') {
      const html = await response.text();
      const action = html.match(/<form[^>]*action="([^"]+)"/)?.[1] ?? assert.fail(`${url}: HTTP 200 without a form`);
      const fields = [...html.matchAll(/<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"/g)]
        .map(([, name, value]) => [decodeHtml(name), decodeHtml(value)]);
      return new Request(decodeHtml(action), {
        method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields),
      });
    }
    if (response.status === 200 && new URL(url).pathname === '/account/login') {
      const html = await response.text();
      const field = (name) => html.match(new RegExp(`<input[^>]*name="${name}"[^>]*value="([^"]*)"`))?.[1] ?? '';
      response = await browse(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          Username: env('USERNAME'), Password: env('PASSWORD'),
          ReturnUrl: decodeHtml(field('ReturnUrl')),
          __RequestVerificationToken: field('__RequestVerificationToken'),
        }),
      });
    }
    assert.ok([302, 303].includes(response.status), `${url}: HTTP ${response.status}`);
    const next = new URL(response.headers.get('location'), url);
    if (next.origin !== issuer.origin) return next;
    url = next.href;
  }
  assert.fail('too many redirects');
}

/** An authorization-code flow with PKCE S256, state and nonce; the callback URL goes to the library as the app got it. */
async function codeFlow(config, scope, extra = {}) {
  const redirectUri = env(config === spa ? 'PUBLIC_REDIRECT_URI' : 'REDIRECT_URI');
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri, scope, state, nonce, resource,
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', ...extra.authorization,
  });
  const callback = await userAgent(url.href);
  assert.equal(callback instanceof Request, extra.authorization?.response_mode === 'form_post', 'the response mode the client asked for');
  const target = new URL(callback.url ?? callback);
  assert.equal(target.origin + target.pathname, redirectUri);
  return client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true,
    maxAge: extra.authorization?.max_age === undefined ? undefined : Number(extra.authorization.max_age),
  }, { resource, ...extra.tokenParameters });
}

const app = await client.discovery(issuer, env('CLIENT_ID'), env('CLIENT_SECRET'),
  client.ClientSecretBasic(env('CLIENT_SECRET')), insecureLoopback);
const api = await client.discovery(issuer, env('RESOURCE_SERVER_ID'), env('RESOURCE_SERVER_SECRET'),
  client.ClientSecretPost(env('RESOURCE_SERVER_SECRET')), insecureLoopback);
const spa = await client.discovery(issuer, env('PUBLIC_CLIENT_ID'), undefined, client.None(), insecureLoopback);
const metadata = app.serverMetadata();
assert.equal(metadata.issuer, issuer.href.replace(/\/$/, ''));
step(`discovery: ${metadata.issuer}`);

// Confidential client, client_secret_basic. Parameters the server does not know are ignored (RFC 6749 §3.1, §3.2), as
// Microsoft's OpenID Connect handler sends its x-client-SKU and x-client-ver on every request.
const unknown = { 'x-client-SKU': 'ID_NET10_0', 'x-client-ver': '8.16.0.0' };
const tokens = await codeFlow(app, 'openid profile email offline_access api', { authorization: unknown, tokenParameters: unknown });
const claims = tokens.claims();
assert.equal(claims.email, env('EMAIL'));
assert.ok(claims.sid && claims.auth_time, 'sid and auth_time in the ID token');
assert.equal(tokens.token_type.toLowerCase(), 'bearer');
assert.ok(tokens.refresh_token, 'a refresh token for offline_access');
step(`code flow: ID token for ${claims.sub}, access token, refresh token`);

const userInfo = await client.fetchUserInfo(app, tokens.access_token, claims.sub);
assert.equal(userInfo.email, env('EMAIL'));
step('userinfo: same subject, email');

// A resource server checks the JWT access token offline (RFC 9068) with the published keys.
const jwks = jose.createRemoteJWKSet(new URL(metadata.jwks_uri));
const { payload: access, protectedHeader } = await jose.jwtVerify(tokens.access_token, jwks,
  { issuer: metadata.issuer, audience: resource, typ: 'at+jwt', algorithms: metadata.id_token_signing_alg_values_supported });
assert.equal(protectedHeader.typ, 'at+jwt');
assert.equal(access.sub, claims.sub);
assert.equal(access.client_id, env('CLIENT_ID'));
assert.ok(access.jti && access.iat && access.exp, 'jti, iat and exp in the access token');
step('access token: verified offline with jose against the JWKS (typ at+jwt, iss, aud)');

let introspected = await client.tokenIntrospection(api, tokens.access_token);
assert.equal(introspected.active, true);
assert.equal(introspected.sub, claims.sub);
step('introspection by the resource server: active');

const refreshed = await client.refreshTokenGrant(app, tokens.refresh_token, { resource });
assert.notEqual(refreshed.refresh_token, tokens.refresh_token);
assert.equal(refreshed.claims()?.sub ?? claims.sub, claims.sub);
step('refresh: rotated');

await assert.rejects(client.refreshTokenGrant(app, tokens.refresh_token), (e) => e instanceof client.ResponseBodyError && e.error === 'invalid_grant');
introspected = await client.tokenIntrospection(api, refreshed.access_token);
assert.equal(introspected.active, false);
step('refresh token reuse: invalid_grant, and the family is revoked');

// A new family, revoked by the client (RFC 7009). Its code comes back by form_post (OAuth 2.0 Form Post Response
// Mode), and max_age makes the library check auth_time (OpenID Connect Core §3.1.2.1).
const second = await codeFlow(app, 'openid offline_access api', { authorization: { response_mode: 'form_post', max_age: '600' } });
step('form_post response mode, max_age: code, state and iss in the posted form; auth_time within max_age');
await client.tokenRevocation(app, second.refresh_token);
await assert.rejects(client.refreshTokenGrant(app, second.refresh_token), (e) => e instanceof client.ResponseBodyError && e.error === 'invalid_grant');
assert.equal((await client.tokenIntrospection(api, second.access_token)).active, false);
step('revocation: the refresh token and its access token are dead');

// Public client (token_endpoint_auth_method none), the user already signed in: no form this time.
const spaTokens = await codeFlow(spa, 'openid email api');
assert.equal(spaTokens.claims().sub, claims.sub);
step('public client: code flow with PKCE and no secret, over the existing session');

// Pushed authorization requests (RFC 9126) by a client that must push them, authenticating everywhere with
// private_key_jwt (RFC 7523): the library signs ES256 assertions with the client's key, pushes the request, sends the
// browser with client_id and request_uri only, and redeems the code with another assertion.
const keyJwk = JSON.parse(env('KEY_CLIENT_PRIVATE_JWK'));
const keyApp = await client.discovery(issuer, env('KEY_CLIENT_ID'), undefined,
  client.PrivateKeyJwt({ key: await jose.importJWK(keyJwk, 'ES256'), kid: keyJwk.kid }), insecureLoopback);
assert.ok(keyApp.serverMetadata().token_endpoint_auth_methods_supported.includes('private_key_jwt'));
assert.ok(keyApp.serverMetadata().token_endpoint_auth_signing_alg_values_supported.includes('ES256'));
{
  const redirectUri = env('KEY_CLIENT_REDIRECT_URI');
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const authorization = {
    redirect_uri: redirectUri, scope: 'openid email api', state, nonce, resource,
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  };
  // The client requires PAR: the same request sent through the browser comes back refused.
  const plain = await userAgent(client.buildAuthorizationUrl(keyApp, authorization).href);
  assert.equal(plain.searchParams.get('error'), 'invalid_request');
  const pushed = await client.buildAuthorizationUrlWithPAR(keyApp, authorization);
  assert.deepEqual([...pushed.searchParams.keys()].sort(), ['client_id', 'request_uri']);
  assert.ok(pushed.searchParams.get('request_uri').startsWith('urn:ietf:params:oauth:request_uri:'));
  const callback = await userAgent(pushed.href);
  const parTokens = await client.authorizationCodeGrant(keyApp, callback,
    { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true }, { resource });
  assert.equal(parTokens.claims().sub, claims.sub);
  await client.tokenRevocation(keyApp, parTokens.refresh_token ?? parTokens.access_token);
  step('PAR + private_key_jwt: plain request refused, pushed request_uri used, code redeemed with a signed assertion');
}

// RP-Initiated Logout 1.0: back to the registered URI with state, then prompt=none finds no session.
const logoutState = client.randomState();
const logout = client.buildEndSessionUrl(app,
  { id_token_hint: second.id_token, post_logout_redirect_uri: postLogoutRedirectUri, state: logoutState });
const afterLogout = await userAgent(logout.href);
assert.equal(afterLogout.origin + afterLogout.pathname, postLogoutRedirectUri);
assert.equal(afterLogout.searchParams.get('state'), logoutState);
await assert.rejects(codeFlow(app, 'openid api', { authorization: { prompt: 'none' } }),
  (e) => e instanceof client.AuthorizationResponseError && e.error === 'login_required');
step('end session: redirected with state; prompt=none then answers login_required');

console.log('interop: all steps passed');
