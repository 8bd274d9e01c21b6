#!/bin/sh
# `make run`: drover in front of three instances of the bundled backend on
# loopback. Ctrl-C stops everything.
set -eu
build=${1:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
port=${DROVER_PORT:-8080}

pids=""
cleanup() {
    trap - INT TERM EXIT
    for p in $pids; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT

for i in 1 2 3; do
    "$here/$build/backend" -l "127.0.0.1:910$i" -n "web.$i" &
    pids="$pids $!"
done

cat <<MSG
drover demo: 3 backends on 127.0.0.1:9101-9103, drover on 127.0.0.1:$port
  curl -i http://127.0.0.1:$port/
  wrk -t1 -c64 -d10s http://127.0.0.1:$port/
Ctrl-C stops drover and the backends.
MSG
"$here/$build/drover" run -c "$here/examples/static/drover.yaml" &
pids="$pids $!"
wait $!
