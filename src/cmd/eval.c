/*
 * eval.c - `attn eval run` and `attn build-artifacts` (SPEC §8).
 *
 *   attn eval run --repo O/R --router R... [--config [R=]FILE]...
 *                 (--cohort FILE | --from T --end-at T | --pr N...)
 *                 [--cutoff POLICY] [--truth SPEC]... [--top-k K] [--ks 1,3,5,10]
 *                 [--bootstrap N] [--seed S] [--run-id ID] [--allow-stale]
 *                 [--hybrid-train-days D] [--learned-train-days D]
 *                 [--learned-retrain-days M] [--json] [--quiet]
 *   attn build-artifacts --repo O/R --run-id ID (--from T --end-at T | --pr N...)
 *                 [--router R]... [--cutoff POLICY]
 *
 * Thin front end over eval/run.c: parse, select the PRs, run, print the
 * headline table (or the run summary as JSON). Exit 2 for bad usage or
 * input (unknown router, bad policy, stale cutoffs without --allow-stale
 * is 1: the data is not ready).
 */
#include "cmd/cmd.h"
#include "eval/run.h"
#include "exp/cohort.h"
#include "exp/registry.h"
#include "util/alloc.h"
#include "util/fs.h"
#include "route/router.h"
#include "store/store.h"
#include "util/json.h"
#include "util/path.h"
#include "util/time.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char USAGE_RUN[] =
    "attn eval run --repo OWNER/NAME --router R... [--config [R=]FILE]... "
    "(--cohort FILE | --from T --end-at T | --pr N...) [--cutoff POLICY] [--truth SPEC]... "
    "[--top-k K] [--ks K,K...] [--bootstrap N] [--seed S] [--run-id ID [--force]] [--allow-stale] "
    "[--hybrid-train-days D] [--jobs N (default: one per core)] "
    "[--max-cost-usd USD (LLM routers; default no cap)] [--learned-train-days D (730)] "
    "[--learned-retrain-days M (0: one model)] [--json] [--quiet]";
static const char USAGE_ARTIFACTS[] =
    "attn build-artifacts --repo OWNER/NAME --run-id ID (--from T --end-at T | --pr N...) "
    "[--router R]... [--config [R=]FILE]... [--cutoff POLICY] [--force] [--jobs N] [--json] [--quiet]";

enum {
    OPT_ROUTER = 300, OPT_CONFIG, OPT_COHORT, OPT_FROM, OPT_END_AT, OPT_PR, OPT_CUTOFF, OPT_TRUTH,
    OPT_TOP_K, OPT_KS, OPT_BOOTSTRAP, OPT_SEED, OPT_RUN_ID, OPT_ALLOW_STALE, OPT_TRAIN_DAYS,
    OPT_MAX_COST, OPT_JOBS, OPT_FORCE, OPT_LEARNED_DAYS, OPT_LEARNED_RETRAIN
};

#define MAX_LIST 64

struct eval_opts {
    const char *routers[MAX_LIST], *configs[MAX_LIST], *truth[MAX_LIST], *prs[4096];
    size_t n_routers, n_configs, n_truth, n_prs;
    const char *cohort, *from, *end_at, *cutoff, *top_k, *ks, *bootstrap, *seed, *run_id,
        *train_days, *max_cost, *jobs, *learned_days, *learned_retrain;
    int allow_stale, overflow, force;
};

static void push(const char **arr, size_t *n, size_t cap, const char *v, int *overflow)
{
    if (*n == cap)
        *overflow = 1;
    else
        arr[(*n)++] = v;
}

static int eval_opt(void *ctx, int opt, const char *arg)
{
    struct eval_opts *o = ctx;
    switch (opt) {
    case OPT_ROUTER: push(o->routers, &o->n_routers, MAX_LIST, arg, &o->overflow); return 0;
    case OPT_CONFIG: push(o->configs, &o->n_configs, MAX_LIST, arg, &o->overflow); return 0;
    case OPT_TRUTH: push(o->truth, &o->n_truth, MAX_LIST, arg, &o->overflow); return 0;
    case OPT_PR: push(o->prs, &o->n_prs, 4096, arg, &o->overflow); return 0;
    case OPT_COHORT: o->cohort = arg; return 0;
    case OPT_FROM: o->from = arg; return 0;
    case OPT_END_AT: o->end_at = arg; return 0;
    case OPT_CUTOFF: o->cutoff = arg; return 0;
    case OPT_TOP_K: o->top_k = arg; return 0;
    case OPT_KS: o->ks = arg; return 0;
    case OPT_BOOTSTRAP: o->bootstrap = arg; return 0;
    case OPT_SEED: o->seed = arg; return 0;
    case OPT_RUN_ID: o->run_id = arg; return 0;
    case OPT_TRAIN_DAYS: o->train_days = arg; return 0;
    case OPT_MAX_COST: o->max_cost = arg; return 0;
    case OPT_LEARNED_DAYS: o->learned_days = arg; return 0;
    case OPT_LEARNED_RETRAIN: o->learned_retrain = arg; return 0;
    case OPT_ALLOW_STALE: o->allow_stale = 1; return 0;
    case OPT_JOBS: o->jobs = arg; return 0;
    case OPT_FORCE: o->force = 1; return 0;
    }
    return -1;
}

static int parse_num(const char *s, const char *what, long long lo, long long hi, long long *out,
                     attn_error *err)
{
    char *end;
    long long v;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (!*s || *end || errno || v < lo || v > hi)
        return attn_error_set(err, ATTN_EINVAL, "%s '%s' is not a whole number from %lld to %lld",
                              what, s, lo, hi);
    *out = v;
    return 0;
}

/* Router configs: "R=FILE", or a bare FILE when one router is named. */
static int fill_routers(const struct eval_opts *o, attn_eval_router *out, attn_error *err)
{
    for (size_t i = 0; i < o->n_routers; i++) {
        out[i].name = o->routers[i];
        out[i].config_path = NULL;
        out[i].config = NULL;
    }
    for (size_t c = 0; c < o->n_configs; c++) {
        const char *v = o->configs[c], *eq = strchr(v, '=');
        size_t i;
        if (!eq) {
            if (o->n_routers != 1)
                return attn_error_set(err, ATTN_EINVAL,
                                      "--config %s: name the router (--config ROUTER=FILE) when "
                                      "evaluating several",
                                      v);
            out[0].config_path = v;
            continue;
        }
        for (i = 0; i < o->n_routers; i++)
            if (strlen(o->routers[i]) == (size_t)(eq - v) && !strncmp(v, o->routers[i], eq - v))
                break;
        if (i == o->n_routers)
            return attn_error_set(err, ATTN_EINVAL, "--config %s names a router not in --router", v);
        out[i].config_path = eq + 1;
    }
    return 0;
}

/* A run id the registry knows (an experiment run) is refused unless --force;
 * with --force, *reg stays open so the replacement can be recorded. An id
 * the registry does not know needs no record (--force or not). */
static int registry_check(const char *repo_dir, const char *run_id, int force,
                          attn_registry **reg, attn_error *err)
{
    char path[4400];
    json_t *row = NULL;
    int rc, known = 0;
    *reg = NULL;
    snprintf(path, sizeof(path), "%s/runs.sqlite", repo_dir);
    if (!run_id || !attn_fs_exists(path))
        return 0;
    if ((rc = attn_registry_open(path, reg, err)))
        return rc;
    rc = attn_registry_get(*reg, run_id, &row, err);
    if (rc == ATTN_ENOTFOUND) {
        attn_error_clear(err);
        rc = 0;
    } else if (!rc) {
        known = 1;
    }
    if (known && !force) {
        rc = attn_error_set(err, ATTN_ECONFLICT,
                            "run id '%s' belongs to a registered run (%s, %s); choose another "
                            "--run-id, or pass --force to replace it (runs.sqlite records it)",
                            run_id, attn_json_str(row, "kind") ? attn_json_str(row, "kind") : "?",
                            attn_json_str(row, "status") ? attn_json_str(row, "status") : "?");
    }
    json_decref(row);
    if (rc || !force || !known) {
        attn_registry_close(*reg);
        *reg = NULL;
    }
    return rc;
}

static const struct option RUN_LONGOPTS[] = {
    ATTN_COMMON_LONGOPTS,
    {"router", required_argument, NULL, OPT_ROUTER},
    {"config", required_argument, NULL, OPT_CONFIG},
    {"cohort", required_argument, NULL, OPT_COHORT},
    {"from", required_argument, NULL, OPT_FROM},
    {"end-at", required_argument, NULL, OPT_END_AT},
    {"pr", required_argument, NULL, OPT_PR},
    {"cutoff", required_argument, NULL, OPT_CUTOFF},
    {"truth", required_argument, NULL, OPT_TRUTH},
    {"top-k", required_argument, NULL, OPT_TOP_K},
    {"ks", required_argument, NULL, OPT_KS},
    {"bootstrap", required_argument, NULL, OPT_BOOTSTRAP},
    {"seed", required_argument, NULL, OPT_SEED},
    {"run-id", required_argument, NULL, OPT_RUN_ID},
    {"allow-stale", no_argument, NULL, OPT_ALLOW_STALE},
    {"hybrid-train-days", required_argument, NULL, OPT_TRAIN_DAYS},
    {"max-cost-usd", required_argument, NULL, OPT_MAX_COST},
    {"jobs", required_argument, NULL, OPT_JOBS},
    {"force", no_argument, NULL, OPT_FORCE},
    {"learned-train-days", required_argument, NULL, OPT_LEARNED_DAYS},
    {"learned-retrain-days", required_argument, NULL, OPT_LEARNED_RETRAIN},
    {NULL, 0, NULL, 0}};

/* Which options go together: 0, or the exit status of the usage error. */
static int check_usage(struct eval_opts *o, const attn_cli *cli, int artifacts_only,
                       const char *usage)
{
    if (o->overflow)
        return attn_cli_usage(usage, "too many repeated options");
    if (!cli->repo)
        return attn_cli_usage(usage, "--repo OWNER/NAME is required");
    if (artifacts_only && !o->run_id)
        return attn_cli_usage(usage, "--run-id ID is required");
    if (!o->n_routers) {
        if (!artifacts_only)
            return attn_cli_usage(usage, "name at least one --router (see 'attn route --list')");
        for (size_t i = 0; i < attn_router_count() && i < MAX_LIST; i++)
            if (!attn_router_opt_in(attn_router_at(i)))
                o->routers[o->n_routers++] = attn_router_at(i)->name;
    }
    if (!!o->cohort + !!(o->from || o->end_at) + !!o->n_prs != 1)
        return attn_cli_usage(usage, artifacts_only ? "give either --from and --end-at, or --pr N..."
                                                    : "give exactly one of --cohort FILE, "
                                                      "--from and --end-at, or --pr N...");
    if ((o->from || o->end_at) && !(o->from && o->end_at))
        return attn_cli_usage(usage, "--from and --end-at go together");
    if (artifacts_only && o->cohort)
        return attn_cli_usage(usage, "build-artifacts takes --from/--end-at or --pr");
    return 0;
}

/* An integer option into *dst when given: 0, or the exit status of the error. */
static int num_opt(const char *arg, const char *what, long long lo, long long hi, int *dst)
{
    attn_error err;
    long long v;
    if (!arg)
        return 0;
    if (parse_num(arg, what, lo, hi, &v, &err))
        return attn_cli_fail(&err);
    *dst = (int)v;
    return 0;
}

/* The numeric options into eo: 0, or the exit status of the error. */
static int fill_numbers(const struct eval_opts *o, attn_eval_opts *eo, const char *usage)
{
    attn_error err;
    long long v;
    int rc;

    if ((rc = num_opt(o->top_k, "--top-k", 1, 1000, &eo->top_k)) ||
        (rc = num_opt(o->bootstrap, "--bootstrap", 0, 100000, &eo->bootstrap)))
        return rc;
    if (o->seed) {
        if (parse_num(o->seed, "--seed", 0, INT64_MAX, &v, &err))
            return attn_cli_fail(&err);
        eo->seed = (uint64_t)v;
    }
    if (o->max_cost) {
        char *end;
        double c = strtod(o->max_cost, &end);
        if (!*o->max_cost || *end || !(c > 0) || c > 1e9)
            return attn_cli_usage(usage, "--max-cost-usd '%s' is not a positive amount of USD",
                                  o->max_cost);
        eo->max_cost_usd = c;
    }
    if ((rc = num_opt(o->jobs, "--jobs", 1, 64, &eo->jobs)) ||
        (rc = num_opt(o->train_days, "--hybrid-train-days", 0, 3650, &eo->hybrid_train_days)) ||
        (rc = num_opt(o->learned_days, "--learned-train-days", 0, 3650,
                      &eo->learned_train_days)) ||
        (rc = num_opt(o->learned_retrain, "--learned-retrain-days", 0, 3650,
                      &eo->learned_retrain_days)))
        return rc;
    if (o->ks) {
        char buf[256], *tok, *save = NULL;
        snprintf(buf, sizeof(buf), "%s", o->ks);
        for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            if (eo->n_ks == ATTN_EVAL_MAX_KS)
                return attn_cli_usage(usage, "--ks: at most %d values", ATTN_EVAL_MAX_KS);
            if (parse_num(tok, "--ks value", 1, 1000, &v, &err))
                return attn_cli_fail(&err);
            eo->ks[eo->n_ks++] = (int)v;
        }
        if (!eo->n_ks)
            return attn_cli_usage(usage, "--ks needs values like 1,3,5");
    }
    return 0;
}

/* The store, read-only, refusing one with an unfinished ingestion: never an
 * evaluation of a half-written store (SPEC §13). */
static int open_finished_store(const char *path, attn_store **s, attn_error *err)
{
    char msg[400];
    int rc, unfinished = 0;
    if ((rc = attn_store_open_readonly(path, s, err)))
        return rc;
    if ((rc = attn_store_unfinished_ingest(*s, ATTN_NULL_I64, &unfinished, msg, sizeof(msg),
                                           err)) ||
        (unfinished && (rc = attn_error_set(err, ATTN_ECONFLICT, "%s: %s", path, msg)))) {
        attn_store_close(*s);
        *s = NULL;
        return rc;
    }
    return 0;
}

/* The PRs to evaluate, from --pr, --from/--end-at or --cohort, into eo. */
static int load_prs(const struct eval_opts *o, const char *repo, attn_store *s,
                    attn_eval_opts *eo, attn_eval_pr **prs, attn_cohort **cohort,
                    attn_error *err)
{
    size_t n_prs = 0;
    long long v;
    int rc;

    if (o->n_prs) {
        *prs = attn_xcalloc(o->n_prs, sizeof(**prs));
        for (size_t i = 0; i < o->n_prs; i++) {
            if ((rc = parse_num(o->prs[i], "--pr", 1, INT64_MAX, &v, err)))
                return rc;
            (*prs)[i].number = v;
            (*prs)[i].cutoff = ATTN_NULL_I64;
        }
        n_prs = o->n_prs;
    } else if (o->from) {
        int64_t from, end, repo_id;
        if ((rc = attn_time_parse(o->from, &from, err))) {
            attn_error_wrap(err, "--from");
            return rc;
        }
        if ((rc = attn_time_parse(o->end_at, &end, err))) {
            attn_error_wrap(err, "--end-at");
            return rc;
        }
        if (end <= from)
            return attn_error_set(err, ATTN_EINVAL, "--end-at must be after --from");
        if ((rc = attn_store_repo_id(s, repo, &repo_id, err)) ||
            (rc = attn_eval_prs_in_window(s, repo_id, from, end, prs, &n_prs, err)))
            return rc;
        if (!n_prs)
            return attn_error_set(err, ATTN_EINVAL, "no PR of %s was created from %s to %s", repo,
                                  o->from, o->end_at);
    } else {
        if ((rc = attn_cohort_load(o->cohort, repo, cohort, err)))
            return rc;
        n_prs = attn_cohort_size(*cohort);
        *prs = attn_xcalloc(n_prs ? n_prs : 1, sizeof(**prs));
        for (size_t i = 0; i < n_prs; i++)
            attn_cohort_pr(*cohort, i, &(*prs)[i].number, &(*prs)[i].cutoff);
        eo->cohort_hash = attn_cohort_hash(*cohort);
        if (!o->cutoff)
            eo->cutoff_policy = attn_cohort_cutoff_policy(*cohort);
    }
    eo->prs = *prs;
    eo->n_prs = n_prs;
    return 0;
}

/* The human summary: the run and its headline table. */
static void print_summary(const json_t *summary)
{
    const json_t *head = json_object_get(summary, "headline"), *x;
    const char *k;
    printf("run %s: %lld PRs -> %s\n", json_string_value(json_object_get(summary, "run_id")),
           (long long)json_integer_value(json_object_get(summary, "n")),
           json_string_value(json_object_get(summary, "run_dir")));
    if (!head)
        return;
    printf("%s, observed PRs:\n", json_string_value(json_object_get(summary, "primary_policy")));
    printf("%-16s %6s %7s %7s %7s %7s\n", "router", "n", "hit@1", "hit@3", "hit@5", "mrr");
    json_object_foreach((json_t *)head, k, x) {
        char c[4][32]; /* "–", never 0.000, for a k the run left out */
        printf("%-16s %6lld %s %s %s %s\n", k,
               (long long)json_integer_value(json_object_get(x, "n")),
               attn_cli_cell(c[0], 32, json_object_get(x, "hit_at_1"), 7, 3),
               attn_cli_cell(c[1], 32, json_object_get(x, "hit_at_3"), 7, 3),
               attn_cli_cell(c[2], 32, json_object_get(x, "hit_at_5"), 7, 3),
               attn_cli_cell(c[3], 32, json_object_get(x, "mrr"), 7, 3));
    }
}

static int run(int argc, char **argv, int artifacts_only)
{
    const char *usage = artifacts_only ? USAGE_ARTIFACTS : USAGE_RUN;
    struct eval_opts o;
    attn_cli cli;
    attn_error err;
    attn_eval_opts eo;
    attn_eval_router routers[MAX_LIST];
    attn_eval_pr *prs = NULL;
    attn_cohort *cohort = NULL;
    attn_store *s = NULL;
    json_t *summary = NULL;
    attn_registry *reg = NULL;
    char path[4200], repo_dir[4200];
    int rc;

    memset(&o, 0, sizeof(o));
    attn_error_clear(&err);
    if ((rc = attn_cli_parse(argc, argv, RUN_LONGOPTS, usage, 0, &cli, eval_opt, &o, NULL)) >= 0)
        return rc;
    if ((rc = check_usage(&o, &cli, artifacts_only, usage)))
        return rc;

    attn_eval_opts_init(&eo);
    eo.repo = cli.repo;
    eo.routers = routers;
    eo.n_routers = o.n_routers;
    eo.cutoff_policy = o.cutoff;
    eo.truth = o.n_truth ? o.truth : NULL;
    eo.n_truth = o.n_truth;
    eo.run_id = o.run_id;
    eo.allow_stale = o.allow_stale;
    eo.artifacts_only = artifacts_only;
    eo.progress = cli.quiet ? 0 : cli.progress;
    eo.force = o.force;
    if (fill_routers(&o, routers, &err))
        return attn_cli_fail(&err);
    if ((rc = fill_numbers(&o, &eo, usage)))
        return rc;

    if (attn_cli_db_path(&cli, path, sizeof(path), &err) ||
        attn_path_repo_dir(cli.data_dir, cli.repo, repo_dir, sizeof(repo_dir), &err) ||
        open_finished_store(path, &s, &err))
        return attn_cli_fail(&err);
    eo.store = s;
    eo.repo_dir = repo_dir;
    if ((rc = load_prs(&o, cli.repo, s, &eo, &prs, &cohort, &err)) ||
        (rc = registry_check(repo_dir, o.run_id, o.force, &reg, &err)) ||
        (rc = attn_eval_run(&eo, &summary, &err)))
        goto out;
    if (reg) {
        char detail[512];
        snprintf(detail, sizeof(detail), "replaced by `attn %s --run-id %s --force` (inputs %s)",
                 artifacts_only ? "build-artifacts" : "eval run", o.run_id,
                 attn_json_str(summary, "inputs_hash") ? attn_json_str(summary, "inputs_hash")
                                                       : "?");
        if ((rc = attn_registry_replaced(reg, o.run_id, detail, (int64_t)time(NULL), &err)))
            goto out;
    }
    if (cli.json) {
        attn_cli_print_json(summary);
        summary = NULL;
    } else if (!cli.quiet) {
        print_summary(summary);
    }
out:
    attn_registry_close(reg);
    json_decref(summary);
    attn_cohort_free(cohort);
    free(prs);
    attn_store_close(s);
    if (rc)
        return attn_cli_fail(&err);
    return 0;
}

int cmd_eval(int argc, char **argv)
{
    if (argc < 2 || argv[1][0] == '-') {
        if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
            attn_cli_help(stdout, USAGE_RUN);
            return 0;
        }
        return attn_cli_usage(USAGE_RUN, "missing subcommand 'run'");
    }
    if (!strcmp(argv[1], "run"))
        return run(argc - 1, argv + 1, 0);
    return attn_cli_usage(USAGE_RUN, "unknown subcommand '%s'", argv[1]);
}

int cmd_build_artifacts(int argc, char **argv)
{
    return run(argc, argv, 1);
}
