/*
 * experiment.c - `attn experiment init | run | show | summarize | promote`
 * (SPEC §9; exp/spec.h, exp/experiment.h, exp/registry.h).
 *
 *   attn experiment init --repo O/R --cohort FILE --router R... [--config R=FILE]...
 *                        [--truth SPEC]... [--kind K] [--experiment-id ID] [--tag T]...
 *                        [--notes TEXT] [--baseline-router R --candidate-router R] --out SPEC
 *   attn experiment run --repo O/R --spec SPEC --cohort FILE [--run-id ID] [--allow-stale]
 *   attn experiment show RUN_ID --repo O/R [--json]
 *   attn experiment summarize --repo O/R [--json]
 *   attn experiment promote RUN_ID --repo O/R [--json]   (exit 0 promote, 1 not)
 *
 * Thin front end: parse, call the library, print.
 */
#include "cmd/cmd.h"
#include "util/alloc.h"
#include "exp/cohort.h"
#include "exp/experiment.h"
#include "exp/registry.h"
#include "exp/spec.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/path.h"
#include "util/sha256.h"

#include <stdlib.h>
#include <string.h>

static const char USAGE_INIT[] =
    "attn experiment init --repo OWNER/NAME --cohort FILE --router R... [--config R=FILE]... "
    "[--truth SPEC]... [--kind baseline|experimental|ab_control|ab_treatment] "
    "[--experiment-id ID] [--tag T]... [--notes TEXT] [--baseline-router R] "
    "[--candidate-router R] --out SPEC.json";
static const char USAGE_RUN[] =
    "attn experiment run --repo OWNER/NAME --spec SPEC.json --cohort FILE [--run-id ID] "
    "[--allow-stale] [--max-cost-usd USD (LLM routers; default no cap)] [--json] [--quiet]";
static const char USAGE_AB[] =
    "attn experiment ab --repo OWNER/NAME --control SPEC_A.json --treatment SPEC_B.json "
    "--cohort FILE [--experiment-id ID (default ab-<12 hex of both spec hashes>)] "
    "[--max-cost-usd USD] [--allow-stale] [--json] [--quiet]  (two runs, kinds ab_control and "
    "ab_treatment, run ids ID-control and ID-treatment)";
static const char USAGE_SHOW[] = "attn experiment show RUN_ID --repo OWNER/NAME [--json]";
static const char USAGE_SUMMARIZE[] = "attn experiment summarize --repo OWNER/NAME [--json]";
static const char USAGE_PROMOTE[] = "attn experiment promote RUN_ID --repo OWNER/NAME [--json]";

enum {
    OPT_COHORT = 300, OPT_ROUTER, OPT_CONFIG, OPT_TRUTH, OPT_KIND, OPT_EXP_ID, OPT_TAG, OPT_NOTES,
    OPT_OUT, OPT_SPEC, OPT_RUN_ID, OPT_ALLOW_STALE, OPT_BASE, OPT_CAND,
    OPT_MAX_COST, OPT_CONTROL, OPT_TREATMENT
};

#define MAX_LIST 32

struct xopts {
    const char *routers[MAX_LIST], *configs[MAX_LIST], *truth[MAX_LIST], *tags[MAX_LIST];
    size_t n_routers, n_configs, n_truth, n_tags;
    const char *cohort, *kind, *exp_id, *notes, *out, *spec, *run_id, *base, *cand, *max_cost,
        *control, *treatment;
    int allow_stale, overflow;
};

static void push(const char **arr, size_t *n, const char *v, int *overflow)
{
    if (*n == MAX_LIST)
        *overflow = 1;
    else
        arr[(*n)++] = v;
}

static int xopt(void *ctx, int opt, const char *arg)
{
    struct xopts *o = ctx;
    switch (opt) {
    case OPT_ROUTER: push(o->routers, &o->n_routers, arg, &o->overflow); return 0;
    case OPT_CONFIG: push(o->configs, &o->n_configs, arg, &o->overflow); return 0;
    case OPT_TRUTH: push(o->truth, &o->n_truth, arg, &o->overflow); return 0;
    case OPT_TAG: push(o->tags, &o->n_tags, arg, &o->overflow); return 0;
    case OPT_COHORT: o->cohort = arg; return 0;
    case OPT_KIND: o->kind = arg; return 0;
    case OPT_EXP_ID: o->exp_id = arg; return 0;
    case OPT_NOTES: o->notes = arg; return 0;
    case OPT_OUT: o->out = arg; return 0;
    case OPT_SPEC: o->spec = arg; return 0;
    case OPT_RUN_ID: o->run_id = arg; return 0;
    case OPT_BASE: o->base = arg; return 0;
    case OPT_CAND: o->cand = arg; return 0;
    case OPT_MAX_COST: o->max_cost = arg; return 0;
    case OPT_CONTROL: o->control = arg; return 0;
    case OPT_TREATMENT: o->treatment = arg; return 0;
    case OPT_ALLOW_STALE: o->allow_stale = 1; return 0;
    }
    return -1;
}

static const struct option LONGOPTS[] = {
    ATTN_COMMON_LONGOPTS,
    {"cohort", required_argument, NULL, OPT_COHORT},
    {"router", required_argument, NULL, OPT_ROUTER},
    {"config", required_argument, NULL, OPT_CONFIG},
    {"truth", required_argument, NULL, OPT_TRUTH},
    {"kind", required_argument, NULL, OPT_KIND},
    {"experiment-id", required_argument, NULL, OPT_EXP_ID},
    {"tag", required_argument, NULL, OPT_TAG},
    {"notes", required_argument, NULL, OPT_NOTES},
    {"out", required_argument, NULL, OPT_OUT},
    {"spec", required_argument, NULL, OPT_SPEC},
    {"run-id", required_argument, NULL, OPT_RUN_ID},
    {"allow-stale", no_argument, NULL, OPT_ALLOW_STALE},
    {"baseline-router", required_argument, NULL, OPT_BASE},
    {"candidate-router", required_argument, NULL, OPT_CAND},
    {"max-cost-usd", required_argument, NULL, OPT_MAX_COST},
    {"control", required_argument, NULL, OPT_CONTROL},
    {"treatment", required_argument, NULL, OPT_TREATMENT},
    {NULL, 0, NULL, 0}};

static int open_registry(const attn_cli *cli, attn_registry **reg, char *repo_dir, size_t cap,
                         attn_error *err)
{
    char path[4400];
    int rc;
    if ((rc = attn_path_repo_dir(cli->data_dir, cli->repo, repo_dir, cap, err)) ||
        (rc = attn_fs_mkdirs(repo_dir, err)))
        return rc;
    snprintf(path, sizeof(path), "%s/runs.sqlite", repo_dir);
    return attn_registry_open(path, reg, err);
}

static int init(int argc, char **argv)
{
    struct xopts o;
    attn_cli cli;
    attn_error err;
    attn_cohort *c = NULL;
    attn_spec_params p;
    attn_spec_router routers[MAX_LIST];
    json_t *configs[MAX_LIST] = {NULL}, *doc = NULL;
    attn_buf b = ATTN_BUF_INIT;
    int rc;

    memset(&o, 0, sizeof(o));
    attn_error_clear(&err);
    if ((rc = attn_cli_parse(argc, argv, LONGOPTS, USAGE_INIT, 0, &cli, xopt, &o, NULL)) >= 0)
        return rc;
    if (o.overflow)
        return attn_cli_usage(USAGE_INIT, "too many repeated options");
    if (!cli.repo || !o.cohort || !o.out || !o.n_routers)
        return attn_cli_usage(USAGE_INIT, "--repo, --cohort, --router and --out are required");
    if (o.kind && !attn_spec_kind_valid(o.kind))
        return attn_cli_usage(USAGE_INIT, "--kind '%s' is not baseline, experimental, ab_control "
                                          "or ab_treatment",
                              o.kind);
    if ((rc = attn_cohort_load(o.cohort, cli.repo, &c, &err)))
        return attn_cli_fail(&err);
    for (size_t i = 0; i < o.n_routers; i++) {
        routers[i].name = o.routers[i];
        routers[i].config = NULL;
    }
    /* Config files are read and embedded, so the spec hash covers them. */
    for (size_t k = 0; k < o.n_configs; k++) {
        const char *v = o.configs[k], *eq = strchr(v, '=');
        size_t i;
        if (!eq) {
            rc = attn_error_set(&err, ATTN_EINVAL, "--config %s: write --config ROUTER=FILE", v);
            goto out;
        }
        for (i = 0; i < o.n_routers; i++)
            if (strlen(o.routers[i]) == (size_t)(eq - v) && !strncmp(v, o.routers[i], eq - v))
                break;
        if (i == o.n_routers) {
            rc = attn_error_set(&err, ATTN_EINVAL, "--config %s names a router not in --router", v);
            goto out;
        }
        json_decref(configs[i]);
        configs[i] = NULL;
        if ((rc = attn_json_load_file(eq + 1, &configs[i], &err)))
            goto out;
        if (!json_is_object(configs[i])) {
            rc = attn_error_set(&err, ATTN_EINVAL, "--config %s: a router config is a JSON object",
                                v);
            goto out;
        }
        routers[i].config = configs[i];
    }
    attn_spec_params_init(&p);
    p.repo = cli.repo;
    p.cohort_hash = attn_cohort_hash(c);
    p.cohort_path = o.cohort;
    p.cutoff_policy = attn_cohort_cutoff_policy(c);
    p.truth = o.n_truth ? o.truth : NULL;
    p.n_truth = o.n_truth;
    p.routers = routers;
    p.n_routers = o.n_routers;
    p.run_kind = o.kind;
    p.experiment_id = o.exp_id;
    p.tags = o.tags;
    p.n_tags = o.n_tags;
    p.notes = o.notes;
    p.baseline_router = o.base;
    p.candidate_router = o.cand;
    if ((rc = attn_spec_build(&p, &doc, &err)))
        goto out;
    attn_json_dump_pretty(doc, &b);
    if ((rc = attn_fs_write_atomic(o.out, b.ptr, b.len, &err)))
        goto out;
    if (cli.json)
        attn_cli_print_json(json_pack("{s:s, s:s, s:s}", "path", o.out, "hash",
                                      attn_json_str(doc, "hash"), "cohort_hash",
                                      attn_cohort_hash(c)));
    else if (!cli.quiet)
        printf("spec %s: %zu routers over cohort %.12s, hash %s\n", o.out, o.n_routers,
               attn_cohort_hash(c), attn_json_str(doc, "hash"));
out:
    for (size_t i = 0; i < MAX_LIST; i++)
        json_decref(configs[i]);
    json_decref(doc);
    attn_buf_free(&b);
    attn_cohort_free(c);
    return rc ? attn_cli_fail(&err) : 0;
}

static void print_headline(const json_t *head)
{
    const char *k;
    json_t *x;
    printf("%-16s %6s %7s %7s %7s\n", "router", "n", "hit@1", "hit@3", "mrr");
    json_object_foreach((json_t *)head, k, x) {
        char c[3][32]; /* "–", never 0.000, for a k the run left out */
        printf("%-16s %6lld %s %s %s\n", k,
               (long long)json_integer_value(json_object_get(x, "n")),
               attn_cli_cell(c[0], 32, json_object_get(x, "hit_at_1"), 7, 3),
               attn_cli_cell(c[1], 32, json_object_get(x, "hit_at_3"), 7, 3),
               attn_cli_cell(c[2], 32, json_object_get(x, "mrr"), 7, 3));
    }
}

static int parse_cost(const char *s, double *out, attn_error *err)
{
    char *end;
    double c = strtod(s, &end);
    if (!*s || *end || !(c > 0) || c > 1e9)
        return attn_error_set(err, ATTN_EINVAL, "--max-cost-usd '%s' is not a positive amount of USD",
                              s);
    *out = c;
    return 0;
}

static int run(int argc, char **argv)
{
    struct xopts o;
    attn_cli cli;
    attn_error err;
    attn_spec *spec = NULL;
    attn_cohort *c = NULL;
    attn_store *s = NULL;
    attn_registry *reg = NULL;
    attn_experiment_opts eo;
    json_t *sum = NULL;
    char db[4400], repo_dir[4200];
    int rc;

    memset(&o, 0, sizeof(o));
    attn_error_clear(&err);
    if ((rc = attn_cli_parse(argc, argv, LONGOPTS, USAGE_RUN, 0, &cli, xopt, &o, NULL)) >= 0)
        return rc;
    if (!cli.repo || !o.spec || !o.cohort)
        return attn_cli_usage(USAGE_RUN, "--repo, --spec and --cohort are required");
    if (o.n_routers || o.n_configs || o.n_truth || o.kind || o.out)
        return attn_cli_usage(USAGE_RUN, "the spec decides routers, truth and kind; edit it with "
                                         "`attn experiment init`");
    if ((rc = attn_spec_load(o.spec, cli.repo, &spec, &err)) ||
        (rc = attn_cohort_load(o.cohort, cli.repo, &c, &err)))
        goto out;
    if (strcmp(spec->cohort_hash, attn_cohort_hash(c))) {
        rc = attn_error_set(&err, ATTN_EINVAL,
                            "%s names cohort %s but %s hashes to %s; pass the cohort the spec "
                            "was made for",
                            o.spec, spec->cohort_hash, o.cohort, attn_cohort_hash(c));
        goto out;
    }
    if ((rc = attn_cli_db_path(&cli, db, sizeof(db), &err)) ||
        (rc = attn_store_open_readonly(db, &s, &err)) ||
        (rc = open_registry(&cli, &reg, repo_dir, sizeof(repo_dir), &err)))
        goto out;
    {
        /* Never an experiment on a half-written store (SPEC §13). */
        char msg[400];
        int unfinished = 0;
        if ((rc = attn_store_unfinished_ingest(s, ATTN_NULL_I64, &unfinished, msg, sizeof(msg),
                                               &err)) ||
            (unfinished && (rc = attn_error_set(&err, ATTN_ECONFLICT, "%s: %s", db, msg))))
            goto out;
    }
    memset(&eo, 0, sizeof(eo));
    eo.store = s;
    eo.registry = reg;
    eo.repo = cli.repo;
    eo.repo_dir = repo_dir;
    eo.spec = spec;
    eo.cohort = c;
    eo.run_id = o.run_id;
    eo.allow_stale = o.allow_stale;
    eo.progress = cli.quiet ? 0 : cli.progress;
    if (o.max_cost && parse_cost(o.max_cost, &eo.max_cost_usd, &err)) {
        rc = err.code;
        goto out;
    }
    if ((rc = attn_experiment_run(&eo, &sum, &err)))
        goto out;
    if (cli.json) {
        attn_cli_print_json(sum);
        sum = NULL;
    } else if (!cli.quiet) {
        const json_t *x = json_object_get(sum, "experiment");
        printf("run %s (%s): %lld PRs -> %s\n", attn_json_str(sum, "run_id"), spec->run_kind,
               (long long)json_integer_value(json_object_get(sum, "n")),
               attn_json_str(sum, "run_dir"));
        printf("gates %s, promotion: %s\n",
               json_is_true(json_object_get(x, "gates_pass")) ? "pass" : "FAIL",
               json_is_true(json_object_get(x, "promote")) ? "promote" : "do not promote");
        print_headline(json_object_get(sum, "headline"));
    }
out:
    json_decref(sum);
    attn_registry_close(reg);
    attn_store_close(s);
    attn_cohort_free(c);
    attn_spec_free(spec);
    return rc ? attn_cli_fail(&err) : 0;
}

/* Read RUN_DIR/name as JSON into *out: NULL when the file is absent, an
 * error (naming the file) when it is there but unreadable or not JSON. */
static int run_file(const json_t *row, const char *name, json_t **out, attn_error *err)
{
    char path[4400];
    const char *d = attn_json_str(row, "run_dir");
    *out = NULL;
    if (!d)
        return 0;
    snprintf(path, sizeof(path), "%s/%s", d, name);
    if (!attn_fs_exists(path))
        return 0;
    if (attn_json_load_file(path, out, err) == 0)
        return 0;
    /* a run's own file that does not parse is damaged data, not bad input */
    if (err->code == ATTN_EINVAL)
        err->code = ATTN_ECORRUPT;
    return err->code;
}

/* show and promote: one run id positional. */
/* A/B (seed 004 §4): the same cohort under two specs, as a linked pair. */
static int ab(int argc, char **argv)
{
    struct xopts o;
    attn_cli cli;
    attn_error err;
    attn_spec *spec[2] = {NULL, NULL};
    attn_cohort *c = NULL;
    attn_store *s = NULL;
    attn_registry *reg = NULL;
    json_t *out = json_object();
    char db[4400], repo_dir[4200], exp_id[160], run_id[200], h[65];
    static const char *const kinds[2] = {"ab_control", "ab_treatment"};
    static const char *const sides[2] = {"control", "treatment"};
    int rc;

    memset(&o, 0, sizeof(o));
    attn_error_clear(&err);
    if ((rc = attn_cli_parse(argc, argv, LONGOPTS, USAGE_AB, 0, &cli, xopt, &o, NULL)) >= 0) {
        json_decref(out);
        return rc;
    }
    if (!cli.repo || !o.control || !o.treatment || !o.cohort) {
        json_decref(out);
        return attn_cli_usage(USAGE_AB, "--repo, --control, --treatment and --cohort are required");
    }
    if ((rc = attn_spec_load(o.control, cli.repo, &spec[0], &err)) ||
        (rc = attn_spec_load(o.treatment, cli.repo, &spec[1], &err)) ||
        (rc = attn_cohort_load(o.cohort, cli.repo, &c, &err)))
        goto out;
    if (o.exp_id) {
        snprintf(exp_id, sizeof(exp_id), "%s", o.exp_id);
    } else {
        char both[140];
        snprintf(both, sizeof(both), "%s:%s", spec[0]->hash, spec[1]->hash);
        attn_sha256_hex(both, strlen(both), h);
        snprintf(exp_id, sizeof(exp_id), "ab-%.12s", h);
    }
    if ((rc = attn_path_check_id(exp_id, "experiment id", &err)) ||
        (rc = attn_cli_db_path(&cli, db, sizeof(db), &err)) ||
        (rc = attn_store_open_readonly(db, &s, &err)) ||
        (rc = open_registry(&cli, &reg, repo_dir, sizeof(repo_dir), &err)))
        goto out;
    json_object_set_new(out, "experiment_id", json_string(exp_id));
    for (int k = 0; k < 2 && !rc; k++) {
        attn_experiment_opts eo;
        json_t *sum = NULL;
        memset(&eo, 0, sizeof(eo));
        snprintf(run_id, sizeof(run_id), "%s-%s", exp_id, sides[k]);
        eo.store = s;
        eo.registry = reg;
        eo.repo = cli.repo;
        eo.repo_dir = repo_dir;
        eo.spec = spec[k];
        eo.cohort = c;
        eo.run_id = run_id;
        eo.allow_stale = o.allow_stale;
        eo.progress = !cli.quiet && !cli.json;
        eo.kind = kinds[k];
        eo.experiment_id = exp_id;
        if ((o.max_cost && (rc = parse_cost(o.max_cost, &eo.max_cost_usd, &err))) ||
            (rc = attn_experiment_run(&eo, &sum, &err)))
            break;
        json_object_set_new(out, sides[k],
                            json_pack("{s:s, s:s, s:O?, s:O?}", "run_id", run_id, "kind", kinds[k],
                                      "headline", json_object_get(sum, "headline"), "llm",
                                      json_object_get(sum, "llm")));
        json_decref(sum);
    }
    if (rc)
        goto out;
    if (cli.json) {
        attn_cli_print_json(out);
        out = NULL;
    } else if (!cli.quiet) {
        printf("A/B %s: control %s-control, treatment %s-treatment\n", exp_id, exp_id, exp_id);
        printf("compare: attn experiment compare %s-control %s-treatment --repo %s\n", exp_id,
               exp_id, cli.repo);
    }
out:
    json_decref(out);
    attn_registry_close(reg);
    attn_store_close(s);
    attn_cohort_free(c);
    attn_spec_free(spec[0]);
    attn_spec_free(spec[1]);
    return rc ? attn_cli_fail(&err) : 0;
}

static int one_run(int argc, char **argv, const char *usage, attn_cli *cli, attn_registry **reg,
                   json_t **row, attn_error *err, const char **id)
{
    char repo_dir[4200];
    int rc, first;
    if ((rc = attn_cli_parse(argc, argv, LONGOPTS, usage, 1, cli, NULL, NULL, &first)) >= 0)
        return rc;
    if (!cli->repo || first >= argc)
        return attn_cli_usage(usage, "give a RUN_ID and --repo");
    *id = argv[first];
    if ((rc = open_registry(cli, reg, repo_dir, sizeof(repo_dir), err)) ||
        (rc = attn_registry_get(*reg, *id, row, err)))
        return attn_cli_fail(err);
    return -1;
}

static int show(int argc, char **argv)
{
    attn_cli cli;
    attn_error err;
    attn_registry *reg = NULL;
    json_t *row = NULL, *out, *events = NULL;
    const char *id;
    int rc;
    attn_error_clear(&err);
    if ((rc = one_run(argc, argv, USAGE_SHOW, &cli, &reg, &row, &err, &id)) >= 0) {
        attn_registry_close(reg);
        return rc;
    }
    {
        json_t *sm = NULL, *g = NULL, *pr = NULL;
        if ((rc = attn_registry_events(reg, id, &events, &err)) ||
            (rc = run_file(row, "run_summary.json", &sm, &err)) ||
            (rc = run_file(row, "gates.json", &g, &err)) ||
            (rc = run_file(row, "promotion.json", &pr, &err))) {
            json_decref(sm);
            json_decref(g);
            json_decref(events);
            json_decref(row);
            attn_registry_close(reg);
            return attn_cli_fail(&err);
        }
        out = json_pack("{s:o, s:o, s:o, s:o, s:o}", "run", row, "summary",
                        sm ? sm : json_null(), "gates", g ? g : json_null(), "promotion",
                        pr ? pr : json_null(), "events", events ? events : json_array());
    }
    if (cli.json)
        attn_cli_print_json(out);
    else {
        const json_t *r = json_object_get(out, "run");
        printf("run %s: %s, %s, %s\n", id, attn_json_str(r, "kind"), attn_json_str(r, "status"),
               attn_json_str(r, "lifecycle"));
        printf("  spec %s\n  cohort %s\n  started %s, %lld ms, %lld PRs\n",
               attn_json_str(r, "spec_hash"), attn_json_str(r, "cohort_hash"),
               attn_json_str(r, "started_at"),
               (long long)json_integer_value(json_object_get(r, "duration_ms")),
               (long long)json_integer_value(json_object_get(r, "n_prs")));
        if (attn_json_str(r, "error"))
            printf("  error: %s\n", attn_json_str(r, "error"));
        printf("  dir %s\n", attn_json_str(r, "run_dir"));
        if (json_is_object(json_object_get(r, "headline")))
            print_headline(json_object_get(r, "headline"));
        json_decref(out);
    }
    attn_registry_close(reg);
    return 0;
}

static int summarize(int argc, char **argv)
{
    attn_cli cli;
    attn_error err;
    attn_registry *reg = NULL;
    json_t *rows = NULL, *row, *out;
    char repo_dir[4200];
    size_t i;
    int rc;
    attn_error_clear(&err);
    if ((rc = attn_cli_parse(argc, argv, LONGOPTS, USAGE_SUMMARIZE, 0, &cli, NULL, NULL, NULL)) >=
        0)
        return rc;
    if (!cli.repo)
        return attn_cli_usage(USAGE_SUMMARIZE, "--repo OWNER/NAME is required");
    if ((rc = open_registry(&cli, &reg, repo_dir, sizeof(repo_dir), &err)) ||
        (rc = attn_registry_list(reg, NULL, &rows, &err))) {
        attn_registry_close(reg);
        return attn_cli_fail(&err);
    }
    out = json_array();
    json_array_foreach(rows, i, row) {
        json_t *routers = json_object();
        const char *k;
        json_t *x;
        json_object_foreach(json_object_get(row, "headline"), k, x)
            json_object_set_new(routers, k,
                                json_pack("{s:O, s:O, s:O}", "n", json_object_get(x, "n"),
                                          "mrr", json_object_get(x, "mrr"), "hit_at_1",
                                          json_object_get(x, "hit_at_1")));
        json_array_append_new(out, json_pack("{s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:o}", "run_id",
                                             json_object_get(row, "run_id"), "kind",
                                             json_object_get(row, "kind"), "status",
                                             json_object_get(row, "status"), "lifecycle",
                                             json_object_get(row, "lifecycle"), "started_at",
                                             json_object_get(row, "started_at"), "gates_pass",
                                             json_object_get(row, "gates_pass"), "promote",
                                             json_object_get(row, "promote"), "routers",
                                             routers));
    }
    json_decref(rows);
    if (cli.json)
        attn_cli_print_json(out);
    else {
        printf("%-24s %-12s %-9s %-16s %6s %7s %7s\n", "run", "kind", "status", "router", "n",
               "mrr", "hit@1");
        json_array_foreach(out, i, row) {
            const char *k;
            json_t *x;
            int first = 1;
            if (!json_object_size(json_object_get(row, "routers")))
                printf("%-24s %-12s %-9s\n", attn_json_str(row, "run_id"),
                       attn_json_str(row, "kind"), attn_json_str(row, "status"));
            json_object_foreach(json_object_get(row, "routers"), k, x) {
                char c[2][32];
                printf("%-24s %-12s %-9s %-16s %6lld %s %s\n",
                       first ? attn_json_str(row, "run_id") : "", first ? attn_json_str(row, "kind") : "",
                       first ? attn_json_str(row, "status") : "", k,
                       (long long)json_integer_value(json_object_get(x, "n")),
                       attn_cli_cell(c[0], 32, json_object_get(x, "mrr"), 7, 3),
                       attn_cli_cell(c[1], 32, json_object_get(x, "hit_at_1"), 7, 3));
                first = 0;
            }
        }
        json_decref(out);
    }
    attn_registry_close(reg);
    return 0;
}

static int promote(int argc, char **argv)
{
    attn_cli cli;
    attn_error err;
    attn_registry *reg = NULL;
    json_t *row = NULL, *p = NULL;
    const char *id;
    int rc, yes;
    attn_error_clear(&err);
    if ((rc = one_run(argc, argv, USAGE_PROMOTE, &cli, &reg, &row, &err, &id)) >= 0) {
        attn_registry_close(reg);
        return rc;
    }
    attn_registry_close(reg);
    if (!strcmp(attn_json_str(row, "status"), "completed") &&
        run_file(row, "promotion.json", &p, &err)) {
        json_decref(row);
        return attn_cli_fail(&err);
    }
    if (strcmp(attn_json_str(row, "status"), "completed") || !p) {
        attn_error_set(&err, ATTN_ENOTFOUND,
                       "run %s has no promotion decision (status %s, lifecycle %s)", id,
                       attn_json_str(row, "status"), attn_json_str(row, "lifecycle"));
        json_decref(row);
        return attn_cli_fail(&err);
    }
    json_decref(row);
    yes = json_is_true(json_object_get(p, "promote"));
    if (cli.json) {
        attn_cli_print_json(p);
        return yes ? 0 : 1;
    }
    if (!json_is_true(json_object_get(p, "eligible")))
        printf("run %s: not eligible for promotion\n", id);
    else {
        char c[4][32]; /* "–" for a figure the run could not compute */
        const json_t *ci = json_object_get(p, "ci95");
        printf("run %s: %s %s over %s (n %lld, delta MRR %s, 95%% CI [%s, %s], "
               "delta hit@1 %s)\n",
               id, yes ? "PROMOTE" : "do not promote", attn_json_str(p, "candidate_router"),
               attn_json_str(p, "baseline_router"),
               (long long)json_integer_value(json_object_get(p, "n")),
               attn_cli_cell(c[0], 32, json_object_get(p, "delta_mrr"), 0, 4),
               attn_cli_cell(c[1], 32, json_array_get(ci, 0), 0, 4),
               attn_cli_cell(c[2], 32, json_array_get(ci, 1), 0, 4),
               attn_cli_cell(c[3], 32, json_object_get(p, "delta_hit_at_1"), 0, 4));
    }
    {
        size_t i;
        json_t *r;
        json_array_foreach(json_object_get(p, "reasons"), i, r)
            printf("  - %s\n", json_string_value(r));
    }
    json_decref(p);
    return yes ? 0 : 1;
}

int cmd_experiment(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(int, char **);
        const char *summary;
    } subs[] = {
        {"init", init, "write a spec (routers, truth, promotion pair) locked to a cohort"},
        {"run", run, "run a spec: eval, quality gates, promotion; recorded in the registry"},
        {"show", show, "one run: registry row, gates, promotion"},
        {"summarize", summarize, "every run's headline MRR / hit@1 per router"},
        {"promote", promote, "a run's promotion decision and reasons (exit 0 promote, 1 not)"},
        {"compare", cmd_experiment_compare, "paired comparison of two runs -> compare.{json,md}"},
        {"index-all", cmd_experiment_index_all, "examples_index.sqlite over every run"},
        {"ab", ab, "an A/B pair: control and treatment specs on one cohort, one experiment_id"}};
    const size_t n = sizeof(subs) / sizeof(subs[0]);
    const char *names[sizeof(subs) / sizeof(subs[0])], *hit;
    if (argc >= 2)
        for (size_t i = 0; i < n; i++)
            if (!strcmp(argv[1], subs[i].name))
                return subs[i].fn(argc - 1, argv + 1);
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("usage: attn experiment <subcommand> [options]\n\nsubcommands:\n");
        for (size_t i = 0; i < n; i++)
            printf("  %-10s %s\n", subs[i].name, subs[i].summary);
        printf("\nexamples:\n  attn experiment init --repo o/r --cohort c.json --router popularity "
               "--router hybrid --out spec.json\n  attn experiment run --repo o/r --spec spec.json "
               "--cohort c.json\n\nrun 'attn experiment <subcommand> --help' for its options.\n");
        return 0;
    }
    for (size_t i = 0; i < n; i++)
        names[i] = subs[i].name;
    if (argc >= 2 && argv[1][0] != '-' && (hit = attn_cli_suggest(argv[1], names, n)))
        return attn_cli_usage("attn experiment <subcommand> [options] (see attn experiment --help)",
                              "unknown subcommand '%s' (did you mean '%s'?)", argv[1], hit);
    return attn_cli_usage(USAGE_RUN, "give a subcommand: init, run, ab, show, summarize, promote, "
                                     "compare or index-all");
}
