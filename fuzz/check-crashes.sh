#!/bin/sh
# Runs every reproducer in fuzz/crashes/ against targets built with every
# FUZZ_REPORTED_* exemption off (build/fuzz/strict/), and says which still
# fail. Run `make build/fuzz/libdrover.a FUZZ_TARGETS=` (or `make fuzz`)
# first so the library is current.
#   fuzz/check-crashes.sh          a line per reproducer; exit 1 if any fails
#   fuzz/check-crashes.sh -v       with each failure's output
set -u
cd "$(dirname "$0")/.."
verbose=0
[ "${1:-}" = "-v" ] && verbose=1

lib=build/fuzz/libdrover.a
out=build/fuzz/strict
[ -f "$lib" ] || { echo "check-crashes: $lib missing: run make fuzz (or make $lib) first" >&2; exit 2; }
mkdir -p "$out"
defs="-DFUZZ_REPORTED_OBS_FOLD=0 -DFUZZ_REPORTED_TE_PARAMS=0 -DFUZZ_REPORTED_AUTHORITY=0 -DFUZZ_REPORTED_INTERIM_FRAMING=0"
for t in fuzz_http fuzz_proxy; do
    clang -std=c11 -D_GNU_SOURCE -I. -I/usr/share/include/llhttp -g -O1 -fno-omit-frame-pointer \
        -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all $defs \
        -o "$out/$t" "fuzz/$t.c" "$lib" -lev -lyaml -lm -pthread || exit 2
done

failed=0
for f in fuzz/crashes/*; do
    case "$f" in *.md) continue ;; esac
    t=${f##*/}
    t=${t%%-*}
    if log=$("$out/$t" "$f" 2>&1); then
        echo "ok    $f"
    else
        failed=1
        echo "FAIL  $f: $(printf '%s\n' "$log" | grep -m1 -E "^fuzz_(http|proxy): |ERROR: AddressSanitizer|runtime error")"
        [ "$verbose" -eq 1 ] && printf '%s\n\n' "$log"
    fi
done
exit $failed
