-- Issue 22 item 4: realistic table sizes for the postgresql-scale target. Run by bench/run.sh with psql after our
-- server migrated and seeded the database, before the rows: 100,000 live grants (token families) of 20,000 people,
-- each with the ten tokens a month of use leaves (its redeemed authorization code, eight rotated-away refresh tokens,
-- the live one): 1,000,000 tokens; and 10,000 revoked access-token jtis. The bench's own client owns them all, so
-- every index the measured rows use (token by reference, grant by id, tokens by grant, jti) holds them.
\set ON_ERROR_STOP on
INSERT INTO "Authorizations" ("Id", "ApplicationId", "ConcurrencyToken", "CreationDate", "ExpirationDate", "Scopes",
    "SessionId", "Status", "Subject", "Type")
SELECT 'scale-grant-' || g, :'application', md5('grant' || g), now() - interval '10 days', now() + interval '20 days',
    'api offline_access', substr(md5('session' || (g % 50000)), 1, 32), 'valid', 'scale-user-' || (g % 20000), 'ad-hoc'
FROM generate_series(1, 100000) AS g;

INSERT INTO "Tokens" ("Id", "ApplicationId", "AuthorizationId", "ConcurrencyToken", "CreationDate", "ExpirationDate",
    "Payload", "RedemptionDate", "ReferenceId", "Status", "Subject", "Type")
SELECT 'scale-token-' || g || '-' || k, :'application', 'scale-grant-' || g, md5('token' || g || '-' || k),
    now() - interval '10 days' + k * interval '1 day',
    CASE WHEN k = 0 THEN now() - interval '10 days' + interval '60 seconds' ELSE now() + interval '20 days' END,
    '{"Scopes":["api","offline_access"],"Resources":["https://api.bench.test"],"AuthTime":1764720000,"SessionId":"'
        || substr(md5('session' || (g % 50000)), 1, 32) || '","Amr":["pwd"],"Acr":"1"}',
    CASE WHEN k < 9 THEN now() - interval '10 days' + (k + 1) * interval '1 day' END,
    rtrim(translate(encode(sha256(('scale-' || g || '-' || k)::bytea), 'base64'), '+/', '-_'), '='),
    CASE WHEN k < 9 THEN 'redeemed' ELSE 'valid' END,
    'scale-user-' || (g % 20000),
    CASE WHEN k = 0 THEN 'authorization_code' ELSE 'refresh_token' END
FROM generate_series(1, 100000) AS g, generate_series(0, 9) AS k;

INSERT INTO "RevokedAccessTokens" ("Jti", "ExpirationDate")
SELECT md5('jti' || j), now() + interval '10 minutes'
FROM generate_series(1, 10000) AS j;

ANALYZE;
SELECT (SELECT count(*) FROM "Authorizations") AS grants, (SELECT count(*) FROM "Tokens") AS tokens,
    (SELECT count(*) FROM "RevokedAccessTokens") AS revoked_jtis;
