# bench/storm.sh: the reload storm of `make bench`, sourced by bench/run.sh
# (its helpers, ports and scratch dir). Each proxy in turn, on an instance
# of its own: keep-alive c64 without reloads (its steady p99), then c64
# again for STORM_SECS while its config changes and it reloads once a
# second in its own standard way: drover SIGHUP (in-process), HAProxy in
# master-worker mode (-W) USR2 (a new worker process; the old one drains),
# nginx HUP (new workers; the old ones drain). Peak RSS is the sum over the
# proxy's whole process tree, sampled every 0.2 s. The steady run is as long
# as the storm, so the two p99s are comparable.

STORM_SECS=${STORM_SECS:-$([ "$QUICK" = 1 ] && echo 5 || echo 30)}
# As long as the storm: a p99 over 30 s catches rarer stalls than one over 5 s.
STORM_STEADY=${STORM_STEADY:-$STORM_SECS}

# tree_pids PID: PID and all its descendants (one ps a call: it runs every
# 0.2 s during the storm).
tree_pids() {
    ps -e -o pid=,ppid= | awk -v root="$1" '
        { parent[$1] = $2 }
        END { for (p in parent) { q = p; while (q != "" && q != root && q != 0 && q != 1) q = parent[q]; if (q == root) printf "%s ", p } print "" }'
}

# storm_config PROXY N: its config, the value that changes alternating with N.
storm_config() {
    local t=$1 n=$2 idle=$((60 + $2 % 2))
    case $t in
    drover)
        sed -e "s|^listen: 127.0.0.1:$P_DROVER\$|listen: 127.0.0.1:$STORM_PORT|" \
            -e "s|idle: 60s|idle: ${idle}s|" "$TMP/drover.yaml" >"$TMP/storm/drover.yaml.new"
        mv "$TMP/storm/drover.yaml.new" "$TMP/storm/drover.yaml"
        ;;
    haproxy)
        fill bench/haproxy.cfg.in $((STORM_PORT + 1)) "$TMP" "" |
            sed "s|timeout client 60s|timeout client ${idle}s|" >"$TMP/storm/haproxy.cfg.new"
        mv "$TMP/storm/haproxy.cfg.new" "$TMP/storm/haproxy.cfg"
        ;;
    nginx)
        fill bench/nginx.conf.in $((STORM_PORT + 2)) "$TMP/storm/nginx" "$NGX_USER" |
            sed "s|keepalive_timeout 60s;|keepalive_timeout ${idle}s;|" >"$TMP/storm/nginx/nginx.conf.new"
        mv "$TMP/storm/nginx/nginx.conf.new" "$TMP/storm/nginx/nginx.conf"
        ;;
    esac
}

# storm_one PROXY: one row of $TMP/storm.tsv.
storm_one() {
    local t=$1 pid port url log n=0 peak=0 rss out="$TMP/storm/$1"
    storm_config "$t" 0
    case $t in
    drover)
        port=$STORM_PORT log=$out-log.txt
        "$DROVER" run -c "$TMP/storm/drover.yaml" >"$log" 2>&1 &
        ;;
    haproxy)
        port=$((STORM_PORT + 1)) log=$out-log.txt
        haproxy -W -db -f "$TMP/storm/haproxy.cfg" >"$log" 2>&1 &
        ;;
    nginx)
        port=$((STORM_PORT + 2)) log=$TMP/storm/nginx/error.log
        nginx -p "$TMP/storm/nginx/" -c "$TMP/storm/nginx/nginx.conf" -e "$log" >/dev/null 2>&1 &
        ;;
    esac
    pid=$!
    PIDS+=($pid)
    url=http://127.0.0.1:$port/
    wait_200 "$t (reload storm)" "$url" "$log" "$pid"
    wrk -t1 -c64 -d"${STORM_STEADY}s" --latency -s "$ROOT/bench/latency.lua" "$url" >"$out-steady.txt" 2>&1 || true
    wrk -t1 -c64 -d"${STORM_SECS}s" --latency -s "$ROOT/bench/latency.lua" "$url" >"$out-storm.txt" 2>&1 &
    local wpid=$! next=$((SECONDS + 1))
    while [ -d "/proc/$wpid" ] && ! grep -q '^State:.*Z' "/proc/$wpid/status" 2>/dev/null; do
        if [ $SECONDS -ge $next ]; then
            n=$((n + 1))
            storm_config "$t" "$n"
            case $t in
            drover) kill -HUP "$pid" ;;
            haproxy) kill -USR2 "$pid" ;;
            nginx) kill -HUP "$pid" ;;
            esac
            next=$((next + 1))
        fi
        rss=$(rss_kb $(tree_pids "$pid"))
        [ "$rss" -gt "$peak" ] && peak=$rss
        sleep 0.2
    done
    wait "$wpid" 2>/dev/null || true
    local pids
    pids=$(tree_pids "$pid")
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 50); do [ -d "/proc/$pid" ] && ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null || break; sleep 0.1; done
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    local reloaded=$n
    [ "$t" = drover ] && reloaded=$(grep -c 'reload: ' "$log" || true)
    awk -v t="$t" -v n="$n" -v ok="$reloaded" -v peak="$peak" '
        FILENAME ~ /steady/ && /^LATENCY/ { split($2, a, "="); sp99 = a[2] }
        FILENAME ~ /storm/ {
            if (/requests in/) reqs = $1
            if (/Socket errors:/) { gsub(/,/, ""); sock = $4 + $6 + $8 + $10 }
            if (/Non-2xx or 3xx responses:/) bad = $5
            if (/^Requests\/sec:/) rps = $2
            if (/^LATENCY/) { split($2, a, "="); p99 = a[2]; split($3, b, "="); p999 = b[2] }
        }
        END { printf "%s\t%d\t%d\t%d\t%.0f\t%.3f\t%.3f\t%.3f\t%d\t%d\t%d\n", t, reqs, bad + 0, sock + 0, rps, sp99 / 1000, p99 / 1000, p999 / 1000, peak, n, ok }' \
        "$out-steady.txt" "$out-storm.txt" >>"$TMP/storm.tsv"
    say "$(awk -F'\t' -v t="$t" '$1 == t { printf "storm %-8s %d requests, %d non-2xx, %d socket errors, p99 %s ms (steady %s), p99.9 %s ms, peak RSS %d kB, %d reloads", $1, $2, $3, $4, $7, $6, $8, $9, $10 }' "$TMP/storm.tsv")"
}

storm_bench() {
    mkdir -p "$TMP/storm/nginx"
    : >"$TMP/storm.tsv"
    for t in drover haproxy nginx; do storm_one "$t"; done
}

storm_report() {
    echo "## Reload storm"
    echo
    echo "Each proxy on an instance of its own: \`wrk -t1 -c64 --latency\` for ${STORM_STEADY} s without"
    echo "reloads (steady p99), then for $STORM_SECS s while its config changes and it reloads once a"
    echo "second: drover \`SIGHUP\` (in-process), HAProxy master-worker (\`-W\`) \`USR2\`, nginx \`HUP\`."
    echo "Failed: non-2xx responses; socket errors: connect, read, write and timeouts (wrk's)."
    echo "Peak RSS: the proxy's whole process tree (old workers included), sampled every 0.2 s."
    echo
    echo "| proxy | requests | failed | socket errors | req/s | p99 steady ms | p99 ms | p99 ÷ steady | p99.9 ms | peak RSS | reloads |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    awk -F'\t' 'BEGIN { nm["drover"] = "drover"; nm["haproxy"] = "HAProxy"; nm["nginx"] = "nginx" }
        { printf "| %s | %d | %d | %d | %d | %.2f | %.2f | %s | %.2f | %.1f MiB | %d%s |\n", nm[$1], $2, $3, $4, $5, $6, $7, ($6 > 0 ? sprintf("%.2f", $7 / $6) : "-"), $8, $9 / 1024, $10, ($1 == "drover" ? " (" $11 " logged)" : "")
          printf "RESULT scenario=reload_storm proxy=%s requests=%d failed=%d socket_errors=%d p99_ms=%.2f p99_steady_ms=%.2f p999_ms=%.2f peak_rss_kb=%d\n", $1, $2, $3, $4, $7, $6, $8, $9 > "/dev/stderr" }' \
        "$TMP/storm.tsv" 2>>"$TMP/result-lines.txt"
    echo
}
