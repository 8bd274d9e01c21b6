#!/usr/bin/env bash
# bench/tls.sh BUILD_DIR: drover against HAProxy and nginx over TLS
# (`make bench-tls`, or `make bench TLS=1` after the plain scenarios).
#
# The same certificate for all three proxies, once RSA 2048 and once ECDSA
# P-256, made here with openssl. 4 fast backends (BUILD_DIR/backend) on
# loopback; drover (workers: 1), HAProxy (nbthread 1) and nginx
# (worker_processes 1) terminate TLS in front of them, each with its TLS
# session cache and tickets on. For every certificate and proxy, in
# interleaved rounds (A B C A B C ...):
#
#   keep-alive    wrk -c64 over https, keep-alive: requests/s and p99
#   handshakes    wrk -c64 with "Connection: close": every request a new
#                 full handshake (wrk does not resume): handshakes/s
#   resumed       openssl s_time -reuse: one client resuming one session
#                 over and over: connections per second of wall time
#   idle memory   RSS growth per connection with IDLE_CONNS (10,000) idle
#                 TLS keep-alive connections (bench/idle_tls.c)
#
# and each proxy's own CPU time per request and per handshake (utime +
# stime from /proc): on a shared machine it moves less than req/s does.
#
# Writes bench/results/<date>-tls.md, printed at the end. The machine this
# runs on is usually shared: the figures are indicative, not a lab's.
#
# Environment: QUICK=1 (1 round of 3 s, 2,000 idle connections),
# ROUNDS=N, DURATION=SECONDS, IDLE_CONNS=N, KEEP=1 (keep the scratch dir).
# Needs bash, awk, curl, wrk, haproxy, nginx, openssl, a C compiler and
# libssl-dev. Standalone: bench/run.sh runs top to bottom and is not
# sourced (it is edited for other scenarios meanwhile).

set -eu -o pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD=${1:-build}
BUILD=$(cd "$BUILD" && pwd)
QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then
    ROUNDS=${ROUNDS:-1}
    DURATION=${DURATION:-3}
    IDLE_CONNS=${IDLE_CONNS:-2000}
else
    ROUNDS=${ROUNDS:-3}
    DURATION=${DURATION:-5}
    IDLE_CONNS=${IDLE_CONNS:-10000}
fi
DAY=$(date +%F)
export PATH="$PATH:/usr/sbin:/sbin"

say() { printf '%s\n' "bench-tls: $*" >&2; }
die() { say "error: $*"; exit 1; }
# shellcheck source=bench/lib.sh
. bench/lib.sh

for t in wrk haproxy nginx curl awk openssl cc; do
    command -v "$t" >/dev/null 2>&1 || die "$t is missing (scripts/deps.sh bench)"
done
DROVER=$BUILD/drover
BACKEND=$BUILD/backend
IDLE=$BUILD/bench-idle-tls
[ -x "$DROVER" ] && [ -x "$BACKEND" ] || die "build drover and its backend first (make)"
if [ ! -x "$IDLE" ] || [ bench/idle_tls.c -nt "$IDLE" ]; then
    ${CC:-cc} -O2 -Wall -Wextra -o "$IDLE" bench/idle_tls.c -lssl -lcrypto || die "cannot compile bench/idle_tls.c"
fi
ulimit -Sn "$(ulimit -Hn)" 2>/dev/null || true
NOFILE=$(ulimit -Sn)
if [ "$NOFILE" != unlimited ] && [ $((IDLE_CONNS + 1100)) -gt "$NOFILE" ]; then
    IDLE_CONNS=$((NOFILE - 1100))
    say "idle connections capped at $IDLE_CONNS (nofile limit $NOFILE)"
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/drover-bench-tls.XXXXXX")
chmod 755 "$TMP"
PIDS=()
cleanup() {
    local rc=$? p
    set +e
    trap - EXIT INT TERM
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
    sleep 0.5
    for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
    wait 2>/dev/null
    if [ "${KEEP:-0}" = 1 ] || [ $rc -ne 0 ]; then say "scratch dir kept: $TMP"; else rm -rf "$TMP"; fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- ports: a block of 16 that no socket uses --------------------------------
BASE=$(free_port_block 16)
[ -n "$BASE" ] || die "no free port block"
B=($BASE $((BASE + 1)) $((BASE + 2)) $((BASE + 3)))
declare -A PORT=([drover]=$((BASE + 4)) [haproxy]=$((BASE + 5)) [nginx]=$((BASE + 6)))
P_ADMIN=$((BASE + 7))
PROXIES=(drover haproxy nginx)

CLK_TCK=$(getconf CLK_TCK)
wait_200() {
    local url=$1 i
    for i in $(seq 100); do
        [ "$(curl -sk -o /dev/null -w '%{http_code}' --max-time 2 "$url" || true)" = 200 ] && return 0
        sleep 0.1
    done
    die "$url does not answer 200"
}

for i in 0 1 2 3; do
    "$BACKEND" -l "127.0.0.1:${B[$i]}" -n "b$i" -q >"$TMP/backend$i.log" 2>&1 &
    PIDS+=($!)
done

# ---- certificates --------------------------------------------------------------
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMP/rsa.key" -out "$TMP/rsa.pem" -days 7 \
    -subj /CN=bench.test -addext subjectAltName=DNS:bench.test 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TMP/ecdsa.key" \
    -out "$TMP/ecdsa.pem" -days 7 -subj /CN=bench.test -addext subjectAltName=DNS:bench.test 2>/dev/null
for k in rsa ecdsa; do cat "$TMP/$k.pem" "$TMP/$k.key" >"$TMP/$k.both"; done

# ---- the proxies, for certificate $1 ------------------------------------------------
# start_proxy NAME KIND: starts it and sets PID_OF[NAME].
declare -A PID_OF
start_proxy() {
    local name=$1 kind=$2 port=${PORT[$1]}
    case $name in
    drover)
        cat >"$TMP/drover.yaml" <<EOF
listen:
  - address: 127.0.0.1:$port
    tls:
      certificates: [{cert: $kind.pem, key: $kind.key}]
workers: 1
admin:
  listen: 127.0.0.1:$P_ADMIN
log:
  access: off
limits:
  max_connections: 20000
routes:
  - path: /
    backends: [127.0.0.1:${B[0]}, 127.0.0.1:${B[1]}, 127.0.0.1:${B[2]}, 127.0.0.1:${B[3]}]
EOF
        "$DROVER" run -c "$TMP/drover.yaml" >"$TMP/drover-$kind.log" 2>&1 &
        ;;
    haproxy)
        cat >"$TMP/haproxy.cfg" <<EOF
global
    nbthread 1
    maxconn 20000
    no strict-limits
    tune.ssl.cachesize 20000
defaults
    mode http
    option http-keep-alive
    option forwardfor
    http-reuse always
    maxconn 20000
    timeout connect 3s
    timeout http-request 10s
    timeout client 60s
    timeout server 30s
    timeout http-keep-alive 60s
frontend bench
    bind 127.0.0.1:$port ssl crt $TMP/$kind.both alpn http/1.1
    http-request set-header X-Forwarded-Proto https
    default_backend four
backend four
    balance roundrobin
    server b1 127.0.0.1:${B[0]}
    server b2 127.0.0.1:${B[1]}
    server b3 127.0.0.1:${B[2]}
    server b4 127.0.0.1:${B[3]}
EOF
        haproxy -db -f "$TMP/haproxy.cfg" >"$TMP/haproxy-$kind.log" 2>&1 &
        ;;
    nginx)
        local user=""
        [ "$(id -u)" = 0 ] && user="user root;"
        mkdir -p "$TMP/nginx"
        cat >"$TMP/nginx/nginx.conf" <<EOF
$user
worker_processes 1;
worker_rlimit_nofile 65536;
daemon off;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log crit;
events { worker_connections 20000; }
http {
    access_log off;
    client_body_temp_path $TMP/nginx/body;
    proxy_temp_path $TMP/nginx/proxy;
    fastcgi_temp_path $TMP/nginx/fastcgi;
    uwsgi_temp_path $TMP/nginx/uwsgi;
    scgi_temp_path $TMP/nginx/scgi;
    keepalive_timeout 60s;
    keepalive_requests 1000000;
    upstream four {
        server 127.0.0.1:${B[0]};
        server 127.0.0.1:${B[1]};
        server 127.0.0.1:${B[2]};
        server 127.0.0.1:${B[3]};
        keepalive 1024;
        keepalive_requests 1000000;
    }
    server {
        listen 127.0.0.1:$port ssl backlog=4096;
        ssl_certificate $TMP/$kind.pem;
        ssl_certificate_key $TMP/$kind.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_session_cache shared:SSL:20m;
        ssl_session_tickets on;
        location / {
            proxy_pass http://four;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host \$http_host;
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto \$scheme;
        }
    }
}
EOF
        nginx -p "$TMP/nginx/" -c "$TMP/nginx/nginx.conf" -e "$TMP/nginx/error.log" >"$TMP/nginx-$kind.log" 2>&1 &
        ;;
    esac
    PID_OF[$name]=$!
    PIDS+=($!)
    wait_200 "https://127.0.0.1:$port/"
}
stop_proxy() {
    local p=${PID_OF[$1]}
    kill -TERM "$p" 2>/dev/null || true
    for i in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
}
# All the processes of a proxy (nginx's master and worker).
proxy_pids() {
    local p=${PID_OF[$1]}
    echo "$p" $(pgrep -P "$p" 2>/dev/null || true)
}

# ---- measurements ----------------------------------------------------------------------
# wrk_run URL [args]: "req/s p99_ms errors"
wrk_run() {
    local url=$1 out
    shift
    out=$(wrk -t2 -c64 -d"${DURATION}s" --latency "$@" "$url" 2>&1) || true
    echo "$out" | awk '
        /Requests\/sec:/ { rps = $2 }
        /^ +99%/ { v = $2; if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) } else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 } p99 = v }
        /Non-2xx/ { err += $NF }
        /Socket errors/ { gsub(/,/, ""); err += $4 + $6 + $8 + $10 }
        / requests in / { n = $1 }
        END { printf "%d %.2f %d %d\n", rps, p99, err, n }'
}
# resumed_run PORT: connections per wall second, one client resuming.
resumed_run() {
    local out
    out=$(openssl s_time -connect "127.0.0.1:$1" -reuse -time "$DURATION" 2>&1) || true
    echo "$out" | awk '/connections in [0-9]+ real seconds/ { for (i = 1; i <= NF; i++) if ($i == "real") { c = $1; s = $(i - 1) } } END { if (s > 0) printf "%d\n", c / s; else print 0 }'
}
idle_run() {
    local name=$1 port=${PORT[$1]} before after line ipid
    sleep 0.5
    before=$(rss_kb $(proxy_pids "$name"))
    "$IDLE" -a "127.0.0.1:$port" -n "$IDLE_CONNS" >"$TMP/idle-$name.out" 2>"$TMP/idle-$name.err" &
    ipid=$!
    for i in $(seq 1200); do grep -q '^idle: ready' "$TMP/idle-$name.out" && break; sleep 0.1; done
    sleep 1
    after=$(rss_kb $(proxy_pids "$name"))
    line=$(grep '^idle: ready' "$TMP/idle-$name.out" || echo "idle: ready ok=0")
    kill -TERM "$ipid" 2>/dev/null || true
    wait "$ipid" 2>/dev/null || true
    ok=$(echo "$line" | sed -n 's/.*ok=\([0-9]*\).*/\1/p')
    [ "${ok:-0}" -gt 0 ] || { echo "0 0 0"; return; }
    echo "$(( (after - before) * 1024 / ok )) $ok $after"
}

median() { sort -n | awk '{ a[NR] = $1 } END { if (NR == 0) print 0; else print a[int((NR + 1) / 2)] }'; }

declare -A KA_RPS KA_P99 HS_RPS RS_RPS IDLE_B ERRS KA_CPU HS_CPU KA_ALL HS_ALL
for kind in rsa ecdsa; do
    for name in "${PROXIES[@]}"; do ERRS[$kind.$name]=0; done
    for r in $(seq "$ROUNDS"); do
        for name in "${PROXIES[@]}"; do
            say "$kind round $r: $name"
            start_proxy "$name" "$kind"
            url="https://127.0.0.1:${PORT[$name]}/"
            t0=$(cpu_ticks $(proxy_pids "$name"))
            read -r rps p99 err n < <(wrk_run "$url")
            t1=$(cpu_ticks $(proxy_pids "$name"))
            echo "$rps" >>"$TMP/ka-rps.$kind.$name"
            echo "$p99" >>"$TMP/ka-p99.$kind.$name"
            awk -v t=$((t1 - t0)) -v n="$n" -v hz="$CLK_TCK" 'BEGIN { printf "%.1f\n", n ? t * 1e6 / hz / n : 0 }' >>"$TMP/ka-cpu.$kind.$name"
            ERRS[$kind.$name]=$((ERRS[$kind.$name] + err))
            t0=$(cpu_ticks $(proxy_pids "$name"))
            read -r rps p99 err n < <(wrk_run "$url" -H "Connection: close")
            t1=$(cpu_ticks $(proxy_pids "$name"))
            echo "$rps" >>"$TMP/hs.$kind.$name"
            awk -v t=$((t1 - t0)) -v n="$n" -v hz="$CLK_TCK" 'BEGIN { printf "%.0f\n", n ? t * 1e6 / hz / n : 0 }' >>"$TMP/hs-cpu.$kind.$name"
            ERRS[$kind.$name]=$((ERRS[$kind.$name] + err))
            resumed_run "${PORT[$name]}" >>"$TMP/rs.$kind.$name"
            stop_proxy "$name"
        done
    done
    for name in "${PROXIES[@]}"; do
        KA_RPS[$kind.$name]=$(median <"$TMP/ka-rps.$kind.$name")
        KA_P99[$kind.$name]=$(median <"$TMP/ka-p99.$kind.$name")
        KA_CPU[$kind.$name]=$(median <"$TMP/ka-cpu.$kind.$name")
        HS_CPU[$kind.$name]=$(median <"$TMP/hs-cpu.$kind.$name")
        KA_ALL[$kind.$name]=$(paste -sd/ "$TMP/ka-rps.$kind.$name")
        HS_ALL[$kind.$name]=$(paste -sd/ "$TMP/hs.$kind.$name")
        HS_RPS[$kind.$name]=$(median <"$TMP/hs.$kind.$name")
        RS_RPS[$kind.$name]=$(median <"$TMP/rs.$kind.$name")
        say "$kind idle memory: $name"
        start_proxy "$name" "$kind"
        read -r per ok total < <(idle_run "$name")
        IDLE_B[$kind.$name]="$per"
        stop_proxy "$name"
    done
done

# ---- the report --------------------------------------------------------------------------
mkdir -p bench/results
OUT=bench/results/$DAY-tls.md
{
    echo "# TLS: drover vs HAProxy vs nginx, $DAY"
    echo
    echo "\`make bench-tls${QUICK:+ QUICK=$QUICK}\` ($ROUNDS round(s) of ${DURATION}s, medians; $IDLE_CONNS idle connections)."
    echo "$(nproc) CPUs, $(uname -r), $(openssl version | cut -d' ' -f1-2); HAProxy $(haproxy -v 2>/dev/null | awk 'NR == 1 { print $3 }'), nginx $(nginx -v 2>&1 | sed 's|.*/||')."
    echo "One worker/thread each, the same certificate, 4 backends on loopback. The machine is shared"
    echo "with other work: the figures are indicative."
    echo
    for kind in rsa ecdsa; do
        [ $kind = rsa ] && echo "## RSA 2048" || echo "## ECDSA P-256"
        echo
        echo "| | keep-alive c64 req/s | p99 ms | CPU µs/req | new handshakes/s (c64, Connection: close) | CPU µs/handshake | resumed conns/s (s_time -reuse, 1 client) | idle RSS per TLS conn | errors |"
        echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
        for name in "${PROXIES[@]}"; do
            echo "| $name | ${KA_RPS[$kind.$name]} | ${KA_P99[$kind.$name]} | ${KA_CPU[$kind.$name]} | ${HS_RPS[$kind.$name]} | ${HS_CPU[$kind.$name]} | ${RS_RPS[$kind.$name]} | ${IDLE_B[$kind.$name]} B | ${ERRS[$kind.$name]} |"
        done
        echo
        printf 'Every round, req/s: keep-alive'
        for name in "${PROXIES[@]}"; do printf ' %s %s' "$name" "${KA_ALL[$kind.$name]}"; done
        printf '; handshakes'
        for name in "${PROXIES[@]}"; do printf ' %s %s' "$name" "${HS_ALL[$kind.$name]}"; done
        printf '.\n'
        best_ka=$(( KA_RPS[$kind.haproxy] > KA_RPS[$kind.nginx] ? KA_RPS[$kind.haproxy] : KA_RPS[$kind.nginx] ))
        best_hs=$(( HS_RPS[$kind.haproxy] > HS_RPS[$kind.nginx] ? HS_RPS[$kind.haproxy] : HS_RPS[$kind.nginx] ))
        echo
        awk -v a="${KA_RPS[$kind.drover]}" -v b="$best_ka" -v c="${HS_RPS[$kind.drover]}" -v d="$best_hs" \
            'BEGIN { printf "drover / the better peer: keep-alive %.2fx, handshakes %.2fx.\n", (b ? a / b : 0), (d ? c / d : 0) }'
        echo
    done
} >"$OUT"
cat "$OUT"
say "written to $OUT"
