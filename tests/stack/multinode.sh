#!/usr/bin/env bash
# make test-stack: the shape of a multi-machine deployment on one box.
#
# Network namespaces this script makes itself (and removes), joined by a
# bridge in a hub namespace, on 10.77.0.0/24 (never the host's network):
#   fe  10.77.0.10  HAProxy in TCP mode (send-proxy-v2, checks on /ready) in
#                   front of both nodes; dnsmasq naming both nodes
#                   nodes.test; a third drover finding them by DNS; wrk
#   n1  10.77.0.11  drover supervising 2 app instances
#   n2  10.77.0.12  the same
# Background processes are started with `ip netns exec` itself (it execs),
# so $! is their pid. Under wrk load through HAProxy and through the DNS drover: n1 drains
# (SIGTERM with timeouts.drain_delay) and comes back, n2 scales 2 -> 4.
# Every request must succeed. Ends with "N passed, M failed".
set -u -o pipefail

cd "$(dirname "$0")/../.."
ROOT=$(pwd)
BUILD=${1:-build}
DROVER=$ROOT/$BUILD/drover
BACKEND=$ROOT/$BUILD/backend
P=drv$$
TMP=$(mktemp -d /tmp/drover-stack.XXXXXX)
PIDS=()
passed=0 failed=0

say() { printf 'stack: %s\n' "$*"; }
check() { # check NAME CONDITION-EXIT-STATUS MESSAGE
    if [ "$2" -eq 0 ]; then passed=$((passed + 1)); say "ok   $1"; else failed=$((failed + 1)); say "FAIL $1: $3"; fi
}

cleanup() {
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    sleep 0.5
    for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
    # Whatever still runs in our namespaces (an instance, a helper) goes too.
    for ns in fe n1 n2 hub; do
        for pid in $(ip netns pids "$P-$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
        ip netns del "$P-$ns" 2>/dev/null
    done
    [ "${KEEP:-0}" = 1 ] || rm -rf "$TMP"
}
trap cleanup EXIT

for tool in ip /usr/sbin/haproxy /usr/sbin/dnsmasq wrk; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        say "SKIP: $tool is not installed (scripts/deps.sh installs it)"
        echo "0 passed, 0 failed"
        exit 0
    fi
done
if ! ip netns add "$P-hub" 2>/dev/null; then
    say "SKIP: cannot create network namespaces here (needs root and CAP_SYS_ADMIN)"
    echo "0 passed, 0 failed"
    exit 0
fi

# ---- the network ----
ip -n "$P-hub" link add br0 type bridge
ip -n "$P-hub" link set br0 up
ip -n "$P-hub" link set lo up
addr() { case $1 in fe) echo 10.77.0.10 ;; n1) echo 10.77.0.11 ;; n2) echo 10.77.0.12 ;; esac; }
for ns in fe n1 n2; do
    ip netns add "$P-$ns"
    ip -n "$P-hub" link add "v$ns" type veth peer name eth0 netns "$P-$ns"
    ip -n "$P-hub" link set "v$ns" master br0 up
    ip -n "$P-$ns" addr add "$(addr "$ns")/24" dev eth0
    ip -n "$P-$ns" link set eth0 up
    ip -n "$P-$ns" link set lo up
done
in_ns() { local ns=$1; shift; ip netns exec "$P-$ns" "$@"; }

# ---- the nodes ----
node_dir() { echo "$TMP/$1"; }
start_node() { # start_node n1
    local ns=$1 a dir
    a=$(addr "$ns")
    dir=$(node_dir "$ns")
    mkdir -p "$dir"
    printf 'web: exec %s -q -n %s\n' "$BACKEND" "$ns" >"$dir/Procfile"
    cat >"$dir/drover.yaml" <<YAML
listen:
  - address: $a:8080
    proxy_protocol: true
    proxy_trusted: [10.77.0.10/32]
  - $a:8090
admin:
  listen: $a:8081
  token: stack-secret
log:
  access: off
app:
  base_port: 5000
processes:
  web: {instances: 2}
timeouts:
  drain_delay: 2s
  drain: 10s
YAML
    (cd "$dir" && exec ip netns exec "$P-$ns" "$DROVER" run -c drover.yaml >>"$dir/drover.log" 2>&1) &
    NODE_PID[$ns]=$!
    PIDS+=("$!")
}
declare -A NODE_PID
start_node n1
start_node n2

# ---- the front: dnsmasq, HAProxy, the DNS drover ----
printf '10.77.0.11 nodes.test\n10.77.0.12 nodes.test\n' >"$TMP/hosts"
ip netns exec "$P-fe" /usr/sbin/dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts \
    --addn-hosts="$TMP/hosts" --listen-address=10.77.0.10 --bind-interfaces --port=53 \
    --local-ttl=1 --user=root --pid-file --log-facility=- >"$TMP/dnsmasq.log" 2>&1 &
PIDS+=("$!")
cat >"$TMP/haproxy.cfg" <<CFG
global
  maxconn 4000
defaults
  mode tcp
  timeout connect 2s
  timeout client 30s
  timeout server 30s
frontend front
  bind 10.77.0.10:80
  default_backend nodes
backend nodes
  balance roundrobin
  option httpchk GET /ready
  default-server send-proxy-v2 check port 8081 inter 200ms fall 2 rise 2
  server n1 10.77.0.11:8080
  server n2 10.77.0.12:8080
CFG
ip netns exec "$P-fe" /usr/sbin/haproxy -db -f "$TMP/haproxy.cfg" >"$TMP/haproxy.log" 2>&1 &
PIDS+=("$!")
mkdir -p "$TMP/fe"
cat >"$TMP/fe/drover.yaml" <<YAML
listen: 10.77.0.10:9090
admin:
  listen: 127.0.0.1:9091
log:
  access: off
resolver:
  servers: [10.77.0.10]
  refresh: {min: 500ms, max: 2s}
health:
  path: /
  interval: 300ms
  fall: 1
routes:
  - path: /
    backends: [dns:nodes.test:8090]
YAML
(cd "$TMP/fe" && exec ip netns exec "$P-fe" "$DROVER" run -c drover.yaml >"$TMP/fe/drover.log" 2>&1) &
PIDS+=("$!")

# Both nodes answer through both fronts.
answers() { # answers URL: the X-Backend names of 20 answers, sorted, unique
    for _ in $(seq 20); do
        in_ns fe curl -s -m 2 -D - -o /dev/null "$1" | tr -d '\r' | sed -n 's/^X-Backend: //p'
    done | sort -u | tr '\n' ' '
}
wait_both() {
    local url=$1 t=0
    while [ "$(answers "$url")" != "n1 n2 " ]; do
        t=$((t + 1))
        [ $t -gt 60 ] && return 1
        sleep 0.25
    done
}
wait_both http://10.77.0.10/; check "both nodes answer through HAProxy" $? "$(answers http://10.77.0.10/)"
wait_both http://10.77.0.10:9090/; check "both nodes answer through the DNS drover" $? "$(answers http://10.77.0.10:9090/)"

# ---- under load: drain n1, bring it back, scale n2 ----
ip netns exec "$P-fe" wrk -t1 -c16 -d16s http://10.77.0.10/ >"$TMP/wrk-haproxy.txt" 2>&1 &
W1=$!
ip netns exec "$P-fe" wrk -t1 -c16 -d16s http://10.77.0.10:9090/ >"$TMP/wrk-dns.txt" 2>&1 &
W2=$!
PIDS+=("$W1" "$W2")
sleep 2
say "n1: SIGTERM (drain_delay 2s)"
kill -TERM "${NODE_PID[n1]}"
wait "${NODE_PID[n1]}"
check "n1 drained and exited 0" $? "exit status $?"
sleep 1
say "n1: started again"
start_node n1
sleep 3
say "n2: scale web 2 -> 4"
in_ns n2 curl -s -m 3 -H 'Authorization: Bearer stack-secret' -X POST http://10.77.0.12:8081/scale -d '{"web": 4}' >"$TMP/scale.txt"
grep -q '"web":4' "$TMP/scale.txt"; check "n2 scaled to 4" $? "$(cat "$TMP/scale.txt")"
wait "$W1" "$W2"

for f in wrk-haproxy wrk-dns; do
    reqs=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$TMP/$f.txt")
    bad=$(sed -n 's/^ *Non-2xx or 3xx responses: *//p' "$TMP/$f.txt")
    errs=$(sed -n 's/^ *Socket errors: *//p' "$TMP/$f.txt")
    say "$f: ${reqs:-0} requests, ${bad:-0} non-2xx, socket errors: ${errs:-none}"
    [ -n "$reqs" ] && [ "$reqs" -gt 1000 ] && [ -z "$bad" ] && [ -z "$errs" ]
    check "$f: every request succeeded" $? "$(cat "$TMP/$f.txt")"
done
wait_both http://10.77.0.10/; check "n1 serves again through HAProxy" $? "$(answers http://10.77.0.10/)"
n2web=$(in_ns n2 curl -s -m 2 -H 'Authorization: Bearer stack-secret' http://10.77.0.12:8081/status | grep -o '"name":"web\.[0-9]*"' | sort -u | wc -l)
[ "$n2web" -eq 4 ]; check "n2 runs 4 instances" $? "$n2web"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
