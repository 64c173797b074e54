/*
 * cohort.c - `attn cohort create | validate` (SPEC §9, exp/cohort.h).
 *
 *   attn cohort create --repo O/R --from T --end-at T [--limit N [--seed S]]
 *                      [--cutoff POLICY] --out FILE
 *   attn cohort validate FILE [--repo O/R]
 *
 * create writes the cohort atomically and prints its hash and size; validate
 * checks the format and recomputes the hash (exit 2 naming the problem, e.g.
 * a hand edit).
 */
#include "cmd/cmd.h"
#include "util/alloc.h"
#include "exp/cohort.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/time.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char USAGE_CREATE[] =
    "attn cohort create --repo OWNER/NAME --from T --end-at T [--limit N] [--seed S] "
    "[--cutoff POLICY] --out FILE";
static const char USAGE_VALIDATE[] = "attn cohort validate FILE [--repo OWNER/NAME] [--json]";

enum { OPT_FROM = 300, OPT_END_AT, OPT_LIMIT, OPT_SEED, OPT_CUTOFF, OPT_OUT };

static int num(const char *s, const char *what, long long lo, long long *out, attn_error *err)
{
    char *end;
    long long v;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (!*s || *end || errno || v < lo)
        return attn_error_set(err, ATTN_EINVAL, "%s '%s' must be a whole number >= %lld", what, s,
                              lo);
    *out = v;
    return 0;
}

static int create(int argc, char **argv)
{
    static const struct option longopts[] = {
        ATTN_COMMON_LONGOPTS,
        {"from", required_argument, NULL, OPT_FROM},
        {"end-at", required_argument, NULL, OPT_END_AT},
        {"limit", required_argument, NULL, OPT_LIMIT},
        {"seed", required_argument, NULL, OPT_SEED},
        {"cutoff", required_argument, NULL, OPT_CUTOFF},
        {"out", required_argument, NULL, OPT_OUT},
        {NULL, 0, NULL, 0}};
    const char *from = NULL, *end_at = NULL, *limit = NULL, *seed = NULL, *cutoff = NULL,
               *outp = NULL;
    attn_cli_str_opt so[] = {{OPT_FROM, &from}, {OPT_END_AT, &end_at}, {OPT_LIMIT, &limit},
                             {OPT_SEED, &seed}, {OPT_CUTOFF, &cutoff}, {OPT_OUT, &outp},
                             {0, NULL}};
    attn_cli cli;
    attn_error err;
    attn_cohort_filters f;
    attn_store *s = NULL;
    json_t *doc = NULL;
    attn_buf b = ATTN_BUF_INIT;
    char path[4200];
    long long v;
    int rc;

    attn_error_clear(&err);
    memset(&f, 0, sizeof(f));
    if ((rc = attn_cli_parse(argc, argv, longopts, USAGE_CREATE, 0, &cli, attn_cli_str_opts, so,
                             NULL)) >= 0)
        return rc;
    if (!cli.repo || !from || !end_at || !outp)
        return attn_cli_usage(USAGE_CREATE, "--repo, --from, --end-at and --out are required");
    if (seed && !limit)
        return attn_cli_usage(USAGE_CREATE, "--seed samples within --limit; give --limit too");
    if (attn_time_parse(from, &f.from, &err))
        return attn_error_wrap(&err, "--from"), attn_cli_fail(&err);
    if (attn_time_parse(end_at, &f.end_at, &err))
        return attn_error_wrap(&err, "--end-at"), attn_cli_fail(&err);
    if (limit) {
        if (num(limit, "--limit", 1, &v, &err))
            return attn_cli_fail(&err);
        f.limit = (long)v;
    }
    if (seed) {
        if (num(seed, "--seed", 0, &v, &err))
            return attn_cli_fail(&err);
        f.has_seed = 1;
        f.seed = (uint64_t)v;
    }
    f.cutoff_policy = cutoff;
    if (attn_cli_db_path(&cli, path, sizeof(path), &err) ||
        attn_store_open_readonly(path, &s, &err))
        return attn_cli_fail(&err);
    rc = attn_cohort_create(s, cli.repo, &f, &doc, &err);
    attn_store_close(s);
    if (!rc) {
        attn_json_dump_pretty(doc, &b);
        rc = attn_fs_write_atomic(outp, b.ptr, b.len, &err);
    }
    attn_buf_free(&b);
    if (rc) {
        json_decref(doc);
        return attn_cli_fail(&err);
    }
    if (cli.json)
        attn_cli_print_json(json_pack("{s:s, s:s, s:I, s:s}", "path", outp, "hash",
                                      attn_json_str(doc, "hash"), "n",
                                      (json_int_t)json_array_size(json_object_get(doc, "prs")),
                                      "cutoff_policy", attn_json_str(doc, "cutoff_policy")));
    else if (!cli.quiet)
        printf("cohort %s: %zu PRs, hash %s\n", outp, json_array_size(json_object_get(doc, "prs")),
               attn_json_str(doc, "hash"));
    json_decref(doc);
    return 0;
}

static int validate(int argc, char **argv)
{
    static const struct option longopts[] = {ATTN_COMMON_LONGOPTS, {NULL, 0, NULL, 0}};
    attn_cli cli;
    attn_error err;
    attn_cohort *c = NULL;
    int rc, first;

    attn_error_clear(&err);
    if ((rc = attn_cli_parse(argc, argv, longopts, USAGE_VALIDATE, 1, &cli, NULL, NULL, &first)) >=
        0)
        return rc;
    if (first >= argc)
        return attn_cli_usage(USAGE_VALIDATE, "name the cohort file");
    if (attn_cohort_load(argv[first], cli.repo, &c, &err))
        return attn_cli_fail(&err);
    if (cli.json)
        attn_cli_print_json(json_pack("{s:s, s:s, s:I, s:s, s:b}", "path", argv[first], "hash",
                                      attn_cohort_hash(c), "n", (json_int_t)attn_cohort_size(c),
                                      "repo", attn_cohort_repo(c), "valid", 1));
    else if (!cli.quiet)
        printf("cohort %s: valid, %zu PRs of %s, hash %s\n", argv[first], attn_cohort_size(c),
               attn_cohort_repo(c), attn_cohort_hash(c));
    attn_cohort_free(c);
    return 0;
}

int cmd_cohort(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "create"))
        return create(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "validate"))
        return validate(argc - 1, argv + 1);
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("usage: attn cohort <subcommand> [options]\n\nsubcommands:\n"
               "  create     a hashed cohort of the PRs of a window, with locked cutoffs\n"
               "  validate   check a cohort file and its hash\n\n"
               "examples:\n  attn cohort create --repo o/r --from 2024-04-01T00:00:00Z "
               "--end-at 2024-06-01T00:00:00Z --out cohort.json\n"
               "\nrun 'attn cohort <subcommand> --help' for its options.\n");
        return 0;
    }
    return attn_cli_usage(USAGE_CREATE, "give a subcommand: create or validate");
}
