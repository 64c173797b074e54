/*
 * experiment.c - run an experiment and record it (experiment.h).
 *
 * Owns: the order of registry writes around an evaluation. Must never:
 * leave a registry row "completed" for a run whose directory was not
 * committed, or write a wall-clock value into a run artifact (timings go to
 * the registry only).
 */
#include "exp/experiment.h"
#include "exp/runlock.h"
#include "eval/run.h"
#include "exp/quality.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/path.h"
#include "util/time.h"
#include "util/version.h"

#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

typedef struct {
    const attn_spec *spec;
    const attn_cohort *cohort;
    int gates_pass, promote;
    json_t *router_hashes, *truth_hashes;
    json_t *prompts;            /* {router: prompt bundle snapshot} of LLM routers */
    const char *kind, *experiment_id;
    int64_t horizon;
} post_ctx;

static int64_t now_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

void attn_experiment_default_id(const attn_spec *spec, char *out, size_t cap)
{
    snprintf(out, cap, "exp-%.12s", spec->hash);
}

/* Hashes and horizon from the manifest the evaluation just wrote. */
static int read_manifest(post_ctx *c, const char *dir, attn_error *err)
{
    char path[4400];
    json_t *m = NULL, *x;
    size_t i;
    int rc;
    snprintf(path, sizeof(path), "%s/manifest.json", dir);
    if ((rc = attn_json_load_file(path, &m, err)))
        return rc;
    json_array_foreach(json_object_get(m, "routers"), i, x) {
        const json_t *pb = json_object_get(json_object_get(x, "llm"), "prompt");
        json_object_set_new(c->router_hashes, attn_json_str(x, "name"),
                            json_string(attn_json_str(x, "config_hash")));
        if (pb)
            json_object_set(c->prompts, attn_json_str(x, "name"), (json_t *)pb);
    }
    json_array_foreach(json_object_get(json_object_get(m, "truth"), "policies"), i, x)
        json_object_set_new(c->truth_hashes, attn_json_str(x, "spec"),
                            json_string(attn_json_str(x, "hash")));
    rc = attn_json_time(json_object_get(m, "store"), "horizon", &c->horizon, err);
    json_decref(m);
    return rc;
}

static int post(void *ud, attn_rundir *dir, const json_t *report, json_t *summary,
                attn_error *err)
{
    post_ctx *c = ud;
    const char *tmp = attn_rundir_tmp(dir), *fault;
    json_t *per_pr = NULL, *gates = NULL, *promo = NULL;
    int rc;

    if ((rc = attn_quality_load_per_pr(tmp, &per_pr, err)) ||
        (rc = attn_quality_gates(tmp, per_pr, report, c->spec, &gates, err)))
        goto out;
    c->gates_pass = json_is_true(json_object_get(gates, "all_pass"));
    if ((rc = attn_quality_promotion(per_pr, c->spec, c->gates_pass, &promo, err)))
        goto out;
    c->promote = json_is_true(json_object_get(promo, "promote"));
    if ((rc = attn_rundir_write_json(dir, "experiment.json", c->spec->doc, err)) ||
        (rc = attn_rundir_write_json(dir, "cohort.json", attn_cohort_json(c->cohort), err)) ||
        (rc = attn_rundir_write_json(dir, "gates.json", gates, err)) ||
        (rc = attn_rundir_write_json(dir, "promotion.json", promo, err)) ||
        (rc = read_manifest(c, tmp, err)))
        goto out;
    json_object_set_new(summary, "experiment",
                        json_pack("{s:s, s:s, s:s?, s:b, s:b}", "spec_hash", c->spec->hash,
                                  "run_kind", c->kind, "experiment_id",
                                  c->experiment_id, "gates_pass", c->gates_pass, "promote",
                                  c->promote));
    fault = getenv("ATTN_TEST_FAIL_EXPERIMENT");
    /* "hold": a run that stays running until it is killed, so a test can
     * kill it mid-run however fast the evaluation was (t_reliability) */
    while (fault && !strcmp(fault, "hold"))
        pause();
    if (fault && !strcmp(fault, "post"))
        rc = attn_error_set(err, ATTN_EIO,
                            "injected failure before the run directory was committed "
                            "(ATTN_TEST_FAIL_EXPERIMENT=post)");
out:
    json_decref(per_pr);
    json_decref(gates);
    json_decref(promo);
    return rc;
}

int attn_experiment_run(const attn_experiment_opts *o, json_t **summary, attn_error *err)
{
    const attn_spec *sp = o->spec;
    attn_eval_opts eo;
    attn_eval_router routers[ATTN_SPEC_MAX_ROUTERS];
    attn_eval_pr *prs = NULL;
    attn_run_start st;
    attn_run_finish fin;
    post_ctx pc;
    json_t *extra = NULL, *sum = NULL;
    char run_id[160], run_dir[4400];
    attn_store_lock *lock = NULL;
    size_t n = attn_cohort_size(o->cohort);
    int64_t t0 = now_ms(), started = t0 / 1000;
    int rc;

    if (summary)
        *summary = NULL;
    if (strcmp(sp->cohort_hash, attn_cohort_hash(o->cohort)))
        return attn_error_set(err, ATTN_EINVAL,
                              "the spec names cohort %s but the cohort file hashes to %s; pass "
                              "the cohort the spec was made for, or recreate the spec with "
                              "`attn experiment init`",
                              sp->cohort_hash, attn_cohort_hash(o->cohort));
    if (strcmp(sp->repo, o->repo) || strcmp(attn_cohort_repo(o->cohort), o->repo))
        return attn_error_set(err, ATTN_EINVAL, "spec (%s), cohort (%s) and --repo (%s) differ",
                              sp->repo, attn_cohort_repo(o->cohort), o->repo);
    if (strcmp(sp->cutoff_policy, attn_cohort_cutoff_policy(o->cohort)))
        return attn_error_set(err, ATTN_EINVAL,
                              "the spec's cutoff policy %s is not the cohort's (%s): cutoffs are "
                              "locked by the cohort",
                              sp->cutoff_policy, attn_cohort_cutoff_policy(o->cohort));
    if (o->run_id)
        snprintf(run_id, sizeof(run_id), "%s", o->run_id);
    else
        attn_experiment_default_id(sp, run_id, sizeof(run_id));
    if ((rc = attn_path_check_id(run_id, "run id", err)))
        return rc;
    snprintf(run_dir, sizeof(run_dir), "%s/eval/%s", o->repo_dir, run_id);

    memset(&st, 0, sizeof(st));
    st.run_id = run_id;
    st.kind = o->kind ? o->kind : sp->run_kind;
    st.experiment_id = o->experiment_id ? o->experiment_id : sp->experiment_id;
    st.spec_hash = sp->hash;
    st.cohort_hash = sp->cohort_hash;
    st.code_version = ATTN_VERSION;
    st.notes = sp->notes;
    st.run_dir = run_dir;
    st.tags = json_object_get(sp->doc, "tags");
    st.started_at = started;
    /* One process per run id (D6), held until the outcome is recorded, so a
     * "running" row without a live holder is a dead run (runlock.h, D7). */
    if ((rc = attn_runlock_acquire(o->repo_dir, run_id, &lock, err)))
        return rc;
    if ((rc = attn_registry_start(o->registry, &st, err))) {
        attn_store_lock_release(lock);
        return rc;
    }

    memset(&pc, 0, sizeof(pc));
    pc.spec = sp;
    pc.cohort = o->cohort;
    pc.horizon = ATTN_NULL_I64;
    pc.router_hashes = attn_xcheck(json_object());
    pc.truth_hashes = attn_xcheck(json_object());
    pc.prompts = attn_xcheck(json_object());
    pc.kind = st.kind;
    pc.experiment_id = st.experiment_id;
    prs = attn_xcalloc(n ? n : 1, sizeof(*prs));
    extra = attn_xcheck(json_pack("{s:{s:s, s:s, s:s?}}", "experiment", "spec_hash", sp->hash,
                                  "run_kind", st.kind, "experiment_id", st.experiment_id));
    for (size_t i = 0; i < n; i++)
        attn_cohort_pr(o->cohort, i, &prs[i].number, &prs[i].cutoff);
    for (size_t i = 0; i < sp->n_routers; i++) {
        routers[i].name = sp->routers[i].name;
        routers[i].config_path = NULL;
        routers[i].config = sp->routers[i].config;
    }
    attn_eval_opts_init(&eo);
    eo.store = o->store;
    eo.repo = o->repo;
    eo.repo_dir = o->repo_dir;
    eo.run_id = run_id;
    eo.routers = routers;
    eo.n_routers = sp->n_routers;
    eo.cutoff_policy = sp->cutoff_policy;
    eo.truth = sp->truth;
    eo.n_truth = sp->n_truth;
    eo.prs = prs;
    eo.n_prs = n;
    eo.cohort_hash = attn_cohort_hash(o->cohort);
    eo.top_k = sp->top_k;
    for (size_t k = 0; k < sp->n_ks; k++)
        eo.ks[k] = sp->ks[k];
    eo.n_ks = sp->n_ks;
    eo.bootstrap = sp->resamples;
    eo.seed = sp->seed;
    eo.allow_stale = o->allow_stale;
    eo.hybrid_train_days = sp->hybrid_train_days;
    eo.progress = o->progress;
    eo.extra = extra;
    eo.post = post;
    eo.post_ud = &pc;
    eo.max_cost_usd = o->max_cost_usd;
    if ((rc = attn_eval_run(&eo, &sum, err)))
        goto fail;

    memset(&fin, 0, sizeof(fin));
    fin.inputs_hash = attn_json_str(sum, "inputs_hash");
    fin.router_hashes = pc.router_hashes;
    fin.truth_hashes = pc.truth_hashes;
    fin.headline = json_object_get(sum, "headline");
    fin.db_horizon = pc.horizon;
    fin.finished_at = now_ms() / 1000;
    fin.duration_ms = now_ms() - t0;
    fin.n_prs = (int64_t)n;
    fin.gates_pass = pc.gates_pass;
    fin.promote = pc.promote;
    fin.llm = json_object_get(sum, "llm");
    fin.prompts = pc.prompts;
    if ((rc = attn_registry_complete(o->registry, run_id, &fin, err))) {
        attn_error_wrap(err, "run %s finished in %s but recording it failed", run_id, run_dir);
        goto out;
    }
    goto out;
fail:
    {
        attn_error e2;
        attn_error_clear(&e2);
        if (attn_registry_fail(o->registry, run_id, err->msg, now_ms() / 1000, now_ms() - t0,
                               &e2))
            fprintf(stderr, "attn: also failed to record the failure: %s\n", e2.msg);
    }
out:
    if (!rc && summary) {
        *summary = sum;
        sum = NULL;
    }
    json_decref(sum);
    json_decref(extra);
    json_decref(pc.router_hashes);
    json_decref(pc.truth_hashes);
    json_decref(pc.prompts);
    free(prs);
    attn_store_lock_release(lock);
    return rc;
}
