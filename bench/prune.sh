#!/usr/bin/env bash
# Pruning at scale, in one command:  bench/prune.sh
#
# On a throwaway PostgreSQL cluster (initdb + pg_ctl in a temp folder, default durability settings) it:
#   1. builds the server (Release) and starts it on the empty database (migrations, a seeded client);
#   2. captures the SQL that EF Core sends for a prune (one `prune` run on the empty tables, statements logged);
#   3. inserts 1,000,000 dead tokens among 100,000 live ones (generate_series), with their grants, and revoked jtis;
#   4. shows EXPLAIN (ANALYZE, BUFFERS) of the first batch of each pruning statement, inside a rolled-back transaction,
#      and fails when a plan reads the Tokens or Authorizations table sequentially;
#   5. runs `prune` through the CLI (the same entry point as `dotnet run --project Server -- prune`) and times it,
#      while two loops of live token-endpoint requests run against the server: client_credentials, and a
#      refresh-token rotation chain (which writes to the Tokens table the prune is deleting from);
#   6. checks what survived (every live token, no dead one) and prints the figures; bench/PRUNE.md records them.
# Raw logs and plans are kept in bench/results/prune-<time>/ (gitignored).
#
# Knobs (environment): PRUNE_DEAD (1000000), PRUNE_LIVE (100000), PRUNE_BATCH (1000), PRUNE_BASELINE (10 s of
# traffic before the prune), PRUNE_SERVER_DIR (a published server to use instead of building one).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
dead=${PRUNE_DEAD:-1000000}
live=${PRUNE_LIVE:-100000}
batch=${PRUNE_BATCH:-1000}
baseline=${PRUNE_BASELINE:-10}
retention_days=14

log() { printf '[prune-bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[[ $(id -u) -eq 0 ]] || command -v sudo >/dev/null || die "run as root (PostgreSQL runs as the postgres user)"
for tool in curl jq openssl python3 dotnet; do command -v $tool >/dev/null || die "$tool is not installed"; done
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[[ -x $pg_bin/initdb ]] || die "PostgreSQL is not installed (apt-get install postgresql)"

work=$(mktemp -d /tmp/idsrv-prune.XXXXXX)
chmod 755 "$work"
results="$here/results/prune-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$results"
server_pid=""
loop_pids=()
pg_data=""

as_postgres() { if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

cleanup() {
    local status=$?
    for pid in "${loop_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    if [[ -n $server_pid ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    if [[ -n $pg_data ]]; then as_postgres "$pg_bin/pg_ctl" -D "$pg_data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true; fi
    cp "$work"/*.log "$work"/*.txt "$work"/pg/postgres.log "$results"/ 2>/dev/null || true
    rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------------------------------------------
# Server build, PostgreSQL cluster, server start
# ---------------------------------------------------------------------------------------------------------------
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
server_dir=${PRUNE_SERVER_DIR:-}
if [[ -z $server_dir ]]; then
    log "building the server (Release)"
    server_dir="$work/server"
    timeout 900 dotnet publish "$repo/Server/Server.csproj" -c Release -o "$server_dir" >"$work/build.log" 2>&1 \
        || { tail -n 30 "$work/build.log" >&2; die "server build failed"; }
fi
[[ -f $server_dir/IdentityServer.dll ]] || die "no IdentityServer.dll in $server_dir"

pg_port=$(free_port)
mkdir -p "$work/pg/sockets"
[[ $(id -u) -ne 0 ]] || chown -R postgres:postgres "$work/pg"
as_postgres "$pg_bin/initdb" -D "$work/pg/data" -U postgres --auth=trust --encoding=UTF8 --locale=C --no-instructions \
    >"$work/postgres-initdb.log" 2>&1 || die "initdb failed"
pg_data="$work/pg/data"
# Default durability (fsync, synchronous_commit on). Lock waits over 100 ms and statements over 200 ms are logged,
# so a prune batch that blocks the token endpoint, or runs long, shows up in postgres.log.
as_postgres "$pg_bin/pg_ctl" -D "$pg_data" -l "$work/pg/postgres.log" -w -t 60 -o "-c listen_addresses=127.0.0.1 -p $pg_port \
    -k $work/pg/sockets -c max_connections=100 -c shared_buffers=256MB -c log_lock_waits=on -c deadlock_timeout=100ms \
    -c log_min_duration_statement=200" start >/dev/null || die "PostgreSQL did not start"
as_postgres "$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres identity
psql=("$pg_bin/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pg_port" -U postgres -d identity)
connection="Host=127.0.0.1;Port=$pg_port;Database=identity;Username=postgres"

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$work/signing-key.pem" 2>/dev/null
secret=$(openssl rand -hex 32)
port=$(free_port)
issuer="http://127.0.0.1:$port"
# The server's settings, for the server and for the prune command alike.
settings=(
    ASPNETCORE_ENVIRONMENT=Production
    Server__Issuer="$issuer"
    Database__Provider=PostgreSQL
    Database__ConnectionString="$connection"
    Signing__Keys__0__Path="$work/signing-key.pem"
    Pruning__Enabled=false # the scheduled job stays out of the measurement; the CLI runs the prune
    Pruning__BatchSize="$batch"
    Logging__LogLevel__Default=Warning
    Logging__LogLevel__IdentityServer.Jobs=Information
)
log "starting the server on $issuer (PostgreSQL on port $pg_port)"
(cd "$work" && exec env "${settings[@]}" ASPNETCORE_URLS="$issuer" \
    Seed__Scopes__0__Name=api Seed__Scopes__0__Resources__0=https://api.bench.test \
    Seed__Clients__0__ClientId=bench Seed__Clients__0__Type=confidential Seed__Clients__0__ClientSecret="$secret" \
    Seed__Clients__0__ConsentType=implicit Seed__Clients__0__GrantTypes__0=client_credentials \
    Seed__Clients__0__GrantTypes__1=refresh_token Seed__Clients__0__GrantTypes__2=authorization_code \
    Seed__Clients__0__RedirectUris__0=http://127.0.0.1:9/callback Seed__Clients__0__Scopes__0=api \
    dotnet "$server_dir/IdentityServer.dll") >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 120); do
    curl -s -f -o /dev/null --max-time 2 "$issuer/health/ready" && break
    kill -0 "$server_pid" 2>/dev/null || die "the server exited during startup (see $results/server.log)"
    sleep 0.5
done
curl -s -f -o /dev/null "$issuer/health/ready" || die "the server did not become ready"

prune() { (cd "$work" && env "${settings[@]}" "$@" dotnet "$server_dir/IdentityServer.dll" prune); }

# ---------------------------------------------------------------------------------------------------------------
# The statements EF Core sends, captured from a prune of the empty tables
# ---------------------------------------------------------------------------------------------------------------
log "capturing the pruning SQL"
prune Logging__LogLevel__Microsoft.EntityFrameworkCore.Database.Command=Information >"$work/capture.log" 2>&1 \
    || { cat "$work/capture.log" >&2; die "the capture prune failed"; }
statement() { # the first logged command whose SQL starts with $1, its @parameters turned into psql variables
    jq -R -r -n --arg p "$1" '[inputs | fromjson? | .State.commandText? // "" | select(startswith($p))] | first // empty' \
        "$work/capture.log" | sed -E "s/@([a-z_]+)[0-9]*/:'\\1'/g"
}
tokens_window=$(statement 'SELECT t."CreationDate"')
tokens_delete=$(statement 'DELETE FROM "Tokens"')
grants_delete=$(statement 'DELETE FROM "Authorizations"')
jtis_delete=$(statement 'DELETE FROM "RevokedAccessTokens"')
sessions_delete=$(statement 'DELETE FROM "Sessions"')
[[ -n $tokens_window && -n $tokens_delete && -n $grants_delete && -n $jtis_delete && -n $sessions_delete ]] || die "could not find the pruning SQL in the log"

# ---------------------------------------------------------------------------------------------------------------
# The data: $dead dead tokens among $live live ones
# ---------------------------------------------------------------------------------------------------------------
app_id=$("${psql[@]}" -Atc "SELECT \"Id\" FROM \"Applications\" WHERE \"ClientId\" = 'bench'")
[[ -n $app_id ]] || die "the seeded client is missing"
in_old=$((dead * 60 / 100 / 6 * 6)) # 6 per abandoned family
in_revoked=$((dead * 25 / 100 / 5 * 5)) # 5 per revoked family
in_live=$((dead - in_old - in_revoked)) # rotated long ago, in live families
log "inserting $dead dead tokens ($in_old in abandoned families, $in_revoked in revoked families, $in_live old rotations of live families) and $live live ones"
start_ns=$(date +%s%N)
"${psql[@]}" -v app="$app_id" -v live="$live" -v old_families=$((in_old / 6)) -v revoked_families=$((in_revoked / 5)) \
    -v in_live="$in_live" >"$work/load.log" 2>&1 <<'SQL' || { cat "$work/load.log" >&2; die "loading the data failed"; }
-- Random creation instants (microsecond resolution). The rows are staged, then written in creation order, as traffic
-- writes them: a window of the creation-date index then covers neighbouring heap pages, as in production.
CREATE TEMP TABLE grants (LIKE "Authorizations");
CREATE TEMP TABLE tokens (LIKE "Tokens");
-- Live families: started 15 to 80 days ago, still refreshed; each holds its current refresh token, used in the last 13 days.
INSERT INTO grants ("Id", "ApplicationId", "Subject", "Status", "Type", "Scopes", "CreationDate", "ExpirationDate", "ConcurrencyToken")
SELECT 'live-' || i, :'app', 'user-' || i, 'valid', 'ad-hoc', 'api', created, created + interval '90 days', md5(i::text)
FROM generate_series(1, :live) i, LATERAL (SELECT now() - interval '15 days' - random() * interval '65 days' + i * interval '0 s' AS created) c;

INSERT INTO tokens ("Id", "ApplicationId", "AuthorizationId", "Subject", "Type", "Status", "ReferenceId", "Payload", "CreationDate", "ExpirationDate", "RedemptionDate", "ConcurrencyToken")
SELECT 'live-' || i, :'app', 'live-' || i, 'user-' || i, 'refresh_token', 'valid', 'live-' || i, '{"scopes":["api"]}', created, created + interval '14 days', NULL, md5(i::text)
FROM generate_series(1, :live) i, LATERAL (SELECT now() - random() * interval '13 days' + i * interval '0 s' AS created) c;

-- Dead 1: abandoned sign-ins, 30 to 120 days old: the redeemed code and five rotated refresh tokens, all long expired.
INSERT INTO grants ("Id", "ApplicationId", "Subject", "Status", "Type", "Scopes", "CreationDate", "ExpirationDate", "ConcurrencyToken")
SELECT 'old-' || f, :'app', 'user-' || f, 'valid', 'ad-hoc', 'api', created, created + interval '90 days', md5(f::text)
FROM generate_series(1, :old_families) f, LATERAL (SELECT now() - interval '30 days' - random() * interval '90 days' + f * interval '0 s' AS created) c;

INSERT INTO tokens ("Id", "ApplicationId", "AuthorizationId", "Subject", "Type", "Status", "ReferenceId", "Payload", "CreationDate", "ExpirationDate", "RedemptionDate", "ConcurrencyToken")
SELECT 'old-' || f || '-' || k, :'app', a."Id", a."Subject",
       CASE WHEN k = 0 THEN 'authorization_code' ELSE 'refresh_token' END, 'redeemed', 'old-' || f || '-' || k, '{"scopes":["api"]}',
       t.created, t.created + CASE WHEN k = 0 THEN interval '60 seconds' ELSE interval '14 days' END, t.created + interval '1 second', md5(f::text)
FROM generate_series(1, :old_families) f
JOIN grants a ON a."Id" = 'old-' || f
CROSS JOIN generate_series(0, 5) k
CROSS JOIN LATERAL (SELECT a."CreationDate" + k * interval '1 day' + random() * interval '1 hour' AS created) t;

-- Dead 2: revoked families (sign out everywhere, reuse detected), 20 to 60 days old; their tokens revoked, some unexpired.
INSERT INTO grants ("Id", "ApplicationId", "Subject", "Status", "Type", "Scopes", "CreationDate", "ExpirationDate", "ConcurrencyToken")
SELECT 'revoked-' || f, :'app', 'user-' || f, 'revoked', 'ad-hoc', 'api', created, created + interval '90 days', md5(f::text)
FROM generate_series(1, :revoked_families) f, LATERAL (SELECT now() - interval '20 days' - random() * interval '40 days' + f * interval '0 s' AS created) c;

INSERT INTO tokens ("Id", "ApplicationId", "AuthorizationId", "Subject", "Type", "Status", "ReferenceId", "Payload", "CreationDate", "ExpirationDate", "RedemptionDate", "ConcurrencyToken")
SELECT 'revoked-' || f || '-' || k, :'app', a."Id", a."Subject", 'refresh_token', 'revoked', 'revoked-' || f || '-' || k, '{"scopes":["api"]}',
       t.created, t.created + random() * interval '60 days', NULL, md5(f::text)
FROM generate_series(1, :revoked_families) f
JOIN grants a ON a."Id" = 'revoked-' || f
CROSS JOIN generate_series(1, 5) k
CROSS JOIN LATERAL (SELECT a."CreationDate" + k * interval '1 hour' + random() * interval '1 hour' AS created) t;

-- Dead 3: refresh tokens of live families rotated long ago (between the family's start and 15 days ago), expired.
INSERT INTO tokens ("Id", "ApplicationId", "AuthorizationId", "Subject", "Type", "Status", "ReferenceId", "Payload", "CreationDate", "ExpirationDate", "RedemptionDate", "ConcurrencyToken")
SELECT 'rotated-' || i, :'app', a."Id", a."Subject", 'refresh_token', 'redeemed', 'rotated-' || i, '{"scopes":["api"]}',
       t.created, t.created + interval '14 days', t.created + interval '1 hour', md5(i::text)
FROM generate_series(1, :in_live) i
JOIN grants a ON a."Id" = 'live-' || (1 + i % :live)
CROSS JOIN LATERAL (SELECT a."CreationDate" + random() * (now() - interval '15 days' - a."CreationDate") AS created) t;

INSERT INTO "Authorizations" SELECT * FROM grants ORDER BY "CreationDate";
INSERT INTO "Tokens" SELECT * FROM tokens ORDER BY "CreationDate";

-- Revoked JWT ids: 100,000 expired over the last 60 days, 1,000 unexpired.
INSERT INTO "RevokedAccessTokens" ("Jti", "ExpirationDate")
SELECT 'jti-' || i, CASE WHEN i <= 1000 THEN now() + interval '5 minutes' ELSE now() - random() * interval '60 days' END
FROM generate_series(1, 101000) i;

-- Sign-in sessions: 20,000 that ended over the last 60 days, 1,000 live.
INSERT INTO "Sessions" ("Id", "Subject", "Ticket", "CreationDate", "LastSeenDate", "AbsoluteExpirationDate", "ExpirationDate")
SELECT 'session-' || i, 'user-' || i, '\x00', e - interval '1 day', e - interval '1 hour', e + interval '30 days', e
FROM generate_series(1, 21000) i, LATERAL (SELECT CASE WHEN i <= 1000 THEN now() + interval '1 day' ELSE now() - random() * interval '60 days' END + i * interval '0 s' AS e) x;

VACUUM ANALYZE;
SQL
load_s=$(( ($(date +%s%N) - start_ns) / 1000000 ))
"${psql[@]}" -Atc "SELECT count(*) FROM \"Tokens\"" >/dev/null
counts() {
    "${psql[@]}" -At -F ' ' -c "SELECT
        (SELECT count(*) FROM \"Tokens\"),
        (SELECT count(*) FROM \"Tokens\" WHERE \"Id\" LIKE 'live-%'),
        (SELECT count(*) FROM \"Tokens\" WHERE \"Id\" NOT LIKE 'live-%' AND \"Id\" NOT LIKE 'chain-%' AND \"AuthorizationId\" IS DISTINCT FROM 'chain'),
        (SELECT count(*) FROM \"Authorizations\"),
        (SELECT count(*) FROM \"RevokedAccessTokens\"),
        (SELECT count(*) FROM \"Sessions\"),
        pg_size_pretty(pg_total_relation_size('\"Tokens\"'))"
}
read -r tokens_before live_before dead_before grants_before jtis_before sessions_before size_before <<<"$(counts)"
log "loaded in $((load_s / 1000)) s: $tokens_before tokens ($dead_before dead, $live_before live), $grants_before grants, $jtis_before revoked jtis, $sessions_before sessions; Tokens is $size_before with indexes"
[[ $dead_before -eq $dead && $live_before -eq $live ]] || die "unexpected row counts"

# ---------------------------------------------------------------------------------------------------------------
# EXPLAIN of the first batch of each statement, with the values the first batch of a prune right now would use
# ---------------------------------------------------------------------------------------------------------------
now=$("${psql[@]}" -Atc "SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
threshold=$("${psql[@]}" -Atc "SELECT to_char((timestamptz '$now' - interval '$retention_days days') AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
vars=(-v after=-infinity -v threshold="$threshold" -v now="$now" -v p=$((batch - 1)))
token_end=$("${psql[@]}" "${vars[@]}" -At <<<"$tokens_window;")
grant_end=$("${psql[@]}" "${vars[@]}" -At <<<"$(statement 'SELECT a."CreationDate"');")
jti_end=$("${psql[@]}" "${vars[@]}" -At <<<"$(statement 'SELECT r."ExpirationDate"');")
session_end=$("${psql[@]}" "${vars[@]}" -At <<<"$(statement 'SELECT s."ExpirationDate"');")
explain() { # title, SQL, end of the window
    {
        printf '### %s\n\n```sql\n%s\n```\n\n```\n' "$1" "$2"
        "${psql[@]}" "${vars[@]}" -v end="$3" -At <<<"BEGIN; EXPLAIN (ANALYZE, BUFFERS) $2; ROLLBACK;"
        printf '```\n\n'
    } >>"$work/explain.txt"
}
: >"$work/explain.txt"
explain "Tokens: the window's end (the ${batch}th candidate)" "$tokens_window" ""
explain "Tokens: delete the dead rows of the first window (created up to $token_end)" "$tokens_delete" "$token_end"
explain "Authorizations: delete the dead rows of the first window (created up to $grant_end)" "$grants_delete" "$grant_end"
explain "RevokedAccessTokens: delete the first window (expired up to $jti_end)" "$jtis_delete" "$jti_end"
explain "Sessions: delete the first window (ended up to $session_end)" "$sessions_delete" "$session_end"
if grep -E 'Seq Scan on "(Tokens|Authorizations)"' "$work/explain.txt" >/dev/null; then
    cat "$work/explain.txt" >&2
    die "a pruning statement reads Tokens or Authorizations sequentially"
fi
grep -q 'Index Scan using "IX_Tokens_CreationDate"\|Index Only Scan using "IX_Tokens_CreationDate"' "$work/explain.txt" \
    || die "the token statements do not use IX_Tokens_CreationDate"

# ---------------------------------------------------------------------------------------------------------------
# Live traffic: client_credentials, and a refresh-token rotation chain writing to Tokens
# ---------------------------------------------------------------------------------------------------------------
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
chain_token=$(openssl rand 32 | b64url)
chain_hash=$(printf '%s' "$chain_token" | openssl dgst -sha256 -binary | b64url)
"${psql[@]}" -v app="$app_id" -v hash="$chain_hash" <<'SQL'
INSERT INTO "Authorizations" ("Id", "ApplicationId", "Subject", "Status", "Type", "Scopes", "CreationDate", "ExpirationDate", "ConcurrencyToken")
VALUES ('chain', :'app', 'chain-user', 'valid', 'ad-hoc', 'api', now(), now() + interval '90 days', 'chain');
INSERT INTO "Tokens" ("Id", "ApplicationId", "AuthorizationId", "Subject", "Type", "Status", "ReferenceId", "Payload", "CreationDate", "ExpirationDate", "ConcurrencyToken")
VALUES ('chain-0', :'app', 'chain', 'chain-user', 'refresh_token', 'valid', :'hash', '{"scopes":["api"]}', now(), now() + interval '14 days', 'chain');
SQL
phase_file="$work/phase"
echo baseline >"$phase_file"
client_credentials_loop() {
    while :; do
        curl -s -o /dev/null -w "$(cat "$phase_file") %{http_code} %{time_total}\n" -u "bench:$secret" \
            -d grant_type=client_credentials -d scope=api "$issuer/connect/token" || echo "$(cat "$phase_file") 000 0"
    done >"$work/client-credentials.txt"
}
refresh_loop() {
    local token=$chain_token response code
    while :; do
        response=$(curl -s -w '\n%{http_code} %{time_total}' -u "bench:$secret" -d grant_type=refresh_token \
            --data-urlencode "refresh_token=$token" "$issuer/connect/token") || response=$'\n000 0'
        code=$(tail -n 1 <<<"$response")
        echo "$(cat "$phase_file") $code"
        if [[ $code == 200* ]]; then
            token=$(head -n -1 <<<"$response" | jq -r .refresh_token)
        else
            head -n -1 <<<"$response" >"$work/refresh-failure.txt"
            break
        fi
    done >"$work/refresh.txt"
}
for _ in $(seq 20); do # warm-up (JIT, connection pools), not measured
    curl -s -o /dev/null -u "bench:$secret" -d grant_type=client_credentials -d scope=api "$issuer/connect/token"
done
client_credentials_loop &
loop_pids+=($!)
refresh_loop &
loop_pids+=($!)
log "live traffic: ${baseline} s of baseline"
sleep "$baseline"

# ---------------------------------------------------------------------------------------------------------------
# The prune, through the CLI
# ---------------------------------------------------------------------------------------------------------------
echo prune >"$phase_file"
log "pruning (batch size $batch) while the traffic goes on"
start_ns=$(date +%s%N)
prune >"$work/prune.log" 2>&1 || { cat "$work/prune.log" >&2; die "the prune failed"; }
prune_ms=$(( ($(date +%s%N) - start_ns) / 1000000 ))
load_during=$(cut -d' ' -f1 /proc/loadavg)
echo after >"$phase_file"
sleep 2
for pid in "${loop_pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
loop_pids=()

read -r tokens_after live_after dead_after grants_after jtis_after sessions_after size_after <<<"$(counts)"
chain_tokens=$("${psql[@]}" -Atc "SELECT count(*) FROM \"Tokens\" WHERE \"AuthorizationId\" = 'chain'")
[[ $live_after -eq $live ]] || die "live tokens were pruned: $live_after of $live left"
[[ $dead_after -eq 0 ]] || die "$dead_after dead tokens survived"

# ---------------------------------------------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------------------------------------------
latency() { # phase -> request count, failures and latency percentiles of the client_credentials loop
    local n bad
    n=$(awk -v phase="$1" '$1 == phase' "$work/client-credentials.txt" | wc -l)
    bad=$(awk -v phase="$1" '$1 == phase && $2 != 200' "$work/client-credentials.txt" | wc -l)
    awk -v phase="$1" '$1 == phase { print $3 * 1000 }' "$work/client-credentials.txt" | sort -n | awk -v n="$n" -v bad="$bad" '
        { v[NR] = $1 } END { if (!NR) { print "no requests"; exit }
            p99 = int(NR * 0.99) + 1; if (p99 > NR) p99 = NR
            printf "%d requests, %d not 200, p50 %.1f ms, p99 %.1f ms, max %.1f ms", n, bad, v[int(NR * 0.5) + 1], v[p99], v[NR] }'
}
refreshes() { awk -v phase="$1" '$1 == phase { n++; if ($2 != 200) bad++ } END { printf "%d rotations, %d not 200", n, bad + 0 }' "$work/refresh.txt"; }
lock_waits=$(grep -c 'still waiting for' "$work/pg/postgres.log" || true)
slow=$(grep -c 'duration: ' "$work/pg/postgres.log" || true)
{
    echo "Machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo); PostgreSQL $("${psql[@]}" -Atc 'SHOW server_version'); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "Loaded: $tokens_before tokens ($dead_before dead, $live_before live), $grants_before grants, $jtis_before revoked jtis, $sessions_before sessions; Tokens $size_before (in $((load_s / 1000)) s)"
    echo "Prune (CLI, batch $batch, wall time including process start): $((prune_ms / 1000)).$(printf '%03d' $((prune_ms % 1000))) s; load average at its end: $load_during"
    jq -R -r 'fromjson? | select(.Category == "IdentityServer.Jobs.PruneService") | "  " + .Message' "$work/prune.log" || true
    grep -h '^Pruned:' "$work/prune.log" || true
    echo "After: $tokens_after tokens ($live_after live, $dead_after dead, $chain_tokens in the rotation chain), $grants_after grants, $jtis_after revoked jtis, $sessions_after sessions; Tokens $size_after (not vacuumed)"
    echo "client_credentials, baseline: $(latency baseline)"
    echo "client_credentials, during the prune: $(latency prune)"
    echo "refresh rotation, baseline: $(refreshes baseline); during the prune: $(refreshes prune)"
    echo "PostgreSQL log: $lock_waits lock waits over 100 ms, $slow statements over 200 ms"
} | tee "$work/summary.txt"
[[ ! -f $work/refresh-failure.txt ]] || die "the refresh chain broke: $(cat "$work/refresh-failure.txt")"
log "plans: $results/explain.txt; logs: $results/"
