/*
 * export.c - `attn export parquet ...` and `attn export run RUN_ID ...`.
 *
 * parquet: the history store as Parquet tables + export_manifest.json under
 * DATA/exports/O/R/ID/ (export/export.c). run: a run directory's results as
 * flat long tables (export/run_export.c). Exit 2 for bad usage or input, 1
 * when the export fails; nothing partial is left behind.
 */
#include "cmd/cmd.h"
#include "export/export.h"
#include "export/run_export.h"
#include "util/time.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char USAGE_PARQUET[] =
    "attn export parquet --repo OWNER/NAME --export-run-id ID [--from T] [--end-at T] "
    "[--include-text] [--include-truth] (see --help)";
static const char USAGE_RUN[] =
    "attn export run RUN_ID --repo OWNER/NAME [--format parquet|csv] [-o DIR] (see --help)";

static const char HELP_PARQUET[] =
    "attn export parquet --repo OWNER/NAME --export-run-id ID [--from T] [--end-at T]\n"
    "        [--include-text] [--include-truth] [--activity-lookback-days N] [--truth-window-days N]\n"
    "        [--intent-window-minutes N] [--row-group-rows N] [--dict-bytes N] [--data-dir DIR] [--quiet]\n"
    "\n"
    "Writes DATA/exports/OWNER/NAME/ID/: prs, pr_files, pr_activity .parquet (and prs_text,\n"
    "truth_behavior, truth_intent when asked) plus export_manifest.json (contract version, row\n"
    "counts, schema, SHA-256 per file, the as-of rule of every column). Feature columns are as of\n"
    "each PR's cutoff (its created_at). Written under a temporary name, then renamed into place.\n"
    "\n"
    "  --repo OWNER/NAME            repository (required)\n"
    "  --export-run-id ID           name of the export folder (required; must not exist yet)\n"
    "  --from T, --end-at T         PRs created in [T, T) (RFC 3339 or YYYY-MM-DD; default: all)\n"
    "  --include-text               also prs_text.parquet (title and body as of the cutoff)\n"
    "  --include-truth              also truth_behavior.parquet and truth_intent.parquet (labels)\n"
    "  --activity-lookback-days N   pr_activity starts N days before --from (default 180)\n"
    "  --truth-window-days N        pr_activity ends N days after --end-at; truth window (default 30)\n"
    "  --intent-window-minutes N    truth_intent: review requests within N minutes of the cutoff (default 60)\n"
    "  --row-group-rows N           rows per Parquet row group at most (default 1000000)\n"
    "  --dict-bytes N               dictionary bound per column chunk before PLAIN (default 524288)\n"
    "  --data-dir DIR               data directory (default ./data, env ATTN_DATA_DIR)\n"
    "  --quiet                      no progress on stderr\n"
    "\n"
    "example: attn export parquet --repo acme/widgets --export-run-id 2026-01 --from 2025-07-01 \\\n"
    "           --end-at 2026-01-01 --include-truth";

static const char HELP_RUN[] =
    "attn export run RUN_ID --repo OWNER/NAME [--format parquet|csv] [-o DIR] [--data-dir DIR] [--quiet]\n"
    "\n"
    "Flat long tables of an evaluation run, with fixed column names whatever the routers are:\n"
    "  run_routes      one row per (PR, router, policy): cutoff, truth status, first-hit rank,\n"
    "                  hit@1/3/5, reciprocal rank, top-1, candidate count\n"
    "  run_candidates  one row per (PR, router, rank, candidate): score\n"
    "  run_truth       one row per (PR, policy, truth target)\n"
    "Written under a temporary name, then renamed into place.\n"
    "\n"
    "  RUN_ID                 the run (DATA/github/OWNER/NAME/eval/RUN_ID)\n"
    "  --repo OWNER/NAME      repository (required)\n"
    "  --format parquet|csv   file format (default parquet)\n"
    "  -o, --out DIR          output folder (default DATA/exports/OWNER/NAME/run-RUN_ID-FORMAT; must not exist)\n"
    "  --data-dir DIR         data directory (default ./data, env ATTN_DATA_DIR)\n"
    "  --quiet                no progress on stderr\n"
    "\n"
    "example: attn export run 20260101-abc --repo acme/widgets --format csv";

enum {
    OPT_ID = 300, OPT_FROM, OPT_END, OPT_TEXT, OPT_TRUTH, OPT_LOOKBACK, OPT_TWIN, OPT_IWIN, OPT_RGROWS,
    OPT_DICT, OPT_FORMAT, OPT_OUT
};

struct popts {
    const char *id, *from, *end, *lookback, *twin, *iwin, *rgrows, *dict, *format, *out;
    int text, truth;
};

static int popt(void *ctx, int opt, const char *arg)
{
    struct popts *o = ctx;
    switch (opt) {
    case OPT_ID: o->id = arg; return 0;
    case OPT_FROM: o->from = arg; return 0;
    case OPT_END: o->end = arg; return 0;
    case OPT_TEXT: o->text = 1; return 0;
    case OPT_TRUTH: o->truth = 1; return 0;
    case OPT_LOOKBACK: o->lookback = arg; return 0;
    case OPT_TWIN: o->twin = arg; return 0;
    case OPT_IWIN: o->iwin = arg; return 0;
    case OPT_RGROWS: o->rgrows = arg; return 0;
    case OPT_DICT: o->dict = arg; return 0;
    case OPT_FORMAT: o->format = arg; return 0;
    case OPT_OUT: o->out = arg; return 0;
    }
    return -1;
}

/* A non-negative integer option (absent: keep *out). */
static int parse_count(const char *flag, const char *s, int64_t min, int64_t *out, attn_error *err)
{
    char *end;
    long long v;
    if (!s)
        return 0;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (!*s || *end || errno || v < min || v > (INT64_C(1) << 40))
        return attn_error_set(err, ATTN_EINVAL, "%s '%s' is not a whole number >= %lld", flag, s,
                              (long long)min);
    *out = v;
    return 0;
}

static int do_parquet(int argc, char **argv)
{
    static const struct option longopts[] = {
        ATTN_COMMON_LONGOPTS,
        {"export-run-id", required_argument, NULL, OPT_ID},
        {"from", required_argument, NULL, OPT_FROM},
        {"end-at", required_argument, NULL, OPT_END},
        {"include-text", no_argument, NULL, OPT_TEXT},
        {"include-truth", no_argument, NULL, OPT_TRUTH},
        {"activity-lookback-days", required_argument, NULL, OPT_LOOKBACK},
        {"truth-window-days", required_argument, NULL, OPT_TWIN},
        {"intent-window-minutes", required_argument, NULL, OPT_IWIN},
        {"row-group-rows", required_argument, NULL, OPT_RGROWS},
        {"dict-bytes", required_argument, NULL, OPT_DICT},
        {NULL, 0, NULL, 0}};
    struct popts po;
    attn_export_opts o;
    attn_cli cli;
    attn_error err;
    json_t *m = NULL;
    int64_t rg = 0, dict = 0;
    int rc;

    memset(&po, 0, sizeof(po));
    attn_error_clear(&err);
    if ((rc = attn_cli_parse(argc, argv, longopts, USAGE_PARQUET, 0, &cli, popt, &po, NULL)) >= 0)
        return rc;
    if (!cli.repo)
        return attn_cli_usage(USAGE_PARQUET, "--repo OWNER/NAME is required");
    if (!po.id)
        return attn_cli_usage(USAGE_PARQUET, "--export-run-id ID is required");
    attn_export_opts_default(&o);
    o.data_dir = cli.data_dir, o.repo = cli.repo, o.export_run_id = po.id, o.quiet = cli.quiet;
    o.progress = cli.quiet ? 0 : cli.progress;
    o.include_text = po.text, o.include_truth = po.truth;
    rg = (int64_t)o.pq.rg_rows, dict = (int64_t)o.pq.dict_bytes;
    if ((po.from && attn_time_parse(po.from, &o.from, &err) && attn_error_wrap(&err, "--from")) ||
        (po.end && attn_time_parse(po.end, &o.end_at, &err) && attn_error_wrap(&err, "--end-at")) ||
        parse_count("--activity-lookback-days", po.lookback, 0, &o.activity_lookback_days, &err) ||
        parse_count("--truth-window-days", po.twin, 0, &o.truth_window_days, &err) ||
        parse_count("--intent-window-minutes", po.iwin, 0, &o.intent_window_minutes, &err) ||
        parse_count("--row-group-rows", po.rgrows, 1, &rg, &err) ||
        parse_count("--dict-bytes", po.dict, 0, &dict, &err))
        return attn_cli_fail(&err);
    o.pq.rg_rows = (size_t)rg, o.pq.dict_bytes = (size_t)dict;
    if ((rc = attn_export_parquet(&o, &m, &err)))
        return attn_cli_fail(&err);
    if (cli.json) {
        attn_cli_print_json(m);
    } else {
        const char *k;
        json_t *t;
        printf("exported %s to %s/exports/%s/%s\n", cli.repo, cli.data_dir, cli.repo, po.id);
        json_object_foreach(json_object_get(m, "tables"), k, t)
            printf("  %-16s %8lld rows  %s\n", k, (long long)json_integer_value(json_object_get(t, "rows")),
                   json_string_value(json_object_get(t, "sha256")));
        json_decref(m);
    }
    return 0;
}

static int do_run(int argc, char **argv)
{
    static const struct option longopts[] = {
        ATTN_COMMON_LONGOPTS,
        {"format", required_argument, NULL, OPT_FORMAT},
        {"out", required_argument, NULL, OPT_OUT},
        {NULL, 0, NULL, 0}};
    struct popts po;
    attn_cli cli;
    attn_error err;
    json_t *summary = NULL;
    int first, rc, csv;

    memset(&po, 0, sizeof(po));
    attn_error_clear(&err);
    /* -o is the short form of --out */
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "-o"))
            argv[i] = "--out";
    if ((rc = attn_cli_parse(argc, argv, longopts, USAGE_RUN, 1, &cli, popt, &po, &first)) >= 0)
        return rc;
    if (first >= argc)
        return attn_cli_usage(USAGE_RUN, "RUN_ID is required");
    if (!cli.repo)
        return attn_cli_usage(USAGE_RUN, "--repo OWNER/NAME is required");
    if (po.format && strcmp(po.format, "parquet") && strcmp(po.format, "csv"))
        return attn_cli_usage(USAGE_RUN, "--format must be parquet or csv, not '%s'", po.format);
    csv = po.format && !strcmp(po.format, "csv");
    if ((rc = attn_run_export(cli.data_dir, cli.repo, argv[first], csv, po.out, cli.quiet, &summary, &err)))
        return attn_cli_fail(&err);
    if (cli.json) {
        attn_cli_print_json(summary);
    } else {
        const char *k;
        json_t *t;
        printf("exported run %s to %s\n", argv[first], json_string_value(json_object_get(summary, "dir")));
        json_object_foreach(json_object_get(summary, "tables"), k, t)
            printf("  %-16s %8lld rows\n", k, (long long)json_integer_value(json_object_get(t, "rows")));
        json_decref(summary);
    }
    return 0;
}

/* The long help (every flag, defaults, an example) when argv asks for it. */
static int wants_help(int argc, char **argv, const char *help)
{
    if (!attn_cli_wants_help(argc, argv))
        return 0;
    printf("usage: %s\n", help);
    return 1;
}

int cmd_export(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "attn: export needs a subcommand; usage: %s | %s\n", USAGE_PARQUET, USAGE_RUN);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        printf("usage: %s\n\n   or: %s\n", HELP_PARQUET, HELP_RUN);
        return 0;
    }
    if (!strcmp(argv[1], "parquet"))
        return wants_help(argc - 1, argv + 1, HELP_PARQUET) ? 0 : do_parquet(argc - 1, argv + 1);
    if (!strcmp(argv[1], "run"))
        return wants_help(argc - 1, argv + 1, HELP_RUN) ? 0 : do_run(argc - 1, argv + 1);
    fprintf(stderr, "attn: export: unknown subcommand '%s'; use 'parquet' or 'run'\n", argv[1]);
    return 2;
}
