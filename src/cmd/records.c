/*
 * records.c - `attn records sql|push|check|migrations`: evaluation records
 * in PostgreSQL (export/records.c). Exit 2 for bad usage or input, 1 when
 * the work fails or the contract check finds a problem.
 */
#include "cmd/cmd.h"
#include "export/records.h"
#include "util/alloc.h"
#include "util/fs.h"

#include <stdlib.h>
#include <string.h>

static const char USAGE[] =
    "attn records (sql RUN_ID... [-o FILE] | push RUN_ID... --pg URL | check --pg URL [-o FILE] | "
    "migrations) --repo OWNER/NAME (see --help)";

static const char HELP[] =
    "attn records sql RUN_ID... --repo OWNER/NAME [-o FILE]\n"
    "   or: attn records push RUN_ID... --repo OWNER/NAME --pg URL [--quiet]\n"
    "   or: attn records check --repo OWNER/NAME --pg URL [-o FILE]\n"
    "   or: attn records migrations\n"
    "\n"
    "Evaluation records in PostgreSQL (contract attn.records.v1): tables eval_runs (one row per run)\n"
    "and eval_samples (one per run, PR, router, policy), views eval_headline and\n"
    "eval_router_leaderboard (db/migrations/0001_eval_records.sql).\n"
    "  sql         write one SQL script: the migrations, then idempotent upserts of every run, in one\n"
    "              transaction (psql -f FILE; loading it twice changes nothing)\n"
    "  push        load the runs directly through libpq: COPY for samples, one transaction per run\n"
    "  check       validate the contract (tables, columns, constraints, views, migrations, row counts\n"
    "              and report hashes against the run directories); prints eval_run_report.json,\n"
    "              exit 1 when a check fails\n"
    "  migrations  print the migrations\n"
    "Every run is read and validated before anything is written: a broken run writes nothing.\n"
    "\n"
    "  RUN_ID...          runs of --repo (DATA/github/OWNER/NAME/eval/RUN_ID)\n"
    "  --repo OWNER/NAME  repository (required except for migrations)\n"
    "  --pg URL           PostgreSQL connection URI or conninfo (push, check; default $ATTN_PG_URL)\n"
    "  -o, --out FILE     write the script / report to FILE (atomically) instead of stdout\n"
    "  --data-dir DIR     data directory (default ./data, env ATTN_DATA_DIR)\n"
    "  --quiet            no progress on stderr\n"
    "\n"
    "example: attn records push 20260101-abc --repo acme/widgets --pg postgresql:///evals?host=/run/postgresql";

enum { OPT_PG = 300, OPT_OUT };

int cmd_records(int argc, char **argv)
{
    static const struct option longopts[] = {
        ATTN_COMMON_LONGOPTS,
        {"pg", required_argument, NULL, OPT_PG},
        {"out", required_argument, NULL, OPT_OUT},
        {NULL, 0, NULL, 0}};
    const char *pg = getenv("ATTN_PG_URL"), *out = NULL, *sub;
    attn_cli_str_opt opts[] = {{OPT_PG, &pg}, {OPT_OUT, &out}, {0, NULL}};
    attn_cli cli;
    attn_error err;
    json_t *j = NULL;
    int first, rc, nruns;

    attn_error_clear(&err);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: %s\n", HELP);
            return 0;
        }
        if (!strcmp(argv[i], "-o"))
            argv[i] = "--out";
    }
    if (argc < 2)
        return attn_cli_usage(USAGE, "a subcommand is required");
    sub = argv[1];
    if ((rc = attn_cli_parse(argc - 1, argv + 1, longopts, USAGE, -1, &cli, attn_cli_str_opts, opts, &first)) >= 0)
        return rc;
    nruns = argc - 1 - first;
    if (!strcmp(sub, "migrations")) {
        for (int m = 1; m <= attn_records_n_migrations(); m++)
            fputs(attn_records_migration(m), stdout);
        return 0;
    }
    if (strcmp(sub, "sql") && strcmp(sub, "push") && strcmp(sub, "check"))
        return attn_cli_usage(USAGE, "unknown subcommand '%s'", sub);
    if (!cli.repo)
        return attn_cli_usage(USAGE, "--repo OWNER/NAME is required");
    if (strcmp(sub, "check") && nruns < 1)
        return attn_cli_usage(USAGE, "at least one RUN_ID is required");
    if (!strcmp(sub, "check") && nruns > 0)
        return attn_cli_usage(USAGE, "check takes no RUN_ID (it checks every run of --repo in the database)");
    if (strcmp(sub, "sql") && (!pg || !*pg))
        return attn_cli_usage(USAGE, "--pg URL is required (or set ATTN_PG_URL)");
    if (!strcmp(sub, "sql")) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = out ? open_memstream(&buf, &len) : stdout;
        rc = attn_records_sql(cli.data_dir, cli.repo, argv + 1 + first, nruns, f, &err);
        if (out) {
            fclose(f);
            if (!rc)
                rc = attn_fs_write_atomic(out, buf, len, &err);
            free(buf);
        }
        return rc ? attn_cli_fail(&err) : 0;
    }
    if (!strcmp(sub, "push")) {
        if ((rc = attn_records_push(cli.data_dir, cli.repo, argv + 1 + first, nruns, pg, cli.quiet, &j, &err)))
            return attn_cli_fail(&err);
        attn_cli_print_json(j);
        return 0;
    }
    if ((rc = attn_records_check(cli.data_dir, cli.repo, pg, &j, &err)))
        return attn_cli_fail(&err);
    {
        char *text = attn_xcheck(json_dumps(j, JSON_SORT_KEYS | JSON_INDENT(2)));
        int ok = json_is_true(json_object_get(j, "ok"));
        json_decref(j);
        if (out) {
            size_t n = strlen(text);
            text[n] = '\n'; /* replaced NUL: write n+1 bytes */
            rc = attn_fs_write_atomic(out, text, n + 1, &err);
        } else {
            printf("%s\n", text);
        }
        free(text);
        if (rc)
            return attn_cli_fail(&err);
        if (!ok)
            fprintf(stderr, "attn: records check: the database breaks the contract (see \"ok\": false in the report)\n");
        return ok ? 0 : 1;
    }
}
