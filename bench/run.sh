#!/usr/bin/env bash
# The benchmark, start to finish, in one command:  bench/run.sh
#
# On a fresh Debian machine (2+ cores) it installs what it needs (wrk, PostgreSQL, Node's oidc-provider from
# bench/oidc-provider/package-lock.json), builds our server and a stock OpenIddict 7.9 server (bench/openiddict/) in
# Release, then measures, one after the other:
#   ours on SQLite, ours on PostgreSQL (a throwaway cluster), panva's oidc-provider (the peer) and OpenIddict on SQLite,
#   all signing RS256, then ours on SQLite and oidc-provider again, both signing ES256 with one P-256 key, on row (a) only,
# each pinned to core 0 (PostgreSQL too: the whole server side shares one core), with wrk pinned to core 1,
# over loopback only. Rows (16 connections, a warm-up, then a measured run each):
#   (a) client_credentials  (b) refresh-token rotation  (c) authorization code + PKCE with a signed-in user
#   (d) introspection of a live access token  (e) GET JWKS  (f) GET discovery
#   (c256) and (d256): (c) and (d) again with 256 connections (ours and the peer; OpenIddict is left out, it would take minutes)
# then ours on PostgreSQL again with realistic table sizes (postgresql-scale: 100,000 live grants, 1,000,000 tokens and
# 10,000 revoked jtis, bench/scale-seed.sql) for rows (b), (c), (d) and their 256-connection twins,
# plus `openssl speed rsa2048` and `openssl speed ecdsap256` on the same core as the RS256 and ES256 ceilings, and after
# the rows of each RS256 target, bench/race.mjs: 10 simultaneous redemptions of one refresh token, three rounds. It prints
# one table (bench/report.mjs) and keeps the raw results and server logs in bench/results/<time>/ (gitignored).
# BENCHMARKS.md explains every figure.
#
# Knobs (environment): BENCH_DURATION (s, default 10), BENCH_WARMUP (s, default 5), BENCH_CONNECTIONS (16),
# BENCH_TARGETS ("sqlite postgresql postgresql-scale kestrel peer openiddict sqlite-es256 peer-es256"; kestrel is bare Kestrel
# serving our discovery and JWKS bytes, rows (e) and (f) only), BENCH_ROWS ("a b c d e f c256 d256"; the ES256 targets run
# only (a), and only when it is listed), BENCH_SERVER_CPU (0; a taskset list such as 0,1 also works), BENCH_LOAD_CPU (1),
# BENCH_RACE_ROUNDS (3: rounds of bench/race.mjs per RS256 target).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
duration=${BENCH_DURATION:-10}
warmup=${BENCH_WARMUP:-5}
connections=${BENCH_CONNECTIONS:-16}
targets=${BENCH_TARGETS:-sqlite postgresql postgresql-scale kestrel peer openiddict sqlite-es256 peer-es256}
rows=${BENCH_ROWS:-a b c d e f c256 d256}
server_cpu=${BENCH_SERVER_CPU:-0}
load_cpu=${BENCH_LOAD_CPU:-1}
export RACE_ROUNDS=${BENCH_RACE_ROUNDS:-3} # read by prepare.mjs: one fresh refresh token per round of race.mjs
pool_size=64 # refresh tokens per pool; at least one per connection, each used once (rotation continues the chain)
ours_port=5080
peer_port=5090
openiddict_port=5070
kestrel_port=5060
pg_port=${BENCH_PG_PORT:-55432}

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---------------------------------------------------------------------------------------------------------------
# What the bench needs
# ---------------------------------------------------------------------------------------------------------------
sudo=()
if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || die "run as root, or install sudo"
    sudo=(sudo)
fi
[[ $(nproc) -ge 2 ]] || die "needs at least 2 cores (server on one, load generator on another); this machine has $(nproc)"

missing=()
command -v wrk >/dev/null || missing+=(wrk)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
command -v node >/dev/null || missing+=(nodejs npm)
command -v curl >/dev/null || missing+=(curl)
command -v openssl >/dev/null || missing+=(openssl)
command -v taskset >/dev/null || missing+=(util-linux)
if ((${#missing[@]})); then
    log "installing ${missing[*]} from Debian's packages"
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v dotnet >/dev/null || die "the .NET 10 SDK (dotnet) is not installed"
node_major=$(node -p 'process.versions.node.split(".")[0]')
((node_major >= 20)) || die "oidc-provider 9 needs Node.js 20 or later (this is $(node --version))"
pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)

if ! (cd "$here/oidc-provider" && npm ls oidc-provider >/dev/null 2>&1); then
    log "installing oidc-provider (npm ci, from bench/oidc-provider/package-lock.json)"
    (cd "$here/oidc-provider" && timeout 300 npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi

# ---------------------------------------------------------------------------------------------------------------
# Work folder, processes, cleanup
# ---------------------------------------------------------------------------------------------------------------
# The databases live in memory-backed storage (tmpfs) when there is one: fsync there is free, so the figures measure
# the servers' CPU cost, not the disk of the machine (on a VM disk a synchronous write can take several ms, which
# would make every database row a disk benchmark). The peer keeps all its state in process memory.
work_root=/tmp
[[ -d /dev/shm && -w /dev/shm ]] && work_root=/dev/shm
work=$(mktemp -d "$work_root/idsrv-bench.XXXXXX")
chmod 755 "$work"
results="$here/results/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$results"
server_pid=""
pg_data=""

as_postgres() {
    if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

stop_server() {
    if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    server_pid=""
}

stop_postgres() {
    if [[ -n $pg_data ]]; then
        as_postgres "$pg_bin/pg_ctl" -D "$pg_data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
    fi
    pg_data=""
}

cleanup() {
    local status=$?
    stop_server
    stop_postgres
    cp "$work"/*.log "$work"/pg/*.log "$results"/ 2>/dev/null || true
    rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------------------------------------------
# Shared configuration: the same clients, resource, key and user on every server
# ---------------------------------------------------------------------------------------------------------------
export CLIENT_ID=bench-app API_ID=bench-api
CLIENT_SECRET=$(openssl rand -hex 32)
API_SECRET=$(openssl rand -hex 32)
export CLIENT_SECRET API_SECRET
export RESOURCE=https://api.bench.test
export REDIRECT_URI=http://127.0.0.1:9/callback # never contacted: the code is read from the Location header
export BENCH_USER=bench-user BENCH_PASSWORD="Bench-Password-$(openssl rand -hex 8)"
signing_key="$work/signing-key.pem"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$signing_key" 2>/dev/null
# One P-256 key for both ES256 targets. Ours picks the algorithm from the key (SigningKeyRing: P-256 -> ES256),
# oidc-provider from SIGNING_ALG (server.mjs): the key is all that changes between the RS256 and ES256 runs of (a).
ec_signing_key="$work/signing-key-p256.pem"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$ec_signing_key" 2>/dev/null

results_file="$results/results.jsonl"
: >"$results_file"
record() { printf '%s\n' "$1" >>"$results_file"; }

# ---------------------------------------------------------------------------------------------------------------
# The single-core signing ceilings, on the server's core: RSA-2048 PKCS#1 v1.5 (RS256) and ECDSA P-256 (ES256)
# signatures per second. Each is measured only when a target signs with it (each takes about 6 s: sign, then verify).
# ---------------------------------------------------------------------------------------------------------------
es256_targets=" sqlite-es256 peer-es256 "
rs256_wanted=false es256_wanted=false
# only_rows LIST: the rows of BENCH_ROWS that are in LIST, in BENCH_ROWS' order.
only_rows() {
    local row
    for row in $rows; do [[ " $1 " == *" $row "* ]] && printf '%s ' "$row"; done
    return 0
}

# Issue 22 item 4: 100,000 live grants and 1,000,000 tokens (bench/scale-seed.sql), owned by the bench client, written
# straight into the database our server has just migrated and seeded.
seed_scale() {
    local application counts
    application=$(as_postgres "$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -d identity -At \
        -c "SELECT \"Id\" FROM \"Applications\" WHERE \"ClientId\" = '$CLIENT_ID'") || die "postgresql-scale: no bench client"
    [[ -n $application ]] || die "postgresql-scale: the bench client is not in the database"
    log "postgresql-scale: writing 100,000 grants and 1,000,000 tokens"
    counts=$(as_postgres "$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -d identity -At -q -v application="$application" \
        <"$here/scale-seed.sql" 2>>"$work/postgres-seed.log") || die "postgresql-scale: seeding failed (see $results/postgres-seed.log)"
    log "postgresql-scale: grants|tokens|revoked jtis = $(tail -n 1 <<<"$counts")"
    record "{\"target\":\"postgresql-scale\",\"meta\":\"scale\",\"counts\":\"$(tail -n 1 <<<"$counts")\"}"
}

for target in $targets; do
    if [[ $es256_targets == *" $target "* ]]; then es256_wanted=true; else rs256_wanted=true; fi
done
if $rs256_wanted; then
    log "openssl speed rsa2048 on core $server_cpu"
    sign_per_s=$(taskset -c "$server_cpu" openssl speed -seconds 3 rsa2048 2>/dev/null | awk '
        /sign\/s/ { for (i = 1; i <= NF; i++) if ($i == "sign/s") column = i + 3 }
        /^rsa *2048 bits/ && column { print $column }')
    [[ -n $sign_per_s ]] || die "could not read sign/s from openssl speed rsa2048"
    record "{\"meta\":\"rs256\",\"sign_per_s\":$sign_per_s}"
fi
if $es256_wanted; then
    log "openssl speed ecdsap256 on core $server_cpu"
    # " 256 bits ecdsa (nistp256)   0.0000s   0.0001s  50707.6  19452.6": sign/s is the next to last field.
    ec_sign_per_s=$(taskset -c "$server_cpu" openssl speed -seconds 3 ecdsap256 2>/dev/null | awk '
        /^ *256 bits ecdsa \(nistp256\)/ { print $(NF - 1) }')
    [[ -n $ec_sign_per_s ]] || die "could not read sign/s from openssl speed ecdsap256"
    record "{\"meta\":\"es256\",\"sign_per_s\":$ec_sign_per_s}"
fi

# ---------------------------------------------------------------------------------------------------------------
# Build our server (Release) and the setup helper
# ---------------------------------------------------------------------------------------------------------------
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
if [[ " $targets " == *" sqlite "* || " $targets " == *" postgresql"* || " $targets " == *" sqlite-es256 "* ]]; then
    log "building the server (Release)"
    # For this machine's runtime identifier: the server's csproj then precompiles it (ReadyToRun) for a faster start.
    rid=$(dotnet --info | awk '/^ *RID:/ { print $2; exit }')
    timeout 900 dotnet publish "$repo/Server/Server.csproj" -c Release -r "${rid:-linux-x64}" --self-contained false -o "$work/server" \
        -p:UseAppHost=true >"$work/build.log" 2>&1 \
        || { tail -n 30 "$work/build.log" >&2; die "server build failed"; }
    timeout 600 dotnet build "$here/Setup/Setup.csproj" -c Release -o "$work/setup" >>"$work/build.log" 2>&1 \
        || { tail -n 30 "$work/build.log" >&2; die "setup build failed"; }
fi
if [[ " $targets " == *" kestrel "* ]]; then
    log "building bare Kestrel (Release)"
    rid=$(dotnet --info | awk '/^ *RID:/ { print $2; exit }')
    timeout 900 dotnet publish "$here/kestrel/KestrelBench.csproj" -c Release -r "${rid:-linux-x64}" --self-contained false \
        -o "$work/kestrel" -p:UseAppHost=true >>"$work/build.log" 2>&1 \
        || { tail -n 30 "$work/build.log" >&2; die "bare Kestrel build failed"; }
fi
if [[ " $targets " == *" openiddict "* ]]; then
    log "building the OpenIddict server (Release)"
    # Published like ours: for this machine's runtime identifier, ReadyToRun, the same runtime settings (its csproj).
    rid=$(dotnet --info | awk '/^ *RID:/ { print $2; exit }')
    timeout 900 dotnet publish "$here/openiddict/OpenIddictBench.csproj" -c Release -r "${rid:-linux-x64}" --self-contained false \
        -o "$work/openiddict" -p:UseAppHost=true >>"$work/build.log" 2>&1 \
        || { tail -n 30 "$work/build.log" >&2; die "OpenIddict server build failed"; }
fi

# ---------------------------------------------------------------------------------------------------------------
# Starting servers
# ---------------------------------------------------------------------------------------------------------------
# Waits for the first 200 from discovery; prints the milliseconds since start_ns.
wait_for_discovery() { wait_for_200 "$1/.well-known/openid-configuration" "$2"; }

# Our server listens while it migrates and seeds its database (Database:StartInBackground): discovery answers first,
# /health/ready once the database is ready. Both times are reported.
wait_for_200() {
    local url=$1 start_ns=$2 deadline=$((SECONDS + 60))
    while ! curl -s -f -o /dev/null --max-time 2 "$url"; do
        kill -0 "$server_pid" 2>/dev/null || die "the server exited during startup (see $results/)"
        ((SECONDS < deadline)) || die "no answer within 60 s from $url"
        sleep 0.005
    done
    echo $((($(date +%s%N) - start_ns) / 1000000))
}

ours_environment() {
    local target=$1 provider=$2 connection=$3 key=$4
    # A data folder per target: each run starts on a fresh SQLite database (and data-protection key ring), like the
    # first, so its start-up time and its tables do not depend on the targets before it.
    cat <<EOF
ASPNETCORE_ENVIRONMENT=Production
ASPNETCORE_URLS=http://127.0.0.1:$ours_port
Server__Issuer=http://127.0.0.1:$ours_port
Signing__Keys__0__Path=$key
Database__Provider=$provider
Database__ConnectionString=$connection
Database__DataDirectory=$work/$target
Seed__Scopes__0__Name=api
Seed__Scopes__0__Resources__0=$RESOURCE
Seed__Clients__0__ClientId=$CLIENT_ID
Seed__Clients__0__ClientSecret=$CLIENT_SECRET
Seed__Clients__0__Type=confidential
Seed__Clients__0__ConsentType=implicit
Seed__Clients__0__RedirectUris__0=$REDIRECT_URI
Seed__Clients__0__GrantTypes__0=authorization_code
Seed__Clients__0__GrantTypes__1=refresh_token
Seed__Clients__0__GrantTypes__2=client_credentials
Seed__Clients__0__Scopes__0=api
Seed__Clients__0__Scopes__1=offline_access
Seed__Clients__0__Resources__0=$RESOURCE
Seed__Clients__1__ClientId=$API_ID
Seed__Clients__1__ClientSecret=$API_SECRET
Seed__Clients__1__Type=confidential
Seed__Clients__1__ConsentType=implicit
Seed__Clients__1__GrantTypes__0=client_credentials
Seed__Clients__1__CanIntrospect=true
Seed__Clients__1__Resource=$RESOURCE
EOF
}

start_ours() {
    local target=$1 provider=$2 connection=$3 key=$4
    local -a environment
    mapfile -t environment < <(ours_environment "$target" "$provider" "$connection" "$key")
    local start_ns
    start_ns=$(date +%s%N)
    (cd "$work" && exec env "${environment[@]}" taskset -c "$server_cpu" "$work/server/IdentityServer") >"$work/$target.log" 2>&1 &
    server_pid=$!
    startup_ms=$(wait_for_discovery "http://127.0.0.1:$ours_port" "$start_ns")
    ready_ms=$(wait_for_200 "http://127.0.0.1:$ours_port/health/ready" "$start_ns")
    log "$target: first discovery answer ${startup_ms} ms after start, ready (database migrated and seeded) after ${ready_ms} ms"
    # Our own discovery and JWKS bytes, for bare Kestrel to serve (the kestrel target).
    mkdir -p "$work/documents"
    curl -sf "http://127.0.0.1:$ours_port/.well-known/openid-configuration" >"$work/documents/discovery.json" || true
    curl -sf "http://127.0.0.1:$ours_port/.well-known/jwks" >"$work/documents/jwks.json" || true
    # The user is created through ASP.NET Core Identity in the database the server has just migrated.
    (export "${environment[@]}"; timeout 120 "$work/setup/bench-setup" "$BENCH_USER" "$BENCH_PASSWORD" >/dev/null) \
        || die "$target: creating the bench user failed"
}

start_peer() {
    local target=$1 key=$2 alg=$3
    local start_ns
    start_ns=$(date +%s%N)
    (cd "$here/oidc-provider" && exec env NODE_ENV=production PORT=$peer_port ISSUER="http://127.0.0.1:$peer_port" \
        SIGNING_KEY="$key" SIGNING_ALG="$alg" USER_ID="$BENCH_USER" COOKIE_KEY="$(openssl rand -hex 32)" \
        taskset -c "$server_cpu" node server.mjs) >"$work/$target.log" 2>&1 &
    server_pid=$!
    startup_ms=$(wait_for_discovery "http://127.0.0.1:$peer_port" "$start_ns")
    ready_ms=$startup_ms # no database: ready when it answers
    log "$target: first discovery answer ${startup_ms} ms after start"
}

# The stock OpenIddict server (bench/openiddict/Program.cs): the same clients, key and user, a fresh SQLite database in
# a folder of its own. Its database is created and its clients registered before it listens: ready when it answers.
# Its resource indicator is RESOURCE with a trailing slash: OpenIddict keeps the resources it accepts as URIs, which
# gives "https://api.bench.test" a "/" path, and then refuses the indicator without it (invalid_target).
openiddict_resource="${RESOURCE%/}/"
start_openiddict() {
    local target=$1 key=$2
    local start_ns
    start_ns=$(date +%s%N)
    # Its working folder is the published one, away from the database: nothing there changes during the run.
    (cd "$work/openiddict" && exec env PORT=$openiddict_port ISSUER="http://127.0.0.1:$openiddict_port" SIGNING_KEY="$key" \
        USER_ID="$BENCH_USER" DATA_DIR="$work/$target-data" RESOURCE="$openiddict_resource" \
        taskset -c "$server_cpu" "$work/openiddict/openiddict-bench") >"$work/$target.log" 2>&1 &
    server_pid=$!
    startup_ms=$(wait_for_discovery "http://127.0.0.1:$openiddict_port" "$start_ns")
    ready_ms=$startup_ms
    log "$target: first discovery answer ${startup_ms} ms after start"
}

# Bare Kestrel (bench/kestrel/Program.cs): our host without our code, serving our server's discovery and JWKS bytes
# (saved when an earlier target of ours started; otherwise a small fixed document). The floor for rows (e) and (f).
start_kestrel() {
    local start_ns
    start_ns=$(date +%s%N)
    (cd "$work/kestrel" && exec env ASPNETCORE_ENVIRONMENT=Production ASPNETCORE_URLS="http://127.0.0.1:$kestrel_port" \
        DOCUMENT_DIR="$work/documents" taskset -c "$server_cpu" "$work/kestrel/kestrel-bench") >"$work/kestrel.log" 2>&1 &
    server_pid=$!
    startup_ms=$(wait_for_discovery "http://127.0.0.1:$kestrel_port" "$start_ns")
    ready_ms=$startup_ms
    log "kestrel: first answer ${startup_ms} ms after start"
}

start_postgres() {
    local folder="$work/pg"
    mkdir -p "$folder/sockets"
    [[ $(id -u) -ne 0 ]] || chown -R postgres:postgres "$folder"
    as_postgres "$pg_bin/initdb" -D "$folder/data" -U postgres --auth=trust --encoding=UTF8 --locale=C --no-instructions \
        >"$work/postgres-initdb.log" 2>&1 || die "initdb failed"
    pg_data="$folder/data"
    # Default durability settings (fsync, synchronous_commit on), like SQLite's defaults on the other run.
    as_postgres taskset -c "$server_cpu" "$pg_bin/pg_ctl" -D "$pg_data" -l "$folder/postgres.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $pg_port -k $folder/sockets -c max_connections=200" start >/dev/null \
        || die "PostgreSQL did not start (see $results/postgres.log)"
    as_postgres "$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres identity
}

# ---------------------------------------------------------------------------------------------------------------
# Load
# ---------------------------------------------------------------------------------------------------------------
# CPU time (clock ticks, user + system) of the server side: the server process, and PostgreSQL's processes when it
# runs (postmaster, its backends, and what the postmaster has reaped). Measured around each run, it gives the CPU cost
# per request, which other load on the machine does not inflate the way it lowers req/s.
server_side_ticks() {
    local pids=("$server_pid") pid stat total=0 fields
    if [[ -n $pg_data && -r $pg_data/postmaster.pid ]]; then
        local postmaster
        postmaster=$(head -n 1 "$pg_data/postmaster.pid")
        pids+=("$postmaster" $(ps -o pid= --ppid "$postmaster"))
    fi
    for pid in "${pids[@]}"; do
        stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
        read -r -a fields <<<"${stat##*) }"
        total=$((total + fields[11] + fields[12] + fields[13] + fields[14]))
    done
    echo "$total"
}
ticks_per_s=$(getconf CLK_TCK)

# run_rows TARGET BASE_URL ALG ROWS: prepares the server (checking its tokens are ALG JWTs), then warm-up and measured
# run of each row in ROWS, then (RS256 targets) the refresh-token race.
run_rows() {
    local target=$1 base=$2 alg=$3 target_rows=$4 dir="$work/$1" kind=ours resource=$RESOURCE
    mkdir -p "$dir"
    [[ $target == peer* ]] && kind=peer
    [[ $target == openiddict* ]] && { kind=openiddict; resource=$openiddict_resource; }
    if [[ $target == kestrel ]]; then
        # Nothing to prepare: two documents, no clients or tokens.
        printf 'jwks_path=/.well-known/jwks\ndiscovery_path=/.well-known/openid-configuration\n' >"$dir/wrk.conf"
        : >"$dir/refresh-warmup.txt"; : >"$dir/refresh-measure.txt"
    else
        RESOURCE=$resource timeout 300 node "$here/prepare.mjs" "$kind" "$base" "$dir" "$pool_size" "$alg" >&2 \
            || die "$target: preparing the runs failed"
    fi
    local row phase seconds pool output ticks_before ticks_after load row_connections wrk_row
    for row in $target_rows; do
        # (c256) and (d256) are (c) and (d) with 256 connections in flight.
        row_connections=$connections wrk_row=$row
        if [[ $row == *256 ]]; then row_connections=256 wrk_row=${row%256}; fi
        for phase in warmup measure; do
            if [[ $phase == warmup ]]; then seconds=$warmup; pool="$dir/refresh-warmup.txt"; else seconds=$duration; pool="$dir/refresh-measure.txt"; fi
            load=$(cut -d' ' -f1 /proc/loadavg)
            ticks_before=$(server_side_ticks)
            output=$(timeout $((seconds + 30)) taskset -c "$load_cpu" wrk -t1 -c"$row_connections" -d"${seconds}s" --timeout 5s \
                -s "$here/wrk/bench.lua" "$base" -- "$wrk_row" "$dir/wrk.conf" "$pool" 1 2>>"$work/$target-wrk.log") \
                || die "$target: wrk failed on row $row"
            ticks_after=$(server_side_ticks)
        done
        local json
        json=$(grep '^{' <<<"$output" | tail -n 1)
        [[ -n $json ]] || die "$target: no result from wrk on row $row"
        record "{\"target\":\"$target\",\"row\":\"$row\",\"result\":$json,\"cpu_s\":$(awk -v t=$((ticks_after - ticks_before)) -v hz="$ticks_per_s" 'BEGIN { printf "%.3f", t / hz }'),\"load_before\":$load}"
        log "$target ($row): $json"
    done
    local rss_kb
    rss_kb=$(ps -o rss= -p "$server_pid" | tr -d ' ')
    record "{\"target\":\"$target\",\"meta\":\"process\",\"rss_kb\":$rss_kb,\"startup_ms\":$startup_ms,\"ready_ms\":$ready_ms}"
    # After the RSS, so the race's few requests do not count in it. The ES256 targets would repeat their RS256 twin.
    if [[ $es256_targets != *" $target "* && $target != kestrel ]]; then
        local race
        race=$(timeout 120 node "$here/race.mjs" "$base" "$dir" 10 2>>"$work/$target-race.log") || die "$target: the refresh-token race failed"
        record "{\"target\":\"$target\",\"meta\":\"race\",\"result\":$race}"
        log "$target (race): $race"
    fi
}

for target in $targets; do
    if [[ $es256_targets == *" $target "* && " $rows " != *" a "* ]]; then
        log "$target: skipped (it runs only row a, which BENCH_ROWS leaves out)"
        continue
    fi
    case $target in
        sqlite)
            start_ours sqlite Sqlite "" "$signing_key"
            run_rows sqlite "http://127.0.0.1:$ours_port" RS256 "$rows"
            stop_server
            ;;
        postgresql)
            start_postgres
            start_ours postgresql PostgreSQL "Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=identity" "$signing_key"
            run_rows postgresql "http://127.0.0.1:$ours_port" RS256 "$rows"
            stop_server
            stop_postgres
            ;;
        postgresql-scale)
            # The database-bound rows at realistic table sizes: the same server and cluster, seeded before the rows.
            start_postgres
            start_ours postgresql-scale PostgreSQL "Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=identity" "$signing_key"
            seed_scale
            run_rows postgresql-scale "http://127.0.0.1:$ours_port" RS256 "$(only_rows "b c d c256 d256")"
            stop_server
            stop_postgres
            ;;
        kestrel)
            # Only the two rows it can serve: (e) and (f).
            start_kestrel
            run_rows kestrel "http://127.0.0.1:$kestrel_port" RS256 "$(only_rows "e f")"
            stop_server
            ;;
        peer)
            start_peer peer "$signing_key" RS256
            run_rows peer "http://127.0.0.1:$peer_port" RS256 "$rows"
            stop_server
            ;;
        openiddict)
            start_openiddict openiddict "$signing_key"
            run_rows openiddict "http://127.0.0.1:$openiddict_port" RS256 "$(only_rows "a b c d e f")"
            stop_server
            ;;
        # The ES256 pair: only (a), the row the issue sets an ES256 target for; the others would repeat the RS256
        # rows with a cheaper signature and lengthen the run by half.
        sqlite-es256)
            start_ours sqlite-es256 Sqlite "" "$ec_signing_key"
            run_rows sqlite-es256 "http://127.0.0.1:$ours_port" ES256 a
            stop_server
            ;;
        peer-es256)
            start_peer peer-es256 "$ec_signing_key" ES256
            run_rows peer-es256 "http://127.0.0.1:$peer_port" ES256 a
            stop_server
            ;;
        *) die "unknown target $target" ;;
    esac
done

# ---------------------------------------------------------------------------------------------------------------
# Versions and the table
# ---------------------------------------------------------------------------------------------------------------
{
    echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "machine: $(lscpu | sed -n 's/^Model name: *//p' | head -n 1), $(nproc) cores, $(uname -r)"
    echo ".NET: $(dotnet --list-runtimes | awk '/Microsoft.AspNetCore.App/ { v = $2 } END { print "ASP.NET Core " v }'), SDK $(dotnet --version)"
    echo "peer: oidc-provider $(node -p "require('$here/oidc-provider/node_modules/oidc-provider/package.json').version") on Node.js $(node --version)"
    if [[ " $targets " == *" openiddict "* ]]; then
        echo "OpenIddict: $(sed -n 's/.*Include="OpenIddict.AspNetCore" Version="\([^"]*\)".*/\1/p' "$repo/Directory.Packages.props") (OpenIddict.AspNetCore + OpenIddict.EntityFrameworkCore, SQLite)"
    fi
    echo "tools: $(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2), $("$pg_bin/postgres" --version), $(openssl version | cut -d' ' -f1-2)"
    echo "load: wrk -t1 -c$connections, ${warmup} s warm-up then ${duration} s per row; server (and PostgreSQL) on core $server_cpu, wrk on core $load_cpu"
} >"$results/versions.txt"
(cd "$here" && node report.mjs "$results_file" "$results/versions.txt") | tee "$results/table.md"
log "raw results and logs: $results"
