#!/usr/bin/env bash
# bench/run.sh BUILD_DIR: drover against HAProxy and nginx (`make bench`).
#
# Starts 4 fast backends (BUILD_DIR/backend) on loopback, drover (static
# backends, workers: 1), HAProxy (nbthread 1) and nginx (worker_processes 1)
# over them, and drover supervising its own 4 instances; checks every one
# answers 200; measures each proxy's memory with 10,000 idle keep-alive
# connections (bench-idle, from bench/idle.c); then runs wrk against each in
# interleaved rounds (A B C A B C ...) for every scenario, then the reload
# storm (bench/storm.sh) and the Node app beside PM2 cluster mode
# (bench/node.sh), and writes the tables to bench/results/<date>.md,
# printed at the end, followed by one RESULT line per scenario. See
# bench/README.md for what each column means.
#
# Environment: QUICK=1 (1 round of 3 s), ROUNDS=N, DURATION=SECONDS, STORM_SECS=N,
# IDLE_CONNS=N (10000), KEEP=1 (keep the scratch dir with logs and configs),
# SKIP_DEPS=1 (do not run scripts/deps.sh).
# Needs bash, awk, ps, curl, wrk, haproxy, nginx, a C compiler; node and npm
# for the Node scenario (skipped, and said so, without them); no Python.

set -eu -o pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD=${1:-build}
BUILD=$(cd "$BUILD" && pwd)
QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then
    ROUNDS=${ROUNDS:-1}
    DURATION=${DURATION:-3}
else
    ROUNDS=${ROUNDS:-3}
    DURATION=${DURATION:-5}
fi
IDLE_CONNS=${IDLE_CONNS:-10000}
T_START=$(date +%s)
DAY=$(date +%F)
CLK_TCK=$(getconf CLK_TCK)

say() { printf '%s\n' "bench: $*" >&2; }
die() { say "error: $*"; exit 1; }
# shellcheck source=bench/lib.sh
. bench/lib.sh

# ---- packages ---------------------------------------------------------------
if [ "${SKIP_DEPS:-0}" != 1 ]; then
    scripts/deps.sh bench >&2 || die "scripts/deps.sh bench failed"
fi
for t in wrk haproxy nginx curl awk cc; do
    command -v "$t" >/dev/null 2>&1 || [ -x "/usr/sbin/$t" ] || die "$t is missing"
done
export PATH="$PATH:/usr/sbin:/sbin"

# The packages must not leave their own services running (deps.sh keeps
# them from starting; an older install may have started them): they would
# take CPU from the measurement. Only the package's own pid file is
# trusted; a service that is not running is fine.
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; fi
fi
for svc in haproxy nginx; do
    pf=/run/$svc.pid
    [ -r "$pf" ] || continue
    pid=$(head -n1 "$pf" 2>/dev/null | tr -dc 0-9)
    [ -n "$pid" ] && [ -d "/proc/$pid" ] || continue
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$svc" ] || continue
    say "stopping the system $svc service (pid $pid)"
    if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
        $SUDO systemctl stop "$svc" 2>/dev/null || true
    fi
    [ -d "/proc/$pid" ] && { $SUDO kill "$pid" 2>/dev/null || say "warning: cannot stop $svc (pid $pid): figures may be skewed"; }
done

# ---- binaries -----------------------------------------------------------------
DROVER=$BUILD/drover
BACKEND=$BUILD/backend
IDLE=$BUILD/bench-idle
[ -x "$DROVER" ] || die "$DROVER not built (run make)"
[ -x "$BACKEND" ] || die "$BACKEND not built (run make)"
if [ ! -x "$IDLE" ] || [ bench/idle.c -nt "$IDLE" ]; then
    ${CC:-cc} -O2 -Wall -Wextra -o "$IDLE" bench/idle.c || die "cannot compile bench/idle.c"
fi

# ---- descriptor limits ----------------------------------------------------------
# Everything started below inherits this shell's limit. Root may raise the
# hard limit; a user raises the soft limit to the hard one.
WANT_NOFILE=65536
if [ "$(ulimit -Hn)" != unlimited ] && [ "$(ulimit -Hn)" -lt "$WANT_NOFILE" ]; then
    ulimit -Hn "$WANT_NOFILE" 2>/dev/null || true
fi
HARD=$(ulimit -Hn)
if [ "$HARD" = unlimited ] || [ "$HARD" -ge "$WANT_NOFILE" ]; then NOFILE=$WANT_NOFILE; else NOFILE=$HARD; fi
ulimit -Sn "$NOFILE"
NOTES=()
if [ "$NOFILE" -lt "$WANT_NOFILE" ]; then
    NOTES+=("descriptor limit: hard limit $HARD < $WANT_NOFILE, using $NOFILE")
fi
# A proxy holding N clients needs N descriptors plus its upstream ones.
if [ $((IDLE_CONNS + 1100)) -gt "$NOFILE" ]; then
    cap=$((NOFILE - 1100))
    [ "$cap" -lt 100 ] && cap=100
    NOTES+=("idle connections capped at $cap instead of $IDLE_CONNS (nofile limit $NOFILE)")
    say "${NOTES[-1]}"
    IDLE_CONNS=$cap
fi

# ---- scratch dir, processes, cleanup ---------------------------------------------
TMP=$(mktemp -d "${TMPDIR:-/tmp}/drover-bench.XXXXXX")
chmod 755 "$TMP"
PIDS=()
IDLE_PID=""
cleanup() {
    local rc=$? p i
    set +e
    trap - EXIT INT TERM
    [ -n "$IDLE_PID" ] && kill -TERM "$IDLE_PID" 2>/dev/null
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for i in $(seq 60); do
        local alive=0
        for p in "${PIDS[@]}"; do [ -d "/proc/$p" ] && ! grep -q '^State:.*Z' "/proc/$p/status" 2>/dev/null && alive=1; done
        [ $alive = 0 ] && break
        sleep 0.1
    done
    for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [ "${KEEP:-0}" = 1 ] || { [ $rc -ne 0 ] && [ $rc -ne 130 ] && [ $rc -ne 143 ]; }; then
        say "scratch dir kept: $TMP"
    else
        rm -rf "$TMP"
    fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- free ports ----------------------------------------------------------------------
BASE=$(free_port_block 48)
[ -n "$BASE" ] || die "no free port block found"
B=($((BASE)) $((BASE + 1)) $((BASE + 2)) $((BASE + 3)))
P_DROVER=$((BASE + 4))
P_HAPROXY=$((BASE + 5))
P_NGINX=$((BASE + 6))
P_SUP=$((BASE + 7))
SUP_BASE=$((BASE + 10))   # drover's own instances: SUP_BASE .. SUP_BASE+3 (+ spares)
SUP_PORTS=($SUP_BASE $((SUP_BASE + 1)) $((SUP_BASE + 2)) $((SUP_BASE + 3)))
P_DROVER_W2=$((BASE + 20))  # the workers scenario: 2 threads / workers each
P_HAPROXY_W2=$((BASE + 21))
P_NGINX_W2=$((BASE + 22))
STORM_PORT=$((BASE + 24))   # the reload storm: 24 drover, 25 HAProxy, 26 nginx
NODE_PORT=$((BASE + 28))    # the Node scenario: 28..47 (bench/node.sh)

# ---- helpers -----------------------------------------------------------------------------
# http_code URL [curl args]: the status code, 000 when nothing answered.
http_code() {
    local url=$1
    shift
    curl -s -o /dev/null -w '%{http_code}' --max-time 3 "$@" "$url" 2>/dev/null || true
}
# wait_200 NAME URL LOG PID: poll until URL answers 200 (20 s), else fail;
# fail at once if PID has exited.
wait_200() {
    local name=$1 url=$2 log=$3 pid=$4 i code
    for i in $(seq 200); do
        code=$(http_code "$url")
        [ "$code" = 200 ] && return 0
        if ! kill -0 "$pid" 2>/dev/null || grep -q "^State:.*Z" "/proc/$pid/status" 2>/dev/null; then
            say "$name (pid $pid) exited at start; its log:"
            tail -n 20 "$log" >&2 2>/dev/null || true
            exit 1
        fi
        sleep 0.1
    done
    say "$name does not answer 200 at $url (last: $code); its log:"
    tail -n 20 "$log" >&2 2>/dev/null || true
    exit 1
}
# children PID: its direct children (nginx's workers).
children() {
    local f s
    for f in /proc/[0-9]*/stat; do
        s=$(cat "$f" 2>/dev/null) || continue
        s=${s##*) }
        # shellcheck disable=SC2086
        set -- $s
        if [ "$2" = "$PARENT" ]; then f=${f#/proc/}; echo "${f%/stat}"; fi
    done
}
# backend_counts PORT...: each backend's request counter (stats=1), one line.
backend_counts() {
    local p out=""
    for p in "$@"; do
        out="$out $(curl -s --max-time 2 "http://127.0.0.1:$p/?stats=1" | sed -n 's/.*"requests":\([0-9]*\).*/\1/p')"
    done
    echo $out
}

# ---- backends ------------------------------------------------------------------------------
say "ports $BASE..$((BASE + 47)), nofile $NOFILE, $ROUNDS round(s) of ${DURATION}s, scratch $TMP"
for i in 0 1 2 3; do
    "$BACKEND" -q -l "127.0.0.1:${B[$i]}" -n "b$((i + 1))" >"$TMP/backend$((i + 1)).log" 2>&1 &
    PIDS+=($!)
    BPID[$i]=$!
done
for i in 0 1 2 3; do wait_200 "backend b$((i + 1))" "http://127.0.0.1:${B[$i]}/" "$TMP/backend$((i + 1)).log" "${BPID[$i]}"; done

# ---- drover, static backends ---------------------------------------------------------------
TIMEOUTS="{connect: 3s, client_header: 10s, client_body: 60s, upstream: 30s, idle: 60s, drain: 1s}"
cat >"$TMP/drover.yaml" <<EOF
listen: 127.0.0.1:$P_DROVER
workers: 1
admin: {listen: off}
log: {access: off}
timeouts: $TIMEOUTS
limits: {max_connections: 20000}
routes:
  - path: /
    backends: [127.0.0.1:${B[0]}, 127.0.0.1:${B[1]}, 127.0.0.1:${B[2]}, 127.0.0.1:${B[3]}]
balance: round_robin
EOF
"$DROVER" run -c "$TMP/drover.yaml" >"$TMP/drover.log" 2>&1 &
PIDS+=($!)
PID_DROVER=$!

# ---- drover, supervising its own 4 instances -------------------------------------------------
mkdir -p "$TMP/app"
echo "web: $BACKEND -q" >"$TMP/app/Procfile"
cat >"$TMP/app/drover.yaml" <<EOF
listen: 127.0.0.1:$P_SUP
workers: 1
admin: {listen: off}
log: {access: off}
timeouts: $TIMEOUTS
limits: {max_connections: 20000}
app: {base_port: $SUP_BASE}
processes: {web: {instances: 4, ready: {path: /}, stop_timeout: 2s}}
routes:
  - path: /
    process: web
balance: round_robin
EOF
"$DROVER" run -d "$TMP/app" >"$TMP/drover-sup.log" 2>&1 &
PIDS+=($!)
PID_SUP=$!

# ---- HAProxy ------------------------------------------------------------------------------------
fill bench/haproxy.cfg.in "$P_HAPROXY" "$TMP" "" >"$TMP/haproxy.cfg"
haproxy -c -q -f "$TMP/haproxy.cfg" >"$TMP/haproxy-check.log" 2>&1 || { cat "$TMP/haproxy-check.log" >&2; die "haproxy rejects its config"; }
haproxy -db -f "$TMP/haproxy.cfg" >"$TMP/haproxy.log" 2>&1 &
PIDS+=($!)
PID_HAPROXY=$!

# ---- nginx -----------------------------------------------------------------------------------------
NGX=$TMP/nginx
mkdir -p "$NGX"
# As root, the worker would otherwise switch to nobody; keep it as the master.
if [ "$(id -u)" -eq 0 ]; then NGX_USER="user root;"; else NGX_USER=""; fi
fill bench/nginx.conf.in "$P_NGINX" "$NGX" "$NGX_USER" >"$NGX/nginx.conf"
nginx -p "$NGX/" -c "$NGX/nginx.conf" -e "$NGX/error.log" >"$NGX/stdout.log" 2>&1 &
PIDS+=($!)
PID_NGINX=$!

# ---- the workers scenario: each proxy again with 2 threads / workers ----------------------------------
sed -e "s|^listen: 127.0.0.1:$P_DROVER\$|listen: 127.0.0.1:$P_DROVER_W2|" -e 's|^workers: 1$|workers: 2|' \
    "$TMP/drover.yaml" >"$TMP/drover-w2.yaml"
"$DROVER" run -c "$TMP/drover-w2.yaml" >"$TMP/drover-w2.log" 2>&1 &
PIDS+=($!)
PID_DROVER_W2=$!
fill bench/haproxy.cfg.in "$P_HAPROXY_W2" "$TMP" "" | sed 's|^    nbthread 1$|    nbthread 2|' >"$TMP/haproxy-w2.cfg"
haproxy -db -f "$TMP/haproxy-w2.cfg" >"$TMP/haproxy-w2.log" 2>&1 &
PIDS+=($!)
PID_HAPROXY_W2=$!
NGX_W2=$TMP/nginx-w2
mkdir -p "$NGX_W2"
fill bench/nginx.conf.in "$P_NGINX_W2" "$NGX_W2" "$NGX_USER" | sed 's|^worker_processes 1;$|worker_processes 2;|' >"$NGX_W2/nginx.conf"
nginx -p "$NGX_W2/" -c "$NGX_W2/nginx.conf" -e "$NGX_W2/error.log" >"$NGX_W2/stdout.log" 2>&1 &
PIDS+=($!)
PID_NGINX_W2=$!

wait_200 drover "http://127.0.0.1:$P_DROVER/" "$TMP/drover.log" "$PID_DROVER"
wait_200 haproxy "http://127.0.0.1:$P_HAPROXY/" "$TMP/haproxy.log" "$PID_HAPROXY"
wait_200 nginx "http://127.0.0.1:$P_NGINX/" "$NGX/error.log" "$PID_NGINX"
wait_200 "drover (supervised)" "http://127.0.0.1:$P_SUP/" "$TMP/drover-sup.log" "$PID_SUP"
wait_200 "drover (workers: 2)" "http://127.0.0.1:$P_DROVER_W2/" "$TMP/drover-w2.log" "$PID_DROVER_W2"
wait_200 "haproxy (nbthread 2)" "http://127.0.0.1:$P_HAPROXY_W2/" "$TMP/haproxy-w2.log" "$PID_HAPROXY_W2"
wait_200 "nginx (2 workers)" "http://127.0.0.1:$P_NGINX_W2/" "$NGX_W2/error.log" "$PID_NGINX_W2"
PARENT=$PID_NGINX
NGINX_PIDS="$PID_NGINX $(children | tr '\n' ' ')"
[ "$(echo $NGINX_PIDS | wc -w)" -ge 2 ] || die "no nginx worker found"
PARENT=$PID_NGINX_W2
NGINX_W2_PIDS="$PID_NGINX_W2 $(children | tr '\n' ' ')"
[ "$(echo $NGINX_W2_PIDS | wc -w)" -ge 3 ] || die "no 2 nginx workers found"

# Every target, every kind of request of the scenarios: 200 and a full body.
declare -A URL PIDOF NAME
URL[direct]=http://127.0.0.1:${B[0]}
URL[drover]=http://127.0.0.1:$P_DROVER
URL[haproxy]=http://127.0.0.1:$P_HAPROXY
URL[nginx]=http://127.0.0.1:$P_NGINX
URL[drover_sup]=http://127.0.0.1:$P_SUP
URL[drover_w2]=http://127.0.0.1:$P_DROVER_W2
URL[haproxy_w2]=http://127.0.0.1:$P_HAPROXY_W2
URL[nginx_w2]=http://127.0.0.1:$P_NGINX_W2
PIDOF[direct]=${BPID[0]}
PIDOF[drover]=$PID_DROVER
PIDOF[haproxy]=$PID_HAPROXY
PIDOF[nginx]=$NGINX_PIDS
PIDOF[drover_sup]=$PID_SUP
PIDOF[drover_w2]=$PID_DROVER_W2
PIDOF[haproxy_w2]=$PID_HAPROXY_W2
PIDOF[nginx_w2]=$NGINX_W2_PIDS
NAME[direct]="direct (1 backend)"
NAME[drover]="drover"
NAME[haproxy]="HAProxy"
NAME[nginx]="nginx"
NAME[drover_sup]="drover supervised"
NAME[drover_w2]="drover workers: 2"
NAME[haproxy_w2]="HAProxy nbthread 2"
NAME[nginx_w2]="nginx 2 workers"
head -c 4096 /dev/zero | tr '\0' x >"$TMP/body4k"
for t in direct drover haproxy nginx drover_sup drover_w2 haproxy_w2 nginx_w2; do
    u=${URL[$t]}
    c1=$(http_code "$u/")
    c2=$(http_code "$u/" -H "Connection: close")
    got=$(curl -s --max-time 3 "$u/?size=16384" | wc -c)
    c3=$(http_code "$u/?size=16384")
    c4=$(http_code "$u/" -X POST --data-binary "@$TMP/body4k" -H "Content-Type: application/octet-stream")
    [ "$c1$c2$c3$c4" = 200200200200 ] && [ "$got" -eq 16384 ] ||
        die "${NAME[$t]} at $u: GET $c1, close $c2, 16k $c3 ($got bytes), POST $c4 (want 200 each, 16384 bytes)"
done
say "all targets answer 200 (GET, Connection: close, 16 KiB, 4 KiB POST)"

# ---- memory with idle keep-alive connections ---------------------------------------------------------
# Before any load: RSS, then IDLE_CONNS connections that made one request
# each and stay open, RSS again; the difference per connection.
: >"$TMP/memory.tsv"
for t in drover haproxy nginx; do
    before=$(rss_kb ${PIDOF[$t]})
    "$IDLE" -a "127.0.0.1:${URL[$t]##*:}" -n "$IDLE_CONNS" -t 60 >"$TMP/idle-$t.out" 2>"$TMP/idle-$t.err" &
    ipid=$!
    IDLE_PID=$ipid
    for i in $(seq 700); do
        grep -q '^idle: ready' "$TMP/idle-$t.out" 2>/dev/null && break
        [ -d "/proc/$ipid" ] || break
        sleep 0.1
    done
    line=$(grep '^idle: ready' "$TMP/idle-$t.out" 2>/dev/null || true)
    [ -n "$line" ] || { cat "$TMP/idle-$t.err" >&2; die "bench-idle against ${NAME[$t]} did not get ready"; }
    sleep 1   # let the proxy settle (pooled upstream connections, lazy frees)
    after=$(rss_kb ${PIDOF[$t]})
    ok=$(echo "$line" | sed -n 's/.*ok=\([0-9]*\).*/\1/p')
    secs=$(echo "$line" | sed -n 's/.*secs=\([0-9.]*\).*/\1/p')
    kill -TERM "$ipid" 2>/dev/null || true
    wait "$ipid" 2>/dev/null || true
    IDLE_PID=""
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$before" "$after" "$ok" "$IDLE_CONNS" "$secs" >>"$TMP/memory.tsv"
    say "memory: ${NAME[$t]}: ${before} kB -> ${after} kB with $ok idle connections (of $IDLE_CONNS, set up in ${secs}s)"
    sleep 1   # the proxy sees 10k resets; let it finish before the next one
done

# ---- throughput rounds ----------------------------------------------------------------------------------------
# Scenarios: connections, path, targets; the extra wrk arguments are in run_one.
# S_ROLES: the targets compared as drover, HAProxy and nginx in that scenario.
SCENARIOS=(keepalive64 keepalive256 keepalive1024 close size16k post4k supervised workers)
declare -A S_CONNS S_PATH S_TARGETS S_ROLES
S_CONNS=([keepalive64]=64 [keepalive256]=256 [keepalive1024]=1024 [close]=64 [size16k]=64 [post4k]=64 [supervised]=64 [workers]=64)
S_PATH=([keepalive64]=/ [keepalive256]=/ [keepalive1024]=/ [close]=/ [size16k]=/?size=16384 [post4k]=/ [supervised]=/ [workers]=/)
for s in keepalive64 keepalive256 keepalive1024 close size16k post4k; do
    S_TARGETS[$s]="direct drover haproxy nginx"
    S_ROLES[$s]="drover haproxy nginx"
done
S_TARGETS[supervised]="drover drover_sup haproxy nginx"
S_ROLES[supervised]="drover_sup haproxy nginx"
S_TARGETS[workers]="drover_w2 haproxy_w2 nginx_w2"
S_ROLES[workers]="drover_w2 haproxy_w2 nginx_w2"
ROLES=""
for s in "${SCENARIOS[@]}"; do ROLES="$ROLES$s:${S_ROLES[$s]// /,};"; done
# The workers scenario: wrk on the last CPU; the proxies' 2 threads and the
# backends take whatever the scheduler gives them on both.
NCPU=$(nproc)
PIN=()
command -v taskset >/dev/null 2>&1 && [ "$NCPU" -ge 2 ] && PIN=(taskset -c $((NCPU - 1)))
# Which backends each target spreads over (for the spread table).
declare -A SPREAD_PORTS
SPREAD_PORTS[drover]="${B[*]}"
SPREAD_PORTS[haproxy]="${B[*]}"
SPREAD_PORTS[nginx]="${B[*]}"
SPREAD_PORTS[drover_sup]="${SUP_PORTS[*]}"

# wrk's latency figure in ms.
to_ms() { awk -v v="$1" 'BEGIN { u = v; sub(/^[0-9.]+/, "", u); n = v + 0;
    if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000; printf "%.3f", n }'; }

: >"$TMP/runs.tsv"
: >"$TMP/spread.tsv"
run_one() { # scenario target round
    local s=$1 t=$2 r=$3 out="$TMP/wrk-$1-$2-$3.txt" c0 c1 sp0="" sp1="" args
    case $s in
    close) args=(-H "Connection: close") ;;
    post4k) args=(-s "$ROOT/bench/post.lua") ;;
    *) args=() ;;
    esac
    [ -n "${SPREAD_PORTS[$t]:-}" ] && sp0=$(backend_counts ${SPREAD_PORTS[$t]})
    c0=$(cpu_ticks ${PIDOF[$t]})
    local pin=()
    [ "$s" = workers ] && pin=("${PIN[@]}")
    "${pin[@]}" wrk -t1 -c"${S_CONNS[$s]}" -d"${DURATION}s" --latency "${args[@]}" "${URL[$t]}${S_PATH[$s]}" >"$out" 2>&1 || true
    c1=$(cpu_ticks ${PIDOF[$t]})
    [ -n "${SPREAD_PORTS[$t]:-}" ] && sp1=$(backend_counts ${SPREAD_PORTS[$t]})
    local rps reqs p50 p99 errs
    rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$out")
    reqs=$(awk '/requests in/ { print $1 }' "$out")
    p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$out")")
    p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$out")")
    errs=$(awk '/Socket errors:/ { gsub(/,/, ""); n += $4 + $6 + $8 + $10 } /Non-2xx or 3xx responses:/ { n += $5 } END { print n + 0 }' "$out")
    if [ -z "$rps" ] || [ -z "$reqs" ]; then
        say "wrk failed for $s ${NAME[$t]}:"
        cat "$out" >&2
        rps=0 reqs=0
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$s" "$t" "$r" "$rps" "$p50" "$p99" "$errs" "$reqs" "$((c1 - c0))" >>"$TMP/runs.tsv"
    if [ -n "$sp0" ] && [ -n "$sp1" ]; then
        echo "$t $sp0 $sp1" | awk '{ printf "%s", $1; for (i = 2; i <= 5; i++) printf "\t%d", $(i + 4) - $i; print "" }' >>"$TMP/spread.tsv"
    fi
    say "$(printf '%-12s r%d %-19s %9s req/s  p50 %7s ms  p99 %7s ms  errors %s' "$s" "$r" "${NAME[$t]}" "$rps" "$p50" "$p99" "$errs")"
}

if [ "$QUICK" != 1 ]; then
    # Warm-up: one second each, not recorded.
    for t in direct drover haproxy nginx drover_sup; do wrk -t1 -c64 -d1s "${URL[$t]}/" >/dev/null 2>&1 || true; done
fi
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
# Other load skews every figure: sample the whole machine for a second while
# our processes are idle.
cpu_idle_pct() {
    local a b
    a=$(head -n1 /proc/stat)
    sleep 1
    b=$(head -n1 /proc/stat)
    printf '%s\n%s\n' "$a" "$b" | awk 'NR == 1 { for (i = 2; i <= NF; i++) { t0 += $i } i0 = $5 + $6 } NR == 2 { for (i = 2; i <= NF; i++) { t1 += $i } i1 = $5 + $6 } END { printf "%.0f", (t1 > t0) ? 100 * (i1 - i0) / (t1 - t0) : 100 }'
}
IDLE_PCT=$(cpu_idle_pct)
if [ "$IDLE_PCT" -lt 90 ]; then
    NOTES+=("the machine was busy before the rounds: only $IDLE_PCT % of the CPU idle while the bench was idle; other processes skew these figures")
    say "warning: ${NOTES[-1]}"
fi
for s in "${SCENARIOS[@]}"; do
    for r in $(seq "$ROUNDS"); do
        for t in ${S_TARGETS[$s]}; do
            run_one "$s" "$t" "$r"
        done
    done
done
# shellcheck source=bench/storm.sh
. bench/storm.sh
storm_bench
# shellcheck source=bench/node.sh
. bench/node.sh
node_bench
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# Every proxy must still be there (a crash would show as errors, but say it).
for t in drover haproxy nginx drover_sup drover_w2 haproxy_w2 nginx_w2; do
    for p in ${PIDOF[$t]}; do
        [ -d "/proc/$p" ] || { NOTES+=("${NAME[$t]} (pid $p) exited during the run"); say "${NOTES[-1]}"; }
    done
done

# ---- report -------------------------------------------------------------------------------------------------------
T_END=$(date +%s)
mkdir -p bench/results
RES=bench/results/$DAY.md
rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -n "$(git status --porcelain -- router lib conf supervisor 2>/dev/null)" ] && rev="$rev (+ uncommitted changes)"
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
{
    if [ "$QUICK" = 1 ]; then echo "# drover vs HAProxy vs nginx: $DAY (QUICK=1, indicative only)"; else echo "# drover vs HAProxy vs nginx: $DAY"; fi
    echo
    echo "Run by \`make bench\` (\`bench/run.sh\`, see \`bench/README.md\`) in $((T_END - T_START)) s."
    echo "Machine: $(nproc) CPUs ($cpu), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), Linux $(uname -r),"
    echo "shared by wrk, the proxy and the 4 backends. drover $rev, $(haproxy -v 2>/dev/null | head -n1 | awk '{ print "HAProxy " $3 }'),"
    echo "$(nginx -v 2>&1 | sed 's|nginx version: nginx/|nginx |'), $(wrk -v 2>&1 | head -n1 | awk '{ print "wrk " $2 }'). Load average before the rounds: $LOAD_BEFORE (CPU idle: $IDLE_PCT %), after: $LOAD_AFTER."
    echo
    echo "Every proxy: 1 thread / worker, round robin over the same 4 \`build/backend\` instances,"
    echo "keep-alive to clients and backends, equal timeouts, no access log. Each figure:"
    echo "\`wrk -t1 -cC -d${DURATION}s --latency\`, $ROUNDS round(s), targets interleaved within each round"
    echo "(A B C D A B C D ...); req/s, p50 and p99 are medians over the rounds, errors are summed"
    echo "(socket errors + non-2xx), CPU is the proxy's own utime+stime over all rounds divided by"
    echo "its requests (for \"direct\", the backend's). \"drover ÷\" is drover's req/s divided by that row's"
    echo "(in \`supervised\`, drover supervised's)."
    for n in "${NOTES[@]+"${NOTES[@]}"}"; do echo; echo "**Note:** $n"; done
    echo
    echo "## Throughput, latency, CPU"
    echo
    echo "| scenario | target | req/s | req/s per round | p50 ms | p99 ms | errors | CPU µs/req | drover ÷ |"
    echo "| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |"
    for s in "${SCENARIOS[@]}"; do
        for t in ${S_TARGETS[$s]}; do
            echo "$s	$t	${NAME[$t]}"
        done
    done | awk -F'\t' -v runs="$TMP/runs.tsv" -v tck="$CLK_TCK" -v roles="$ROLES" '
        function median(list,   n, a, i, j, x) {
            n = split(list, a, " ")
            for (i = 2; i <= n; i++) { x = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
            if (n == 0) return 0
            return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
        }
        function commas(x,   s, r) { s = sprintf("%.0f", x); r = ""; while (length(s) > 3) { r = "," substr(s, length(s) - 2) r; s = substr(s, 1, length(s) - 3) } return s r }
        BEGIN {
            nr = split(roles, rl, ";")
            for (i = 1; i <= nr; i++) { if (rl[i] == "") continue; split(rl[i], kv, ":"); split(kv[2], tr, ","); dref[kv[1]] = tr[1] }
            while ((getline line < runs) > 0) {
                split(line, f, "\t"); k = f[1] SUBSEP f[2]
                rps[k] = rps[k] " " f[4]; p50[k] = p50[k] " " f[5]; p99[k] = p99[k] " " f[6]
                err[k] += f[7]; req[k] += f[8]; tic[k] += f[9]
            }
        }
        { s = $1; t = $2; name[NR] = $3; sc[NR] = s; tg[NR] = t; n = NR }
        END {
            for (i = 1; i <= n; i++) {
                k = sc[i] SUBSEP tg[i]; med[k] = median(rps[k])
            }
            for (i = 1; i <= n; i++) {
                s = sc[i]; t = tg[i]; k = s SUBSEP t
                ref = med[s SUBSEP dref[s]]
                ratio = (med[k] > 0) ? sprintf("%.2f", ref / med[k]) : "-"
                if (t == dref[s]) ratio = "1"
                per = rps[k]; sub(/^ /, "", per); gsub(/ /, " / ", per)
                cpu = (req[k] > 0) ? sprintf("%.1f", tic[k] / tck * 1e6 / req[k]) : "-"
                printf "| %s | %s | %s | %s | %.2f | %.2f | %d | %s | %s |\n", s, name[i], commas(med[k]), per, median(p50[k]), median(p99[k]), err[k], cpu, ratio
            }
        }'
    echo
    echo "## drover against the others (median req/s)"
    echo
    echo "Noise: the spread of each proxy's rounds, (highest - lowest) / median, the largest of the"
    echo "three. A ratio within the noise says nothing: it is shown as a tie."
    echo
    echo "| scenario | drover | HAProxy | nginx | drover ÷ HAProxy | drover ÷ nginx | p99 ms drover / HAProxy / nginx | noise | ceiling: direct to 1 backend |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |"
    awk -F'\t' -v roles="$ROLES" -v names="drover_sup=drover supervised,drover_w2=drover workers: 2" '
        function median(list,   n, a, i, j, x) {
            n = split(list, a, " ")
            for (i = 2; i <= n; i++) { x = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
            if (n == 0) return 0
            return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
        }
        function spread(list,   n, a, i, lo, hi, m) {
            n = split(list, a, " ")
            if (n < 2) return -1
            lo = hi = a[1] + 0
            for (i = 2; i <= n; i++) { if (a[i] + 0 < lo) lo = a[i] + 0; if (a[i] + 0 > hi) hi = a[i] + 0 }
            m = median(list)
            return m > 0 ? (hi - lo) / m : -1
        }
        function judge(r, noise) {
            if (noise < 0) return sprintf("%.2f", r)
            return (r - 1 <= noise && 1 - r <= noise) ? sprintf("%.2f (tie)", r) : sprintf("%.2f", r)
        }
        BEGIN {
            nr = split(roles, rl, ";")
            for (i = 1; i <= nr; i++) { if (rl[i] == "") continue; split(rl[i], kv, ":"); split(kv[2], tr, ","); D[kv[1]] = tr[1]; H[kv[1]] = tr[2]; G[kv[1]] = tr[3] }
            nn = split(names, nl, ",")
            for (i = 1; i <= nn; i++) { split(nl[i], kv, "="); label[kv[1]] = kv[2] }
        }
        { k = $1 SUBSEP $2; v[k] = v[k] " " $4; p99[k] = p99[k] " " $6; if (!($1 in seen)) { seen[$1] = 1; order[++n] = $1 } }
        END {
            for (i = 1; i <= n; i++) {
                s = order[i]
                kd = s SUBSEP D[s]; kh = s SUBSEP H[s]; kg = s SUBSEP G[s]
                d = median(v[kd]); h = median(v[kh]); g = median(v[kg]); c = median(v[s SUBSEP "direct"])
                noise = spread(v[kd]); x = spread(v[kh]); if (x > noise) noise = x; x = spread(v[kg]); if (x > noise) noise = x
                rh = (h > 0 ? d / h : 0); rg = (g > 0 ? d / g : 0)
                lab = (D[s] in label) ? " (" label[D[s]] ")" : ""
                printf "| %s%s | %.0f | %.0f | %.0f | %s | %s | %.2f / %.2f / %.2f | %s | %s |\n", s, lab, d, h, g, judge(rh, noise), judge(rg, noise), median(p99[kd]), median(p99[kh]), median(p99[kg]), (noise < 0 ? "1 round" : sprintf("%.0f %%", 100 * noise)), (c > 0 ? sprintf("%.0f", c) : "-")
                printf "RESULT scenario=%s drover_rps=%.0f haproxy_rps=%.0f nginx_rps=%.0f ratio_haproxy=%.2f ratio_nginx=%.2f noise=%s\n", s, d, h, g, rh, rg, (noise < 0 ? "unknown" : sprintf("%.2f", noise)) > "/dev/stderr"
            }
        }' "$TMP/runs.tsv" 2>"$TMP/result-lines.txt"
    echo
    storm_report
    node_report
    echo "## Memory with $IDLE_CONNS idle keep-alive connections"
    echo
    echo "Resident memory (\`Rss\` of \`/proc/PID/smaps_rollup\`; nginx: master + worker) before"
    echo "and after \`bench-idle\` opened the connections, each carrying one \`GET /\` and then idle."
    echo
    echo "| proxy | RSS before | RSS with idle connections | idle connections held | per connection |"
    echo "| --- | ---: | ---: | ---: | ---: |"
    awk -F'\t' -v names="drover=drover,haproxy=HAProxy,nginx=nginx" '
        BEGIN { n = split(names, a, ","); for (i = 1; i <= n; i++) { split(a[i], b, "="); nm[b[1]] = b[2] } }
        { per = ($4 > 0) ? sprintf("%.0f bytes", ($3 - $2) * 1024 / $4) : "-"
          printf "| %s | %.1f MiB | %.1f MiB | %d of %d | %s |\n", nm[$1], $2 / 1024, $3 / 1024, $4, $5, per }' "$TMP/memory.tsv"
    echo
    echo "## Spread over the 4 backends"
    echo
    echo "Requests each backend counted (\`?stats=1\`) during every run of that proxy, all scenarios."
    echo
    echo "| proxy | requests | b1 | b2 | b3 | b4 | max deviation from 25 % |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
    for t in drover drover_sup haproxy nginx; do
        awk -F'\t' -v t="$t" -v name="${NAME[$t]}" '
            $1 == t { for (i = 1; i <= 4; i++) c[i] += $(i + 1) }
            END { tot = c[1] + c[2] + c[3] + c[4]; if (tot == 0) exit
                  dev = 0; line = ""
                  for (i = 1; i <= 4; i++) { sh = 100 * c[i] / tot; d = sh - 25; if (d < 0) d = -d; if (d > dev) dev = d; line = line sprintf(" %d (%.2f %%) |", c[i], sh) }
                  printf "| %s | %d |%s %.3f points |\n", name, tot, line, dev }' "$TMP/spread.tsv"
    done
    echo
    echo '```'
    cat "$TMP/result-lines.txt"
    echo '```'
} >"$RES"

cat "$RES"
echo
say "written to $RES ($((T_END - T_START)) s)"
cat "$TMP/result-lines.txt"
# TLS=1: the TLS scenarios too (bench/tls.sh, its own results file).
if [ "${TLS:-0}" = 1 ]; then
    QUICK=$QUICK bench/tls.sh "$BUILD"
fi
