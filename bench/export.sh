#!/bin/sh
# bench/export.sh - `attn export parquet` of a synthetic 50,000-PR history
# (targets: < 10 s wall, < 300 MB peak RSS) and `attn records push` of a
# 10,000-PR run into a throwaway PostgreSQL 15 cluster (target: < 5 s).
# Building the history (synth + load) is not timed. The run is generated
# here (report.json + per_pr.jsonl: 3 routers x 2 policies), since only
# those two files are what push reads.
# Env: ATTN_BIN (default ./attn), PRS (default 50000), RUN_PRS (default 10000).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ATTN=${ATTN_BIN:-$ROOT/attn}
PRS=${PRS:-50000}
RUN_PRS=${RUN_PRS:-10000}
TMP=$(mktemp -d)
. "$ROOT/tests/integration/pg_lib.sh"
trap 'stop_pg; rm -rf "$TMP"' EXIT
trap 'exit 1' INT TERM HUP PIPE
D=$TMP/data

"$ATTN" synth --prs "$PRS" --seed 11 --repo bench/big -o "$TMP/big.json" >/dev/null 2>&1 || exit 1
"$ATTN" load --repo bench/big --bundle "$TMP/big.json" --data-dir "$D" --quiet || exit 1
rm -f "$TMP/big.json"
/usr/bin/time -v "$ATTN" export parquet --repo bench/big --data-dir "$D" --export-run-id b1 --quiet \
    >/dev/null 2>"$TMP/time" || { cat "$TMP/time"; exit 1; }
echo "export parquet, $PRS PRs (prs, pr_files, pr_activity): wall $(grep 'Elapsed (wall' "$TMP/time" | awk '{print $NF}'), peak RSS $(grep 'Maximum resident' "$TMP/time" | awk '{printf "%.0f", $NF / 1024}') MB"
/usr/bin/time -v "$ATTN" export parquet --repo bench/big --data-dir "$D" --export-run-id b2 \
    --include-text --include-truth --quiet >/dev/null 2>"$TMP/time" || { cat "$TMP/time"; exit 1; }
echo "export parquet, $PRS PRs, all six tables: wall $(grep 'Elapsed (wall' "$TMP/time" | awk '{print $NF}'), peak RSS $(grep 'Maximum resident' "$TMP/time" | awk '{printf "%.0f", $NF / 1024}') MB, $(du -sk "$D/exports/bench/big/b2" | cut -f1) KB on disk"

RUN=$D/github/bench/big/eval/push10k
mkdir -p "$RUN"
python3 - "$RUN" "$RUN_PRS" <<'PY'
import json, sys
run, n = sys.argv[1], int(sys.argv[2])
pol = ["first_response:window=2d", "first_approval:window=2d"]
routers = ["popularity", "mentions", "hybrid"]
with open(run + "/per_pr.jsonl", "w") as f:
    for pr in range(1, n + 1):
        rs = {r: {"candidates": ["u%d" % ((pr * 7 + i) % 50) for i in range(10)], "confidence": "low",
                  "risk": "medium", "rank": {p: (pr + i) % 12 or None for p in pol}}
              for i, r in enumerate(routers)}
        truth = {p: {"status": "observed" if pr % 5 else "no_response", "targets": ["u%d" % (pr % 50)]} for p in pol}
        f.write(json.dumps({"pr_number": pr, "cutoff": "2025-01-01T00:00:00Z", "routers": rs, "truth": truth}) + "\n")
json.dump({"kind": "eval_report", "version": "attn.eval.v1", "run_id": "push10k", "repo": "bench/big", "n": n,
           "primary_policy": pol[0], "headline_slice": "observed", "metrics": {},
           "routers": [{"name": r} for r in routers]}, open(run + "/report.json", "w"))
PY
if start_pg; then
    t0=$(date +%s.%N)
    "$ATTN" records push push10k --repo bench/big --data-dir "$D" --pg "$PG_URL" --quiet >/dev/null || exit 1
    t1=$(date +%s.%N)
    n=$("$PG_BIN/psql" -X -A -t -q "$PG_URL" -c "SELECT count(*) FROM eval_samples")
    echo "records push, $RUN_PRS-PR run ($n samples): $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s"
    t0=$(date +%s.%N)
    "$ATTN" records push push10k --repo bench/big --data-dir "$D" --pg "$PG_URL" --quiet >/dev/null || exit 1
    t1=$(date +%s.%N)
    echo "records push again (idempotent, no row changes): $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s"
else
    echo "records push: skipped (no PostgreSQL 15 server binaries)"
fi
