// The peer of bench/run.sh: panva's oidc-provider, unmodified, configured the way bench/run.sh configures our server.
// Only this configuration is ours. Everything comes from the environment that run.sh sets:
//   PORT, ISSUER, SIGNING_KEY (path of the same PEM our server signs with: RSA-2048, or P-256 for the ES256 targets),
//   SIGNING_ALG (RS256 by default, ES256 with the P-256 key), CLIENT_ID/CLIENT_SECRET (the app), API_ID/API_SECRET
//   (the resource server that introspects), RESOURCE (its resource indicator), REDIRECT_URI, USER_ID (the one
//   account), COOKIE_KEY.
//
// Equivalence with our server:
//   - a confidential client (client_secret_basic) allowed authorization_code + refresh_token + client_credentials,
//     PKCE S256 required, refresh tokens rotated on every use (reuse revokes the grant: the library's own behaviour);
//   - a resource server (RFC 8707 resource indicator RESOURCE, scope "api") whose access tokens are JWTs (RFC 9068)
//     signed SIGNING_ALG, 10 minutes, like ours; the JWKS holds that one key and the app's ID tokens use the same
//     algorithm, as ours does (it signs everything with its one key's algorithm);
//   - a second resource indicator, RESOURCE + "/opaque", issuing opaque access tokens: oidc-provider refuses to
//     introspect JWT access tokens (unsupported_token_type), so its introspection row uses this, its only
//     introspectable kind of access token;
//   - storage: process memory (no database at all, the fastest storage it can have). Not the library's development
//     adapter: that one is an LRU of 1000 entries, which evicts the session, the grant and live tokens after a few
//     seconds of load (and scans a grant's whole token list on every write), so MapAdapter below is a plain, unbounded,
//     O(1) version of it with the same semantics.
//
// Sign-in: the bench needs "a user with an existing sign-in session". oidc-provider leaves the login UI to the
// application (interactions); this file's interaction handler signs the one bench user in without a form and grants
// the requested scopes, the way an app's login + consent pages would end. It is used only to set up the session and
// the refresh-token pool before the measured runs, never during them (with a session and a grant in place, /auth
// answers with a code directly).
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

import Provider, { errors } from 'oidc-provider';

const env = (name) => {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set`);
  }
  return value;
};

/** oidc-provider's adapter interface over Maps: entries expire as the library asks, a grant's tokens are indexed. */
const entries = new Map(); // "Model:id" -> { payload, expiresAt }
const grantMembers = new Map(); // grantId -> Set of "Model:id"
const sessionUids = new Map();
const userCodes = new Map();
class MapAdapter {
  constructor(model) {
    this.model = model;
  }

  key(id) {
    return `${this.model}:${id}`;
  }

  async upsert(id, payload, expiresIn) {
    const key = this.key(id);
    entries.set(key, { payload, expiresAt: typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : Infinity });
    if (payload.grantId) {
      let members = grantMembers.get(payload.grantId);
      if (!members) grantMembers.set(payload.grantId, (members = new Set()));
      members.add(key);
    }
    if (this.model === 'Session') sessionUids.set(payload.uid, id);
    if (payload.userCode) userCodes.set(payload.userCode, id);
  }

  async find(id) {
    const entry = entries.get(this.key(id));
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      entries.delete(this.key(id));
      return undefined;
    }
    return entry.payload;
  }

  async findByUid(uid) {
    const id = sessionUids.get(uid);
    return id === undefined ? undefined : this.find(id);
  }

  async findByUserCode(userCode) {
    const id = userCodes.get(userCode);
    return id === undefined ? undefined : this.find(id);
  }

  async consume(id) {
    const entry = entries.get(this.key(id));
    if (entry) entry.payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) {
    entries.delete(this.key(id));
  }

  async revokeByGrantId(grantId) {
    for (const key of grantMembers.get(grantId) ?? []) entries.delete(key);
    grantMembers.delete(grantId);
  }
}
setInterval(() => {
  const now = Date.now();
  for (const [key, entry] of entries) if (entry.expiresAt <= now) entries.delete(key);
}, 60_000).unref();

const issuer = env('ISSUER');
const resource = env('RESOURCE');
const opaqueResource = `${resource}/opaque`;
const userId = env('USER_ID');
// RS256 keeps the original targets as they were; ES256 is for the ES256 targets' P-256 key. The key must fit the
// algorithm: a mismatch would otherwise surface only as an error on the first token request.
const signingAlg = process.env.SIGNING_ALG || 'RS256';
const keyTypes = { RS256: 'RSA', ES256: 'EC' };
if (!keyTypes[signingAlg]) {
  throw new Error(`SIGNING_ALG ${signingAlg} is not supported here (RS256 or ES256)`);
}
const signingKey = {
  ...createPrivateKey(readFileSync(env('SIGNING_KEY'))).export({ format: 'jwk' }),
  use: 'sig',
  alg: signingAlg,
};
if (signingKey.kty !== keyTypes[signingAlg] || (signingAlg === 'ES256' && signingKey.crv !== 'P-256')) {
  throw new Error(`SIGNING_KEY is a ${signingKey.kty} ${signingKey.crv ?? ''} key, not one for ${signingAlg}`);
}

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: env('CLIENT_ID'),
      client_secret: env('CLIENT_SECRET'),
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
      response_types: ['code'],
      redirect_uris: [env('REDIRECT_URI')],
    },
    {
      // The resource server: it only introspects.
      client_id: env('API_ID'),
      client_secret: env('API_SECRET'),
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: [],
      response_types: [],
      redirect_uris: [],
    },
  ],
  // The library's default for every client is RS256, which a JWKS with only the EC key cannot sign: the client
  // would be refused as invalid_client_metadata.
  clientDefaults: { id_token_signed_response_alg: signingAlg },
  adapter: MapAdapter,
  jwks: { keys: [signingKey] },
  cookies: { keys: [env('COOKIE_KEY')] },
  scopes: ['openid', 'offline_access'], // "api" is the resource's scope (getResourceServerInfo), not an OpenID one
  claims: { openid: ['sub'] },
  findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
  pkce: { required: () => true },
  rotateRefreshToken: true,
  ttl: {
    AccessToken: 600,
    ClientCredentials: 600,
    AuthorizationCode: 60,
    IdToken: 600,
    RefreshToken: 14 * 24 * 3600,
    Grant: 90 * 24 * 3600,
    Session: 8 * 3600,
    Interaction: 600,
  },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: async (_ctx, _client, oneOf) => oneOf,
      useGrantedResource: async () => true,
      getResourceServerInfo: async (_ctx, indicator) => {
        if (indicator === resource) {
          return { scope: 'api', audience: resource, accessTokenTTL: 600, accessTokenFormat: 'jwt', jwt: { sign: { alg: signingAlg } } };
        }
        if (indicator === opaqueResource) {
          return { scope: 'api', audience: opaqueResource, accessTokenTTL: 600, accessTokenFormat: 'opaque' };
        }
        throw new errors.InvalidTarget();
      },
    },
  },
});
provider.proxy = false;

// The bench user's sign-in and consent, without pages (see the header comment).
async function finishInteraction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const { params, prompt } = details;
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: userId, clientId: params.client_id });
  grant.addOIDCScope('openid offline_access');
  for (const indicator of [resource, opaqueResource]) {
    grant.addResourceScope(indicator, 'api');
  }
  const grantId = await grant.save();
  const result = { consent: { grantId } };
  if (prompt.name === 'login' || !details.session) {
    result.login = { accountId: userId };
  }
  await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
}

const callback = provider.callback();
const server = createServer((req, res) => {
  if (req.url.startsWith('/interaction/')) {
    finishInteraction(req, res).catch((error) => {
      res.statusCode = 500;
      res.end(String(error));
    });
    return;
  }
  callback(req, res);
});
server.keepAliveTimeout = 60_000;
server.listen(Number(env('PORT')), '127.0.0.1');
