# bench/node.sh: the supervised Node app of `make bench`, sourced by
# bench/run.sh (its helpers, ports and scratch dir). The same small Node
# server (bench/node-app.js) as 2 and 4 instances under drover, and under
# PM2 cluster mode (pm2-runtime -i N, installed from npm into
# BUILD/bench-npm by this script only), at c64 and c4, interleaved. PM2's
# cluster balances connections (the master hands each accepted connection
# to a worker), drover balances requests; the spread is each instance's
# share of the requests it counted (COUNT_DIR/<pid>).

NODE_COUNTS=(2 4)
NODE_CONNS=(64 4)
NODE_SECS=${NODE_SECS:-$([ "$QUICK" = 1 ] && echo 2 || echo "$DURATION")}

# node_setup: 0 when node and pm2-runtime are there (PM2 installed if needed).
node_setup() {
    NODE=$(command -v node || true)
    [ -n "$NODE" ] || { NOTES+=("no node on PATH: the Node scenario was skipped"); return 1; }
    PM2_RUNTIME=$BUILD/bench-npm/node_modules/.bin/pm2-runtime
    if [ ! -x "$PM2_RUNTIME" ]; then
        say "installing pm2 from npm into $BUILD/bench-npm"
        npm install --no-audit --no-fund --silent --prefix "$BUILD/bench-npm" pm2 >"$TMP/npm.log" 2>&1 ||
            { NOTES+=("npm install pm2 failed: the Node scenario was skipped"); tail -5 "$TMP/npm.log" >&2; return 1; }
    fi
    # From its package.json: `pm2 --version` would start a PM2 daemon.
    PM2_VERSION=$("$NODE" -p "require('$BUILD/bench-npm/node_modules/pm2/package.json').version")
    return 0
}

# node_start N: drover and PM2, each running N instances.
node_start() {
    local n=$1 k=$(( $1 == 2 ? 0 : 1 )) d=$TMP/node-drover$1 p=$TMP/node-pm2-$1
    mkdir -p "$d/counts" "$p/counts" "$p/home"
    echo "web: $NODE $ROOT/bench/node-app.js" >"$d/Procfile"
    cat >"$d/drover.yaml" <<EOF2
listen: 127.0.0.1:$((NODE_PORT + k))
workers: 1
admin: {listen: off}
log: {access: off}
timeouts: $TIMEOUTS
limits: {max_connections: 20000}
app: {base_port: $((NODE_PORT + 4 + 4 * k))}
processes: {web: {instances: $n, ready: {path: /}, stop_timeout: 2s}}
routes:
  - path: /
    process: web
balance: round_robin
EOF2
    COUNT_DIR=$d/counts "$DROVER" run -d "$d" >"$d/log.txt" 2>&1 &
    PIDS+=($!)
    NODE_PID[drover$n]=$!
    URL[node_drover$n]=http://127.0.0.1:$((NODE_PORT + k))
    COUNTS[drover$n]=$d/counts
    (cd "$p" && PM2_HOME=$p/home PORT=$((NODE_PORT + 2 + k)) COUNT_DIR=$p/counts \
        exec "$PM2_RUNTIME" start "$ROOT/bench/node-app.js" -i "$n" >"$p/log.txt" 2>&1) &
    PIDS+=($!)
    NODE_PID[pm2$n]=$!
    URL[node_pm2$n]=http://127.0.0.1:$((NODE_PORT + 2 + k))
    COUNTS[pm2$n]=$p/counts
    wait_200 "drover (Node x$n)" "${URL[node_drover$n]}/" "$d/log.txt" "${NODE_PID[drover$n]}"
    wait_200 "PM2 cluster (Node x$n)" "${URL[node_pm2$n]}/" "$p/log.txt" "${NODE_PID[pm2$n]}"
}

# counts DIR: "pid=count ..." of the instances that counted there.
counts() { local f; for f in "$1"/*; do [ -f "$f" ] && printf '%s=%s ' "${f##*/}" "$(cat "$f")"; done; echo; }

node_run() { # system n conns round
    local sys=$1 n=$2 c=$3 r=$4 out="$TMP/node-$1-$2-c$3-r$4.txt" a b
    a=$(counts "${COUNTS[$sys$n]}")
    wrk -t1 -c"$c" -d"${NODE_SECS}s" --latency "${URL[node_$sys$n]}/" >"$out" 2>&1 || true
    sleep 1.2   # the instances write their counts twice a second
    b=$(counts "${COUNTS[$sys$n]}")
    local rps p99 errs dev
    rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$out")
    p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$out")")
    errs=$(awk '/Socket errors:/ { gsub(/,/, ""); n += $4 + $6 + $8 + $10 } /Non-2xx or 3xx responses:/ { n += $5 } END { print n + 0 }' "$out")
    # The largest distance of one instance's share from 1/n, in points.
    dev=$(echo "$a|$b" | awk -F'|' -v n="$n" '{
        m = split($1, x, " "); for (i = 1; i <= m; i++) { split(x[i], kv, "="); before[kv[1]] = kv[2] }
        m = split($2, y, " "); tot = 0
        for (i = 1; i <= m; i++) { split(y[i], kv, "="); d[kv[1]] = kv[2] - before[kv[1]]; tot += d[kv[1]] }
        worst = 0; k = 0
        for (p in d) { if (d[p] <= 0) continue; k++; s = 100 * d[p] / tot - 100 / n; if (s < 0) s = -s; if (s > worst) worst = s }
        if (k < n) worst = 100 / n   # an instance that got nothing
        printf "%.1f", (tot > 0 ? worst : -1) }')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$sys" "$n" "$c" "$r" "${rps:-0}" "$p99" "$errs" "$dev" >>"$TMP/node.tsv"
    say "$(printf 'node x%d c%-3d r%d %-12s %7s req/s  p99 %7s ms  errors %s  spread ±%s points' "$n" "$c" "$r" "$sys" "${rps:-0}" "$p99" "$errs" "$dev")"
}

node_bench() {
    : >"$TMP/node.tsv"
    node_setup || return 0
    declare -gA NODE_PID COUNTS
    for n in "${NODE_COUNTS[@]}"; do node_start "$n"; done
    for n in "${NODE_COUNTS[@]}"; do
        for sys in drover pm2; do wrk -t1 -c64 -d1s "${URL[node_$sys$n]}/" >/dev/null 2>&1 || true; done
    done
    for r in $(seq "$ROUNDS"); do
        for n in "${NODE_COUNTS[@]}"; do
            for c in "${NODE_CONNS[@]}"; do
                for sys in drover pm2; do node_run "$sys" "$n" "$c" "$r"; done
            done
        done
    done
    for n in "${NODE_COUNTS[@]}"; do kill -TERM "${NODE_PID[drover$n]}" "${NODE_PID[pm2$n]}" 2>/dev/null || true; done
}

node_report() {
    [ -s "$TMP/node.tsv" ] || return 0
    echo "## Supervised Node app: drover against PM2 cluster mode"
    echo
    echo "The same Node server (\`bench/node-app.js\`, Node $($NODE --version)) as N instances under drover"
    echo "(round robin per request) and under PM2 $PM2_VERSION cluster mode (\`pm2-runtime start -i N\`: the"
    echo "master spreads connections). \`wrk -t1 --latency\`, ${NODE_SECS} s, $ROUNDS round(s), interleaved;"
    echo "medians. Spread: the largest distance of one instance's share of the requests from 1/N,"
    echo "in percentage points (0 is even; with c4 and 4 instances, PM2 can give one connection each)."
    echo
    echo "| instances | connections | drover req/s | PM2 req/s | drover ÷ PM2 | p99 ms drover / PM2 | spread drover / PM2 | errors drover / PM2 |"
    echo "| ---: | ---: | ---: | ---: | ---: | --- | --- | --- |"
    awk -F'\t' '
        function median(list,   n, a, i, j, x) {
            n = split(list, a, " ")
            for (i = 2; i <= n; i++) { x = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
            if (n == 0) return 0
            return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
        }
        { k = $2 SUBSEP $3; if (!(k in seen)) { seen[k] = 1; order[++m] = k; N[m] = $2; C[m] = $3 }
          rps[$1, k] = rps[$1, k] " " $5; p99[$1, k] = p99[$1, k] " " $6; err[$1, k] += $7
          if ($8 + 0 > dev[$1, k] + 0) dev[$1, k] = $8 }
        END {
            for (i = 1; i <= m; i++) {
                k = order[i]; d = median(rps["drover", k]); p = median(rps["pm2", k])
                printf "| %d | %d | %.0f | %.0f | %.2f | %.2f / %.2f | ±%.1f / ±%.1f points | %d / %d |\n", N[i], C[i], d, p, (p > 0 ? d / p : 0), median(p99["drover", k]), median(p99["pm2", k]), dev["drover", k], dev["pm2", k], err["drover", k], err["pm2", k]
                printf "RESULT scenario=node_x%d_c%d drover_rps=%.0f pm2_rps=%.0f ratio_pm2=%.2f\n", N[i], C[i], d, p, (p > 0 ? d / p : 0) > "/dev/stderr"
            }
        }' "$TMP/node.tsv" 2>>"$TMP/result-lines.txt"
    echo
}
