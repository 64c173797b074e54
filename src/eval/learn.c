/*
 * learn.c - build training rows for the `learned` router from the PRs before
 * a point in time and train the model (learn.h). Owns the training-window
 * rule. Must never: hand a PR whose truth window is still open at `until` to
 * the trainer, or compute a feature at any instant but the PR's own cutoff.
 */
#include "eval/learn.h"
#include "eval/run.h"
#include "history/asof.h"
#include "route/features.h"
#include "util/alloc.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/time.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void attn_learn_opts_init(attn_learn_opts *o)
{
    memset(o, 0, sizeof(*o));
    attn_lmodel_params_init(&o->params);
    o->max_candidates = 30;
}

typedef struct {
    float *x, *y;
    unsigned *group;
    size_t rows, cap_rows, groups, cap_groups, positives;
} rows_buf;

/* One PR's label and features at its cutoff, computed once and reused by
 * every training block (they do not depend on the block). */
enum { EX_NO_CUTOFF = 1, EX_NOT_OBSERVED, EX_OK };
typedef struct {
    int64_t number, cut, wend;
    int state;
    size_t n, pos;
    float *x, *y;
} example;

/* What one thread computes examples with. */
typedef struct {
    const attn_route_ctx *ctx;
    attn_truth_ctx *truth;
    attn_cutoff_resolver *res;
    attn_features *feat;
} lane;

struct attn_learn_cache {
    example *ex;             /* sorted by number */
    size_t n, cap;
    attn_cutoff_resolver *res;
    attn_features *feat;
    int max_candidates;
    lane *helpers;           /* attn_learn_cache_helpers */
    size_t n_helpers;
};

static void rows_add(rows_buf *b, const example *e)
{
    if (b->rows + e->n > b->cap_rows) {
        size_t nc = b->cap_rows ? b->cap_rows * 2 : 1024;
        while (nc < b->rows + e->n)
            nc *= 2;
        b->x = attn_xrealloc(b->x, attn_st_mult(attn_st_mult(nc, ATTN_FEAT_N), sizeof(*b->x)));
        b->y = attn_xrealloc(b->y, attn_st_mult(nc, sizeof(*b->y)));
        b->cap_rows = nc;
    }
    if (b->groups == b->cap_groups) {
        size_t nc = b->cap_groups ? b->cap_groups * 2 : 256;
        b->group = attn_xrealloc(b->group, attn_st_mult(nc, sizeof(*b->group)));
        b->cap_groups = nc;
    }
    memcpy(b->x + b->rows * ATTN_FEAT_N, e->x, e->n * ATTN_FEAT_N * sizeof(float));
    memcpy(b->y + b->rows, e->y, e->n * sizeof(float));
    b->group[b->groups++] = (unsigned)e->n;
    b->rows += e->n;
    b->positives += e->pos;
}

static void label_rows(example *e, const attn_feat_set *fs, const json_t *targets)
{
    e->n = fs->n;
    e->x = attn_xmalloc(attn_st_mult(attn_st_mult(fs->n ? fs->n : 1, ATTN_FEAT_N), sizeof(float)));
    e->y = attn_xcalloc(fs->n ? fs->n : 1, sizeof(float));
    memcpy(e->x, fs->x, fs->n * ATTN_FEAT_N * sizeof(float));
    for (size_t i = 0; i < fs->n; i++) {
        const json_t *t;
        size_t k;
        json_array_foreach(targets, k, t) {
            const char *type = attn_json_str(t, "type"), *name = attn_json_str(t, "name");
            if (type && name && !strcmp(type, "user") && !strcasecmp(name, fs->login[i]))
                e->y[i] = 1;
        }
        e->pos += e->y[i] > 0;
    }
}

typedef struct {
    size_t in_window, no_cutoff, not_observed, window_open, no_target, examples;
} learn_counts;

/* Compute e (number set) at the PR's cutoff: its truth and, when observed,
 * its candidates' features and labels. */
static int compute_example(const lane *L, int max_candidates, const attn_truth_policy *pol,
                           const attn_cutoff_policy *cp, example *e, attn_error *err)
{
    const attn_route_ctx *ctx = L->ctx;
    json_t *t = NULL, *snap = NULL;
    attn_feat_set fs = {0};
    int rc = attn_cutoff_resolver_get(L->res, e->number, cp, &e->cut, err);
    if (rc == ATTN_CUTOFF_NONE) {
        e->state = EX_NO_CUTOFF;
        return 0;
    }
    if (rc || (rc = attn_truth_eval(L->truth, e->number, e->cut, pol, &t, err)))
        return rc;
    if (strcmp(attn_json_str(t, "status"), ATTN_TRUTH_OBSERVED)) {
        e->state = EX_NOT_OBSERVED;
        goto out;
    }
    if ((rc = attn_json_time(t, "window_end", &e->wend, err)) ||
        (rc = attn_asof_reader_pr_snapshot(ctx->reader, ctx->repo_id, e->number, e->cut, &snap,
                                           err)))
        goto out;
    {
        attn_route_query q = {e->number, e->cut, max_candidates, snap};
        if ((rc = attn_features_compute(L->feat, ctx, &q, &fs, err)))
            goto out;
    }
    label_rows(e, &fs, json_object_get(t, "targets"));
    e->state = EX_OK;
out:
    attn_feat_set_free(&fs);
    if (ctx->memo)
        attn_route_memo_clear(ctx->memo);
    json_decref(snap);
    json_decref(t);
    return rc;
}

static example *cache_get(attn_learn_cache *c, int64_t number, int *fresh)
{
    size_t lo = 0, hi = c->n;
    *fresh = 0;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c->ex[mid].number < number)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < c->n && c->ex[lo].number == number)
        return &c->ex[lo];
    if (c->n == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 256;
        c->ex = attn_xrealloc(c->ex, attn_st_mult(nc, sizeof(*c->ex)));
        c->cap = nc;
    }
    memmove(&c->ex[lo + 1], &c->ex[lo], (c->n - lo) * sizeof(*c->ex));
    memset(&c->ex[lo], 0, sizeof(*c->ex));
    c->ex[lo].number = number;
    c->n++;
    *fresh = 1;
    return &c->ex[lo];
}

/* Apply the training-window rule to one PR (its example computed) and
 * append its rows. */
static void one_pr(attn_learn_cache *c, const attn_learn_opts *o, int64_t number, rows_buf *b,
                   learn_counts *cnt)
{
    int fresh;
    const example *e = cache_get(c, number, &fresh);
    if (e->state == EX_NO_CUTOFF || e->cut >= o->until)
        cnt->no_cutoff++;
    else if (e->state == EX_NOT_OBSERVED)
        cnt->not_observed++;
    else if (e->wend > o->until)
        cnt->window_open++;
    else if (!e->pos)
        cnt->no_target++;
    else {
        rows_add(b, e);
        cnt->examples++;
    }
}

/* Computing the new examples of one training, on the cache's threads. */
typedef struct {
    attn_learn_cache *c;
    const attn_learn_opts *o;
    example *const *todo;    /* in the cache, which no thread grows meanwhile */
    size_t n_todo;
    atomic_size_t next;
    size_t done;             /* how many the caller's thread computed (progress) */
    atomic_size_t fail;      /* the first failed index in todo, n_todo: none */
    attn_error fail_err;     /* its error, set under mu */
    pthread_mutex_t mu;
} batch;

typedef struct {
    batch *B;
    const lane *L;
    int main;                /* the caller's thread */
    pthread_t tid;
} batch_thread;

static void *batch_run(void *arg)
{
    batch_thread *T = arg;
    batch *B = T->B;
    for (;;) {
        size_t i = atomic_fetch_add(&B->next, 1);
        int rc;
        example *e;
        attn_error err;
        if (i >= B->n_todo || i > atomic_load(&B->fail))   /* past a failure: stop */
            break;
        e = B->todo[i];
        if ((rc = compute_example(T->L, B->c->max_candidates, B->o->truth, B->o->cutoff, e,
                                  &err))) {
            e->state = 0;
            pthread_mutex_lock(&B->mu);
            if (i < atomic_load(&B->fail)) {
                B->fail_err = err;
                B->fail_err.code = rc;
                atomic_store(&B->fail, i);
            }
            pthread_mutex_unlock(&B->mu);
        }
        if (T->main && B->o->progress && ++B->done % 500 == 0)
            fprintf(stderr, "model train: %zu/%zu new examples\n", (size_t)atomic_load(&B->next),
                    B->n_todo);
    }
    return NULL;
}

/* The examples of todo (entries already in the cache, not yet computed), on
 * this thread and the helpers'; a failure reports the first failed PR in
 * todo's order, as one thread would. */
static int compute_examples(attn_learn_cache *c, const attn_route_ctx *ctx,
                            attn_truth_ctx *truth, const attn_learn_opts *o,
                            example *const *todo, size_t n_todo, attn_error *err)
{
    lane self = {ctx, truth, c->res, c->feat};
    size_t nt = n_todo > 1 ? 1 + c->n_helpers : 1, started = 1;
    batch_thread *T = attn_xcalloc(nt, sizeof(*T));
    batch B;
    memset(&B, 0, sizeof(B));
    B.c = c;
    B.o = o;
    B.todo = todo;
    B.n_todo = n_todo;
    atomic_init(&B.fail, n_todo);
    atomic_init(&B.next, 0);
    pthread_mutex_init(&B.mu, NULL);
    for (size_t t = 0; t < nt; t++) {
        T[t].B = &B;
        T[t].L = t ? &c->helpers[t - 1] : &self;
        T[t].main = !t;
    }
    for (size_t t = 1; t < nt; t++, started++)
        if (pthread_create(&T[t].tid, NULL, batch_run, &T[t]))
            break;                          /* fewer threads: same examples */
    batch_run(&T[0]);
    for (size_t t = 1; t < started; t++)
        pthread_join(T[t].tid, NULL);
    pthread_mutex_destroy(&B.mu);
    free(T);
    if (atomic_load(&B.fail) < n_todo) {
        if (err)
            *err = B.fail_err;
        attn_error_wrap(err, "training on #%lld", (long long)todo[atomic_load(&B.fail)]->number);
        return B.fail_err.code;
    }
    return 0;
}

/* The features of the PRs to be routed, on the first helper's lane while
 * XGBoost trains on this thread (learn.h: attn_learn_wf.ahead): the lane is
 * idle then, and an idle core would otherwise wait for the training. At
 * most AHEAD_MAX sets are kept (about 4 KB each). */
#define AHEAD_MAX 8192

static size_t ahead_limit(const struct attn_learn_ahead *a)
{
    return a->n < AHEAD_MAX ? a->n : AHEAD_MAX;
}

typedef struct {
    const lane *L;
    int max_candidates;
    struct attn_learn_ahead *a;
    atomic_int stop;
    pthread_t tid;
} ahead_job;

static void *ahead_main(void *arg)
{
    ahead_job *J = arg;
    const attn_route_ctx *ctx = J->L->ctx;
    attn_feat_ahead *out = &J->a->out;
    while (!atomic_load(&J->stop) && out->n < ahead_limit(J->a)) {
        const attn_eval_pr *p = &J->a->prs[out->n];
        json_t *snap = NULL;
        attn_feat_set fs = {0};
        attn_error err;
        int rc = attn_asof_reader_pr_snapshot(ctx->reader, ctx->repo_id, p->number, p->cutoff,
                                              &snap, &err);
        if (!rc) {
            attn_route_query q = {p->number, p->cutoff, J->max_candidates, snap};
            rc = attn_features_compute(J->L->feat, ctx, &q, &fs, &err);
        }
        json_decref(snap);
        if (rc) {                /* routing meets the error in order and reports it */
            attn_feat_set_free(&fs);
            break;
        }
        ATTN_ALLOC_GROW(out->e, out->n + 1, out->cap);
        out->e[out->n].pr_number = p->number;
        out->e[out->n].as_of = p->cutoff;
        out->e[out->n++].fs = fs;
    }
    return NULL;
}

/* Start (on 1) or stop and join (on 0) the ahead job around a training. */
static void ahead_switch(ahead_job *J, attn_learn_cache *c, struct attn_learn_ahead *a, int on)
{
    if (on) {
        J->tid = 0;
        if (!a || !c->n_helpers || a->out.n >= ahead_limit(a))
            return;
        if (a->out.n == 0)
            a->out.max_cands = c->max_candidates;
        J->L = &c->helpers[0];
        J->max_candidates = c->max_candidates;
        J->a = a;
        atomic_init(&J->stop, 0);
        if (pthread_create(&J->tid, NULL, ahead_main, J))
            J->a = NULL;                 /* no thread: nothing is computed ahead */
    } else if (J->a) {
        atomic_store(&J->stop, 1);
        pthread_join(J->tid, NULL);
        J->a = NULL;
    }
}

int attn_learn_cache_new(const attn_route_ctx *ctx, int max_candidates, attn_learn_cache **out,
                         attn_error *err)
{
    attn_learn_cache *c = attn_xcalloc(1, sizeof(*c));
    int rc;
    *out = NULL;
    c->max_candidates = max_candidates;
    if ((rc = attn_cutoff_resolver_open(ctx->store, ctx->repo_id, &c->res, err)) ||
        (rc = attn_features_new(ctx, max_candidates, &c->feat, err))) {
        attn_learn_cache_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

int attn_learn_cache_helpers(attn_learn_cache *c, const attn_learn_helper *h, size_t n,
                             attn_error *err)
{
    int rc;
    c->helpers = attn_xcalloc(n ? n : 1, sizeof(*c->helpers));
    for (size_t i = 0; i < n; i++, c->n_helpers++) {
        lane *L = &c->helpers[i];
        L->ctx = h[i].ctx;
        L->truth = h[i].truth;
        if ((rc = attn_cutoff_resolver_open(L->ctx->store, L->ctx->repo_id, &L->res, err)) ||
            (rc = attn_features_new(L->ctx, c->max_candidates, &L->feat, err))) {
            c->n_helpers++;                 /* freed with the others */
            return rc;
        }
    }
    return 0;
}

void attn_learn_cache_free(attn_learn_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_helpers; i++) {
        attn_cutoff_resolver_free(c->helpers[i].res);
        attn_features_free(c->helpers[i].feat);
    }
    free(c->helpers);
    for (size_t i = 0; i < c->n; i++) {
        free(c->ex[i].x);
        free(c->ex[i].y);
    }
    free(c->ex);
    attn_cutoff_resolver_free(c->res);
    attn_features_free(c->feat);
    free(c);
}

static json_t *training_json(const attn_route_ctx *ctx, const attn_learn_opts *o,
                             const learn_counts *c, const rows_buf *b)
{
    char t0[32], t1[32];
    return json_pack("{s:s, s:s, s:s, s:{s:s, s:s}, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
                     "s:i, s:s}",
                     "repo", ctx->repo, "from", attn_time_format(o->from, t0), "until",
                     attn_time_format(o->until, t1), "truth_policy", "spec", o->truth->spec,
                     "hash", o->truth->hash, "cutoff_policy", o->cutoff->id, "prs_in_window",
                     (json_int_t)c->in_window, "excluded_no_cutoff", (json_int_t)c->no_cutoff,
                     "excluded_not_observed", (json_int_t)c->not_observed,
                     "excluded_window_open", (json_int_t)c->window_open, "no_target_in_pool",
                     (json_int_t)c->no_target, "examples", (json_int_t)c->examples, "rows",
                     (json_int_t)b->rows, "positives", (json_int_t)b->positives,
                     "max_candidates", o->max_candidates, "rule",
                     "created in [from, until), observed, truth window_end <= until");
}

int attn_learn_train_cached(const attn_route_ctx *ctx, attn_truth_ctx *truth,
                             attn_learn_cache *c, const attn_learn_opts *o, json_t **file,
                             attn_error *err)
{
    attn_eval_pr *prs = NULL;
    rows_buf b = {0};
    learn_counts cnt = {0};
    size_t n = 0;
    json_t *training = NULL;
    int rc;

    *file = NULL;
    if (o->until <= o->from)
        return attn_error_set(err, ATTN_EINVAL, "the training window is empty (from >= until)");
    if (o->max_candidates != c->max_candidates)
        return attn_error_set(err, ATTN_EINVAL, "max_candidates differs from the cache's");
    if ((rc = attn_eval_prs_in_window(ctx->store, ctx->repo_id, o->from, o->until, &prs, &n, err)))
        goto out;
    cnt.in_window = n;
    {
        /* the PRs new to the cache first (on every thread), then the rule */
        int64_t *fresh_nums = attn_xmalloc(attn_st_mult(n ? n : 1, sizeof(*fresh_nums)));
        example **todo = attn_xmalloc(attn_st_mult(n ? n : 1, sizeof(*todo)));
        size_t nt = 0;
        for (size_t i = 0; i < n; i++) {
            int fresh;
            cache_get(c, prs[i].number, &fresh);
            if (fresh)
                fresh_nums[nt++] = prs[i].number;
        }
        /* pointers only once every insertion (which moves entries) is done */
        for (size_t i = 0; i < nt; i++) {
            int fresh;
            todo[i] = cache_get(c, fresh_nums[i], &fresh);
        }
        rc = compute_examples(c, ctx, truth, o, todo, nt, err);
        free(fresh_nums);
        free(todo);
        if (rc)
            goto out;
    }
    for (size_t i = 0; i < n; i++)
        one_pr(c, o, prs[i].number, &b, &cnt);
    if (o->progress)
        fprintf(stderr, "model train: %zu PRs, %zu examples\n", n, cnt.examples);
    training = attn_xcheck(training_json(ctx, o, &cnt, &b));
    if (!cnt.examples) {
        rc = attn_error_set(err, ATTN_EINVAL,
                            "no training example among %zu PRs created in the window (%zu "
                            "without a cutoff before until, %zu not observed, %zu with the truth "
                            "window still open at until, %zu with no reviewer in the pool); "
                            "widen the window",
                            n, cnt.no_cutoff, cnt.not_observed, cnt.window_open, cnt.no_target);
        goto out;
    }
    {
        attn_lmodel_data d = {b.x, b.y, b.group, b.rows, b.groups};
        ahead_job J = {0};
        ahead_switch(&J, c, o->ahead, 1);
        if (o->training)
            o->training(o->training_ud, 1);
        rc = attn_lmodel_train(&d, &o->params, training, file, err);
        if (o->training)
            o->training(o->training_ud, 0);
        ahead_switch(&J, c, o->ahead, 0);
    }
out:
    json_decref(training);
    free(prs);
    free(b.x);
    free(b.y);
    free(b.group);
    return rc;
}

int attn_learn_train(const attn_route_ctx *ctx, attn_truth_ctx *truth, const attn_learn_opts *o,
                     json_t **file, attn_error *err)
{
    attn_learn_cache *c = NULL;
    int rc = attn_learn_cache_new(ctx, o->max_candidates, &c, err);
    *file = NULL;
    if (!rc)
        rc = attn_learn_train_cached(ctx, truth, c, o, file, err);
    attn_learn_cache_free(c);
    return rc;
}

int attn_learn_params_from_json(const json_t *t, attn_lmodel_params *p, attn_error *err)
{
    const json_t *v;
    attn_lmodel_params_init(p);
    if (!t || json_is_null(t))
        return 0;
    if (!json_is_object(t))
        return attn_error_set(err, ATTN_EINVAL, "learned: 'train' must be an object");
    if ((v = json_object_get(t, "objective"))) {
        const char *o = json_string_value(v);
        if (!o || (strcmp(o, "rank:pairwise") && strcmp(o, "rank:ndcg")))
            return attn_error_set(err, ATTN_EINVAL,
                                  "learned: train.objective must be rank:pairwise or rank:ndcg");
        p->objective = o;
    }
    if ((v = json_object_get(t, "rounds")) &&
        (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 5000))
        return attn_error_set(err, ATTN_EINVAL, "learned: train.rounds must be from 1 to 5000");
    if (v)
        p->rounds = (int)json_integer_value(v);
    if ((v = json_object_get(t, "max_depth")) &&
        (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 16))
        return attn_error_set(err, ATTN_EINVAL, "learned: train.max_depth must be from 1 to 16");
    if (v)
        p->max_depth = (int)json_integer_value(v);
    if ((v = json_object_get(t, "seed")) && (!json_is_integer(v) || json_integer_value(v) < 0))
        return attn_error_set(err, ATTN_EINVAL, "learned: train.seed must be a whole number >= 0");
    if (v)
        p->seed = (uint64_t)json_integer_value(v);
    if ((v = json_object_get(t, "eta")) &&
        !(json_number_value(v) > 0 && json_number_value(v) <= 1))
        return attn_error_set(err, ATTN_EINVAL, "learned: train.eta must be in (0, 1]");
    if (v)
        p->eta = json_number_value(v);
    if ((v = json_object_get(t, "min_examples")) &&
        (!json_is_integer(v) || json_integer_value(v) < 1))
        return attn_error_set(err, ATTN_EINVAL, "learned: train.min_examples must be >= 1");
    if ((v = json_object_get(t, "min_child_weight")) && !(json_number_value(v) >= 0))
        return attn_error_set(err, ATTN_EINVAL, "learned: train.min_child_weight must be >= 0");
    if (v)
        p->min_child_weight = json_number_value(v);
    return 0;
}

/* Write a trained model under <repo_dir>/models/, named by its hash. */
static int save_model(const attn_route_ctx *ctx, const json_t *file, char *rel, size_t cap,
                      attn_error *err)
{
    char dir[4096], full[4200];
    const char *h = attn_json_str(file, "hash");
    int rc;
    snprintf(dir, sizeof(dir), "%s/models", ctx->repo_dir);
    snprintf(rel, cap, "models/learned-%.16s.json", h);
    snprintf(full, sizeof(full), "%s/%s", ctx->repo_dir, rel);
    if ((rc = attn_fs_mkdirs(dir, err)))
        return rc;
    return attn_fs_exists(full) ? 0 : attn_lmodel_write(full, file, err);
}

/* One block: train on [start - train_days, start), add the model to models. */
static int wf_block(const attn_route_ctx *ctx, attn_truth_ctx *truth, attn_learn_cache *c,
                    const attn_learn_wf *w, const attn_lmodel_params *params, int64_t start, json_t *models, json_t *blocks,
                    attn_error *err)
{
    attn_learn_opts o;
    json_t *file = NULL;
    char rel[256], t0[32], t1[32];
    int rc;
    attn_learn_opts_init(&o);
    o.from = start - (int64_t)w->train_days * 86400;
    o.until = start;
    o.truth = w->truth;
    o.cutoff = w->cutoff;
    o.max_candidates = c->max_candidates;
    o.params = *params;
    o.training = w->training;
    o.training_ud = w->training_ud;
    o.ahead = w->ahead;
    rc = attn_learn_train_cached(ctx, truth, c, &o, &file, err);
    if (rc == ATTN_EINVAL) {
        /* Too little history before this block: the previous model (or the
         * router's fallback) keeps serving; the record says so. */
        json_array_append_new(blocks, json_pack("{s:s, s:s, s:s}", "from",
                                                attn_time_format(start, t0), "trained_from",
                                                attn_time_format(o.from, t1), "skipped", err->msg));
        attn_error_clear(err);
        return 0;
    }
    if (!rc && attn_json_i64(json_object_get(file, "training"), "examples", 0) < w->min_examples) {
        json_array_append_new(blocks, json_pack("{s:s, s:s, s:s, s:O}", "from",
                                                attn_time_format(start, t0), "trained_from",
                                                attn_time_format(o.from, t1), "skipped",
                                                "fewer examples than train.min_examples",
                                                "training", json_object_get(file, "training")));
        goto out;
    }
    if (rc || (rc = save_model(ctx, file, rel, sizeof(rel), err)))
        goto out;
    json_array_append_new(models, json_pack("{s:s, s:s, s:s}", "from", attn_time_format(start, t0),
                                            "path", rel, "hash", attn_json_str(file, "hash")));
    json_array_append_new(blocks, json_pack("{s:s, s:s, s:s, s:O, s:O}", "from", t0, "path", rel,
                                            "hash", attn_json_str(file, "hash"), "training",
                                            json_object_get(file, "training"), "importance",
                                            json_object_get(file, "importance")));
    if (w->progress)
        fprintf(stderr, "learned: model for cutoffs from %s trained (%lld examples)\n", t0,
                (long long)attn_json_i64(json_object_get(file, "training"), "examples", 0));
out:
    json_decref(file);
    return rc;
}

int attn_learn_walk_forward(const attn_route_ctx *ctx, attn_truth_ctx *truth,
                            const attn_learn_wf *w_in, const json_t *base_config, json_t **config,
                            json_t **record, attn_error *err)
{
    const attn_learn_wf *w = w_in;
    attn_learn_wf w2;
    attn_lmodel_params params;
    attn_learn_cache *c = NULL;
    json_t *models = attn_xcheck(json_array()), *blocks = attn_xcheck(json_array());
    const json_t *mc = json_object_get(base_config, "max_candidates");
    int maxc = json_is_integer(mc) ? (int)json_integer_value(mc) : 30;
    int64_t step = (int64_t)w->retrain_days * 86400;
    int rc;

    *config = *record = NULL;
    if ((rc = attn_learn_cache_new(ctx, maxc, &c, err)) ||
        (rc = attn_learn_cache_helpers(c, w->helpers, w->n_helpers, err)))
        goto out;
    if ((rc = attn_learn_params_from_json(json_object_get(base_config, "train"), &params, err)))
        goto out;
    {
        const json_t *me = json_object_get(json_object_get(base_config, "train"), "min_examples");
        w2 = *w_in;
        w2.min_examples = json_is_integer(me) ? (int)json_integer_value(me) : 0;
        w = &w2;
    }
    for (int64_t start = w->first;; start += step) {
        if ((rc = wf_block(ctx, truth, c, w, &params, start, models, blocks, err)))
            goto out;
        if (step <= 0 || start + step > w->last)
            break;
    }
    *config = attn_xcheck(json_deep_copy(base_config));
    attn_xcheck_rc(json_object_set(*config, "models", models));
    *record = attn_xcheck(json_pack("{s:s, s:i, s:i, s:s, s:O}", "router", "learned", "train_days",
                                    w->train_days, "retrain_days", w->retrain_days, "policy",
                                    w->truth->spec, "blocks", blocks));
out:
    if (rc) {
        json_decref(*config);
        *config = NULL;
    }
    attn_learn_cache_free(c);
    json_decref(models);
    json_decref(blocks);
    return rc;
}

/* "name share, ..." of the top features by total-gain share, averaged over
 * the record's trained blocks (a feature a model never split on counts 0). */
static int imp_cmp(const void *a, const void *b)
{
    const double *x = a, *y = b;
    if (x[0] != y[0])
        return x[0] > y[0] ? -1 : 1;
    return x[1] < y[1] ? -1 : x[1] > y[1];
}

json_t *attn_learn_importance_note(const json_t *record, int top)
{
    double agg[ATTN_FEAT_N][2];
    const json_t *b;
    size_t i, models = 0;
    char buf[1024] = "";
    size_t len = 0;
    for (size_t k = 0; k < ATTN_FEAT_N; k++) {
        agg[k][0] = 0;
        agg[k][1] = (double)k;
    }
    json_array_foreach(json_object_get(record, "blocks"), i, b) {
        const json_t *imp = json_object_get(b, "importance");
        if (!json_is_object(imp))
            continue;
        models++;
        for (size_t k = 0; k < ATTN_FEAT_N; k++)
            agg[k][0] += json_number_value(json_object_get(imp, attn_feat_name(k)));
    }
    if (!models)
        return NULL;
    qsort(agg, ATTN_FEAT_N, sizeof(agg[0]), imp_cmp);
    for (int k = 0; k < top && k < ATTN_FEAT_N && agg[k][0] > 0; k++)
        len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s %.3f", k ? ", " : "",
                                attn_feat_name((size_t)agg[k][1]), agg[k][0] / (double)models);
    return json_sprintf("learned: feature importance (total gain share, mean over %zu models): %s",
                        models, buf);
}
