/*
 * pool.c - the worker pool of one evaluation run (run_internal.h): PRs are
 * routed and labelled on N threads and merged in PR order, so the artifacts
 * are byte-identical whatever N.
 */
#include "eval/run_internal.h"
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

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- workers ------------------------------------------------------------------ */

/* Worker w >= 1: its own read-only connection on the same store (one read
 * transaction, like the run's), routing context (sharing the run's activity
 * index), truth context and, when it routes, routers built from the run's
 * final configs (after any hybrid fit, so config hashes are equal) and gate
 * parser. The learned fit's helpers are workers that do not route. */
int eval_worker_open(run *R, worker *W, size_t slot, int routing, attn_error *err)
{
    const attn_eval_opts *o = R->o;
    int rc;
    memset(W, 0, sizeof(*W));
    W->owned = 1;
    if (slot >= 1 && slot <= R->n_spare) {
        W->store = R->spare[slot - 1];   /* begun with the run's: the same state */
        W->borrowed = 1;
    } else {
        if ((rc = attn_store_open_readonly(attn_store_path(o->store), &W->store, err)))
            return rc;
        sqlite3_exec(attn_store_db(W->store), "BEGIN", NULL, NULL, NULL);
    }
    /* The activity index is the run's, read through a view (one build per
     * run, not per worker). */
    if ((rc = attn_route_env_open_view(W->store, R->env, &W->env, err)))
        return rc;
    W->ctx_own = *attn_route_env_ctx(W->env);
    W->ctx_own.memo = attn_route_memo_new();
    W->ctx_own.artifact_text = 1;
    W->ctx_own.feat_ahead = &R->feat_ahead;
    W->ctx = &W->ctx_own;
    if (!o->artifacts_only &&
        (rc = attn_truth_ctx_open(W->store, W->ctx->repo_id, &W->truth, err)))
        return rc;
    if (!routing)
        return 0;
    W->routers = attn_xcalloc(R->nr, sizeof(*W->routers));
    for (size_t r = 0; r < R->nr; r++)
        if ((rc = attn_router_new(attn_router_def_of(R->routers[r]),
                                  attn_router_config(R->routers[r]), "inline", W->ctx,
                                  &W->routers[r], err)))
            return rc;
    if ((rc = attn_gate_parser_new(&W->gates, err)))
        return rc;
    if (sqlite3_prepare_v2(attn_store_db(W->store), EVAL_SQL_USER_FIRST, -1, &W->st_user_first,
                           NULL) != SQLITE_OK)
        return attn_error_set(err, ATTN_EDB, "preparing the queue query: %s",
                              sqlite3_errmsg(attn_store_db(W->store)));
    return 0;
}

void eval_worker_close(run *R, worker *W)
{
    if (!W->owned)
        return;
    for (size_t r = 0; W->routers && r < R->nr; r++)
        attn_router_free(W->routers[r]);
    free(W->routers);
    attn_route_memo_free(W->ctx_own.memo);
    sqlite3_finalize(W->st_user_first);
    attn_truth_ctx_free(W->truth);
    attn_gate_parser_free(W->gates);
    attn_route_env_free(W->env);
    if (W->store && !W->borrowed) {
        sqlite3_exec(attn_store_db(W->store), "COMMIT", NULL, NULL, NULL);
        attn_store_close(W->store);
    }
    memset(W, 0, sizeof(*W));
}

/* One PR's output, kept until it is merged in PR order. */
typedef struct {
    attn_rundir *buf;
    attn_buf line;
    attn_error err;
    int done, rc;
} pr_slot;

typedef struct {
    run *R;
    pr_slot *slots;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t next;     /* the next PR to take */
    size_t merged;   /* PRs merged so far */
    size_t window;   /* at most this many PRs taken ahead of the merge */
    int stop;
    /* Entry buffers merged and ready for another PR (at most window
     * exist): a new one per PR cost a 20 KB calloc and fresh pages each
     * time (profile). */
    attn_rundir **spare;
    size_t n_spare;
} pool;

typedef struct {
    pool *P;
    worker W;
    int w;           /* 0 borrows the run's context */
    size_t memo_hits;
} pool_thread;

static void slot_finish(pool *P, size_t i, int rc)
{
    pthread_mutex_lock(&P->mu);
    P->slots[i].rc = rc;
    P->slots[i].done = 1;
    if (rc)
        P->stop = 1;
    pthread_cond_broadcast(&P->cv);
    pthread_mutex_unlock(&P->mu);
}

static void *pool_main(void *arg)
{
    pool_thread *T = arg;
    pool *P = T->P;
    run *R = P->R;
    attn_error setup_err;
    int rc = 0;
    if (T->w && (rc = eval_worker_open(R, &T->W, (size_t)T->w, 1, &setup_err)))
        attn_error_wrap(&setup_err, "starting eval worker %d", T->w);
    for (;;) {
        size_t i;
        pr_slot *s;
        pthread_mutex_lock(&P->mu);
        while (!P->stop && P->next < R->n && P->next >= P->merged + P->window)
            pthread_cond_wait(&P->cv, &P->mu);
        if (P->stop || P->next >= R->n) {
            pthread_mutex_unlock(&P->mu);
            break;
        }
        i = P->next++;
        s = &P->slots[i];
        s->buf = P->n_spare ? P->spare[--P->n_spare] : NULL;
        pthread_mutex_unlock(&P->mu);
        attn_error_clear(&s->err);
        if (rc) {
            s->err = setup_err;
            slot_finish(P, i, rc);
            break;
        }
        if (s->buf || !(rc = attn_rundir_buffer_new(&s->buf, &s->err)))
            rc = eval_do_pr(R, &T->W, s->buf, i, &s->line, &s->err);
        slot_finish(P, i, rc);
        if (rc)
            break;
    }
    T->memo_hits = T->W.ctx && T->W.ctx->memo ? attn_route_memo_hits(T->W.ctx->memo) : 0;
    eval_worker_close(R, &T->W);
    return NULL;
}

/* Route and label every PR with `jobs` threads; each PR's entries and per_pr
 * line are merged in PR order, so the run is the same as a single thread's. */
int eval_run_pool(run *R, worker *W0, int jobs, attn_rundir *dir, attn_buf *jsonl,
                    size_t *extra_hits, attn_error *err)
{
    pool P;
    pool_thread *T = attn_xcalloc((size_t)jobs, sizeof(*T));
    pthread_t *tid = attn_xcalloc((size_t)jobs, sizeof(*tid));
    int started = 0, rc = 0;
    memset(&P, 0, sizeof(P));
    P.R = R;
    P.window = (size_t)jobs * 32;
    P.slots = attn_xcalloc(R->n, sizeof(*P.slots));
    P.spare = attn_xcalloc(R->n, sizeof(*P.spare));
    pthread_mutex_init(&P.mu, NULL);
    pthread_cond_init(&P.cv, NULL);
    attn_route_env_share(R->env);
    for (int w = 0; w < jobs; w++) {
        T[w].P = &P;
        T[w].w = w;
        if (!w)
            T[w].W = *W0;
        if (pthread_create(&tid[w], NULL, pool_main, &T[w])) {
            rc = attn_error_set(err, ATTN_EIO, "cannot start eval worker %d", w);
            break;
        }
        started++;
    }
    for (size_t i = 0; !rc && i < R->n; i++) {
        pr_slot *s = &P.slots[i];
        pthread_mutex_lock(&P.mu);
        while (!s->done && !(P.stop && i >= P.next))
            pthread_cond_wait(&P.cv, &P.mu);
        pthread_mutex_unlock(&P.mu);
        if (!s->done) {
            rc = attn_error_set(err, ATTN_EIO, "eval workers stopped before PR %zu", i);
            break;
        }
        if (s->rc) {
            *err = s->err;
            rc = s->rc;
            break;
        }
        rc = attn_rundir_buffer_flush(s->buf, dir, err);
        attn_buf_put(jsonl, s->line.ptr ? s->line.ptr : "", s->line.len);
        attn_buf_free(&s->line);
        pthread_mutex_lock(&P.mu);
        P.spare[P.n_spare++] = s->buf;   /* flushed: empty again */
        s->buf = NULL;
        P.merged = i + 1;
        pthread_cond_broadcast(&P.cv);
        pthread_mutex_unlock(&P.mu);
        eval_progress(R, i + 1, 0);
    }
    pthread_mutex_lock(&P.mu);
    P.stop = 1;
    pthread_cond_broadcast(&P.cv);
    pthread_mutex_unlock(&P.mu);
    *extra_hits = 0;
    for (int w = 0; w < started; w++) {
        pthread_join(tid[w], NULL);
        if (w)
            *extra_hits += T[w].memo_hits;
    }
    for (size_t i = 0; i < R->n; i++) {
        attn_rundir_abort(P.slots[i].buf);
        attn_buf_free(&P.slots[i].line);
    }
    for (size_t i = 0; i < P.n_spare; i++)
        attn_rundir_abort(P.spare[i]);
    free(P.spare);
    pthread_cond_destroy(&P.cv);
    pthread_mutex_destroy(&P.mu);
    free(P.slots);
    free(T);
    free(tid);
    return rc;
}

