#!/bin/sh
# t_classify.sh - `attn classify` and `attn runs import` end to end: JSON
# lines and table, --group tables and log (byte-identical on rerun),
# --check shadowing, malformed configs and inputs (one line, exit 2), and an
# idempotent import of the W&B sample beside attn's own runs.
. "$(dirname "$0")/lib.sh"

ID1=250912-172812_match_150M_c4_finetune_100Mtx1_DD-d17-530M-6250-2
ID2=250904-222144_test_match_150M_finetune_10Mtx1_DD-d17-300M-17500-2_lr=5e-05
check "classify --json" "$ATTN" classify --patterns datadecide --json "$ID1" "$ID2" abc
cp "$TMP/out" "$TMP/c.jsonl"
py() { python3 -c "import json; L=[json.loads(l) for l in open('$TMP/c.jsonl')]; $1"; }
check_eq "one line per id, types" "matched matched other" "$(py "print(' '.join(r['run_type'] for r in L))")"
check_eq "fields before conversion" "150M c4 100M" \
    "$(py "f=L[0]['fields']; print(f['comparison_model_size'], f['comparison_metric'], f['num_finetune_tokens_per_epoch'])")"
check_eq "every match reported" "MATCHED8_PATTERN,FT6_PATTERN MATCHED8_PATTERN" \
    "$(py "print(','.join(L[1]['matches']), L[1]['pattern'])")"
check_eq "no pattern for other" "None [] {}" "$(py "print(L[2]['pattern'], L[2]['matches'], L[2]['fields'])")"

check "classify table" "$ATTN" classify --patterns datadecide "$ID2"
check_eq "table row names winner and the shadowed" "matched MATCHED8_PATTERN FT6_PATTERN" \
    "$(awk 'NR==2 {print $2, $3, $4}' "$TMP/out")"

# A config file: file order decides; every match reported.
cat >"$TMP/p.json" <<'EOF2'
{"name": "t", "fragments": {"N": "(?<n>[0-9]+)"},
 "patterns": [{"name": "num", "run_type": "numeric", "components": ["literal:run-", "N"]},
              {"name": "any", "run_type": "generic", "components": ["regex:run-.*"]}],
 "fallback": "unknown"}
EOF2
check "classify with a config file" "$ATTN" classify --patterns "$TMP/p.json" --json run-42 run-x zzz
check_eq "file order and fallback" "numeric:num,any generic:any unknown:" \
    "$(python3 -c "import json; print(' '.join(r['run_type']+':'+','.join(r['matches']) for r in map(json.loads, open('$TMP/out'))))")"

# --group: tables after post-processing and the log; rerun is byte-identical.
SAMPLE="${ATTN_ROOT:-.}/../shared/data/wandb-run-ids/runs_sample.jsonl"
if [ -f "$SAMPLE" ]; then
    check "classify --group" "$ATTN" classify --patterns datadecide --in "$SAMPLE" --group "$TMP/g1" --quiet
    "$ATTN" classify --patterns datadecide --in "$SAMPLE" --group "$TMP/g2" >/dev/null 2>&1
    check_eq "group files" "classification_log.jsonl dpo.csv dpo.jsonl dpo.parquet matched.csv matched.jsonl matched.parquet simple_ft.csv simple_ft.jsonl simple_ft.parquet simple_ft_vary_tokens.csv simple_ft_vary_tokens.jsonl simple_ft_vary_tokens.parquet" \
        "$(ls "$TMP/g1" | tr '\n' ' ' | sed 's/ $//')"
    check "group output byte-identical on rerun" diff -r "$TMP/g1" "$TMP/g2"
    check_eq "log holds every id incl. dropped old" "6 old" \
        "$(python3 -c "import json; L=[json.loads(l) for l in open('$TMP/g1/classification_log.jsonl')]; print(len(L), L[0]['run_type'])")"
    check_eq "matched row processed" "100000000.0 91330008.0 c4 Dolma1.7 2025-09-12T17:28:12" \
        "$(python3 -c "import json; r=json.loads(open('$TMP/g1/matched.jsonl').readline()); print(r['num_finetune_tokens'], r['num_finetuned_tokens_real'], r['comparison_metric'], r['ckpt_data'], r['timestamp'])")"
    check_eq "csv header starts with run_id" "run_id,pattern_name,timestamp" "$(head -1 "$TMP/g1/matched.csv" | cut -d, -f1-3)"
    # The Parquet tables, read by DuckDB (skipped without it), hold the JSONL rows.
    if [ -d "${ATTN_ROOT:-.}/build/npm/duckdb/node_modules/@duckdb/node-api" ] && command -v node >/dev/null; then
        q() { node "${ATTN_ROOT:-.}/tests/duckdb/query.mjs" "$1"; }
        for t in dpo matched simple_ft simple_ft_vary_tokens; do
            check_eq "$t.parquet: the JSONL's run ids" \
                "$(python3 -c "import json; print(sorted(json.loads(l)['run_id'] for l in open('$TMP/g1/$t.jsonl')))")" \
                "$(q "SELECT run_id FROM '$TMP/g1/$t.parquet' ORDER BY run_id" | python3 -c "import json,sys; print([json.loads(l)[0] for l in sys.stdin])")"
        done
        check_eq "matched.parquet: typed values as in the JSONL" "100000000.0 c4 2025-09-12T17:28:12" \
            "$(q "SELECT num_finetune_tokens, comparison_metric, timestamp FROM '$TMP/g1/matched.parquet'" | python3 -c "import json,sys; r=json.loads(sys.stdin.readline()); print(float(r[0]), r[1], r[2])")"
    else
        ok "# SKIP DuckDB not installed (scripts/install-npm-duckdb)"
    fi

    # runs import: kind external, idempotent, listed beside attn's runs.
    check "runs import" "$ATTN" runs import --source wandb "$SAMPLE" --patterns datadecide --repo o/r --json
    check_eq "first import inserts 6" '{"file":"'"$SAMPLE"'","inserted":6,"unchanged":0,"updated":0}' "$(cat "$TMP/out")"
    check "runs reimport" "$ATTN" runs import --source wandb "$SAMPLE" --patterns datadecide --repo o/r --json
    check_eq "reimport changes nothing" '"inserted":0,"unchanged":6,"updated":0' "$(grep -o '"inserted".*0' "$TMP/out")"
    check "runs list" "$ATTN" runs list --repo o/r --json
    check_eq "listed as external with type" "6 True True" \
        "$(python3 -c "import json; L=json.load(open('$TMP/out')); print(len(L), {r['kind'] for r in L} == {'external'}, 'matched' in [r['run_type'] for r in L])")"
    check "runs list --kind baseline hides them" "$ATTN" runs list --repo o/r --kind baseline --json
    check_eq "no external rows for another kind" "[]" "$(cat "$TMP/out")"
    check "runs show an external run" "$ATTN" runs show "$ID1" --repo o/r --json
    check_eq "show has config, summary, events" "91330008 external-import" \
        "$(python3 -c "import json; r=json.load(open('$TMP/out')); print(r['summary']['total_tokens'], r['events'][0]['action'])")"
    sed 's/"state":"finished"/"state":"failed"/' "$SAMPLE" >"$TMP/changed.jsonl"
    check "import a changed export" "$ATTN" runs import --source wandb "$TMP/changed.jsonl" --patterns datadecide --repo o/r --json
    check_eq "changed runs are updated" '"inserted":0,"unchanged":1,"updated":5' "$(grep -o '"inserted".*5' "$TMP/out")"
    check "runs import without --repo" "$ATTN" runs import --source wandb "$SAMPLE" --patterns datadecide --quiet
    check_eq "external registry listed without --repo" "6" \
        "$("$ATTN" runs list --json | python3 -c "import json,sys; print(len(json.load(sys.stdin)))")"
else
    ok "# SKIP $SAMPLE absent"
fi

CORPUS="${ATTN_ROOT:-.}/../shared/data/wandb-run-ids/run_ids.jsonl"
if [ -f "$CORPUS" ]; then
    check "classify --check" "$ATTN" classify --patterns datadecide --check "$CORPUS"
    check_eq "shadowed pairs listed, with the corpus's expectations" "MATCHED8_PATTERN shadows FT6_PATTERN on 4 id(s) (the corpus expects FT6_PATTERN on 4)|MATCHED3_PATTERN shadows FT7_PATTERN on 1 id(s) (the corpus expects FT7_PATTERN on 1)" \
        "$(sed 's/, e\.g\..*//' "$TMP/out" | paste -sd'|')"
    printf '{"run_id": "%s"}\n' "$ID2" >"$TMP/unlabelled.jsonl"
    check "classify --check --json on an unlabelled corpus" "$ATTN" classify --patterns datadecide --check "$TMP/unlabelled.jsonl" --json --quiet
    check_eq "json pair without corpus expectations" '{"example":"'"$ID2"'","ids":1,"pattern":"MATCHED8_PATTERN","shadows":"FT6_PATTERN"}' "$(cat "$TMP/out")"
else
    ok "# SKIP $CORPUS absent"
fi

# Malformed configs and inputs: one line, exit 2.
echo '{"patterns": [{"name": "a", "run_type": "t", "components": ["NOPE"]}]}' >"$TMP/bad1.json"
check_fails "unknown fragment" 2 "unknown fragment 'NOPE'" "$ATTN" classify --patterns "$TMP/bad1.json" x
echo '{"patterns": [{"name": "a", "run_type": "t", "components": ["regex:(a"]}]}' >"$TMP/bad2.json"
check_fails "bad regex with offset" 2 "bad regex at offset 2" "$ATTN" classify --patterns "$TMP/bad2.json" x
echo '{"patterns": [' >"$TMP/bad3.json"
check_fails "broken JSON" 2 "bad3.json: line" "$ATTN" classify --patterns "$TMP/bad3.json" x
check_fails "unknown built-in" 2 "unknown built-in patterns 'nope'" "$ATTN" classify --patterns nope x
check_fails "missing file" 2 "cannot read patterns file" "$ATTN" classify --patterns "$TMP/none.json" x
printf '{"run_id": "a"}\nnot json\n' >"$TMP/in.jsonl"
check_fails "bad input line" 2 "in.jsonl:2: not a JSON object" "$ATTN" classify --patterns datadecide --in "$TMP/in.jsonl"
printf '{"run_id": 5}\n' >"$TMP/in2.jsonl"
check_fails "run_id not a string" 2 'in2.jsonl:1: "run_id" must be a non-empty string' "$ATTN" classify --patterns datadecide --in "$TMP/in2.jsonl"
check_fails "runs import bad line" 2 "in.jsonl:2" "$ATTN" runs import --source wandb "$TMP/in.jsonl" --patterns datadecide --repo o/r
check_fails "no patterns" 2 "--patterns NAME|FILE is required" "$ATTN" classify x
check_fails "two sources" 2 "exactly one of" "$ATTN" classify --patterns datadecide --in "$TMP/in.jsonl" x
check_fails "unknown source" 2 "--source wandb is required" "$ATTN" runs import --source mlflow "$TMP/in.jsonl" --patterns datadecide
check "classify --help" "$ATTN" classify --help
check_eq "help names every flag" "7" "$(grep -cE '^  --(patterns|in|json|group|all-types|check|quiet) ' "$TMP/out")"
done_testing
