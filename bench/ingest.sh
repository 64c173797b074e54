#!/bin/sh
# bench/ingest.sh - `attn ingest` of a synthetic 10,000-PR history served by the
# fake GitHub API: requests per PR, wall time and peak RSS (targets: <= 2.2
# requests/PR, < 60 s, < 200 MB). Also times the fake alone (curl over one
# keep-alive connection) so a slow server is visible in the figures. Then
# `attn load` of the same bundle into an empty store (the streaming loader and
# the bulk path: target < 200 MB peak RSS whatever the size).
# Env: ATTN_BIN (default ./attn), PRS (default 10000).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ATTN=${ATTN_BIN:-$ROOT/attn}
PRS=${PRS:-10000}
TMP=$(mktemp -d)
FAKE_PID=""
trap '[ -n "$FAKE_PID" ] && kill $FAKE_PID 2>/dev/null; rm -rf "$TMP"' EXIT

"$ATTN" synth --prs "$PRS" --seed 11 --repo bench/big -o "$TMP/big.json" >/dev/null || exit 1
python3 "$ROOT/tests/fakegh/fakegh.py" --bundle "$TMP/big.json" --port 0 --port-file "$TMP/port" \
    --max-lifetime 3000 --rate-limit 1000000 2>"$TMP/fake.err" &
FAKE_PID=$!
i=0; while [ ! -s "$TMP/port" ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i + 1)); done
API=http://127.0.0.1:$(cat "$TMP/port")

# The server alone: 20 sequential keep-alive requests.
set -- ; for n in $(seq 1 20); do set -- "$@" -o /dev/null "$API/repos/bench/big/pulls/$n/files"; done
t0=$(date +%s.%N); curl -s "$@"; t1=$(date +%s.%N)
curl -s -X POST "$API/_fake/reset-stats" >/dev/null
echo "fake server alone: $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) * 1000 / 20 }') ms per request (curl, keep-alive)"

/usr/bin/time -v "$ATTN" ingest --repo bench/big --api-url "$API" --data-dir "$TMP/data" \
    >"$TMP/out" 2>"$TMP/time" || { cat "$TMP/time"; exit 1; }
reqs=$(curl -s "$API/_fake/stats" | jq .requests)
wall=$(grep 'Elapsed (wall clock)' "$TMP/time" | awk '{print $NF}')
rss=$(grep 'Maximum resident set size' "$TMP/time" | awk '{printf "%.0f", $NF / 1024}')
echo "ingest $PRS PRs: $reqs requests, $(awk -v r="$reqs" -v p="$PRS" 'BEGIN { printf "%.3f", r / p }') per PR, wall $wall, peak RSS ${rss} MB"
cat "$TMP/out"
/usr/bin/time -v "$ATTN" load --repo bench/big --bundle "$TMP/big.json" --data-dir "$TMP/loaded" \
    >"$TMP/out3" 2>"$TMP/time3" || { cat "$TMP/time3"; exit 1; }
echo "load $PRS PRs ($(du -m "$TMP/big.json" | cut -f1) MB bundle, empty store): wall $(grep 'Elapsed (wall clock)' "$TMP/time3" | awk '{print $NF}'), user $(grep 'User time' "$TMP/time3" | awk '{print $NF}') s, sys $(grep 'System time' "$TMP/time3" | awk '{print $NF}') s, peak RSS $(grep 'Maximum resident' "$TMP/time3" | awk '{printf "%.0f", $NF / 1024}') MB, load average $(cut -d' ' -f1-3 /proc/loadavg)"
t0=$(date +%s.%N)
/usr/bin/time -v "$ATTN" renormalize --repo bench/big --data-dir "$TMP/data" >/dev/null 2>"$TMP/time2"
t1=$(date +%s.%N)
echo "renormalize (phase 2 alone): $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s, peak RSS $(grep 'Maximum resident' "$TMP/time2" | awk '{printf "%.0f", $NF / 1024}') MB"
