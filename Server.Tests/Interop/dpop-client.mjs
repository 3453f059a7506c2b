// DPoP (RFC 9449) with a stock client: panva's openid-client (its DPoP support comes from oauth4webapi), and jose for
// the resource server's view of the token. DPoPInteropTests runs this against a server that requires DPoP nonces, so
// the library also goes through the use_dpop_nonce round trip (§8, §9) on its own. Every step asserts; the script exits
// non-zero on the first that fails.
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import * as jose from 'jose';
import { createUserAgent } from './user-agent.mjs';

const env = (name) => process.env[name] ?? assert.fail(`${name} is not set`);
const issuer = new URL(env('ISSUER'));
const insecureLoopback = { execute: [client.allowInsecureRequests] };
const step = (text) => console.log(`- ${text}`);
const userAgent = createUserAgent(issuer, env('USERNAME'), env('PASSWORD'));

const spa = await client.discovery(issuer, env('PUBLIC_CLIENT_ID'), undefined, client.None(), insecureLoopback);
const app = await client.discovery(issuer, env('CLIENT_ID'), env('CLIENT_SECRET'), client.ClientSecretBasic(env('CLIENT_SECRET')), insecureLoopback);
const metadata = spa.serverMetadata();
assert.ok(metadata.dpop_signing_alg_values_supported?.includes('ES256'), 'dpop_signing_alg_values_supported lists ES256');
step(`discovery: DPoP algorithms ${metadata.dpop_signing_alg_values_supported.join(' ')}`);

const keyPair = await client.randomDPoPKeyPair('ES256');
const dpop = client.getDPoPHandle(spa, keyPair);
const thumbprint = await dpop.calculateThumbprint();
assert.equal(thumbprint, await jose.calculateJwkThumbprint(await jose.exportJWK(keyPair.publicKey)));

// Public client: the code is bound to the key with dpop_jkt (§10), redeemed with proofs of that key.
const verifier = client.randomPKCECodeVerifier();
const state = client.randomState();
const url = client.buildAuthorizationUrl(spa, {
  redirect_uri: env('PUBLIC_REDIRECT_URI'), scope: 'openid email offline_access', state,
  code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', dpop_jkt: thumbprint,
});
const callback = await userAgent(url.href);
const tokens = await client.authorizationCodeGrant(spa, callback, { pkceCodeVerifier: verifier, expectedState: state }, undefined, { DPoP: dpop });
assert.equal(tokens.token_type, 'dpop');
assert.ok(tokens.refresh_token, 'a refresh token');
const access = jose.decodeJwt(tokens.access_token);
assert.equal(access.cnf?.jkt, thumbprint, 'the access token is bound to the key (cnf.jkt)');
step('code flow with dpop_jkt: token_type DPoP, cnf.jkt is the key thumbprint (the nonce round trip done by the library)');

const userInfo = await client.fetchUserInfo(spa, tokens.access_token, tokens.claims().sub, { DPoP: dpop });
assert.equal(userInfo.email, env('EMAIL'));
await assert.rejects(client.fetchUserInfo(spa, tokens.access_token, tokens.claims().sub),
  (e) => e instanceof client.WWWAuthenticateChallengeError && e.cause?.[0]?.parameters?.error === 'invalid_token');
step('userinfo: DPoP scheme with a proof works; the same token as a Bearer token is refused');

const refreshed = await client.refreshTokenGrant(spa, tokens.refresh_token, undefined, { DPoP: dpop });
assert.equal(refreshed.token_type, 'dpop');
const otherKey = client.getDPoPHandle(spa, await client.randomDPoPKeyPair('ES256'));
await assert.rejects(client.refreshTokenGrant(spa, refreshed.refresh_token, undefined, { DPoP: otherKey }),
  (e) => e instanceof client.ResponseBodyError && e.error === 'invalid_grant');
await assert.rejects(client.refreshTokenGrant(spa, refreshed.refresh_token),
  (e) => e instanceof client.ResponseBodyError && e.error === 'invalid_grant');
const again = await client.refreshTokenGrant(spa, refreshed.refresh_token, undefined, { DPoP: dpop });
assert.equal(jose.decodeJwt(again.access_token).cnf?.jkt, thumbprint);
step('refresh: bound to the key; another key or none is invalid_grant');

// Confidential client: client_credentials with an RSA-PSS key, and introspection reports the binding (§6.2).
const rsa = client.getDPoPHandle(app, await client.randomDPoPKeyPair('PS256'));
const service = await client.clientCredentialsGrant(app, undefined, { DPoP: rsa });
assert.equal(service.token_type, 'dpop');
const introspected = await client.tokenIntrospection(app, service.access_token);
assert.equal(introspected.active, true);
assert.equal(introspected.token_type, 'DPoP');
assert.equal(introspected.cnf?.jkt, await rsa.calculateThumbprint());
step('client_credentials with PS256: bound token; introspection returns cnf.jkt and token_type DPoP');

console.log('dpop interop: all steps passed');
