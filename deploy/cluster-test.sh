#!/usr/bin/env bash
# Several instances on one PostgreSQL, with real processes on loopback only. One command:
#
#   deploy/cluster-test.sh
#
# It builds the server (Release), starts a throwaway PostgreSQL cluster (initdb + pg_ctl in a temp folder, loopback
# port) and three server instances A, B and C on it (Production environment, one issuer, one shared signing key file,
# nothing else shared), then shows, printing PASS/FAIL for each:
#   1. a code flow started on A completes on B and refreshes on C; a revocation on A shows at introspection on C at
#      once; the same refresh token sent to A and B at the same moment gives exactly one success (deploy/cluster/driver.mjs)
#   2. the prune command on all three at once ends in the state one run would leave
#   3. a bounded load run during which PostgreSQL is stopped (pg_ctl stop -m fast) and started again: every response is
#      a success or a clean 503, zero 500s, and afterwards every token received as issued still works
#   4. a bounded load run during which B is killed with kill -9 and started again: A and C keep serving, B restarts
#      cleanly and serves again
# Every request goes to 127.0.0.1. Load runs are bounded by time and by count (knobs below) and stop by themselves.
# deploy/RESULTS.md holds the output of a run. Exit code 0 when every check passed.
#
# Knobs (environment): CLUSTER_LOAD_SECONDS (per load run, default 40), CLUSTER_MAX_REQUESTS (per load run, 60000),
# CLUSTER_OUTAGE_SECONDS (how long PostgreSQL stays down, 6), CLUSTER_PG_PORT (55433), CLUSTER_PORTS ("5201 5202 5203"),
# CLUSTER_BUILD_DIR (a folder with server/ and setup/ from an earlier run: skips the build).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
load_seconds=${CLUSTER_LOAD_SECONDS:-40}
max_requests=${CLUSTER_MAX_REQUESTS:-60000}
outage_seconds=${CLUSTER_OUTAGE_SECONDS:-6}
pg_port=${CLUSTER_PG_PORT:-55433}
read -r -a ports <<<"${CLUSTER_PORTS:-5201 5202 5203}"
names=(A B C)

log() { printf '[cluster %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { log "ERROR: $*" >&2; exit 1; }
failures=0
verdict() { # name, status
    if [[ $2 -eq 0 ]]; then log "PASS  $1"; else log "FAIL  $1"; failures=$((failures + 1)); fi
}

# ---------------------------------------------------------------------------------------------------------------------
# What it needs: the .NET SDK, Debian's postgresql, Node.js 20+, openssl, curl
# ---------------------------------------------------------------------------------------------------------------------
sudo=()
[[ $(id -u) -eq 0 ]] || sudo=(sudo)
missing=()
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
command -v node >/dev/null || missing+=(nodejs)
command -v openssl >/dev/null || missing+=(openssl)
command -v curl >/dev/null || missing+=(curl)
if ((${#missing[@]})); then
    log "installing ${missing[*]} from Debian's packages"
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v dotnet >/dev/null || die "the .NET 10 SDK (dotnet) is not installed"
(($(node -p 'process.versions.node.split(".")[0]') >= 20)) || die "needs Node.js 20 or later (fetch, getSetCookie)"
pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)

work=$(mktemp -d /tmp/idsrv-cluster.XXXXXX)
chmod 755 "$work"
pids=("" "" "")
pg_data=""
driver_pid=""

as_postgres() { if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }

cleanup() {
    local status=$?
    [[ -z $driver_pid ]] || kill "$driver_pid" 2>/dev/null || true
    for pid in "${pids[@]}"; do [[ -z $pid ]] || kill -9 "$pid" 2>/dev/null || true; done
    [[ -z $pg_data ]] || as_postgres "$pg_bin/pg_ctl" -D "$pg_data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
    if ((status != 0)); then log "logs kept in $work" >&2; else rm -rf "$work"; fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------------------------------------------------
# Build, database, key, instances
# ---------------------------------------------------------------------------------------------------------------------
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
build=${CLUSTER_BUILD_DIR:-$work}
if [[ -f $build/server/IdentityServer.dll && -f $build/setup/bench-setup.dll ]]; then
    log "using the build in $build"
else
    log "building the server (Release) and the user setup tool"
    timeout 900 dotnet publish "$repo/Server/Server.csproj" -c Release -o "$build/server" >"$work/build.log" 2>&1 \
        || { tail -n 30 "$work/build.log"; die "server build failed"; }
    timeout 600 dotnet build "$repo/bench/Setup/Setup.csproj" -c Release -o "$build/setup" >>"$work/build.log" 2>&1 \
        || { tail -n 30 "$work/build.log"; die "setup build failed"; }
fi

mkdir -p "$work/pg/sockets"
[[ $(id -u) -ne 0 ]] || chown -R postgres:postgres "$work/pg"
as_postgres "$pg_bin/initdb" -D "$work/pg/data" -U postgres --auth=trust --encoding=UTF8 --locale=C --no-instructions >"$work/initdb.log" 2>&1 \
    || die "initdb failed"
pg_data="$work/pg/data"
pg_start() {
    as_postgres "$pg_bin/pg_ctl" -D "$pg_data" -l "$work/pg/postgres.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $pg_port -k $work/pg/sockets -c max_connections=400" start >/dev/null
}
pg_start || die "PostgreSQL did not start (see $work/pg/postgres.log)"
as_postgres "$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres identity
psql_identity() { as_postgres "$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -d identity -v ON_ERROR_STOP=1 -qtA "$@"; }
log "PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$pg_port"

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$work/signing.pem" 2>/dev/null
export CLIENT_ID=cluster-app REDIRECT_URI=http://127.0.0.1:9/callback PASSWORD="Cluster-9-$(openssl rand -hex 12)"
CLIENT_SECRET=$(openssl rand -hex 32)
export CLIENT_SECRET
issuer="http://127.0.0.1:${ports[0]}"

environment() { # instance index: the settings every instance gets, plus its own address
    cat <<EOF
ASPNETCORE_ENVIRONMENT=Production
ASPNETCORE_URLS=http://127.0.0.1:${ports[$1]}
Server__Issuer=$issuer
Database__Provider=PostgreSQL
Database__ConnectionString=Host=127.0.0.1;Port=$pg_port;Database=identity;Username=postgres
Signing__Keys__0__Path=$work/signing.pem
Pruning__Enabled=false
Seed__Clients__0__ClientId=$CLIENT_ID
Seed__Clients__0__ClientSecret=$CLIENT_SECRET
Seed__Clients__0__Type=confidential
Seed__Clients__0__ConsentType=implicit
Seed__Clients__0__RedirectUris__0=$REDIRECT_URI
Seed__Clients__0__GrantTypes__0=authorization_code
Seed__Clients__0__GrantTypes__1=refresh_token
Seed__Clients__0__Scopes__0=openid
Seed__Clients__0__Scopes__1=profile
Seed__Clients__0__Scopes__2=offline_access
Seed__Clients__0__CanIntrospect=true
EOF
}

start_instance() { # index
    local i=$1
    local -a settings
    mapfile -t settings < <(environment "$i")
    (cd "$work" && exec env "${settings[@]}" dotnet "$build/server/IdentityServer.dll") >>"$work/instance-${names[$i]}.log" 2>&1 &
    pids[i]=$!
}

wait_ready() { # index; prints the milliseconds it took from now
    local i=$1 start_ns deadline=$((SECONDS + 180))
    start_ns=$(date +%s%N)
    until curl -s -f -o /dev/null --max-time 2 "http://127.0.0.1:${ports[$i]}/health/ready"; do
        kill -0 "${pids[$i]}" 2>/dev/null || die "instance ${names[$i]} exited during startup (see $work/instance-${names[$i]}.log)"
        ((SECONDS < deadline)) || die "instance ${names[$i]} not ready within 180 s"
        sleep 0.05
    done
    echo $((($(date +%s%N) - start_ns) / 1000000))
}

log "starting A, B and C at once on one empty database (they migrate it concurrently)"
started_ns=$(date +%s%N)
for i in 0 1 2; do start_instance "$i"; done
for i in 0 1 2; do wait_ready "$i" >/dev/null; done
log "all three ready $((($(date +%s%N) - started_ns) / 1000000)) ms after start: ${names[*]} on ports ${ports[*]}, issuer $issuer"
applied=$(psql_identity -c 'SELECT count(*) FROM "__EFMigrationsHistory"')
log "migrations applied once each: $applied rows in __EFMigrationsHistory, $(psql_identity -c 'SELECT count(DISTINCT "MigrationId") FROM "__EFMigrationsHistory"') distinct"

users=()
for n in 1 2 3; do
    (mapfile -t settings < <(environment 0); export "${settings[@]}"; timeout 120 "$build/setup/bench-setup" "cluster-user-$n" "$PASSWORD" >/dev/null) \
        || die "creating cluster-user-$n failed"
    users+=("cluster-user-$n")
done
export USERS="${users[*]}" RESULTS="$work"
INSTANCES=$(printf 'http://127.0.0.1:%s ' "${ports[@]}")
export INSTANCES=${INSTANCES% }

# ---------------------------------------------------------------------------------------------------------------------
# 1. Scenarios across instances
# ---------------------------------------------------------------------------------------------------------------------
log "1. flows across instances"
status=0; node "$here/cluster/driver.mjs" scenarios || status=$?
verdict "flow across A, B, C; revocation on A seen on C at once; one winner of simultaneous refreshes" "$status"

# ---------------------------------------------------------------------------------------------------------------------
# 2. Pruning on all three at once
# ---------------------------------------------------------------------------------------------------------------------
log "2. prune on all three at once (30000 old tokens: a third redeemed, a third revoked, a third valid of which half expired)"
psql_identity <<'SQL'
INSERT INTO "Tokens" ("Id", "ApplicationId", "Subject", "Type", "Status", "ReferenceId", "CreationDate", "ExpirationDate", "RedemptionDate", "ConcurrencyToken")
SELECT 'prune-' || g, a."Id", 'prune-subject', 'refresh_token',
       CASE g % 3 WHEN 0 THEN 'redeemed' WHEN 1 THEN 'revoked' ELSE 'valid' END,
       'prune-' || g, now() - interval '30 days',
       CASE WHEN g % 3 = 2 AND g % 2 = 0 THEN now() + interval '1 day' ELSE now() - interval '29 days' END,
       CASE WHEN g % 3 = 0 THEN now() - interval '30 days' END, md5(g::text)
FROM generate_series(1, 30000) AS g, "Applications" AS a WHERE a."ClientId" = 'cluster-app';
SQL
expected_live=$(psql_identity -c "SELECT count(*) FROM \"Tokens\" WHERE \"Subject\" = 'prune-subject' AND \"Status\" = 'valid' AND \"ExpirationDate\" > now()")
expected_dead=$(psql_identity -c "SELECT count(*) FROM \"Tokens\" WHERE \"Subject\" = 'prune-subject'")
expected_dead=$((expected_dead - expected_live))
prune_pids=()
for i in 0 1 2; do
    (mapfile -t settings < <(environment "$i"); cd "$work" && exec env "${settings[@]}" Logging__LogLevel__Default=Warning \
        dotnet "$build/server/IdentityServer.dll" prune) >"$work/prune-${names[$i]}.out" 2>&1 &
    prune_pids+=($!)
done
status=0
for i in 0 1 2; do
    wait "${prune_pids[$i]}" || { log "prune ${names[$i]} exited with $?"; status=1; }
    log "  prune ${names[$i]}: $(grep -h '^Pruned:' "$work/prune-${names[$i]}.out" || echo '(no summary line)')"
done
live=$(psql_identity -c "SELECT count(*) FROM \"Tokens\" WHERE \"Subject\" = 'prune-subject'")
deleted_total=$(grep -ho '^Pruned: [0-9]* tokens' "$work"/prune-*.out | awk '{s += $2} END {print s + 0}')
log "  $expected_dead dead and $expected_live live before; $live left; the three runs deleted $deleted_total tokens between them"
[[ $live -eq $expected_live && $deleted_total -eq $expected_dead ]] || status=1
remaining_dead=$(psql_identity -c "SELECT count(*) FROM \"Tokens\" WHERE \"Subject\" = 'prune-subject' AND NOT (\"Status\" = 'valid' AND \"ExpirationDate\" > now())")
[[ $remaining_dead -eq 0 ]] || status=1
verdict "three prunes at once: all exit 0, every dead row deleted exactly once, every live row kept" "$status"

# The driver signs in and takes its first tokens before its timed run; the fault must fall inside the run.
wait_started() { # run name
    local deadline=$((SECONDS + 180))
    until [[ -f $work/$1.started ]]; do
        kill -0 "$driver_pid" 2>/dev/null || return 0 # the driver failed in its setup; its output says why
        ((SECONDS < deadline)) || die "the load driver did not finish its setup within 180 s"
        sleep 0.1
    done
}

# ---------------------------------------------------------------------------------------------------------------------
# 3. Load while PostgreSQL is stopped and started again
# ---------------------------------------------------------------------------------------------------------------------
log "3. load for ${load_seconds} s (at most $max_requests requests); PostgreSQL stopped after $((load_seconds / 4)) s for ${outage_seconds} s"
node "$here/cluster/driver.mjs" load postgres-outage "$load_seconds" "$max_requests" >"$work/load-outage.out" 2>&1 &
driver_pid=$!
wait_started postgres-outage
sleep $((load_seconds / 4))
log "  pg_ctl stop -m fast"
as_postgres "$pg_bin/pg_ctl" -D "$pg_data" -m fast -w -t 60 stop >/dev/null
down_at=$(date +%s%N)
for i in 0 1 2; do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:${ports[$i]}/health/ready" || true)
    log "  while down: ${names[$i]} /health/ready -> $code"
done
sleep "$outage_seconds"
log "  pg_ctl start"
pg_start || die "PostgreSQL did not start again"
up_at=$(date +%s%N)
for i in 0 1 2; do
    until curl -s -f -o /dev/null --max-time 2 "http://127.0.0.1:${ports[$i]}/health/ready"; do sleep 0.05; done
    log "  ${names[$i]} ready again $((($(date +%s%N) - up_at) / 1000000)) ms after PostgreSQL accepted connections (no restart)"
done
log "  PostgreSQL was down for $(((up_at - down_at) / 1000000)) ms"
status=0; wait "$driver_pid" || status=$?
driver_pid=""
sed 's/^/  /' "$work/load-outage.out"
verdict "PostgreSQL stopped and restarted under load: only successes and clean 503s, zero 500s, nothing lost" "$status"

# ---------------------------------------------------------------------------------------------------------------------
# 4. Load while B is killed with kill -9 and started again
# ---------------------------------------------------------------------------------------------------------------------
log "4. load for ${load_seconds} s (at most $max_requests requests); B killed with kill -9 after $((load_seconds / 4)) s"
node "$here/cluster/driver.mjs" load kill-b "$load_seconds" "$max_requests" >"$work/load-kill.out" 2>&1 &
driver_pid=$!
wait_started kill-b
sleep $((load_seconds / 4))
log "  kill -9 ${pids[1]} (B)"
kill -9 "${pids[1]}"
wait "${pids[1]}" 2>/dev/null || true
sleep 3
log "  starting B again"
start_instance 1
restart_ms=$(wait_ready 1)
log "  B ready ${restart_ms} ms after its restart"
status=0; wait "$driver_pid" || status=$?
driver_pid=""
sed 's/^/  /' "$work/load-kill.out"
verdict "kill -9 of B under load: A and C keep serving, B restarts cleanly, only successes, clean 503s or refused connections" "$status"

# A and C must have served through the kill; B must have served again after its restart.
status=0
[[ -f $work/kill-b.json ]] || status=1
((status != 0)) || node -e '
const s = require(process.argv[1]);
const t = s.byInstance;
const ok = t.A.ok > 0 && t.C.ok > 0 && t.A.other === 0 && t.C.other === 0 && t.A.refused === 0 && t.C.refused === 0;
console.log(`  A served ${t.A.ok}, C served ${t.C.ok} (no refused connection on either); B served ${t.B.ok} and refused ${t.B.refused} while down`);
process.exit(ok && t.B.ok > 0 ? 0 : 1);' "$work/kill-b.json" || status=$?
node "$here/cluster/driver.mjs" serves B || status=1
verdict "the others kept serving while B was down, and the restarted B serves" "$status"

# ---------------------------------------------------------------------------------------------------------------------
# The servers' own account: no unhandled error other than the database being unavailable
# ---------------------------------------------------------------------------------------------------------------------
unexpected=$(cat "$work"/instance-*.log | grep -c 'Unhandled error while serving' || true)
unavailable=$(cat "$work"/instance-*.log | grep -c 'Database unavailable while serving' || true)
pool_resets=$(cat "$work"/instance-*.log | grep -c 'clearing the connection pool' || true)
log "server logs: $unavailable requests answered 503 (database unavailable), $pool_resets connection-pool resets, $unexpected unhandled errors"
status=0; [[ $unexpected -eq 0 ]] || status=1
verdict "no unhandled error in the server logs" "$status"

if ((failures == 0)); then log "all checks passed"; else log "$failures check(s) failed; logs kept in $work"; exit 1; fi
