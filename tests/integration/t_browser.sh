#!/bin/sh
# t_browser.sh - the dashboard in headless Chromium (tests/serve/browser.js:
# runs list, a run, a compare, a flip's drill-down; screenshots under
# build/browser/). Skips cleanly without chromium, node or playwright-core
# (scripts/install-npm-serve installs it into build/npm).
. "$(dirname "$0")/lib.sh"
ROOT=${ATTN_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
NPM_DIR=$ROOT/build/npm
if ! command -v node >/dev/null 2>&1 || [ ! -x /usr/bin/chromium ] ||
    [ ! -f "$NPM_DIR/node_modules/playwright-core/package.json" ]; then
    ok "# SKIP chromium, node or playwright-core missing (scripts/install-deps, scripts/install-npm-serve)"
    done_testing; exit 0
fi
R=synth/sample
DIR=$ATTN_DATA_DIR/github/synth/sample
SRV_PID=""
trap '[ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null; rm -rf "$TMP"' EXIT
"$ATTN" synth --prs 260 --seed 5 -o "$TMP/b.json" >/dev/null 2>&1
"$ATTN" load --repo $R --bundle "$TMP/b.json" --quiet
from=$(sqlite3 "$DIR/history.sqlite" "SELECT strftime('%Y-%m-%dT%H:%M:%SZ', min(created_at) + 40*86400, 'unixepoch') FROM pull_requests")
end=$(sqlite3 "$DIR/history.sqlite" "SELECT strftime('%Y-%m-%dT%H:%M:%SZ', max(created_at) - 5*86400, 'unixepoch') FROM pull_requests")
"$ATTN" cohort create --repo $R --from "$from" --end-at "$end" --limit 80 --seed 3 --out "$TMP/c.json" >/dev/null
"$ATTN" experiment init --repo $R --cohort "$TMP/c.json" --router popularity --router mentions --kind baseline --out "$TMP/a.json" --quiet
"$ATTN" experiment init --repo $R --cohort "$TMP/c.json" --router hybrid --router stewards --kind experimental --out "$TMP/b2.json" --quiet
A=$("$ATTN" experiment run --repo $R --spec "$TMP/a.json" --cohort "$TMP/c.json" --quiet --json | jq -r .run_id)
B=$("$ATTN" experiment run --repo $R --spec "$TMP/b2.json" --cohort "$TMP/c.json" --quiet --json | jq -r .run_id)
"$ATTN" serve --port 0 >"$TMP/srv.out" 2>"$TMP/srv.err" &
SRV_PID=$!
i=0; while ! grep -q '^listening on ' "$TMP/srv.out" 2>/dev/null && [ $i -lt 1200 ]; do sleep 0.05; i=$((i + 1)); done
URL=$(head -1 "$TMP/srv.out" | sed 's/^listening on //')
OUT=$ROOT/build/browser
rm -rf "$OUT"; mkdir -p "$OUT"
# browser.js prints its own TAP lines (numbered from 1); shift them after ours.
NPM_DIR=$NPM_DIR timeout 120 node "$ROOT/tests/serve/browser.js" "$URL" "$A" "$B" "$OUT" >"$TMP/tap" 2>"$TMP/node.err"
n_ok=$(grep -c '^ok ' "$TMP/tap"); n_bad=$(grep -c '^not ok ' "$TMP/tap")
grep -E '^ok ' "$TMP/tap" | sed -E 's/^ok [0-9]+ - //' >"$TMP/oks"
grep -E '^not ok ' "$TMP/tap" | sed -E 's/^not ok [0-9]+ - //' >"$TMP/bads"
while IFS= read -r l; do ok "$l"; done <"$TMP/oks"
while IFS= read -r l; do not_ok "$l"; done <"$TMP/bads"
if [ "$n_ok" -eq 0 ] && [ "$n_bad" -eq 0 ]; then not_ok "browser.js ran: $(head -c 300 "$TMP/node.err")"; fi
check "screenshots kept under build/browser" test -s "$OUT/runs.png" -a -s "$OUT/run.png" -a -s "$OUT/compare.png" -a -s "$OUT/flip.png"
done_testing
