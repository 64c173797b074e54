#!/bin/sh
# t_synth.sh - `attn synth` end to end: the bundled sample regenerates byte for
# byte, output is deterministic and atomic, and bad usage exits 2 with one line.
. "$(dirname "$0")/lib.sh"
HERE=$(dirname "$0")
ROOT=${ATTN_ROOT:-$(cd "$HERE/../.." && pwd)}

# The exact command recorded in sample/README.md.
check "regenerate the bundled sample" "$ATTN" synth --prs 50 --seed 7 --repo synth/sample -o "$TMP/sample.json"
check "sample is byte-identical to sample/sample.json" cmp "$TMP/sample.json" "$ROOT/sample/sample.json"
check "sample README names the command" grep -q -- "attn synth --prs 50 --seed 7 --repo synth/sample -o sample/sample.json" "$ROOT/sample/README.md"
check "sample stays under 1 MB" test "$(wc -c <"$ROOT/sample/sample.json")" -lt 1048576

check "defaults run" "$ATTN" synth --quiet -o "$TMP/a.json"
check "same options, same bytes" "$ATTN" synth --quiet --prs 200 --seed 1 --repo synth/sample --start 2024-01-01T00:00:00Z --days 180 --users 40 -o "$TMP/b.json"
check "defaults are the documented ones" cmp "$TMP/a.json" "$TMP/b.json"
check "other seed" "$ATTN" synth --quiet --seed 2 -o "$TMP/c.json"
if cmp -s "$TMP/a.json" "$TMP/c.json"; then not_ok "different seed gives different bytes"; else ok "different seed gives different bytes"; fi
check "no temporary files left" test "$(ls "$TMP" | grep -c '\.tmp\.')" -eq 0
check "custom repo and window" "$ATTN" synth --quiet --prs 30 --repo acme/widgets --start 2023-03-01 --days 30 --users 8 -o "$TMP/d.json"
check "custom repo appears in urls" grep -q 'https://api.github.com/repos/acme/widgets/issues/1"' "$TMP/d.json"

check_fails "negative --prs" 2 "prs" "$ATTN" synth --prs -3 -o "$TMP/x.json"
check_fails "bad --start" 2 "start" "$ATTN" synth --start 2024-02-30T00:00:00Z -o "$TMP/x.json"
check_fails "missing -o" 2 "missing -o" "$ATTN" synth --prs 3
check_fails "bad --repo" 2 "repo" "$ATTN" synth --repo nope -o "$TMP/x.json"
check_fails "unknown option" 2 "unknown option" "$ATTN" synth --colour blue -o "$TMP/x.json"
check "nothing written on bad usage" test ! -e "$TMP/x.json"
check_fails "unwritable target" 1 "cannot" "$ATTN" synth --prs 3 -o "$TMP/no/such/dir/x.json"
done_testing
