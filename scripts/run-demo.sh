#!/bin/sh
# `make run`: drover in front of the bundled example app (examples/hello):
# four web instances and a worker, routed on :8080. Ctrl-C drains and stops.
set -eu
build=${1:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
port=${DROVER_PORT:-8080}

cat <<MSG
drover demo: examples/hello (4 web instances + 1 worker) behind http://127.0.0.1:$port/
  curl -i http://127.0.0.1:$port/
  wrk -t1 -c64 -d10s http://127.0.0.1:$port/
Ctrl-C drains and stops everything.
MSG
PATH="$here/$build:$PATH"
export PATH
exec "$here/$build/drover" run -d "$here/examples/hello"
