#!/usr/bin/env bash
# scripts/mutate.sh: `make mutate`. Proves the tests by removing behaviours.
#
# Each file tests/mutations/NAME.mut names a source file, the exact code to
# find there (once), what to put instead, the behaviour that goes with it,
# and the tests that must catch it:
#
#   file: supervisor/proc.c
#   behaviour: a killed shim's process group is stopped before the restart
#   tests: e2e:killed_shim_leaves_no_orphan unit:lib/test_log
#   --- find
#   <lines>
#   --- replace
#   <lines>
#   --- end
#
# The mutations are applied one at a time to a scratch copy of the tree
# (built once, then rebuilt incrementally), the named tests run against the
# mutant, and the file is put back. A mutation is caught when one of its
# tests fails; one line per mutation, then `N caught, M survived`.
#
# Environment: MUTATIONS="name1 name2" runs only those; KEEP=1 keeps the
# scratch tree; SAN=1 builds the mutants with the sanitizers.
set -u -o pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
SCRATCH=${SCRATCH:-/tmp/drover-mutate}
SELECT=${MUTATIONS:-}

say() { printf 'mutate: %s\n' "$*" >&2; }

rm -rf "$SCRATCH"
mkdir -p "$SCRATCH"
# The tracked tree as it is in the work tree (uncommitted edits included).
git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$SCRATCH" 2>/dev/null
cd "$SCRATCH"
say "building the scratch tree in $SCRATCH"
if ! make -j2 all build/tests/e2e/e2e >build.log 2>&1 || ! make -j2 $(echo tests/unit/*/test_*.c | sed 's#tests/unit/\([^ ]*\)\.c#build/tests/unit/\1#g') >>build.log 2>&1; then
    tail -20 build.log >&2
    say "the unmutated tree does not build"
    exit 2
fi

# field NAME FILE: the value of a "NAME: value" header line.
field() { sed -n "s/^$1: *//p" "$2" | head -n1; }
# section NAME FILE: the lines between "--- NAME" and the next "--- ".
section() { awk -v want="--- $1" '$0 == want {on = 1; next} /^--- / {on = 0} on' "$2"; }

# run_tests "e2e:F unit:P ...": 0 when every test passes, else 1; the first
# failing test's name in $CAUGHT_BY.
run_tests() {
    CAUGHT_BY=""
    for t in $1; do
        case "$t" in
        e2e:*)
            if ! timeout 600 build/tests/e2e/e2e --drover build/drover --backend build/backend "${t#e2e:}" >"run-$t.log" 2>&1; then
                CAUGHT_BY=$t
                return 1
            fi ;;
        unit:*)
            make -j2 "build/tests/unit/${t#unit:}" >>build.log 2>&1 || { CAUGHT_BY="$t (does not build)"; return 1; }
            if ! timeout 600 "build/tests/unit/${t#unit:}" --jobs 2 >"run-${t//\//_}.log" 2>&1; then
                CAUGHT_BY=$t
                return 1
            fi ;;
        *) say "unknown test kind: $t"; return 1 ;;
        esac
    done
    return 0
}

caught=0 survived=0 broken=0
for m in "$ROOT"/tests/mutations/*.mut; do
    name=$(basename "$m" .mut)
    if [ -n "$SELECT" ] && ! printf ' %s ' $SELECT | grep -q " $name "; then
        continue
    fi
    file=$(field file "$m")
    tests=$(field tests "$m")
    what=$(field behaviour "$m")
    section find "$m" >find.txt
    section replace "$m" >replace.txt
    cp "$file" orig.txt
    # Exactly one occurrence, replaced literally.
    if ! perl -0777 -e '
        my ($f, $r, $src) = map { local $/; open my $h, "<", $_ or die; my $t = <$h>; $t // "" } @ARGV;
        my $n = () = $src =~ /\Q$f\E/g;
        exit 3 if $n != 1;
        $src =~ s/\Q$f\E/$r/;
        open my $o, ">", $ARGV[2] or die; print $o $src;
    ' find.txt replace.txt "$file"; then
        printf '%-40s STALE (the code to find is not in %s once: update the mutation)\n' "$name" "$file"
        broken=$((broken + 1))
        continue
    fi
    if ! make -j2 all build/tests/e2e/e2e >"build-$name.log" 2>&1; then
        printf '%-40s STALE (the mutant does not build)\n' "$name"
        broken=$((broken + 1))
    elif run_tests "$tests"; then
        printf '%-40s SURVIVED  %s\n' "$name" "$what"
        survived=$((survived + 1))
    else
        printf '%-40s caught by %s\n' "$name" "$CAUGHT_BY"
        caught=$((caught + 1))
    fi
    cp orig.txt "$file"
    touch "$file"
done
[ "${KEEP:-0}" = 1 ] || { cd /; rm -rf "$SCRATCH"; }
echo "$caught caught, $survived survived"
[ "$broken" -gt 0 ] && echo "$broken mutations are stale"
[ "$survived" -eq 0 ] && [ "$broken" -eq 0 ]
