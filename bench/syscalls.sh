#!/usr/bin/env bash
# bench/syscalls.sh BUILD_DIR: system calls per request of drover, HAProxy
# and nginx (`make bench-syscalls`), keep-alive and `Connection: close`.
# Each proxy (the bench's configs, 1 thread / worker) in front of the same
# 4 backends, `strace -c -f` attached to its serving process while `wrk
# -t1 -c32 -d3s` runs; strace slows every proxy alike, and a count per
# request does not depend on speed. Prints one table.
set -eu -o pipefail
cd "$(dirname "$0")/.."
BUILD=$(cd "${1:-build}" && pwd)
export PATH="$PATH:/usr/sbin:/sbin"
for t in strace wrk haproxy nginx curl; do command -v "$t" >/dev/null || { echo "syscalls: $t is missing (scripts/deps.sh bench)" >&2; exit 1; }; done
TMP=$(mktemp -d "${TMPDIR:-/tmp}/drover-syscalls.XXXXXX")
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    sleep 0.3
    for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# shellcheck source=bench/lib.sh
. bench/lib.sh
BASE=$(free_port_block 8)
[ -n "$BASE" ] || { echo "syscalls: no free port block" >&2; exit 1; }
B=($BASE $((BASE + 1)) $((BASE + 2)) $((BASE + 3)))
declare -A P=([drover]=$((BASE + 4)) [haproxy]=$((BASE + 5)) [nginx]=$((BASE + 6)))
for i in 0 1 2 3; do
    "$BUILD/backend" -q -l "127.0.0.1:${B[$i]}" -n "b$i" >/dev/null 2>&1 &
    PIDS+=($!)
done
cat >"$TMP/drover.yaml" <<EOF2
listen: 127.0.0.1:${P[drover]}
workers: 1
admin: {listen: off}
log: {access: off}
timeouts: {connect: 3s, client_header: 10s, client_body: 60s, upstream: 30s, idle: 60s, drain: 1s}
routes:
  - path: /
    backends: [127.0.0.1:${B[0]}, 127.0.0.1:${B[1]}, 127.0.0.1:${B[2]}, 127.0.0.1:${B[3]}]
EOF2
mkdir -p "$TMP/nginx"
[ "$(id -u)" -eq 0 ] && NGX_USER="user root;" || NGX_USER=""
fill bench/haproxy.cfg.in "${P[haproxy]}" "$TMP" "" >"$TMP/haproxy.cfg"
fill bench/nginx.conf.in "${P[nginx]}" "$TMP/nginx" "$NGX_USER" >"$TMP/nginx/nginx.conf"

# serving_pid NAME MASTER: the process that serves (nginx: its worker).
serving_pid() {
    if [ "$1" = nginx ]; then ps -o pid= --ppid "$2" | head -n1 | tr -d ' '; else echo "$2"; fi
}
start() {
    case $1 in
    drover) "$BUILD/drover" run -c "$TMP/drover.yaml" >"$TMP/drover.log" 2>&1 & ;;
    haproxy) haproxy -db -f "$TMP/haproxy.cfg" >"$TMP/haproxy.log" 2>&1 & ;;
    nginx) nginx -p "$TMP/nginx/" -c "$TMP/nginx/nginx.conf" -e "$TMP/nginx/error.log" >/dev/null 2>&1 & ;;
    esac
    MASTER=$!
    PIDS+=($MASTER)
    for i in $(seq 100); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${P[$1]}/" 2>/dev/null)" = 200 ] && return 0
        sleep 0.1
    done
    echo "syscalls: $1 does not answer" >&2
    exit 1
}

printf '| proxy | mode | requests | syscalls per request | of which |\n| --- | --- | ---: | ---: | --- |\n'
for name in drover haproxy nginx; do
    start "$name"
    pid=$(serving_pid "$name" "$MASTER")
    for mode in keep-alive close; do
        hdr=()
        [ "$mode" = close ] && hdr=(-H "Connection: close")
        wrk -t1 -c32 -d1s "${hdr[@]}" "http://127.0.0.1:${P[$name]}/" >/dev/null 2>&1
        strace -c -f -p "$pid" -o "$TMP/$name-$mode.strace" 2>/dev/null &
        spid=$!
        sleep 0.5
        wrk -t1 -c32 -d3s "${hdr[@]}" "http://127.0.0.1:${P[$name]}/" >"$TMP/$name-$mode.wrk" 2>&1
        kill -INT "$spid"
        wait "$spid" 2>/dev/null || true
        n=$(awk '/requests in/ { print $1 }' "$TMP/$name-$mode.wrk")
        awk -v n="$n" -v name="$name" -v mode="$mode" '
            $NF == "total" { total = $4 }
            NF >= 5 && $4 ~ /^[0-9]+$/ && $NF != "total" && $NF != "syscall" { c[$NF] = $4 }
            END {
                parts = ""
                for (s in c) if (c[s] / n >= 0.05) parts = parts sprintf("%s%s %.2f", (parts == "" ? "" : ", "), s, c[s] / n)
                printf "| %s | %s | %d | %.2f | %s |\n", name, mode, n, total / n, parts
            }' "$TMP/$name-$mode.strace"
    done
    kill -TERM "$MASTER"
    wait "$MASTER" 2>/dev/null || true
done
