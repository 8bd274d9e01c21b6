#!/usr/bin/env bash
# bench/dashboard.sh [BUILD_DIR]: what an open dashboard costs the data plane.
#
# drover (workers: 1) supervises 2 instances of the bundled backend; wrk
# (keep-alive, 2 threads, 64 connections) runs against it in interleaved
# rounds, without and with a headless Chromium keeping the dashboard open
# (GET /status every second, GET /logs?follow=1 streaming). Prints the
# requests per second of each round, the medians and their ratio, then what
# the page costs drover with no load: CPU over 20 s, and the size of one
# /status answer. Indicative: the machine may be shared.
#
# Environment: ROUNDS (3), DURATION (5 s), CONNS (64), KEEP=1 (keep the
# scratch dir). Needs wrk, curl, awk, chromium.
set -eu -o pipefail

cd "$(dirname "$0")/.."
BUILD=${1:-build}
BUILD=$(cd "$BUILD" && pwd)
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5}
CONNS=${CONNS:-64}
CLK_TCK=$(getconf CLK_TCK)

say() { printf 'dashboard-bench: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }
for t in wrk curl awk chromium; do command -v "$t" >/dev/null 2>&1 || die "$t is missing"; done
[ -x "$BUILD/drover" ] && [ -x "$BUILD/backend" ] || die "build $BUILD/drover and $BUILD/backend first (make)"

free_port() {
    local p
    while :; do
        p=$((20000 + RANDOM % 20000))
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
    done
}

TMP=$(mktemp -d /tmp/drover-dashboard-bench.XXXXXX)
LP=$(free_port)
AP=$(free_port)
BASE=$(free_port)
DROVER_PID=""
CHROME_PID=""

cleanup() {
    [ -n "$CHROME_PID" ] && kill -TERM -- "-$CHROME_PID" 2>/dev/null || true
    if [ -n "$DROVER_PID" ]; then
        kill -TERM "$DROVER_PID" 2>/dev/null || true
        wait "$DROVER_PID" 2>/dev/null || true
    fi
    [ "${KEEP:-0}" = 1 ] && say "kept $TMP" || rm -rf "$TMP"
}
trap cleanup EXIT

mkdir -p "$TMP/app"
printf 'web: exec %s -l 127.0.0.1:$PORT -q\n' "$BUILD/backend" >"$TMP/app/Procfile"
cat >"$TMP/app/drover.yaml" <<EOF
listen: 127.0.0.1:$LP
admin: {listen: 127.0.0.1:$AP}
log: {access: off}
app: {base_port: $BASE}
processes: {web: {instances: 2}}
EOF
"$BUILD/drover" run -d "$TMP/app" >"$TMP/drover.log" 2>&1 &
DROVER_PID=$!
for _ in $(seq 100); do
    curl -fs -o /dev/null "http://127.0.0.1:$LP/" && break
    sleep 0.1
done
curl -fs -o /dev/null "http://127.0.0.1:$LP/" || die "drover does not answer (see $TMP/drover.log)"

page_open() {
    setsid chromium --headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage \
        --no-first-run --user-data-dir="$TMP/profile" "http://127.0.0.1:$AP/" \
        >"$TMP/chromium.log" 2>&1 &
    CHROME_PID=$!
    sleep 4 # the browser up, the page polling
}

page_close() {
    kill -TERM -- "-$CHROME_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$CHROME_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$CHROME_PID" 2>/dev/null || true
    CHROME_PID=""
}

rps() {
    wrk -t2 -c"$CONNS" -d"${DURATION}s" "http://127.0.0.1:$LP/" | awk '/^Requests\/sec:/ {print $2}'
}

drover_cpu_ms() {
    awk -v tck="$CLK_TCK" '{print ($14 + $15) * 1000 / tck}' "/proc/$DROVER_PID/stat"
}

median() { sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

wrk -t2 -c"$CONNS" -d1s "http://127.0.0.1:$LP/" >/dev/null # warm up
: >"$TMP/without"
: >"$TMP/with"
for r in $(seq "$ROUNDS"); do
    a=$(rps)
    echo "$a" >>"$TMP/without"
    page_open
    b=$(rps)
    echo "$b" >>"$TMP/with"
    page_close
    say "round $r: without the page $a req/s, with it open $b req/s"
done
A=$(median <"$TMP/without")
B=$(median <"$TMP/with")

# The page's own cost with no load: drover's CPU over 10 s, and one answer.
c0=$(drover_cpu_ms)
sleep 20
c1=$(drover_cpu_ms)
page_open
c2=$(drover_cpu_ms)
sleep 20
c3=$(drover_cpu_ms)
page_close
STATUS_BYTES=$(curl -fs "http://127.0.0.1:$AP/status" | wc -c)

printf 'keep-alive c%s, %s rounds of %ss: median %s req/s without the dashboard, %s req/s with it open: ratio %s\n' \
    "$CONNS" "$ROUNDS" "$DURATION" "$A" "$B" "$(awk -v a="$A" -v b="$B" 'BEGIN {printf "%.3f", b / a}')"
printf 'idle drover: %s ms CPU in 20 s without the page, %s ms with it open; one /status answer is %s bytes (2 instances)\n' \
    "$(awk -v x="$c0" -v y="$c1" 'BEGIN {printf "%.0f", y - x}')" \
    "$(awk -v x="$c2" -v y="$c3" 'BEGIN {printf "%.0f", y - x}')" "$STATUS_BYTES"
