/*
 * nightly.c - `attn nightly`: the scheduled evaluation of seed 003, as one
 * command a cron line or a CI workflow can call once a day.
 *
 * Steps, each the same code path as the command it names, stopping at the
 * first failure (its message names the step):
 *   1. attn incremental            (unless --no-incremental)
 *   2. attn cohort create          the rolling window [DAY - LAG - D, DAY - LAG)
 *   3. attn experiment run         the spec re-locked to that cohort, run id nightly-DAY
 *   4. attn records push           (with --pg or $ATTN_PG_URL)
 *   5. attn runs cleanup           the repository's retention policy
 * Per day it is idempotent: the day's cohort and spec are kept under
 * DATA/github/O/R/nightly/DAY/ and reused; a day whose run directory exists
 * is not run again; records push and cleanup are idempotent themselves.
 * Must never: evaluate a window whose truth cannot have been observed yet
 * (the LAG, default 2 days, keeps 48 h truth windows closed).
 */
#include "cmd/cmd.h"
#include "util/alloc.h"
#include "exp/spec.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/path.h"
#include "util/time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>

static const char USAGE[] =
    "attn nightly --repo OWNER/NAME --spec SPEC.json [--days D] [--lag-days L] [--date DAY] "
    "[--pg URL] [--no-incremental] [--api-url URL] [--quiet]";

enum { OPT_SPEC = 300, OPT_DAYS, OPT_LAG, OPT_DATE, OPT_PG, OPT_NO_INCR, OPT_API_URL };

typedef struct {
    const char *spec, *days, *lag, *date, *pg, *api_url;
    int no_incremental;
} nightly_opts;

static int nightly_opt(void *ctx, int opt, const char *arg)
{
    nightly_opts *o = ctx;
    switch (opt) {
    case OPT_SPEC: o->spec = arg; return 0;
    case OPT_DAYS: o->days = arg; return 0;
    case OPT_LAG: o->lag = arg; return 0;
    case OPT_DATE: o->date = arg; return 0;
    case OPT_PG: o->pg = arg; return 0;
    case OPT_API_URL: o->api_url = arg; return 0;
    case OPT_NO_INCR: o->no_incremental = 1; return 0;
    }
    return -1;
}

static int parse_days(const char *s, const char *flag, long lo, long hi, long *out)
{
    char *end;
    long v;
    if (!s)
        return 0;
    v = strtol(s, &end, 10);
    if (!*s || *end || v < lo || v > hi)
        return attn_cli_usage(USAGE, "%s '%s' is not a whole number from %ld to %ld", flag, s, lo,
                              hi);
    *out = v;
    return 0;
}

/* Run one step as its own command would run; a failure names the step.
 * With --json, a step's own stdout is dropped so that stdout is one object. */
static int step(const char *name, int (*fn)(int, char **), char **argv, int quiet, int json)
{
    int argc = 0, rc, saved = -1, null_fd;
    while (argv[argc])
        argc++;
    if (!quiet)
        fprintf(stderr, "nightly: %s\n", name);
    fflush(stdout);
    if (json && (null_fd = open("/dev/null", O_WRONLY)) >= 0) {
        saved = dup(1);
        dup2(null_fd, 1);
        close(null_fd);
    }
    rc = fn(argc, argv);
    fflush(stdout);
    if (saved >= 0) {
        dup2(saved, 1);
        close(saved);
    }
    if (rc)
        fprintf(stderr, "attn: nightly stopped at '%s' (exit %d); fix it and rerun: finished "
                        "steps are not repeated\n", name, rc);
    return rc;
}

/* The spec re-locked to the day's cohort: cohort.hash/path replaced, hash recomputed. */
static int day_spec(const char *spec_path, const char *cohort_path, const char *out_path,
                    attn_error *err)
{
    json_t *spec = NULL, *cohort = NULL;
    attn_buf b = ATTN_BUF_INIT;
    char hex[65];
    int rc;
    if ((rc = attn_json_load_file(spec_path, &spec, err)) ||
        (rc = attn_json_load_file(cohort_path, &cohort, err)))
        goto out;
    if (!json_is_object(json_object_get(spec, "cohort")) || !attn_json_str(cohort, "hash")) {
        rc = attn_error_set(err, ATTN_EINVAL, "%s is not an experiment spec (no cohort); make one "
                                              "with attn experiment init", spec_path);
        goto out;
    }
    json_object_set_new(json_object_get(spec, "cohort"), "hash",
                        json_string(attn_json_str(cohort, "hash")));
    json_object_set_new(json_object_get(spec, "cohort"), "path", json_string(cohort_path));
    if ((rc = attn_spec_compute_hash(spec, hex, err)))
        goto out;
    json_object_set_new(spec, "hash", json_string(hex));
    attn_json_dump_pretty(spec, &b);
    rc = attn_fs_write_atomic(out_path, b.ptr, b.len, err);
out:
    attn_buf_free(&b);
    json_decref(spec);
    json_decref(cohort);
    return rc;
}

int cmd_nightly(int argc, char **argv)
{
    static const struct option longopts[] = {
        ATTN_COMMON_LONGOPTS,
        {"spec", required_argument, NULL, OPT_SPEC},
        {"days", required_argument, NULL, OPT_DAYS},
        {"lag-days", required_argument, NULL, OPT_LAG},
        {"date", required_argument, NULL, OPT_DATE},
        {"pg", required_argument, NULL, OPT_PG},
        {"api-url", required_argument, NULL, OPT_API_URL},
        {"no-incremental", no_argument, NULL, OPT_NO_INCR},
        {NULL, 0, NULL, 0}};
    nightly_opts o = {0};
    attn_cli cli;
    attn_error err;
    char repo_dir[4096], day[16], dir[4200], cohort[4300], spec[4300], rundir[4300], run_id[32],
        from[32], end[32], ts[32];
    long days = 7, lag = 2;
    int64_t t_day;
    int rc;

    attn_error_clear(&err);
    if ((rc = attn_cli_parse(argc, argv, longopts, USAGE, 0, &cli, nightly_opt, &o, NULL)) >= 0)
        return rc;
    if (!cli.repo || !o.spec)
        return attn_cli_usage(USAGE, "give --repo and --spec");
    if ((rc = parse_days(o.days, "--days", 1, 3650, &days)) ||
        (rc = parse_days(o.lag, "--lag-days", 0, 365, &lag)))
        return rc;
    if (o.date) {
        snprintf(ts, sizeof(ts), "%.10sT00:00:00Z", o.date);
        if (strlen(o.date) != 10 || attn_time_parse(ts, &t_day, &err))
            return attn_cli_usage(USAGE, "--date '%s' is not a day like 2024-05-01", o.date);
    } else {
        t_day = (int64_t)time(NULL) / 86400 * 86400;   /* the one wall-clock read: "today" */
    }
    attn_time_format(t_day, ts);
    snprintf(day, sizeof(day), "%.10s", ts);
    attn_time_format(t_day - (int64_t)(lag + days) * 86400, from);
    attn_time_format(t_day - (int64_t)lag * 86400, end);
    snprintf(run_id, sizeof(run_id), "nightly-%s", day);
    if (!o.pg)
        o.pg = getenv("ATTN_PG_URL");
    if (attn_path_repo_dir(cli.data_dir, cli.repo, repo_dir, sizeof(repo_dir), &err))
        return attn_cli_fail(&err);
    snprintf(dir, sizeof(dir), "%s/nightly/%s", repo_dir, day);
    snprintf(cohort, sizeof(cohort), "%s/cohort.json", dir);
    snprintf(spec, sizeof(spec), "%s/spec.json", dir);
    snprintf(rundir, sizeof(rundir), "%s/eval/%s", repo_dir, run_id);
    if (attn_fs_mkdirs(dir, &err))
        return attn_cli_fail(&err);
    {   /* refuse a bad spec before any step runs */
        json_t *sp = NULL;
        if (attn_json_load_file(o.spec, &sp, &err))
            return attn_cli_fail(&err);
        rc = !json_is_object(json_object_get(sp, "cohort"));
        json_decref(sp);
        if (rc)
            return attn_cli_usage(USAGE, "%s is not an experiment spec (no cohort); make one with "
                                         "attn experiment init", o.spec);
    }

    if (!o.no_incremental) {
        char *a[] = {"incremental", "--repo", (char *)cli.repo, "--data-dir", (char *)cli.data_dir,
                     o.api_url ? "--api-url" : NULL, (char *)o.api_url, NULL, NULL};
        if (cli.quiet)
            a[o.api_url ? 7 : 5] = "--quiet";
        if ((rc = step("incremental", cmd_incremental, a, cli.quiet, cli.json)))
            return rc;
    }
    if (!attn_fs_exists(cohort)) {
        char *a[] = {"cohort", "create", "--repo", (char *)cli.repo, "--data-dir",
                     (char *)cli.data_dir, "--from", from, "--end-at", end, "--out", cohort, NULL};
        if ((rc = step("cohort create", cmd_cohort, a, cli.quiet, cli.json)))
            return rc;
    }
    if (!attn_fs_exists(spec) && (rc = day_spec(o.spec, cohort, spec, &err)))
        return attn_cli_fail(&err);
    if (attn_fs_exists(rundir)) {
        if (!cli.quiet)
            fprintf(stderr, "nightly: %s is already evaluated (%s); not run again\n", day, rundir);
    } else {
        char *a[] = {"experiment", "run", "--repo", (char *)cli.repo, "--data-dir",
                     (char *)cli.data_dir, "--spec", spec, "--cohort", cohort, "--run-id", run_id,
                     "--quiet", NULL};
        if ((rc = step("experiment run", cmd_experiment, a, cli.quiet, cli.json)))
            return rc;
    }
    if (o.pg) {
        char *a[] = {"records", "push", run_id, "--repo", (char *)cli.repo, "--data-dir",
                     (char *)cli.data_dir, "--pg", (char *)o.pg, "--quiet", NULL};
        if ((rc = step("records push", cmd_records, a, cli.quiet, cli.json)))
            return rc;
    }
    {
        char *a[] = {"runs", "cleanup", "--repo", (char *)cli.repo, "--data-dir",
                     (char *)cli.data_dir, NULL};
        if ((rc = step("runs cleanup", cmd_runs, a, cli.quiet, cli.json)))
            return rc;
    }
    if (cli.json)
        attn_cli_print_json(json_pack("{s:s, s:s, s:s, s:s, s:s, s:b}", "day", day, "from", from,
                                      "end_at", end, "run_id", run_id, "run_dir", rundir,
                                      "records_pushed", o.pg != NULL));
    else if (!cli.quiet)
        printf("nightly %s: run %s over PRs created %s .. %s\n", day, run_id, from, end);
    return 0;
}
