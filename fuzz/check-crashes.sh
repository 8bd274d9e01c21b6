#!/bin/sh
# Runs every reproducer in fuzz/crashes/ against the fuzz targets (built
# first, clang) and says which still fail.
#   fuzz/check-crashes.sh          a line per reproducer; exit 1 if any fails
#   fuzz/check-crashes.sh -v       with each failure's output
set -u
cd "$(dirname "$0")/.."
verbose=0
[ "${1:-}" = "-v" ] && verbose=1

make -s build/fuzz/fuzz_http build/fuzz/fuzz_proxy || exit 2
failed=0
for f in fuzz/crashes/*; do
    case "$f" in *.md) continue ;; esac
    t=${f##*/}
    t=${t%%-*}
    if log=$("build/fuzz/$t" "$f" 2>&1); then
        echo "ok    $f"
    else
        failed=1
        echo "FAIL  $f: $(printf '%s\n' "$log" | grep -m1 -E "^fuzz_(http|proxy): |ERROR: AddressSanitizer|runtime error")"
        [ "$verbose" -eq 1 ] && printf '%s\n\n' "$log"
    fi
done
exit $failed
