#!/usr/bin/env bash
# chaos/run.sh BUILD_DIR: `make chaos`. Faults from outside under real load.
#
# A real drover supervises 4 instances of the bundled backend (`web`) and a
# shell worker (with a child of its own), with wrk load through it, while
# each fault scenario runs in turn; one row per scenario (requests, non-2xx,
# socket errors, req/s against the no-fault baseline, processes left
# behind), then `N passed, M failed`. The slow-client flood runs against
# drover, HAProxy and nginx over the same static backends at `ulimit -n
# 1024`. Everything listens on 127.0.0.1 only, and every process started is
# stopped at the end.
#
# Environment: QUICK=1 (8 s a scenario, about 2 minutes), DURATION=SECONDS,
# SCENARIOS="kill-app flood" (a subset), SOAK=SECONDS (one long run of mixed
# faults instead, sampling drover's RSS and descriptors every 10 s),
# KEEP=1 (keep the scratch dir), SKIP_DEPS=1.
set -u -o pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD=$(cd "${1:-build}" && pwd)
QUICK=${QUICK:-0}
DURATION=${DURATION:-$([ "$QUICK" = 1 ] && echo 8 || echo 20)}
SOAK=${SOAK:-0}
DAY=$(date +%F)
RUN_ID="chaos-$$-$RANDOM"
export PATH="$PATH:/usr/sbin:/sbin"

say() { printf 'chaos: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 2; }

if [ "${SKIP_DEPS:-0}" != 1 ]; then
    scripts/deps.sh bench >&2 || die "scripts/deps.sh bench failed"
fi
for t in wrk haproxy nginx curl awk cc; do
    command -v "$t" >/dev/null 2>&1 || die "$t is missing"
done
DROVER=$BUILD/drover
BACKEND=$BUILD/backend
[ -x "$DROVER" ] && [ -x "$BACKEND" ] || die "build drover and the backend first (make)"
TMP=$(mktemp -d /tmp/drover-chaos.XXXXXX)
SLOW=$TMP/slowloris
cc -O2 -o "$SLOW" chaos/slowloris.c || die "cannot compile chaos/slowloris.c"

# Every drover of the run, and so every process it starts, carries
# DROVER_CHAOS=$RUN_ID in its environment: what still has it at the end was
# left behind.
PIDS=()
cleanup() {
    exec 2>/dev/null # no job notices for what we kill
    for p in "${PIDS[@]}"; do kill -KILL -- "-$p" 2>/dev/null; kill -KILL "$p" 2>/dev/null; done
    for p in $(ours); do kill -KILL "$p" 2>/dev/null; done
    wait 2>/dev/null
    [ "${KEEP:-0}" = 1 ] && say "kept $TMP" || rm -rf "$TMP"
}
trap cleanup EXIT
ours() {
    grep -lsa "DROVER_CHAOS=$RUN_ID" /proc/[0-9]*/environ 2>/dev/null |
        sed 's#/proc/\([0-9]*\)/environ#\1#'
}

BASE=$((20000 + (RANDOM % 200) * 50))
P_DROVER=$((BASE + 1))
P_ADMIN=$((BASE + 2))
P_STATIC=$((BASE + 3))
P_HAPROXY=$((BASE + 4))
P_NGINX=$((BASE + 5))
P_BACK=$((BASE + 10))     # 4 static backends: BASE+10..13
P_HUNG=$((BASE + 14))
P_APP=$((BASE + 1000))    # instances: base_port

APP=$TMP/app
mkdir -p "$APP"
cat >"$APP/Procfile" <<EOF
web: exec $BACKEND -q
worker: sh -c 'sleep 1000 & while :; do echo tick; sleep 1; done'
EOF
conf() { # balance
    cat <<EOF
listen: 127.0.0.1:$P_DROVER
admin: {listen: 127.0.0.1:$P_ADMIN}
log: {access: off}
app: {base_port: $P_APP}
balance: $1
health: {path: /, interval: 250ms, timeout: 500ms, fall: 2, rise: 2}
timeouts: {upstream: 1s, drain: 5s}
processes:
  web:
    instances: 4
    ready: {path: /}
    restart: {min: 100ms, max: 1s}
    restart_unhealthy: 2s
    stop_timeout: 2s
  worker:
    restart: {min: 100ms, max: 1s}
    stop_timeout: 1s
EOF
}
conf round_robin >"$APP/drover.yaml"
conf least_conn >"$APP/alt.yaml"
cp "$APP/drover.yaml" "$APP/main.yaml"

DPID=""
start_drover() {
    DROVER_CHAOS=$RUN_ID setsid "$DROVER" run -d "$APP" >>"$TMP/drover.log" 2>&1 &
    DPID=$!
    PIDS+=("$DPID")
    for _ in $(seq 100); do
        curl -fs -o /dev/null "http://127.0.0.1:$P_DROVER/" && return 0
        sleep 0.1
    done
    return 1
}
stop_drover() {
    [ -n "$DPID" ] || return 0
    kill -TERM "$DPID" 2>/dev/null
    for _ in $(seq 150); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$DPID" 2>/dev/null
    wait "$DPID" 2>/dev/null
    DPID=""
}
status() { curl -fs "http://127.0.0.1:$P_ADMIN/status"; }
# Field values of web instances in /status: pid or pgid.
web_field() { status | grep -o "\"name\":\"web\.[0-9]*\",\"pid\":[0-9]*,\"pgid\":[0-9]*" |
    sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"; }
pick() { shuf -n1 2>/dev/null || head -n1; }

# load URL SECONDS OUT: wrk in the background, keep-alive, 32 connections.
load() {
    wrk -t1 -c32 -d"$2"s --timeout 5s --latency "$1" >"$3" 2>&1 &
    LOAD=$!
}
# parse OUT: "requests non2xx errors rps"
parse() {
    awk '
        /requests in/ { req = $1 }
        /Non-2xx/ { bad = $NF }
        /Socket errors/ { gsub(",", ""); err = $4 + $6 + $8 + $10 }
        /Requests\/sec/ { rps = $2 }
        END { printf "%d %d %d %.0f\n", req, bad, err, rps }' "$1"
}

ROWS=()
PASSED=0
FAILED=0
BASE_RPS=0
record() { # name requests bad errors rps left verdict note
    local ratio="-"
    [ "$BASE_RPS" != 0 ] && ratio=$(awk -v a="$5" -v b="$BASE_RPS" 'BEGIN { printf "%.2f", a / b }')
    ROWS+=("| $1 | $2 | $3 | $4 | $5 | $ratio | $6 | $7 | $8 |")
    if [ "$7" = PASS ]; then PASSED=$((PASSED + 1)); else FAILED=$((FAILED + 1)); fi
    say "$1: $2 requests, $3 non-2xx, $4 socket errors, $5 req/s ($ratio), $6 left: $7 $8"
}

# ---- the faults: each runs for $DURATION with the load beside it ----
fault_baseline() { sleep "$DURATION"; }
fault_kill_app() { local end=$((SECONDS + DURATION)); while [ $SECONDS -lt $end ]; do kill -KILL "$(web_field pid | pick)" 2>/dev/null; sleep 0.7; done; }
fault_kill_shim() { local end=$((SECONDS + DURATION)); while [ $SECONDS -lt $end ]; do kill -KILL "$(web_field pgid | pick)" 2>/dev/null; sleep 0.7; done; }
fault_kill_grandchild() {
    local end=$((SECONDS + DURATION))
    while [ $SECONDS -lt $end ]; do
        for p in $(ours); do
            [ "$(cat /proc/$p/cmdline 2>/dev/null | tr '\0' ' ')" = "sleep 1000 " ] && kill -KILL "$p"
        done
        sleep 1
    done
}
fault_sigstop() {
    local end=$((SECONDS + DURATION)) victim
    while [ $SECONDS -lt $end ]; do
        victim=$(web_field pid | pick)
        kill -STOP "$victim" 2>/dev/null
        # Replaced after restart_unhealthy: its process is gone then.
        for _ in $(seq 80); do kill -0 "$victim" 2>/dev/null || break; [ $SECONDS -ge $end ] && break; sleep 0.1; done
    done
}
fault_sighup() {
    local end=$((SECONDS + DURATION)) i=0
    while [ $SECONDS -lt $end ]; do
        if [ $((i % 2)) = 0 ]; then cp "$APP/alt.yaml" "$APP/drover.yaml"; else cp "$APP/main.yaml" "$APP/drover.yaml"; fi
        kill -HUP "$DPID"
        i=$((i + 1))
        sleep 0.5
    done
    cp "$APP/main.yaml" "$APP/drover.yaml"
}
fault_scale() {
    local end=$((SECONDS + DURATION)) n=2
    while [ $SECONDS -lt $end ]; do
        curl -fs -o /dev/null -X POST -d "{\"web\": $n}" "http://127.0.0.1:$P_ADMIN/scale"
        n=$((8 - n))
        sleep 1
    done
    curl -fs -o /dev/null -X POST -d '{"web": 4}' "http://127.0.0.1:$P_ADMIN/scale"
}
fault_rolling() {
    local end=$((SECONDS + DURATION))
    while [ $SECONDS -lt $end ]; do
        curl -fs -o /dev/null -X POST "http://127.0.0.1:$P_ADMIN/processes/web/restart"
        sleep 2
    done
}

scenario() { # name fault
    local name=$1 fault=$2 out=$TMP/$1.wrk
    load "http://127.0.0.1:$P_DROVER/" "$DURATION" "$out"
    sleep 0.3
    $fault
    wait "$LOAD"
    read -r req bad err rps < <(parse "$out")
    [ "$name" = baseline ] && BASE_RPS=$rps
    local verdict=PASS note=""
    if [ $((bad + err)) -gt 0 ]; then verdict=FAIL; note="failed requests"; fi
    CURRENT=("$req" "$bad" "$err" "$rps" "$verdict" "$note")
}

# ---- the supervised scenarios ----
selected() { [ -z "${SCENARIOS:-}" ] || printf ' %s ' $SCENARIOS | grep -q " $1 "; }
supervised() {
    local list=(baseline:fault_baseline kill-app:fault_kill_app kill-shim:fault_kill_shim
                kill-grandchild:fault_kill_grandchild sigstop:fault_sigstop sighup:fault_sighup
                scale:fault_scale rolling:fault_rolling)
    start_drover || die "drover did not start (see $TMP/drover.log)"
    for entry in "${list[@]}"; do
        local name=${entry%%:*}
        selected "$name" || [ "$name" = baseline ] || continue
        scenario "$name" "${entry#*:}"
        record "$name" "${CURRENT[0]}" "${CURRENT[1]}" "${CURRENT[2]}" "${CURRENT[3]}" "-" "${CURRENT[4]}" "${CURRENT[5]}"
    done
    if selected kill-drover; then
        # kill -9 of drover, then at once a new one on the same ports.
        local out=$TMP/kill-drover.wrk t0 back
        load "http://127.0.0.1:$P_DROVER/" "$DURATION" "$out"
        sleep 1
        kill -KILL "$DPID"
        wait "$DPID" 2>/dev/null
        t0=$(date +%s%N)
        start_drover
        back=$(( ($(date +%s%N) - t0) / 1000000 ))
        wait "$LOAD"
        read -r req bad err rps < <(parse "$out")
        local verdict=PASS
        [ "$back" -le 5000 ] || verdict=FAIL
        grep -q "is taken by" "$TMP/drover.log" && verdict=FAIL
        record kill-drover "$req" "$bad" "$err" "$rps" "-" "$verdict" "serving again ${back}ms after kill -9 (failures during the gap expected)"
    fi
    stop_drover
    sleep 1
    local left
    left=$(ours | wc -l)
    ROWS+=("| (after drover stopped) | | | | | | $left | $([ "$left" = 0 ] && echo PASS || echo FAIL) | processes left behind |")
    if [ "$left" = 0 ]; then PASSED=$((PASSED + 1)); else FAILED=$((FAILED + 1)); ours | xargs -r ps -o pid,ppid,cmd -p >&2; fi
}

# ---- static backends: the stuck backend and the flood ----
start_backends() {
    for i in 0 1 2 3; do
        setsid "$BACKEND" -q -n "b$i" -l "127.0.0.1:$((P_BACK + i))" >/dev/null 2>&1 &
        PIDS+=($!)
    done
    sleep 0.3
}
static_drover() { # extra-config
    cat >"$TMP/static.yaml" <<EOF
listen: 127.0.0.1:$P_STATIC
admin: {listen: off}
log: {access: off}
health: {path: /, interval: 250ms, timeout: 500ms, fall: 2}
timeouts: {upstream: 1s}
$1
EOF
    (ulimit -n "${2:-65536}"; DROVER_CHAOS=$RUN_ID exec setsid "$DROVER" run -c "$TMP/static.yaml" >"$TMP/static.log" 2>&1) &
    SPID=$!
    PIDS+=("$SPID")
    for _ in $(seq 50); do curl -fs -o /dev/null "http://127.0.0.1:$P_STATIC/" && return 0; sleep 0.1; done
    die "the static drover did not start"
}
stuck_backend() {
    # A backend started and then SIGSTOPped: it accepts (the kernel does)
    # and never answers.
    setsid "$BACKEND" -q -l "127.0.0.1:$P_HUNG" >/dev/null 2>&1 &
    local hung=$!
    PIDS+=("$hung")
    sleep 0.3
    kill -STOP "$hung"
    static_drover "routes:
  - path: /
    backends: [127.0.0.1:$P_HUNG, 127.0.0.1:$P_BACK, 127.0.0.1:$((P_BACK + 1))]"
    load "http://127.0.0.1:$P_STATIC/" "$DURATION" "$TMP/stuck.wrk"
    wait "$LOAD"
    read -r req bad err rps < <(parse "$TMP/stuck.wrk")
    local verdict=PASS
    [ $((bad + err)) -eq 0 ] || verdict=FAIL
    record stuck-backend "$req" "$bad" "$err" "$rps" "-" "$verdict" "one of 3 backends accepts and never answers"
    kill -TERM "$SPID"; wait "$SPID" 2>/dev/null
    kill -KILL "$hung" 2>/dev/null
}

FLOOD_ROWS=()
# flood_one NAME URL PORT: req/s of wrk -c50 without and with 3000 slow clients.
flood_one() {
    local name=$1 url=$2 port=$3 r0 r1
    wrk -t1 -c50 -d"$DURATION"s --timeout 5s "$url" >"$TMP/flood-$name-0.wrk" 2>&1
    "$SLOW" "$port" 3000 $((DURATION + 4)) >"$TMP/slowloris-$name.log" 2>&1 &
    local sl=$!
    sleep 3
    wrk -t1 -c50 -d"$DURATION"s --timeout 5s "$url" >"$TMP/flood-$name-1.wrk" 2>&1
    wait "$sl"
    read -r _ _ _ r0 < <(parse "$TMP/flood-$name-0.wrk")
    read -r req bad err r1 < <(parse "$TMP/flood-$name-1.wrk")
    FLOOD=("$req" "$bad" "$err" "$r0" "$r1")
}
flood() {
    local backends="127.0.0.1:$P_BACK, 127.0.0.1:$((P_BACK + 1)), 127.0.0.1:$((P_BACK + 2)), 127.0.0.1:$((P_BACK + 3))"
    static_drover "routes:
  - path: /
    backends: [$backends]" 1024
    flood_one drover "http://127.0.0.1:$P_STATIC/" "$P_STATIC"
    local d=("${FLOOD[@]}") down=0
    grep -q "is down" "$TMP/static.log" && down=1
    kill -TERM "$SPID"; wait "$SPID" 2>/dev/null
    local frac
    frac=$(awk -v a="${d[4]}" -v b="${d[3]}" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
    local verdict=PASS
    awk -v f="$frac" 'BEGIN { exit !(f >= 0.5) }' || verdict=FAIL
    [ $((d[1] + d[2])) -eq 0 ] || verdict=FAIL
    [ "$down" = 0 ] || verdict=FAIL
    record flood "${d[0]}" "${d[1]}" "${d[2]}" "${d[4]}" "-" "$verdict" "3000 slow clients, ulimit -n 1024: ${frac} of its ${d[3]} req/s without them; backend marked down: $down"
    FLOOD_ROWS+=("| drover | ${d[3]} | ${d[4]} | $frac | ${d[1]} | ${d[2]} | $([ $down = 0 ] && echo no || echo yes) |")

    # HAProxy and nginx: the same backends and limit; figures only.
    cat >"$TMP/haproxy.cfg" <<EOF
global
    # no maxconn: HAProxy derives it from the descriptor limit, as drover does
defaults
    mode http
    timeout connect 3s
    timeout client 10s
    timeout server 30s
    timeout http-request 10s
    timeout http-keep-alive 60s
    http-reuse always
frontend f
    bind 127.0.0.1:$P_HAPROXY
    default_backend b
backend b
    balance roundrobin
    option httpchk GET /
$(for i in 0 1 2 3; do echo "    server b$i 127.0.0.1:$((P_BACK + i)) check inter 250ms"; done)
EOF
    (ulimit -n 1024; exec setsid haproxy -db -f "$TMP/haproxy.cfg" >"$TMP/haproxy.log" 2>&1) &
    local hp=$!
    PIDS+=("$hp")
    sleep 1
    flood_one haproxy "http://127.0.0.1:$P_HAPROXY/" "$P_HAPROXY"
    local h=("${FLOOD[@]}")
    kill -TERM "$hp"; wait "$hp" 2>/dev/null
    FLOOD_ROWS+=("| HAProxy | ${h[3]} | ${h[4]} | $(awk -v a="${h[4]}" -v b="${h[3]}" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }') | ${h[1]} | ${h[2]} | $(grep -q 'is DOWN' "$TMP/haproxy.log" && echo yes || echo no) |")

    mkdir -p "$TMP/nginx/logs"
    cat >"$TMP/nginx/nginx.conf" <<EOF
worker_processes 1;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log;
daemon off;
events { worker_connections 1000; }
http {
    access_log off;
    upstream b { $(for i in 0 1 2 3; do printf 'server 127.0.0.1:%d; ' $((P_BACK + i)); done) keepalive 64; }
    server {
        listen 127.0.0.1:$P_NGINX;
        location / { proxy_pass http://b; proxy_http_version 1.1; proxy_set_header Connection ""; }
    }
}
EOF
    (ulimit -n 1024; exec setsid nginx -p "$TMP/nginx/" -c "$TMP/nginx/nginx.conf" -e "$TMP/nginx/error.log" >"$TMP/nginx/out.log" 2>&1) &
    local np=$!
    PIDS+=("$np")
    sleep 1
    flood_one nginx "http://127.0.0.1:$P_NGINX/" "$P_NGINX"
    local n=("${FLOOD[@]}")
    kill -TERM -- "-$np" 2>/dev/null; kill -TERM "$np"; wait "$np" 2>/dev/null
    FLOOD_ROWS+=("| nginx | ${n[3]} | ${n[4]} | $(awk -v a="${n[4]}" -v b="${n[3]}" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }') | ${n[1]} | ${n[2]} | (no active checks) |")
}

# ---- the soak ----
soak() {
    # The samples go straight to chaos/results: an interrupted soak keeps them.
    mkdir -p "$ROOT/chaos/results"
    SAMPLES=$ROOT/chaos/results/soak-$DAY.md
    local faults=(fault_kill_app fault_kill_shim fault_kill_grandchild fault_sigstop fault_sighup fault_scale fault_rolling)
    local end=$((SECONDS + SOAK)) i=0 total=0 failures=0
    start_drover || die "drover did not start"
    echo "| t (s) | RSS (KiB) | descriptors |"
    echo "| ---: | ---: | ---: |"
    (while [ $SECONDS -lt $end ]; do
        printf '| %d | %s | %s |\n' "$SECONDS" "$(awk '/VmRSS/{print $2}' /proc/$DPID/status 2>/dev/null)" "$(ls /proc/$DPID/fd 2>/dev/null | wc -l)"
        sleep 10
    done) >"$SAMPLES" &
    local sampler=$!
    while [ $SECONDS -lt $end ]; do
        DURATION=20
        scenario soak "${faults[$((i % ${#faults[@]}))]}"
        # Which fault lost requests, if any: one line a scenario.
        printf '%d %s requests=%s non2xx=%s socket_errors=%s %s\n' "$SECONDS" "${faults[$((i % ${#faults[@]}))]}" \
            "${CURRENT[0]}" "${CURRENT[1]}" "${CURRENT[2]}" "${CURRENT[5]}" >>"${SAMPLES%.md}-scenarios.txt"
        total=$((total + CURRENT[0]))
        failures=$((failures + CURRENT[1] + CURRENT[2]))
        i=$((i + 1))
    done
    wait "$sampler"
    cat "$SAMPLES"
    stop_drover
    sleep 1
    soak_verdict "$SAMPLES" "$total" "$failures" "$(ours | wc -l)"
}

# Flat after warm-up: the last third's RSS peak within 10 % of the middle
# third's, and its median descriptor count within 16 of the middle third's.
# Descriptors are judged by the median: a sample that falls inside a scale
# or rolling scenario (instances' pipes, new upstream connections) is a
# peak that says nothing about a leak; a leak raises the median.
soak_verdict() { # soak_verdict SAMPLES REQUESTS FAILED LEFT_BEHIND
    awk -F'|' -v tot="$2" -v bad="$3" -v left="$4" '
        function median(lo, hi,    k, m, t, j) {
            m = 0
            for (k = lo; k < hi; k++) s[m++] = fd[k]
            for (k = 1; k < m; k++) { t = s[k]; for (j = k - 1; j >= 0 && s[j] > t; j--) s[j + 1] = s[j]; s[j + 1] = t }
            return m > 0 ? s[int(m / 2)] : 0
        }
        NF > 3 && $2 + 0 > 0 { rss[n] = $3 + 0; fd[n] = $4 + 0; n++ }
        END {
            a = int(n / 3); b = int(2 * n / 3)
            for (i = a; i < b; i++) { if (rss[i] > mr) mr = rss[i]; if (fd[i] > mf) mf = fd[i] }
            for (i = b; i < n; i++) { if (rss[i] > lr) lr = rss[i]; if (fd[i] > lf) lf = fd[i] }
            md = median(a, b); ld = median(b, n)
            flat = lr <= mr * 1.10 && ld <= md + 16
            printf "soak: %d samples; middle third: peak RSS %d KiB, median %d fds (peak %d); last third: %d KiB, median %d fds (peak %d): %s\n", n, mr, md, mf, lr, ld, lf, flat ? "flat" : "GROWING"
            printf "soak: %d requests, %d failed, %d processes left behind\n", tot, bad, left
            ok = flat && left == 0 && bad == 0
            print (ok ? "1 passed, 0 failed" : "0 passed, 1 failed")
            exit !ok
        }' "$1"
}

# SOAK_VERDICT=FILE judges a samples file kept from an earlier soak.
if [ -n "${SOAK_VERDICT:-}" ]; then
    soak_verdict "$SOAK_VERDICT" 0 0 0
    exit $?
fi

if [ "$SOAK" != 0 ]; then
    soak
    exit $?
fi

say "scratch dir $TMP, $DURATION s a scenario"
supervised
start_backends
selected stuck-backend && stuck_backend
selected flood && flood

{
    echo "# make chaos: $DAY"
    echo
    echo "Run by \`$([ "$QUICK" = 1 ] && echo "make chaos QUICK=1" || echo "make chaos")\` ($DURATION s a scenario, wrk -t1 -c32 keep-alive) on $(nproc) cores, drover $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)."
    echo
    echo "| scenario | requests | non-2xx | socket errors | req/s | ÷ baseline | left behind | result | note |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |"
    printf '%s\n' "${ROWS[@]}"
    if [ ${#FLOOD_ROWS[@]} -gt 0 ]; then
        echo
        echo "Slow-client flood (3000 clients trickling a header line a second, \`ulimit -n 1024\` for the proxy, wrk -t1 -c50 keep-alive, 4 backends):"
        echo
        echo "| proxy | req/s alone | req/s in the flood | fraction | non-2xx | socket errors | healthy backend marked down |"
        echo "| --- | ---: | ---: | ---: | ---: | ---: | --- |"
        printf '%s\n' "${FLOOD_ROWS[@]}"
    fi
} | tee "$TMP/table.md"
mkdir -p chaos/results
cp "$TMP/table.md" "chaos/results/$DAY.md"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
