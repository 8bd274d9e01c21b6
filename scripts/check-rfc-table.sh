#!/bin/sh
# Every test docs/rfc9110-9112.md names must exist: e2e:`name` as an
# E2E_TEST in tests/e2e, unit:`suite::name` as a Criterion Test in
# tests/unit. Run by `make test`.
set -eu
cd "$(dirname "$0")/.."
table=docs/rfc9110-9112.md
missing=0
n=0
for t in $(grep -o 'e2e:`[a-z0-9_]*`' "$table" | sed 's/e2e:`\(.*\)`/\1/' | sort -u); do
    n=$((n + 1))
    grep -q "E2E_TEST($t," tests/e2e/*.c || { echo "rfc table: no e2e test $t" >&2; missing=$((missing + 1)); }
done
for t in $(grep -o 'unit:`[a-z0-9_]*::[a-z0-9_]*`' "$table" | sed 's/unit:`\(.*\)`/\1/' | sort -u); do
    n=$((n + 1))
    suite=${t%%::*}
    name=${t#*::}
    grep -rq "Test($suite, $name)" tests/unit || { echo "rfc table: no unit test $t" >&2; missing=$((missing + 1)); }
done
echo "rfc table: $n tests named, $missing missing"
[ "$missing" -eq 0 ]
