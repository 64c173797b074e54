/*
 * run.c - one evaluation run (run.h): cohort -> cutoffs -> per PR snapshot,
 * truth and routes -> metrics with bootstrap intervals -> run directory.
 *
 * Owns: the order of work, the per-PR rows and the artifact shapes (the
 * worker pool is pool.c, aggregation and reports report.c). Must never: hand
 * a router anything but the as-of snapshot and the
 * shared context (truth is computed beside the routes, never before them in
 * a way a router could see), write a wall-clock value, or leave a partial
 * run directory (rundir.c).
 *
 * Matching, per-PR metrics, slices and bootstrap intervals are metrics.h's
 * (a team candidate never matches a user target: routers that want credit
 * for teams expand them with the roster). Every (policy, router) pair is
 * bootstrapped with the same seed, so the k-th resample draws the same PRs
 * for every router of the "all" and "observed" slices (paired).
 */
#include "eval/run_internal.h"
#include "eval/prefetch.h"
#include "eval/horizon.h"
#include "eval/learn.h"
#include "util/progress.h"
#include "eval/cutoff.h"
#include "eval/gates.h"
#include "eval/metrics.h"
#include "eval/rundir.h"
#include "eval/truth.h"
#include "route/context.h"
#include "route/hybrid.h"
#include "route/router.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/prng.h"
#include "util/sha256.h"
#include "util/time.h"
#include "util/version.h"

#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>



void attn_eval_opts_init(attn_eval_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->top_k = 10;
    o->bootstrap = 1000;
    o->seed = 42;
    o->hybrid_train_days = 90;
    o->learned_train_days = 730;
}

static int status_code(const char *s)
{
    if (!strcmp(s, ATTN_TRUTH_OBSERVED))
        return 0;
    if (!strcmp(s, ATTN_TRUTH_NO_RESPONSE))
        return 1;
    return 2;
}

const char *eval_status_name(int c)
{
    return c == 0 ? ATTN_TRUTH_OBSERVED : c == 1 ? ATTN_TRUTH_NO_RESPONSE : ATTN_TRUTH_UNKNOWN;
}

static int pr_cmp(const void *a, const void *b)
{
    const attn_eval_pr *x = a, *y = b;
    if (x->cutoff != y->cutoff)
        return x->cutoff < y->cutoff ? -1 : 1;
    return x->number < y->number ? -1 : x->number > y->number;
}

/* ---- setup ---------------------------------------------------------------- */

static int parse_policies(run *R, attn_error *err)
{
    const char *const *specs = R->o->truth ? R->o->truth : DEFAULT_TRUTH;
    size_t n = R->o->truth ? R->o->n_truth : 2;
    if (!n || n > MAX_POLICIES)
        return attn_error_set(err, ATTN_EINVAL, "give 1 to %d truth policies", MAX_POLICIES);
    for (size_t i = 0; i < n; i++) {
        int rc = attn_truth_policy_parse(specs[i], &R->pol[i], err);
        if (rc)
            return rc;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(R->pol[j].spec, R->pol[i].spec))
                return attn_error_set(err, ATTN_EINVAL, "truth policy %s is given twice",
                                      R->pol[i].spec);
    }
    R->np = n;
    return 0;
}

static int make_routers(run *R, attn_error *err)
{
    const attn_eval_opts *o = R->o;
    if (!o->n_routers)
        return attn_error_set(err, ATTN_EINVAL, "name at least one router (--router)");
    R->routers = attn_xcalloc(o->n_routers, sizeof(*R->routers));
    R->nr = o->n_routers;
    for (size_t i = 0; i < o->n_routers; i++) {
        const attn_router_def *d;
        int rc;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(o->routers[j].name, o->routers[i].name))
                return attn_error_set(err, ATTN_EINVAL, "router %s is named twice",
                                      o->routers[i].name);
        if ((rc = attn_router_find(o->routers[i].name, &d, err)))
            return rc;
        if (o->routers[i].config)
            rc = attn_router_new(d, o->routers[i].config, "inline", R->ctx, &R->routers[i], err);
        else
            rc = attn_router_new_from_file(d, o->routers[i].config_path, R->ctx, &R->routers[i],
                                           err);
        if (rc)
            return rc;
    }
    return 0;
}

static int resolve_cutoffs(run *R, attn_eval_pr **prs_out, size_t *n_out, attn_error *err)
{
    const attn_eval_opts *o = R->o;
    attn_cutoff_resolver *res = NULL;
    attn_eval_pr *prs;
    size_t n = 0;
    int rc;

    *prs_out = NULL;
    if (!o->n_prs)
        return attn_error_set(err, ATTN_EINVAL, "the cohort is empty: no PRs to evaluate");
    prs = attn_xcalloc(o->n_prs, sizeof(*prs));
    if ((rc = attn_cutoff_resolver_open(o->store, R->ctx->repo_id, &res, err)))
        goto out;
    for (size_t i = 0; i < o->n_prs; i++) {
        attn_eval_pr p = o->prs[i];
        for (size_t j = 0; j < n; j++)
            if (prs[j].number == p.number) {
                rc = attn_error_set(err, ATTN_EINVAL, "PR #%lld is in the cohort twice",
                                    (long long)p.number);
                goto out;
            }
        if (p.cutoff == ATTN_NULL_I64) {
            rc = attn_cutoff_resolver_get(res, p.number, &R->cutoff, &p.cutoff, err);
            if (rc == ATTN_CUTOFF_NONE) {
                json_array_append_new(R->notes, json_sprintf("#%lld left out: %s",
                                                             (long long)p.number, err->msg));
                rc = 0;
                continue;
            }
            if (rc) {
                attn_error_wrap(err, "%s", o->repo);
                goto out;
            }
        }
        prs[n++] = p;
    }
    qsort(prs, n, sizeof(*prs), pr_cmp);
    if (!n)
        rc = attn_error_set(err, ATTN_EINVAL, "no PR of the cohort has a cutoff under %s",
                            R->cutoff.id);
out:
    attn_cutoff_resolver_free(res);
    if (rc) {
        free(prs);
        return rc;
    }
    *prs_out = prs;
    *n_out = n;
    return 0;
}

/*
 * Hybrid weights fitted only on the past: the PRs created in the
 * hybrid_train_days before the cohort's first cutoff whose primary truth is
 * observed with its whole window ending by then (so no fact from the cohort's
 * period reaches the weights). At most the latest MAX_TRAIN such PRs; fewer
 * than MIN_TRAIN keeps the configured weights, with a note.
 */
#define MAX_TRAIN 400
#define MIN_TRAIN 30

static int fit_hybrid(run *R, const attn_eval_pr *prs, size_t n, attn_error *err)
{
    attn_eval_pr *train = NULL;
    attn_hybrid_example *ex = NULL;
    json_t **snaps = NULL, **targets = NULL;
    size_t nt = 0, ne = 0;
    int64_t first = prs[0].cutoff, from = first - (int64_t)R->o->hybrid_train_days * 86400;
    attn_cutoff_resolver *res = NULL;
    int rc = 0;
    size_t hr;
    char ts0[32], ts1[32];

    for (hr = 0; hr < R->nr; hr++)
        if (!strcmp(attn_router_def_of(R->routers[hr])->name, "hybrid"))
            break;
    (void)n;
    if (hr == R->nr || R->o->hybrid_train_days <= 0 || R->o->artifacts_only ||
        !json_is_null(json_object_get(attn_router_config(R->routers[hr]), "fitted")))
        return 0;
    if ((rc = attn_eval_prs_in_window(R->o->store, R->ctx->repo_id, from, first, &train, &nt, err)) ||
        (rc = attn_cutoff_resolver_open(R->o->store, R->ctx->repo_id, &res, err)))
        goto out;
    ex = attn_xcalloc(nt ? nt : 1, sizeof(*ex));
    snaps = attn_xcalloc(nt ? nt : 1, sizeof(*snaps));
    targets = attn_xcalloc(nt ? nt : 1, sizeof(*targets));
    /* Latest first, so the cap keeps the most recent history. */
    for (size_t k = nt; k-- > 0 && ne < MAX_TRAIN;) {
        int64_t cut;
        json_t *t = NULL, *snap = NULL;
        rc = attn_cutoff_resolver_get(res, train[k].number, &R->cutoff, &cut, err);
        if (rc == ATTN_CUTOFF_NONE || (!rc && cut >= first)) {
            rc = 0;
            continue;
        }
        if (rc || (rc = attn_truth_eval(R->truth, train[k].number, cut, &R->pol[0], &t, err)))
            goto out;
        if (strcmp(attn_json_str(t, "status"), ATTN_TRUTH_OBSERVED) ||
            attn_json_time(t, "window_end", &cut, err) || cut > first) {
            json_decref(t);
            continue;
        }
        attn_json_time(t, "cutoff", &cut, err);
        if ((rc = attn_asof_reader_pr_snapshot(R->ctx->reader, R->ctx->repo_id, train[k].number,
                                               cut, &snap, err))) {
            json_decref(t);
            goto out;
        }
        snaps[ne] = snap;
        targets[ne] = json_incref(json_object_get(t, "targets"));
        json_decref(t);
        ex[ne].pr_number = train[k].number;
        ex[ne].cutoff = cut;
        ex[ne].snapshot = snap;
        ex[ne].targets = targets[ne];
        ne++;
    }
    if (ne < MIN_TRAIN) {
        json_array_append_new(R->notes,
                              json_sprintf("hybrid: only %zu observed PRs in the %d days before "
                                           "the cohort; using its configured weights",
                                           ne, R->o->hybrid_train_days));
        goto out;
    }
    {
        json_t *fitted = NULL;
        attn_router *nr = NULL;
        if ((rc = attn_hybrid_fit(R->ctx, attn_router_config(R->routers[hr]), ex, ne, &fitted,
                                  err)) ||
            (rc = attn_router_new(attn_router_def_of(R->routers[hr]), fitted, "fitted", R->ctx,
                                  &nr, err))) {
            json_decref(fitted);
            goto out;
        }
        attn_router_free(R->routers[hr]);
        R->routers[hr] = nr;
        R->fit = json_pack("{s:s, s:I, s:s, s:s, s:s, s:o}", "router", "hybrid", "examples",
                           (json_int_t)ne, "from", attn_time_format(from, ts0), "to",
                           attn_time_format(first, ts1), "policy", R->pol[0].spec, "config",
                           fitted);
        json_array_append_new(R->notes,
                              json_sprintf("hybrid: weights fitted on %zu PRs created %s to %s "
                                           "(before the cohort); see hybrid_fit.json",
                                           ne, ts0, ts1));
    }
out:
    for (size_t k = 0; k < ne; k++) {
        json_decref(snaps[k]);
        json_decref(targets[k]);
    }
    free(snaps);
    free(targets);
    free(ex);
    free(train);
    attn_cutoff_resolver_free(res);
    if (rc)
        attn_error_wrap(err, "fitting the hybrid router");
    return rc;
}

/* The hybrid's fit on a thread of its own while XGBoost trains the learned
 * router's first model: the training uses one core and no store connection,
 * so the fit has the run's connection and contexts to itself meanwhile
 * (fit_learned joins it before they are used again). */
typedef struct {
    run *R;
    const attn_eval_pr *prs;
    size_t n;
    pthread_t tid;
    int started, done, rc;   /* done: fitted, or joined (a started fit is done once joined) */
    attn_error err;
} side_fit;

static void *side_fit_main(void *arg)
{
    side_fit *f = arg;
    f->rc = fit_hybrid(f->R, f->prs, f->n, &f->err);
    return NULL;
}

static void side_fit_training(void *ud, int on)
{
    side_fit *f = ud;
    if (on && !f->done && !f->started) {
        attn_error_clear(&f->err);
        /* no thread: the fit runs after the training instead */
        f->started = !pthread_create(&f->tid, NULL, side_fit_main, f);
    } else if (!on && f->started && !f->done) {
        pthread_join(f->tid, NULL);
        f->done = 1;
    }
}

/* The learned router trained only on the past (eval/learn.h): walk-forward
 * blocks from the first cutoff, each on the PRs before the block. A config
 * that names a model is used as given. Fits the hybrid too (fit_hybrid):
 * during the first training when a spare core allows, else first. */
static int fit_learned(run *R, const attn_eval_pr *prs, size_t n, attn_error *err)
{
    const json_t *cfg;
    json_t *config = NULL;
    attn_router *nr = NULL;
    size_t lr;
    int rc;
    for (lr = 0; lr < R->nr; lr++)
        if (!strcmp(attn_router_def_of(R->routers[lr])->name, "learned"))
            break;
    if (lr == R->nr || R->o->learned_train_days <= 0 || R->o->artifacts_only)
        return fit_hybrid(R, prs, n, err);
    cfg = attn_router_config(R->routers[lr]);
    if (!json_is_null(json_object_get(cfg, "model")) || json_array_size(json_object_get(cfg, "models")))
        return fit_hybrid(R, prs, n, err);
    if (R->jobs < 2 && (rc = fit_hybrid(R, prs, n, err)))
        return rc;
    {
        /* the examples are computed on --jobs threads: the run's and helpers' */
        size_t nh = R->jobs > 1 ? (size_t)R->jobs - 1 : 0, open = 0;
        worker *hw = attn_xcalloc(nh ? nh : 1, sizeof(*hw));
        attn_learn_helper *h = attn_xcalloc(nh ? nh : 1, sizeof(*h));
        attn_learn_wf w = {prs[0].cutoff, prs[n - 1].cutoff, R->o->learned_train_days,
                           R->o->learned_retrain_days, &R->pol[0], &R->cutoff, R->o->progress, 0,
                           h, nh, NULL, NULL, NULL};
        side_fit side = {R, prs, n, 0, 0, R->jobs < 2, 0, {0}};
        struct attn_learn_ahead ahead = {prs, n, {0}};
        rc = 0;
        /* and the first helper computes the learned router's features of the
         * first PRs meanwhile (learn.h), which its routes take (features.h) */
        if (nh)
            w.ahead = &ahead;
        if (!side.done) {
            w.training = side_fit_training;
            w.training_ud = &side;
        }
        if (nh)
            attn_route_env_share(R->env);   /* before any other thread reads it */
        for (; open < nh && !rc; open++) {
            rc = eval_worker_open(R, &hw[open], open + 1, 0, err);
            h[open].ctx = hw[open].ctx;
            h[open].truth = hw[open].truth;
        }
        if (!rc)
            rc = attn_learn_walk_forward(R->ctx, R->truth, &w, cfg, &config, &R->learned_fit, err);
        side_fit_training(&side, 0);    /* joined, if a training failed midway */
        if (!rc && !side.done)          /* no model trained: fit it now */
            side.rc = fit_hybrid(R, prs, n, &side.err);
        for (size_t i = 0; i < open; i++)
            eval_worker_close(R, &hw[i]);
        free(hw);
        free(h);
        R->feat_ahead = ahead.out;
        if (!rc && side.rc) {           /* the hybrid's error, as its own */
            json_decref(config);
            *err = side.err;
            return side.rc;
        }
        if (rc || (rc = attn_router_new(attn_router_def_of(R->routers[lr]), config, "trained",
                                        R->ctx, &nr, err))) {
            json_decref(config);
            return attn_error_wrap(err, "training the learned router"), rc;
        }
    }
    json_decref(config);
    attn_router_free(R->routers[lr]);
    R->routers[lr] = nr;
    json_array_append_new(R->notes, json_sprintf("learned: %zu model(s) trained on the %d days "
                                                 "before each block (see learned_fit.json)",
                                                 json_array_size(json_object_get(attn_router_config(nr), "models")),
                                                 R->o->learned_train_days));
    {
        json_t *imp = attn_learn_importance_note(R->learned_fit, 8);
        if (imp)
            json_array_append_new(R->notes, imp);
    }
    return 0;
}

/* Strict streaming: every cutoff must be inside the ingested history. */
static int check_stale(run *R, const attn_eval_pr *prs, size_t n, attn_error *err)
{
    attn_buf names = ATTN_BUF_INIT;
    size_t stale = 0;
    char ts[32];
    int rc = 0;
    for (size_t i = 0; i < n; i++)
        if (attn_eval_cutoff_stale(R->horizon, prs[i].cutoff)) {
            if (stale < 10)
                attn_buf_printf(&names, "%s#%lld", stale ? ", " : "", (long long)prs[i].number);
            stale++;
        }
    if (!stale)
        return 0;
    if (stale > 10)
        attn_buf_printf(&names, " and %zu more", stale - 10);
    if (R->horizon == ATTN_NULL_I64)
        snprintf(ts, sizeof(ts), "(no events)");
    else
        attn_time_format(R->horizon, ts);
    if (!R->o->allow_stale)
        rc = attn_error_set(err, ATTN_ECONFLICT,
                            "%zu cutoff%s after the ingested horizon %s (%s); run `attn "
                            "incremental` first, or pass --allow-stale to evaluate anyway",
                            stale, stale == 1 ? " is" : "s are", ts, attn_buf_cstr(&names));
    else
        json_array_append_new(R->notes,
                              json_sprintf("allow-stale: %zu cutoff(s) after the ingested horizon "
                                           "%s (%s); their truth may be incomplete",
                                           stale, ts, attn_buf_cstr(&names)));
    attn_buf_free(&names);
    return rc;
}

/* ---- manifest ---------------------------------------------------------------- */

static json_t *manifest_inputs(run *R)
{
    const attn_eval_opts *o = R->o;
    json_t *routers = json_array(), *policies = json_array(), *cutoffs = json_object(),
           *ks = json_array(), *m;
    char ts[32], chash[65];
    attn_error err;
    for (size_t i = 0; i < R->nr; i++) {
        const attn_router_def *d = attn_router_def_of(R->routers[i]);
        json_t *e = json_pack("{s:s, s:s, s:O, s:s}", "name", d->name, "version", d->version,
                              "config", attn_router_config(R->routers[i]), "config_hash",
                              attn_router_config_hash(R->routers[i]));
        json_t *dsc = attn_router_describe(R->routers[i]);
        /* An LLM router's prompt bundle snapshot, model and endpoint are inputs. */
        if (e && json_object_get(dsc, "manifest"))
            json_object_set(e, "llm", json_object_get(dsc, "manifest"));
        json_decref(dsc);
        json_array_append_new(routers, e);
    }
    for (size_t p = 0; p < R->np; p++)
        json_array_append_new(policies, json_pack("{s:s, s:s, s:o}", "spec", R->pol[p].spec,
                                                  "hash", R->pol[p].hash, "policy",
                                                  attn_truth_policy_json(&R->pol[p])));
    for (size_t i = 0; i < R->n; i++) {
        char num[32];
        snprintf(num, sizeof(num), "%lld", (long long)R->rows[i].number);
        json_object_set_new(cutoffs, num, json_string(attn_time_format(R->rows[i].cutoff, ts)));
    }
    for (size_t k = 0; k < R->mopt.n_ks; k++)
        json_array_append_new(ks, json_integer(R->mopt.ks[k]));
    attn_cutoff_policy_hash(&R->cutoff, chash, &err);
    m = attn_xcheck(json_pack(
        "{s:s, s:s, s:s, s:s, s:{s:s, s:s, s:o}, s:{s:s, s:o}, s:o, s:i, s:o,"
        " s:{s:i, s:I, s:s}, s:{s:s?, s:i, s:o}, s:{s:o}, s:b}",
                  "kind", "eval_manifest", "version", "attn.eval.v1", "contract", ATTN_CONTRACT,
                  "repo", o->repo, "cutoff_policy", "id", R->cutoff.id, "hash", chash, "policy",
                  attn_cutoff_policy_json(&R->cutoff), "truth", "primary", R->pol[0].spec,
                  "policies", policies, "routers", routers, "top_k", R->top_k, "ks", ks,
                  "bootstrap", "resamples", o->bootstrap, "seed", (json_int_t)o->seed, "method",
                  "percentile, paired across routers", "cohort", "hash", o->cohort_hash, "n",
                  (int)R->n, "pr_cutoffs", cutoffs, "store", "horizon",
                  R->horizon == ATTN_NULL_I64 ? json_null()
                                              : json_string(attn_time_format(R->horizon, ts)),
                  "allow_stale", o->allow_stale));
    attn_xcheck_rc(json_object_set_new(m, "candidate_gen_version",
                                       attn_xcheck(json_string(ATTN_CANDIDATE_GEN_VERSION))));
    if (o->extra)
        attn_xcheck_rc(json_object_set(m, "extra", (json_t *)o->extra));
    if (R->fit)
        attn_xcheck_rc(json_object_set(m, "hybrid_fit", R->fit));
    if (R->learned_fit)
        attn_xcheck_rc(json_object_set(m, "learned_fit", R->learned_fit));
    return m;
}

/* ---- per PR ------------------------------------------------------------------ */

/* A router's metrics on PR i against every policy's targets (tt[p], nt[p]
 * of them, converted once per PR; the candidates once per router). */
static int score(run *R, size_t r, size_t i, const json_t *cands, attn_target *const *tt,
                 const size_t *nt, attn_error *err)
{
    attn_target *c = NULL;
    size_t nc = 0;
    int rc = R->np ? attn_targets_from_json(cands, &c, &nc, err) : 0;
    for (size_t p = 0; p < R->np && !rc; p++)
        rc = attn_metrics_pr(&R->mopt, c, nc, tt[p], nt[p], &OUT(R, p, r, i), err);
    free(c);
    return rc;
}

static const char *risk_of(const json_t *res)
{
    const char *r = json_string_value(json_object_get(res, "risk"));
    if (!r)
        return "unknown";
    if (!strcmp(r, "low"))
        return "low";
    if (!strcmp(r, "medium"))
        return "medium";
    if (!strcmp(r, "high"))
        return "high";
    return "unknown";
}

const char EVAL_SQL_USER_FIRST[] =
    "SELECT min(t) FROM ("
    " SELECT submitted_at AS t FROM reviews WHERE pull_request_id = ?1 AND user_id = ?3"
    "  AND submitted_at > ?4"
    " UNION ALL SELECT created_at FROM comments WHERE (pull_request_id = ?1 OR issue_id = ?2)"
    "  AND user_id = ?3 AND created_at > ?4)";

/* Seconds from the cutoff until login first acted on the PR; -1 never. */
static int64_t user_first_action(worker *W, const json_t *snap, const char *login,
                                 int64_t cutoff)
{
    long u = attn_activity_find_login(W->ctx->activity, login);
    int64_t t = -1;
    if (u < 0 || !W->st_user_first)
        return -1;
    sqlite3_reset(W->st_user_first);
    sqlite3_bind_int64(W->st_user_first, 1, attn_json_i64(snap, "pull_request_id", -1));
    sqlite3_bind_int64(W->st_user_first, 2, attn_json_i64(snap, "issue_id", -1));
    sqlite3_bind_int64(W->st_user_first, 3, attn_activity_user_id(W->ctx->activity, (size_t)u));
    sqlite3_bind_int64(W->st_user_first, 4, cutoff);
    if (sqlite3_step(W->st_user_first) == SQLITE_ROW &&
        sqlite3_column_type(W->st_user_first, 0) != SQLITE_NULL)
        t = sqlite3_column_int64(W->st_user_first, 0) - cutoff;
    sqlite3_reset(W->st_user_first);
    return t;
}

/* Router r's top candidate on PR i, when a user, and how long until they
 * acted (-1: never, or no user on top). */
static void set_top1(run *R, worker *W, size_t r, size_t i, const json_t *cands,
                     const json_t *snap)
{
    const json_t *t = json_object_get(json_array_get(cands, 0), "target");
    const char *login = attn_json_str(t, "name");
    size_t k = 0;
    R->top1[r * R->n + i] = NULL;
    R->top1_resp[r * R->n + i] = -1;
    if (!json_array_size(cands) || strcmp(attn_json_str(t, "type"), "user"))
        return;
    R->top1[r * R->n + i] = attn_xstrdup(login);
    /* routers often agree on the top one: ask the store once per login */
    while (k < r && !(R->top1[k * R->n + i] && !strcmp(R->top1[k * R->n + i], login)))
        k++;
    R->top1_resp[r * R->n + i] = k < r ? R->top1_resp[k * R->n + i]
                                       : user_first_action(W, snap, login, R->rows[i].cutoff);
}

/* A target as per_pr.jsonl names it: "login" or "team:org/slug".
 * json_sprintf only for teams: its formatting showed in the profile. */
static json_t *target_label(const json_t *target)
{
    const char *type = attn_json_str(target, "type"), *name = attn_json_str(target, "name");
    if (!name)
        name = "?";
    return type && !strcmp(type, "team") ? json_sprintf("team:%s", name) : json_string(name);
}

static json_t *target_names(const json_t *targets)
{
    json_t *a = json_array(), *t;
    size_t i;
    json_array_foreach(targets, i, t)
        json_array_append_new(a, target_label(t));
    return a;
}

/* hash: the SHA-256 of the snapshot's canonical text (write_snapshot) */
static json_t *inputs_json(run *R, worker *W, const json_t *snap, int64_t cutoff,
                           const char *hash)
{
    json_t *areas = json_array(), *f, *routers = json_array();
    char ts[32];
    size_t i;
    json_array_foreach(json_object_get(snap, "changed_files"), i, f) {
        const char *a = attn_activity_area_of(W->ctx->activity, attn_json_str(f, "path"));
        size_t j;
        json_t *x;
        int seen = 0;
        json_array_foreach(areas, j, x) seen |= !strcmp(json_string_value(x), a);
        if (!seen)
            json_array_append_new(areas, json_string(a));
    }
    for (size_t r = 0; r < R->nr; r++)
        json_array_append_new(routers,
                              json_pack("{s:s, s:s}", "name",
                                        attn_router_def_of(W->routers[r])->name, "config_hash",
                                        attn_router_config_hash(W->routers[r])));
    /* a snapshot always has leak_risk (asof.c) */
    return attn_xcheck(json_pack(
        "{s:s, s:I, s:s, s:s, s:s, s:o, s:O, s:o, s:I}", "repo", R->o->repo, "pr_number",
        (json_int_t)attn_json_i64(snap, "number", 0), "cutoff", attn_time_format(cutoff, ts),
        "cutoff_policy", R->cutoff.id, "snapshot_sha256", hash, "areas", areas, "leak_risk",
        json_object_get(snap, "leak_risk"), "routers", routers, "changed_files",
        (json_int_t)json_array_size(json_object_get(snap, "changed_files"))));
}

/* A route goes to prs/<n>/routes/<router>.json; a router's optional per-PR
 * entries (features, LLM exchanges: pack.h) ride in its result as
 * "_artifacts" {entry: json}, or as "_artifact_text" {entry: canonical
 * text}, and are written beside it, never inside it. The result may be
 * shared through the memo, so it is copied, not edited. */
static int write_route(attn_rundir *dir, int64_t pr, const char *name, const json_t *res,
                       attn_error *err)
{
    char rel[512];
    const json_t *arts = json_object_get(res, "_artifacts"),
                 *texts = json_object_get(res, "_artifact_text");
    const char *entry;
    json_t *v, *clean;
    int rc = 0;
    snprintf(rel, sizeof(rel), "prs/%lld/routes/%s.json", (long long)pr, name);
    if (!json_is_object(arts) && !json_is_object(texts))
        return attn_rundir_write_json(dir, rel, res, err);
    clean = attn_xcheck(json_copy((json_t *)res));
    json_object_del(clean, "_artifacts");
    json_object_del(clean, "_artifact_text");
    rc = attn_rundir_write_json(dir, rel, clean, err);
    json_decref(clean);
    json_object_foreach((json_t *)texts, entry, v) {
        if (rc)
            break;
        snprintf(rel, sizeof(rel), "prs/%lld/%s.json", (long long)pr, entry);
        rc = attn_rundir_write(dir, rel, json_string_value(v), json_string_length(v), err);
    }
    json_object_foreach((json_t *)arts, entry, v) {
        if (rc)
            break;
        snprintf(rel, sizeof(rel), "prs/%lld/%s.json", (long long)pr, entry);
        if (!strncmp(entry, "features/", 9) && json_is_object(v) &&
            !json_object_get(v, "candidate_gen_version")) {
            /* Feature values depend on the candidates they were computed for. */
            json_t *f = json_copy(v);
            json_object_set_new(f, "candidate_gen_version",
                                json_string(ATTN_CANDIDATE_GEN_VERSION));
            rc = attn_rundir_write_json(dir, rel, f, err);
            json_decref(f);
        } else {
            rc = attn_rundir_write_json(dir, rel, v, err);
        }
    }
    return rc;
}

/* An LLM router's per-PR usage ("llm" in its result): onto the PR's line,
 * into the run's totals, and against --max-cost-usd. Latency is the one
 * recorded with the answer (live, or in the replay cache), so replays keep
 * their bytes. */
static int llm_account(run *R, const char *name, const json_t *res, json_t *line_entry,
                       int64_t pr, attn_error *err)
{
    const json_t *u = json_object_get(res, "llm");
    json_t *t, *st;
    const char *status;
    double cost;
    if (!json_is_object(u))
        return 0;
    json_object_set(line_entry, "llm", (json_t *)u);
    if (!(t = json_object_get(R->llm, name))) {
        t = attn_xcheck(json_pack("{s:i, s:{}, s:i, s:I, s:I, s:f, s:I}", "prs", 0, "status",
                                  "llm_invalid", 0, "tokens_in", (json_int_t)0, "tokens_out",
                                  (json_int_t)0, "cost_usd", 0.0, "latency_ms_total",
                                  (json_int_t)0));
        attn_xcheck_rc(json_object_set_new(R->llm, name, t));
    }
    status = attn_json_str(u, "status") ? attn_json_str(u, "status") : "unknown";
    st = json_object_get(t, "status");
    json_object_set_new(st, status, json_integer(attn_json_i64(st, status, 0) + 1));
    json_object_set_new(t, "prs", json_integer(attn_json_i64(t, "prs", 0) + 1));
    if (!strcmp(status, "invalid"))
        json_object_set_new(t, "llm_invalid", json_integer(attn_json_i64(t, "llm_invalid", 0) + 1));
    json_object_set_new(t, "tokens_in", json_integer(attn_json_i64(t, "tokens_in", 0) +
                                                     attn_json_i64(u, "tokens_in", 0)));
    json_object_set_new(t, "tokens_out", json_integer(attn_json_i64(t, "tokens_out", 0) +
                                                      attn_json_i64(u, "tokens_out", 0)));
    json_object_set_new(t, "latency_ms_total",
                        json_integer(attn_json_i64(t, "latency_ms_total", 0) +
                                     attn_json_i64(u, "latency_ms", 0)));
    cost = json_number_value(json_object_get(u, "cost_usd"));
    json_object_set_new(t, "cost_usd",
                        json_real(round((json_number_value(json_object_get(t, "cost_usd")) + cost) *
                                        1e9) / 1e9));
    R->llm_cost += cost;
    if (R->o->max_cost_usd > 0 && R->llm_cost > R->o->max_cost_usd)
        return attn_error_set(err, ATTN_ECONFLICT,
                              "the LLM cost reached $%.6f at PR #%lld, over --max-cost-usd %g; "
                              "the run stopped and wrote no run directory",
                              R->llm_cost, (long long)pr, R->o->max_cost_usd);
    return 0;
}

/* prs/<n>/snapshot.json and inputs.json, which holds the hash of the
 * snapshot's text as written (not serialized a second time for it). */
static int write_snapshot(run *R, worker *W, attn_rundir *dir, const pr_row *row,
                          const json_t *snap, attn_error *err)
{
    json_t *inputs;
    char rel[512], hash[65];
    int rc;
    snprintf(rel, sizeof(rel), "prs/%lld/snapshot.json", (long long)row->number);
    if ((rc = attn_rundir_write_json_sha(dir, rel, snap, hash, err)))
        return rc;
    inputs = inputs_json(R, W, snap, row->cutoff, hash);
    snprintf(rel, sizeof(rel), "prs/%lld/inputs.json", (long long)row->number);
    rc = attn_rundir_write_json(dir, rel, inputs, err);
    json_decref(inputs);
    return rc;
}

int eval_do_pr(run *R, worker *W, attn_rundir *dir, size_t i, attn_buf *jsonl,
                 attn_error *err)
{
    pr_row *row = &R->rows[i];
    json_t *snap = NULL, *truth = json_object(), *line_truth = json_object(),
           *line_routers = json_object(), *targets[MAX_POLICIES] = {0}, *line = NULL;
    attn_target *tt[MAX_POLICIES] = {0};
    size_t ntt[MAX_POLICIES] = {0};
    attn_truth_pr_facts facts;
    char rel[512], ts[32];
    int rc;

    if ((rc = attn_asof_reader_pr_snapshot(W->ctx->reader, W->ctx->repo_id, row->number,
                                           row->cutoff, &snap, err)))
        goto out;
    if ((rc = write_snapshot(R, W, dir, row, snap, err)))
        goto out;
    for (size_t p = 0; p < R->np && !R->o->artifacts_only; p++) {
        json_t *t;
        if ((rc = attn_truth_eval(W->truth, row->number, row->cutoff, &R->pol[p], &t, err)))
            goto out;
        row->status[p] = status_code(json_string_value(json_object_get(t, "status")));
        targets[p] = json_incref(json_object_get(t, "targets"));
        json_object_set_new(truth, R->pol[p].spec, t);
        if ((rc = attn_targets_from_json(targets[p], &tt[p], &ntt[p], err)))
            goto out;
        json_object_set_new(line_truth, R->pol[p].spec,
                            attn_json_obj("status", json_string(eval_status_name(row->status[p])),
                                          "targets", target_names(targets[p]), NULL));
    }
    if (!R->o->artifacts_only) {
        snprintf(rel, sizeof(rel), "prs/%lld/truth.json", (long long)row->number);
        if ((rc = attn_rundir_write_json(dir, rel, truth, err)) ||
            (rc = attn_truth_pr_facts_get(W->truth, row->number, row->cutoff, &facts, err)))
            goto out;
        row->ttfr = facts.first_response_at == ATTN_NULL_I64 ? -1
                                                              : facts.first_response_at - row->cutoff;
        row->ttfrev = facts.first_review_at == ATTN_NULL_I64 ? -1
                                                              : facts.first_review_at - row->cutoff;
        row->merged = facts.merged_at != ATTN_NULL_I64;
        if ((rc = attn_gate_parse(W->gates, attn_json_str(snap, "body"), &row->gates, err)))
            goto out;
    } else {
        row->ttfr = row->ttfrev = -1;
    }

    for (size_t r = 0; r < R->nr; r++) {
        attn_route_query q = {row->number, row->cutoff, R->top_k, snap};
        const char *name = attn_router_def_of(W->routers[r])->name;
        json_t *res, *cands, *ranks = json_object(), *top = json_array(), *c;
        size_t j;
        if ((rc = attn_router_route(W->routers[r], W->ctx, &q, &res, err))) {
            json_decref(ranks);
            json_decref(top);
            goto out;
        }
        if ((rc = write_route(dir, row->number, name, res, err))) {
            json_decref(res);
            json_decref(ranks);
            json_decref(top);
            goto out;
        }
        cands = json_object_get(res, "candidates");
        R->nonempty[r * R->n + i] = json_array_size(cands) > 0;
        R->risk[r * R->n + i] = (char *)risk_of(res);
        json_array_foreach(cands, j, c) {
            json_array_append_new(top, target_label(json_object_get(c, "target")));
        }
        set_top1(R, W, r, i, cands, snap);
        if (!R->o->artifacts_only && (rc = score(R, r, i, cands, tt, ntt, err))) {
            json_decref(res);
            json_decref(ranks);
            json_decref(top);
            goto out;
        }
        for (size_t p = 0; p < R->np && !R->o->artifacts_only; p++) {
            json_object_set_new(ranks, R->pol[p].spec,
                                OUT(R, p, r, i).rank ? json_integer(OUT(R, p, r, i).rank)
                                                     : json_null());
        }
        c = attn_json_obj("candidates", top, "rank", ranks, "risk",
                          json_string(R->risk[r * R->n + i]), "confidence",
                          json_string(attn_json_str(res, "confidence")
                                          ? attn_json_str(res, "confidence")
                                          : "unknown"),
                          NULL);
        json_object_set_new(line_routers, name, c);
        rc = llm_account(R, name, res, c, row->number, err);
        json_decref(res);
        if (rc)
            goto out;
    }
    /* The gates are cut out of the PR body by patterns; one that is not
     * UTF-8 cannot be written. */
    if ((row->gates.issue && !attn_utf8_valid(row->gates.issue)) ||
        (row->gates.ai_disclosure && !attn_utf8_valid(row->gates.ai_disclosure)) ||
        (row->gates.provenance && !attn_utf8_valid(row->gates.provenance))) {
        rc = attn_error_set(err, ATTN_EINVAL, "a gate (issue, AI disclosure, provenance) in the "
                                              "body is not valid UTF-8");
        goto out;
    }
    line = attn_json_obj(
        "pr_number", json_integer(row->number), "cutoff",
        json_string(attn_time_format(row->cutoff, ts)), "truth", line_truth, "routers",
        line_routers, "queue",
        attn_json_obj("first_response_s", row->ttfr < 0 ? json_null() : json_integer(row->ttfr),
                      "first_review_s",
                      row->ttfrev < 0 ? json_null() : json_integer(row->ttfrev), NULL),
        "leak_risk", json_incref(json_object_get(snap, "leak_risk")), "gates",
        attn_gates_json(&row->gates), "merged", json_boolean(row->merged), NULL);
    line_truth = line_routers = NULL;
    {
        /* written in place; a line that cannot be written leaves nothing */
        size_t at = jsonl->len;
        if ((rc = attn_json_canonical(line, jsonl, err)) == 0)
            attn_buf_putc(jsonl, '\n');
        else if (jsonl->ptr)
            jsonl->ptr[jsonl->len = at] = '\0';
    }
out:
    for (size_t p = 0; p < R->np; p++) {
        free(tt[p]);
        json_decref(targets[p]);
    }
    json_decref(line);
    json_decref(line_truth);
    json_decref(line_routers);
    json_decref(truth);
    attn_route_memo_clear(W->ctx->memo);
    json_decref(snap);
    if (rc)
        attn_error_wrap(err, "PR #%lld at %s", (long long)row->number,
                        attn_time_format(row->cutoff, ts));
    return rc;
}

int attn_eval_prs_in_window(attn_store *s, int64_t repo_id, int64_t from, int64_t end_at,
                            attn_eval_pr **prs, size_t *n, attn_error *err)
{
    sqlite3_stmt *st;
    size_t cap = 0;
    int rc;
    *prs = NULL;
    *n = 0;
    if (sqlite3_prepare_v2(attn_store_db(s),
                           "SELECT number FROM pull_requests WHERE repo_id = ? AND created_at >= ?"
                           " AND created_at < ? ORDER BY number",
                           -1, &st, NULL) != SQLITE_OK)
        return attn_error_set(err, ATTN_EDB, "selecting PRs: %s", sqlite3_errmsg(attn_store_db(s)));
    sqlite3_bind_int64(st, 1, repo_id);
    sqlite3_bind_int64(st, 2, from);
    sqlite3_bind_int64(st, 3, end_at);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 256;
            *prs = attn_xrealloc(*prs, attn_st_mult(cap, sizeof(**prs)));
        }
        (*prs)[*n].number = sqlite3_column_int64(st, 0);
        (*prs)[(*n)++].cutoff = ATTN_NULL_I64;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return attn_error_set(err, ATTN_EDB, "selecting PRs failed");
    return 0;
}

/* ---- driver -------------------------------------------------------------------- */

void eval_progress(run *R, size_t i, int done)
{
    double el = attn_progress_elapsed(&R->prog);
    char eta[48] = "";
    if (R->prog.mode == ATTN_PROGRESS_OFF)
        return;
    if (i > 0 && !done) /* the pace so far gives the ETA */
        snprintf(eta, sizeof(eta), ", ETA %.0f s", el / (double)i * (double)(R->n - i));
    if (done) {
        attn_progress_show(&R->prog, R->prog.mode == ATTN_PROGRESS_LIVE, "eval: PR %zu/%zu, %.1f s",
                           i, R->n, el);
        attn_progress_break(&R->prog);
    } else if (R->prog.mode != ATTN_PROGRESS_LIVE || i % 10 == 0) {
        attn_progress_show(&R->prog, 0, "eval: PR %zu/%zu%s", i, R->n, eta);
    }
}


static void free_run(run *R)
{
    for (size_t r = 0; r < R->nr; r++)
        attn_router_free(R->routers[r]);
    free(R->routers);
    attn_route_memo_free(R->ctx_shared.memo);
    attn_feat_ahead_free(&R->feat_ahead);
    if (R->top1)
        for (size_t i = 0; i < R->nr * R->n; i++)
            free(R->top1[i]);
    free(R->top1);
    free(R->top1_resp);
    free(R->risk);
    free(R->nonempty);
    free(R->out);
    if (R->rows)
        for (size_t i = 0; i < R->n; i++)
            attn_gates_free(&R->rows[i].gates);
    free(R->rows);
    attn_gate_parser_free(R->gates);
    sqlite3_finalize(R->st_user_first);
    attn_truth_ctx_free(R->truth);
    if (R->in_txn)
        sqlite3_exec(attn_store_db(R->o->store), "COMMIT", NULL, NULL, NULL);
    attn_route_env_free(R->env);
    for (size_t i = 0; i < R->n_spare; i++) {
        sqlite3_exec(attn_store_db(R->spare[i]), "COMMIT", NULL, NULL, NULL);
        attn_store_close(R->spare[i]);
    }
    free(R->spare);
    json_decref(R->notes);
    json_decref(R->fit);
    json_decref(R->llm);
    json_decref(R->learned_fit);
}

/* A run id names one run (issue 18 defect 4): an existing directory under
 * the id is replaced only by a rerun of the same inputs (same inputs_hash),
 * or with force. Ids starting with '_' are attn's own (eval/_compare) and
 * need force; ids starting with '.' are temporary trees (rundir.c) and are
 * never accepted. */
static int check_run_id(const char *eval_dir, const char *run_id, const char *hash, int force,
                        attn_error *err)
{
    char path[4800];
    json_t *m = NULL;
    int same = 0;
    if (run_id[0] == '.')
        return attn_error_set(err, ATTN_EINVAL, "run id '%s' is reserved for temporary trees; "
                              "choose another --run-id", run_id);
    if (run_id[0] == '_' && !force)
        return attn_error_set(err, ATTN_EINVAL,
                              "run id '%s' is reserved (ids starting with '_' are attn's own, "
                              "like _compare); choose another --run-id, or pass --force", run_id);
    snprintf(path, sizeof(path), "%s/%s", eval_dir, run_id);
    if (!attn_fs_exists(path))
        return 0;
    snprintf(path, sizeof(path), "%s/%s/manifest.json", eval_dir, run_id);
    if (attn_fs_exists(path) && !attn_json_load_file(path, &m, NULL)) {
        const char *h = attn_json_str(m, "inputs_hash");
        same = h && !strcmp(h, hash);
    }
    json_decref(m);
    if (same || force)
        return 0;
    return attn_error_set(err, ATTN_ECONFLICT,
                          "run id '%s' belongs to another run (%s/%s was made from other "
                          "inputs); choose another --run-id, or pass --force to replace it",
                          run_id, eval_dir, run_id);
}

static int sha_of_file(const char *dir, const char *name, char hex[65])
{
    attn_buf b = ATTN_BUF_INIT;
    char path[8600];
    attn_error err;
    int rc;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if ((rc = attn_fs_read_file(path, &b, &err)) == 0)
        attn_sha256_hex(b.ptr ? b.ptr : "", b.len, hex);
    attn_buf_free(&b);
    return rc;
}

/* Options that need no store: top_k and the ks (sorted ascending and
 * distinct, as metrics.h wants). */
static int setup_ks(run *R, attn_error *err)
{
    const attn_eval_opts *o = R->o;
    R->top_k = o->top_k > 0 ? o->top_k : 10;
    attn_metrics_options_init(&R->mopt);
    if (o->n_ks) {
        R->mopt.n_ks = 0;
        for (int v = 1; v <= R->top_k; v++)
            for (size_t k = 0; k < o->n_ks; k++)
                if (o->ks[k] == v) {
                    R->mopt.ks[R->mopt.n_ks++] = v;
                    break;
                }
    }
    for (size_t k = 0; k < o->n_ks; k++)
        if (o->ks[k] <= 0 || o->ks[k] > R->top_k)
            return attn_error_set(err, ATTN_EINVAL, "k = %d: every k must be from 1 to top_k (%d)",
                                  o->ks[k], R->top_k);
    return 0;
}

/*
 * One read transaction for the whole run on its connection and on a spare
 * one per other worker, all begun on one state of the store (store.h): an
 * ingest committing meanwhile changes none of them, so every worker (and the
 * activity index, read on two of them) sees what the run's connection sees,
 * whatever --jobs is. SQLite also takes its shared lock once, not once per
 * statement. A connection already in a transaction keeps its own.
 */
static int begin_reads(run *R, attn_error *err)
{
    attn_store *main = R->o->store;
    attn_store **group;
    size_t n = 0;
    int held, rc = 0, with_main = sqlite3_get_autocommit(attn_store_db(main)) != 0;
    R->n_spare = R->jobs > 1 ? (size_t)R->jobs - 1 : 0;
    R->spare = attn_xcalloc(R->n_spare ? R->n_spare : 1, sizeof(*R->spare));
    group = attn_xcalloc(R->n_spare + 1, sizeof(*group));
    if (with_main)
        group[n++] = main;
    for (size_t i = 0; i < R->n_spare && !rc; i++)
        if (!(rc = attn_store_open_readonly(attn_store_path(main), &R->spare[i], err)))
            group[n++] = R->spare[i];
    if (rc) {
        for (size_t i = 0; i < R->n_spare; i++)
            attn_store_close(R->spare[i]);
        R->n_spare = 0;
    } else if (!(rc = attn_store_begin_read_group(group, n, &held, err))) {
        R->in_txn = with_main;
    }
    free(group);
    return rc;
}

/* The store side of a run: the routing context under one read transaction,
 * the cohort's cutoffs, routers (fitted on the past), truth, and the per-PR
 * arrays. prs gets the sorted cohort. */
static int setup_run(run *R, attn_eval_pr **prs, attn_error *err)
{
    const attn_eval_opts *o = R->o;
    int rc;
    if ((rc = attn_cutoff_policy_parse(o->cutoff_policy ? o->cutoff_policy : "created_at",
                                       &R->cutoff, err)) ||
        (rc = parse_policies(R, err)) || (rc = begin_reads(R, err)) ||
        (rc = attn_route_env_open_with(o->store, R->n_spare ? R->spare[0] : NULL, o->repo,
                                       o->repo_dir, &R->env, err)))
        return rc;
    R->ctx = attn_route_env_ctx(R->env);
    if ((rc = attn_eval_horizon(o->store, R->ctx->repo_id, &R->horizon, err)) ||
        (rc = resolve_cutoffs(R, prs, &R->n, err)) || (rc = check_stale(R, *prs, R->n, err)) ||
        (rc = make_routers(R, err)) ||
        (!o->artifacts_only && (rc = attn_truth_ctx_open(o->store, R->ctx->repo_id, &R->truth, err))) ||
        (rc = attn_gate_parser_new(&R->gates, err)) || (rc = fit_learned(R, *prs, R->n, err)))
        return rc;
    R->ctx_shared = *R->ctx;
    R->ctx_shared.memo = attn_route_memo_new();
    R->ctx_shared.artifact_text = 1;   /* write_route takes entries as text */
    R->ctx_shared.feat_ahead = &R->feat_ahead;
    R->ctx = &R->ctx_shared;
    if (sqlite3_prepare_v2(attn_store_db(o->store), EVAL_SQL_USER_FIRST, -1, &R->st_user_first, NULL) !=
        SQLITE_OK)
        return attn_error_set(err, ATTN_EDB, "preparing the queue query: %s",
                              sqlite3_errmsg(attn_store_db(o->store)));
    R->rows = attn_xcalloc(R->n, sizeof(*R->rows));
    R->out = attn_xcalloc(R->np * R->nr * R->n, sizeof(*R->out));
    R->risk = attn_xcalloc(R->nr * R->n, sizeof(*R->risk));
    R->nonempty = attn_xcalloc(R->nr * R->n, sizeof(*R->nonempty));
    R->top1 = attn_xcalloc(R->nr * R->n, sizeof(*R->top1));
    R->top1_resp = attn_xcalloc(R->nr * R->n, sizeof(*R->top1_resp));
    for (size_t i = 0; i < R->n; i++) {
        R->rows[i].number = (*prs)[i].number;
        R->rows[i].cutoff = (*prs)[i].cutoff;
    }
    return 0;
}

/* The manifest (its inputs hash names the run unless --run-id does), and the
 * run directory begun under it with the fits written. */
static int begin_dir(run *R, json_t **manifest_out, char run_id[160], char hash[65],
                     attn_rundir **dir, attn_error *err)
{
    const attn_eval_opts *o = R->o;
    json_t *manifest;
    char eval_dir[4400];
    int rc = 0;
    *manifest_out = manifest = manifest_inputs(R);
    if ((rc = attn_json_hash(manifest, hash, err)))
        return rc;
    json_object_set_new(manifest, "inputs_hash", json_string(hash));
    if (o->run_id)
        snprintf(run_id, 160, "%s", o->run_id);
    else
        snprintf(run_id, 160, "eval-%.12s", hash);
    json_object_set_new(manifest, "run_id", json_string(run_id));
    snprintf(eval_dir, sizeof(eval_dir), "%s/eval", o->repo_dir);
    if ((rc = check_run_id(eval_dir, run_id, hash, o->force, err)) ||
        (rc = attn_rundir_begin(eval_dir, run_id, dir, err)))
        return rc;
    if (R->fit && (rc = attn_rundir_write_json(*dir, "hybrid_fit.json", R->fit, err)))
        return rc;
    attn_progress_init(&R->prog, o->progress);
    if (R->learned_fit && (rc = attn_rundir_write_json(*dir, "learned_fit.json", R->learned_fit, err)))
        return rc;
    return 0;
}

/* Route and label every PR: in order on this thread, or on the pool. */
static int route_all(run *R, attn_rundir *dir, attn_buf *jsonl, size_t *extra_hits,
                     attn_error *err)
{
    int rc = 0;
    worker W0 = {R->ctx, R->routers, R->truth, R->gates, R->st_user_first, NULL, 0, NULL, {0}, 0};
    int jobs = R->jobs;
    if ((size_t)jobs > R->n)
        jobs = (int)R->n;
    /* An LLM router overlaps its requests itself (prefetch, curl multi)
     * and its cost cap is checked in PR order: such runs stay on one
     * thread, which keeps them byte-identical whatever --jobs says. */
    for (size_t r = 0; r < R->nr; r++)
        if (attn_router_has_prefetch(R->routers[r]))
            jobs = 1;
    if (jobs <= 1) {
        size_t offered = 0;
        for (size_t i = 0; i < R->n; i++) {
            eval_progress(R, i, 0);
            if ((rc = eval_prefetch(R, i, &offered, err)) ||
                (rc = eval_do_pr(R, &W0, dir, i, jsonl, err)))
                return rc;
        }
    } else if ((rc = eval_run_pool(R, &W0, jobs, dir, jsonl, extra_hits, err))) {
        return rc;
    }
    return 0;
}

/* report.json, report.md, per_pr.jsonl and the manifest into the run
 * directory; *rep gets the report. */
static int write_reports(run *R, attn_rundir *dir, const json_t *manifest, const char *run_id,
                         const attn_buf *jsonl, json_t **rep_out, attn_error *err)
{
    json_t *rep;
    char *md = NULL;
    int rc = 0;
    if (!(*rep_out = rep = eval_report_json(R, run_id, err)))
        return err->code;
    md = eval_report_md(R, rep, run_id);
    if (!(rc = attn_rundir_write(dir, "per_pr.jsonl", jsonl->ptr ? jsonl->ptr : "", jsonl->len,
                                 err)) &&
        !(rc = attn_rundir_write_json(dir, "manifest.json", manifest, err)) &&
        !(rc = attn_rundir_write_json(dir, "report.json", rep, err)))
        rc = attn_rundir_write(dir, "report.md", md, strlen(md), err);
    free(md);
    return rc;
}

/* run_summary.json: the files' hashes and the primary policy's headline
 * (after the post hook, which may add files). *sum_out gets it. */
static int write_summary(run *R, attn_rundir *dir, const json_t *rep, const char *run_id,
                         const char *hash, json_t **sum_out, attn_error *err)
{
    const attn_eval_opts *o = R->o;
    json_t *sum;
    int rc = 0;
    static const char *const files[] = {"manifest.json", "report.json", "report.md",
                                        "per_pr.jsonl"};
    json_t *hashes = json_object(), *head = json_object();
    const json_t *pm = json_object_get(json_object_get(rep, "metrics"), R->pol[0].spec);
    const char *k;
    json_t *x;
    for (size_t f = 0; f < 4; f++) {
        char h[65];
        if ((rc = sha_of_file(attn_rundir_tmp(dir), files[f], h))) {
            rc = attn_error_set(err, ATTN_EIO, "cannot read back %s", files[f]);
            json_decref(hashes);
            json_decref(head);
            return rc;
        }
        json_object_set_new(hashes, files[f], json_string(h));
    }
    json_object_foreach((json_t *)pm, k, x) {
        /* The observed slice's means, without the intervals. */
        json_t *h = json_deep_copy(json_object_get(x, "observed"));
        json_object_del(h, "ci95");
        json_object_set_new(head, k, h);
    }
    *sum_out = sum = attn_xcheck(json_pack(
        "{s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:o, s:o, s:O}", "kind", "run_summary", "version",
        "attn.eval.v1", "repo", o->repo, "run_id", run_id, "n", (json_int_t)R->n, "primary_policy",
        R->pol[0].spec, "inputs_hash", hash, "sha256", hashes, "headline", head, "truth_coverage",
        json_object_get(rep, "truth_coverage")));
    if (json_object_size(R->llm))
        attn_xcheck_rc(json_object_set(sum, "llm", R->llm));
    if (o->post && (rc = o->post(o->post_ud, dir, rep, sum, err)))
        return rc;
    return attn_rundir_write_json(dir, "run_summary.json", sum, err);
}

/* Commit the run directory (dir is gone after, whatever the outcome) and add to the summary what is not in
 * run_summary.json: where it went and how it was computed. */
static int finish_run(run *R, attn_rundir *dir, json_t *sum, size_t extra_hits, attn_error *err)
{
    int rc;
    char final[4400];
    snprintf(final, sizeof(final), "%s", attn_rundir_final(dir));
    if ((rc = attn_rundir_commit(dir, err)))
        return rc;
    json_object_set_new(sum, "run_dir", json_string(final));
    /* Not in run_summary.json: how the run was computed, not what it found. */
    json_object_set_new(sum, "routes_shared",
                        json_integer((json_int_t)(attn_route_memo_hits(R->ctx_shared.memo) +
                                                  extra_hits)));
    for (size_t r = 0; r < R->nr; r++) {
        json_t *dsc = attn_router_describe(R->routers[r]);
        if (json_object_get(dsc, "stats")) {
            if (!json_object_get(sum, "llm_stats"))
                json_object_set_new(sum, "llm_stats", json_object());
            json_object_set(json_object_get(sum, "llm_stats"),
                            attn_router_def_of(R->routers[r])->name,
                            json_object_get(dsc, "stats"));
        }
        json_decref(dsc);
    }
    return 0;
}

int attn_eval_run(const attn_eval_opts *o, json_t **summary, attn_error *err)
{
    run R;
    attn_eval_pr *prs = NULL;
    attn_rundir *dir = NULL;
    attn_buf jsonl = ATTN_BUF_INIT;
    json_t *manifest = NULL, *rep = NULL, *sum = NULL;
    char run_id[160], hash[65];
    size_t extra_hits = 0;
    int rc;

    memset(&R, 0, sizeof(R));
    R.o = o;
    R.jobs = o->jobs > 0 ? o->jobs : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (R.jobs > 64)
        R.jobs = 64;
    if (R.jobs < 1)
        R.jobs = 1;
    if (summary)
        *summary = NULL;
    R.notes = attn_xcheck(json_array());
    R.llm = attn_xcheck(json_object());
    if ((rc = setup_ks(&R, err)) || (rc = setup_run(&R, &prs, err)) ||
        (rc = begin_dir(&R, &manifest, run_id, hash, &dir, err)) ||
        (rc = route_all(&R, dir, &jsonl, &extra_hits, err)))
        goto out;
    eval_progress(&R, R.n, 1);
    if ((rc = attn_rundir_entries_done(dir, err)))
        goto out;
    if (o->artifacts_only) {
        json_object_set_new(manifest, "kind", json_string("artifacts_manifest"));
        if ((rc = attn_rundir_write_json(dir, "manifest.json", manifest, err)))
            goto out;
        sum = json_pack("{s:s, s:s, s:I, s:s}", "kind", "artifacts_summary", "run_id", run_id,
                        "n", (json_int_t)R.n, "inputs_hash", hash);
    } else if ((rc = write_reports(&R, dir, manifest, run_id, &jsonl, &rep, err)) ||
               (rc = write_summary(&R, dir, rep, run_id, hash, &sum, err))) {
        goto out;
    }
    rc = finish_run(&R, dir, sum, extra_hits, err);
    dir = NULL;
    if (!rc && summary) {
        *summary = sum;
        sum = NULL;
    }
out:
    if (dir)
        attn_rundir_abort(dir);
    attn_buf_free(&jsonl);
    free(prs);
    json_decref(manifest);
    json_decref(rep);
    json_decref(sum);
    free_run(&R);
    return rc;
}
