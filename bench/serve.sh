#!/bin/sh
# bench/serve.sh - `attn serve` (the real binary) over loopback:
#   compare of two 10,000-PR runs (GET /api/compare and the /compare page;
#   first request and cached; target < 300 ms), webhook deliveries with
#   signature checks (new ones, then redeliveries; target >= 500/s), and the
#   server's peak RSS (target < 200 MB). The client is bench_serve (bounded).
#   Deliveries go over HOOK_CONNS connections at once (GitHub delivers a busy
#   repository's events concurrently; the server commits those that arrive
#   together as one batch). Every figure comes with the server's CPU time
#   and the load average, since wall time on a shared machine is noisy.
# Env: ATTN_BIN, BENCH_SERVE (the bench_serve binary), PRS (12000), COHORT (10000),
#   HOOK_CONNS (16), THREADS (server worker threads, 16).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ATTN=${ATTN_BIN:-$ROOT/attn}
CLIENT=${BENCH_SERVE:-$ROOT/build/rel/bench/bench_serve}
PRS=${PRS:-12000}
COHORT=${COHORT:-10000}
TMP=$(mktemp -d)
SRV=""
trap '[ -n "$SRV" ] && kill "$SRV" 2>/dev/null; rm -rf "$TMP"' EXIT
DATA=$TMP/data
R=bench/serve
"$ATTN" synth --prs "$PRS" --seed 21 --repo $R -o "$TMP/b.json" >/dev/null || exit 1
"$ATTN" load --repo $R --bundle "$TMP/b.json" --data-dir "$DATA" --quiet || exit 1
DB=$DATA/github/$R/history.sqlite
from=$(sqlite3 "$DB" "SELECT strftime('%Y-%m-%dT%H:%M:%SZ', min(created_at) + 10 * 86400, 'unixepoch') FROM pull_requests")
end=$(sqlite3 "$DB" "SELECT strftime('%Y-%m-%dT%H:%M:%SZ', max(created_at) - 3 * 86400, 'unixepoch') FROM pull_requests")
"$ATTN" cohort create --repo $R --data-dir "$DATA" --from "$from" --end-at "$end" --limit "$COHORT" --seed 1 --out "$TMP/c.json" >/dev/null || exit 1
"$ATTN" experiment init --repo $R --data-dir "$DATA" --cohort "$TMP/c.json" --router popularity --kind baseline --out "$TMP/a.json" --quiet || exit 1
"$ATTN" experiment init --repo $R --data-dir "$DATA" --cohort "$TMP/c.json" --router mentions --kind experimental --out "$TMP/b2.json" --quiet || exit 1
A=$("$ATTN" experiment run --repo $R --data-dir "$DATA" --spec "$TMP/a.json" --cohort "$TMP/c.json" --quiet --json | jq -r .run_id)
B=$("$ATTN" experiment run --repo $R --data-dir "$DATA" --spec "$TMP/b2.json" --cohort "$TMP/c.json" --quiet --json | jq -r .run_id)
N=$(wc -l <"$DATA/github/$R/eval/$A/per_pr.jsonl")

# Webhook target: an empty store and deliveries derived from a 400-PR history.
"$ATTN" synth --prs 400 --seed 5 --repo bench/hook -o "$TMP/h.json" >/dev/null || exit 1
"$ATTN" init --repo bench/hook --data-dir "$DATA" >/dev/null || exit 1
python3 "$ROOT/tests/serve/deliveries.py" derive "$TMP/h.json" "$TMP/d.json" >/dev/null || exit 1

HOOK_CONNS=${HOOK_CONNS:-16}
ATTN_WEBHOOK_SECRET=bench "$ATTN" serve --data-dir "$DATA" --port 0 --quiet --threads "${THREADS:-16}" >"$TMP/srv.out" 2>"$TMP/srv.err" &
SRV=$!
i=0; while ! grep -q '^listening on ' "$TMP/srv.out" 2>/dev/null && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
URL=$(head -1 "$TMP/srv.out" | sed 's/^listening on //')
cpu_ms() { awk '{print ($14 + $15) * 10}' /proc/$SRV/stat; }
load() { cut -d' ' -f1 /proc/loadavg; }
for p in "/api/compare?repo=$R&run_a=$A&run_b=$B" "/compare?repo=$R&run_a=$A&run_b=$B"; do
    c0=$(cpu_ms)
    cold=$(curl -s -o /dev/null -w '%{time_total}' "$URL$p")
    c1=$(cpu_ms)
    warm=$(curl -s -o /dev/null -w '%{time_total}' "$URL$p")
    printf 'serve compare %s of two %d-PR runs: first %.0f ms (server CPU %d ms, load %s), cached %.1f ms (target < 300 ms)\n' \
        "$(echo "$p" | cut -d'?' -f1)" "$N" "$(echo "$cold * 1000" | bc)" $((c1 - c0)) "$(load)" "$(echo "$warm * 1000" | bc)"
done
for kind in "new deliveries" "redeliveries"; do
    c0=$(cpu_ms)
    "$CLIENT" --url "$URL" --webhook "$TMP/d.json" --secret bench --conns "$HOOK_CONNS" | sed "s/^serve webhook deliveries */serve webhook $kind: /"
    c1=$(cpu_ms)
    echo "serve webhook $kind: server CPU $((c1 - c0)) ms for $(jq length "$TMP/d.json") deliveries, load $(load)"
done
echo "serve peak RSS of the server: $(awk '/VmHWM/ {printf "%.0f", $2 / 1024}' /proc/$SRV/status) MB (target < 200 MB)"
