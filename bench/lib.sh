# bench/lib.sh: helpers the bench scripts share (sourced by run.sh, tls.sh
# and syscalls.sh from the repository root).

# free_port_block SIZE: the first port of SIZE consecutive ones below the
# ephemeral range (32768+) that no socket of any state uses
# (/proc/net/tcp{,6} list local ports in hex); empty when none was found.
free_port_block() {
    local size=$1 try cand
    for try in $(seq 50); do
        cand=$((20000 + (RANDOM % (12000 / size)) * size))
        if ! awk 'function hex(s,  i, n) { n = 0; for (i = 1; i <= length(s); i++) n = n * 16 + index("0123456789ABCDEF", toupper(substr(s, i, 1))) - 1; return n }
                  FNR > 1 { split($2, a, ":"); p = hex(a[length(a)]); if (p >= lo && p <= hi) f = 1 }
                  END { exit !f }' lo="$cand" hi=$((cand + size - 1)) /proc/net/tcp /proc/net/tcp6 2>/dev/null; then
            echo "$cand"
            return 0
        fi
    done
}

# cpu_ticks PID...: utime + stime of the processes (all threads), in ticks.
cpu_ticks() {
    local p s sum=0
    for p in "$@"; do
        s=$(cat "/proc/$p/stat" 2>/dev/null) || continue
        s=${s##*) }
        # shellcheck disable=SC2086
        set -- $s
        sum=$((sum + ${12} + ${13}))
    done
    echo $sum
}

# rss_kb PID...: resident memory, summed (smaps_rollup is exact; the
# VmRSS of /proc/PID/status lags behind on recent kernels).
rss_kb() {
    local p sum=0 v
    for p in "$@"; do
        v=$(awk '/^Rss:/ { print $2; exit }' "/proc/$p/smaps_rollup" 2>/dev/null || true)
        [ -z "$v" ] && v=$(awk '/^VmRSS:/ { print $2; exit }' "/proc/$p/status" 2>/dev/null || echo 0)
        sum=$((sum + v))
    done
    echo $sum
}

# fill TEMPLATE PORT DIR USER: a bench/*.in config for the backends in B[].
fill() {
    sed -e "s|@PORT@|$2|g" -e "s|@B1@|${B[0]}|g" -e "s|@B2@|${B[1]}|g" -e "s|@B3@|${B[2]}|g" \
        -e "s|@B4@|${B[3]}|g" -e "s|@DIR@|$3|g" -e "s|@NOFILE@|${NOFILE:-65536}|g" -e "s|@USER@|$4|g" "$1"
}
