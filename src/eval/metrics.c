/*
 * metrics.c - per-PR metrics, slices, bootstrap, queue (see metrics.h).
 */
#include "eval/metrics.h"
#include "util/alloc.h"
#include "util/prng.h"
#include "util/time.h"

#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void attn_metrics_options_init(attn_metrics_options *o)
{
    static const int DEFAULT_KS[] = {1, 3, 5, 10};
    memset(o, 0, sizeof(*o));
    memcpy(o->ks, DEFAULT_KS, sizeof(DEFAULT_KS));
    o->n_ks = sizeof(DEFAULT_KS) / sizeof(DEFAULT_KS[0]);
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return x < y ? -1 : x > y;
}

int attn_metrics_parse_ks(const char *text, attn_metrics_options *o, attn_error *err)
{
    int ks[ATTN_METRICS_MAX_KS];
    size_t n = 0;
    const char *p = text ? text : "";
    for (;;) {
        long v = 0;
        if (!isdigit((unsigned char)*p))
            return attn_error_set(err, ATTN_EINVAL,
                                  "ks '%s': expected positive whole numbers separated by "
                                  "commas (e.g. 1,3,5,10)",
                                  text ? text : "");
        while (isdigit((unsigned char)*p)) {
            v = v * 10 + (*p++ - '0');
            if (v > 100000)
                return attn_error_set(err, ATTN_EINVAL, "ks '%s': k larger than 100000", text);
        }
        if (v < 1)
            return attn_error_set(err, ATTN_EINVAL, "ks '%s': k must be at least 1", text);
        if (n == ATTN_METRICS_MAX_KS)
            return attn_error_set(err, ATTN_EINVAL, "ks '%s': at most %d values", text,
                                  ATTN_METRICS_MAX_KS);
        ks[n++] = (int)v;
        if (*p == '\0')
            break;
        if (*p++ != ',')
            return attn_error_set(err, ATTN_EINVAL,
                                  "ks '%s': expected positive whole numbers separated by "
                                  "commas (e.g. 1,3,5,10)",
                                  text);
    }
    qsort(ks, n, sizeof(int), cmp_int);
    for (size_t i = 1; i < n; i++)
        if (ks[i] == ks[i - 1])
            return attn_error_set(err, ATTN_EINVAL, "ks '%s': k=%d is listed twice", text, ks[i]);
    memcpy(o->ks, ks, n * sizeof(int));
    o->n_ks = n;
    return 0;
}

/* ---- per PR -------------------------------------------------------------------------- */

static int is_team(const attn_target *t) { return !strcmp(t->type, "team"); }

int attn_target_match(const attn_metrics_options *o, const attn_target *cand,
                      const attn_target *truth)
{
    if (!strcmp(cand->type, truth->type))
        return !strcasecmp(cand->name, truth->name);
    if (is_team(cand) && !is_team(truth) && o->team_match)
        return o->team_match(o->team_match_ctx, cand->name, truth->name) == 1;
    return 0;
}

static int check_targets(const attn_target *t, size_t n, const char *what, attn_error *err)
{
    for (size_t i = 0; i < n; i++) {
        if (!t[i].type || (strcmp(t[i].type, "user") && strcmp(t[i].type, "team")))
            return attn_error_set(err, ATTN_EINVAL, "%s %zu: type must be user or team, not '%s'",
                                  what, i + 1, t[i].type ? t[i].type : "(none)");
        if (!t[i].name || !t[i].name[0])
            return attn_error_set(err, ATTN_EINVAL, "%s %zu: no name", what, i + 1);
    }
    return 0;
}

int attn_metrics_pr(const attn_metrics_options *o, const attn_target *cands, size_t n_cands,
                    const attn_target *truth, size_t n_truth, attn_pr_metrics *out,
                    attn_error *err)
{
    size_t *first_hit = NULL;   /* per distinct target: 1-based rank of its first match */
    size_t n_distinct = 0;
    int rc;

    memset(out, 0, sizeof(*out));
    if ((rc = check_targets(cands, n_cands, "candidate", err)) ||
        (rc = check_targets(truth, n_truth, "truth target", err)))
        return rc;
    out->empty = n_cands == 0;
    if (n_truth)
        first_hit = attn_xcalloc(n_truth, sizeof(size_t));

    for (size_t t = 0; t < n_truth; t++) {
        int dup = 0;
        for (size_t u = 0; u < t && !dup; u++)
            dup = !strcmp(truth[u].type, truth[t].type) &&
                  !strcasecmp(truth[u].name, truth[t].name);
        if (dup)
            continue;
        /* The first candidate matching this distinct target. */
        for (size_t c = 0; c < n_cands; c++) {
            if (attn_target_match(o, &cands[c], &truth[t])) {
                first_hit[n_distinct] = c + 1;
                break;
            }
        }
        if (first_hit[n_distinct] &&
            (out->rank == 0 || (int)first_hit[n_distinct] < out->rank))
            out->rank = (int)first_hit[n_distinct];
        n_distinct++;
    }
    out->n_targets = n_distinct;
    out->rr = out->rank ? 1.0 / out->rank : 0.0;
    for (size_t i = 0; i < o->n_ks; i++) {
        size_t k = (size_t)o->ks[i], within = 0;
        out->hit[i] = out->rank > 0 && (size_t)out->rank <= k ? 1.0 : 0.0;
        for (size_t t = 0; t < n_distinct; t++)
            within += first_hit[t] > 0 && first_hit[t] <= k;
        out->recall[i] = n_distinct ? (double)within / (double)n_distinct : 0.0;
    }
    free(first_hit);
    return 0;
}

static json_t *real_or_null(double v)
{
    return isnan(v) ? json_null() : json_real(v);
}

json_t *attn_metrics_pr_json(const attn_metrics_options *o, const attn_pr_metrics *m)
{
    json_t *v = json_pack("{s:o, s:f, s:b, s:I}", "rank",
                          m->rank ? json_integer(m->rank) : json_null(), "rr", m->rr,
                          "empty_candidates", m->empty, "n_targets", (json_int_t)m->n_targets);
    for (size_t i = 0; v && i < o->n_ks; i++) {
        char key[32];
        snprintf(key, sizeof(key), "hit_at_%d", o->ks[i]);
        json_object_set_new(v, key, json_real(m->hit[i]));
        snprintf(key, sizeof(key), "recall_at_%d", o->ks[i]);
        json_object_set_new(v, key, json_real(m->recall[i]));
    }
    return v;
}

int attn_targets_from_json(const json_t *arr, attn_target **out, size_t *n, attn_error *err)
{
    size_t i;
    json_t *v;
    *out = NULL;
    *n = 0;
    if (!json_is_array(arr))
        return attn_error_set(err, ATTN_EINVAL, "targets: expected a JSON array");
    if (json_array_size(arr))
        *out = attn_xcalloc(json_array_size(arr), sizeof(attn_target));
    json_array_foreach(arr, i, v) {
        const json_t *t = json_object_get(v, "target");
        if (!json_is_object(t))
            t = v;
        (*out)[i].type = json_string_value(json_object_get(t, "type"));
        (*out)[i].name = json_string_value(json_object_get(t, "name"));
        if (!(*out)[i].type || !(*out)[i].name) {
            free(*out);
            *out = NULL;
            return attn_error_set(err, ATTN_EINVAL, "targets: entry %zu has no type or name",
                                  i + 1);
        }
    }
    *n = json_array_size(arr);
    return 0;
}

/* ---- bootstrap ------------------------------------------------------------------------- */

void attn_bootstrap_options_init(attn_bootstrap_options *b)
{
    b->resamples = 1000;
    b->seed = 42;
    b->threads = 1;
    b->draw_bytes = 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int attn_bootstrap_mean(const double *x, size_t n, const attn_bootstrap_options *b,
                        attn_interval *out, attn_error *err)
{
    attn_prng prng;
    double *means, sum = 0;
    size_t R, cut;

    out->n = n;
    out->mean = out->lo = out->hi = NAN;
    if (b && b->resamples < 1)
        return attn_error_set(err, ATTN_EINVAL, "bootstrap: resamples must be at least 1, not %d",
                              b->resamples);
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]))
            return attn_error_set(err, ATTN_EINVAL, "bootstrap: value %zu is not finite", i + 1);
        sum += x[i];
    }
    if (n == 0)
        return 0;
    out->mean = sum / (double)n;
    if (!b)
        return 0;
    R = (size_t)b->resamples;
    means = attn_xmalloc(R * sizeof(double));
    attn_prng_seed(&prng, b->seed);
    for (size_t r = 0; r < R; r++) {
        double s = 0;
        for (size_t j = 0; j < n; j++)
            s += x[attn_prng_below(&prng, n)];
        means[r] = s / (double)n;
    }
    qsort(means, R, sizeof(double), cmp_double);
    cut = R / 40;
    out->lo = means[cut];
    out->hi = means[R - 1 - cut];
    free(means);
    return 0;
}

int attn_bootstrap_paired_diff(const double *a, const double *b, size_t n,
                               const attn_bootstrap_options *opt, attn_interval *out,
                               attn_error *err)
{
    double *d = n ? attn_xcalloc(n, sizeof(double)) : NULL;
    int rc;
    for (size_t i = 0; i < n; i++)
        d[i] = b[i] - a[i];
    rc = attn_bootstrap_mean(d, n, opt, out, err);
    free(d);
    return rc;
}

/* ---- slices ------------------------------------------------------------------------------- */

static const char *const SLICE_NAMES[ATTN_SLICE_N] = {
    "all", "observed", "router_nonempty", "observed_and_router_nonempty"};

const char *attn_slice_name(attn_slice s)
{
    return (unsigned)s < ATTN_SLICE_N ? SLICE_NAMES[s] : NULL;
}

static int in_slice(attn_slice s, int observed, int nonempty)
{
    switch (s) {
    case ATTN_SLICE_ALL: return 1;
    case ATTN_SLICE_OBSERVED: return observed;
    case ATTN_SLICE_ROUTER_NONEMPTY: return nonempty;
    default: return observed && nonempty;
    }
}

/* The metrics of a slice, in a fixed order: coverage, mrr, hit@k..., recall@k... */
static size_t n_metrics(const attn_metrics_options *o) { return 2 + 2 * o->n_ks; }

static double metric_value(const attn_metrics_options *o, const attn_pr_metrics *m, size_t i)
{
    if (i == 0)
        return m->empty ? 0.0 : 1.0;
    if (i == 1)
        return m->rr;
    if (i < 2 + o->n_ks)
        return m->hit[i - 2];
    return m->recall[i - 2 - o->n_ks];
}

static void metric_name(const attn_metrics_options *o, size_t i, char *buf, size_t cap)
{
    if (i == 0)
        snprintf(buf, cap, "coverage");
    else if (i == 1)
        snprintf(buf, cap, "mrr");
    else if (i < 2 + o->n_ks)
        snprintf(buf, cap, "hit_at_%d", o->ks[i - 2]);
    else
        snprintf(buf, cap, "recall_at_%d", o->ks[i - 2 - o->n_ks]);
}

static attn_interval *summary_slot(const attn_metrics_options *o, attn_slice_summary *s,
                                   size_t i)
{
    if (i == 0)
        return &s->coverage;
    if (i == 1)
        return &s->mrr;
    if (i < 2 + o->n_ks)
        return &s->hit[i - 2];
    return &s->recall[i - 2 - o->n_ks];
}

/*
 * sums[m] = the sum over draws j, in draw order, of xt[idx[j] * stride + m]
 * for m < 8 (rows are padded to a multiple of 8: boot_job's ncw). The eight
 * sums are kept in locals, which the compiler keeps in registers and adds
 * two by two; each sum still takes its values in draw order, so the results
 * are those of the plain loop bit for bit (profile: the plain loop stalled
 * on storing each sum before the next draw read it).
 */
static void sum_draws(const double *xt, size_t stride, const uint32_t *idx, size_t k,
                      double sums[8])
{
    double a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
    for (size_t j = 0; j < k; j++) {
        const double *row = xt + (size_t)idx[j] * stride;
        a0 += row[0];
        a1 += row[1];
        a2 += row[2];
        a3 += row[3];
        a4 += row[4];
        a5 += row[5];
        a6 += row[6];
        a7 += row[7];
    }
    sums[0] = a0;
    sums[1] = a1;
    sums[2] = a2;
    sums[3] = a3;
    sums[4] = a4;
    sums[5] = a5;
    sums[6] = a6;
    sums[7] = a7;
}

/*
 * The bootstrap of every slice of a report, as jobs. A job is one slice of
 * one set of rows (a truth policy) for one router or, for the slices whose
 * PRs do not depend on the router ("all", "observed"), for every router at
 * once: nm columns (the metrics) over the slice's k PRs.
 *
 * With one seed, the r-th resample of every slice of k PRs draws the same
 * positions. So the draws are made once per distinct k, in chunks of
 * resamples that fit draw_bytes, and every job of that size sums them;
 * the summing is spread over threads in pieces of at most 8 columns
 * (sum_draws' width) and a range of resamples. Each column sums its draws
 * in draw order, so each interval is bit for bit that of
 * attn_bootstrap_mean on the column alone, whatever the thread count, chunk
 * size or grouping (profile: drawing once per slice and again on every
 * thread was half of a 4-router report's bootstrap, which was a fifth of
 * the run).
 *
 * A router's "router_nonempty" slice with as many PRs as "all" holds the
 * same PRs, so the same values in the same order: it takes "all"'s
 * intervals instead of summing them again (likewise "observed").
 *
 * Most columns hold only 0 and 1 (coverage, hits, and recall when a PR has
 * one target). Their sums are counts, exact in any order, so they are
 * counted in byte lanes, 32 columns to a 32-byte row, instead of summed as
 * doubles 8 at a time (count_draws): the same bits, an eighth of the
 * memory and far fewer additions (profile: the bootstrap was a tenth of a
 * rust-clippy eval).
 */
typedef struct {
    int set, slice;
    size_t r0;               /* its first router */
    size_t k, nm;            /* PRs in the slice; columns: metrics x its routers */
    long alias;              /* >= 0: that job's columns from alias_col on */
    size_t alias_col;
    double *xt;              /* k rows of ncw values (row j: the slice's j-th PR) */
    size_t nc, ncw, *ccol;   /* xt's columns: the job's columns that are not 0/1,
                              * then zeros up to ncw, a multiple of 8 (sum_draws
                              * sums 8 at a time; one at a time was slower) */
    uint8_t *xb;             /* k rows of nbw bytes: the 0/1 columns, then zeros */
    size_t nb, nbw, *bcol;   /* xb's columns (nbw: nb rounded up to 32) */
    double *means;           /* nm x R, by the job's columns */
    attn_interval **outs;    /* nm slots */
} boot_job;

/* Columns [m0, m1) of xt (or of xb, when bin) of a job over resamples
 * [r0, r1) of a round's chunk; in the sorting round, the job's columns. */
typedef struct {
    boot_job *job;
    int bin;
    size_t m0, m1;
    size_t r0, r1;
} boot_piece;

/* The k-th smallest of v[0..n) (from 0), reordering v: Hoare's selection
 * (Wirth's form) with a median-of-three pivot, linear on average where the
 * sort it replaces was n log n. The means are finite and never -0.0 (sums
 * of values >= 0 start at +0.0), so equal values are indistinguishable and
 * the answer is the sorted array's v[k] bit for bit. */
static double select_kth(double *v, size_t n, size_t kth)
{
    long l = 0, m = (long)n - 1, k = (long)kth;   /* n is a resample count (an int) */
    while (l < m) {
        double a = v[l], b = v[l + (m - l) / 2], c = v[m], x, t;
        long i = l, j = m;
        x = a < b ? (b < c ? b : a < c ? c : a) : (a < c ? a : b < c ? c : b);
        do {   /* x is a value in [l, m], so both scans stop inside it */
            while (v[i] < x)
                i++;
            while (x < v[j])
                j--;
            if (i <= j) {
                t = v[i], v[i] = v[j], v[j] = t;
                i++;
                j--;
            }
        } while (i <= j);
        if (j < k)
            l = i;
        if (k < i)
            m = j;
    }
    return v[k];
}

/* How many of k draws land on a 1, for 32 byte columns of 0/1 rows (row i
 * at xb + i * stride): eight columns to a 64-bit word, whose byte lanes
 * cannot carry into each other within 255 draws. */
static void count_draws(const uint8_t *xb, size_t stride, const uint32_t *idx, size_t k,
                        uint32_t tot[32])
{
    memset(tot, 0, 32 * sizeof(uint32_t));
    for (size_t j0 = 0; j0 < k; j0 += 255) {
        uint64_t a[4] = {0, 0, 0, 0};
        uint8_t lanes[32];
        size_t jn = k - j0 < 255 ? k : j0 + 255;
        for (size_t j = j0; j < jn; j++) {
            uint64_t w[4];
            memcpy(w, xb + (size_t)idx[j] * stride, sizeof(w));
            a[0] += w[0];
            a[1] += w[1];
            a[2] += w[2];
            a[3] += w[3];
        }
        memcpy(lanes, a, sizeof(lanes));   /* lane c: column c, whatever the byte order */
        for (int c = 0; c < 32; c++)
            tot[c] += lanes[c];
    }
}

/*
 * One round of one k, shared by the threads: either the sums of a chunk of
 * resamples [base, base + nc) or, once every chunk is summed, the sorting of
 * each column's means into its interval. Task 0 of a summing round draws
 * the next chunk (into the other buffer) while the others sum this one: the
 * draws come from one generator in chunk order, as they did on one thread
 * (profile: drawing alone on one thread between rounds, and rounds whose
 * last piece kept one thread busy while the others waited, left the second
 * core mostly idle in the 8-router report).
 */
typedef struct {
    const uint32_t *idx;     /* nc x k draws */
    size_t k, base, nc, R, cut;
    int sort;                /* the final round: sort each piece's columns */
    attn_prng *prng;         /* the next chunk's draws, when next_idx */
    uint32_t *next_idx;
    size_t next_nc;
    size_t *draw;            /* k slots for attn_prng_fill_below */
    boot_piece *pieces;
    size_t n_pieces;
    size_t next;             /* next task to take (atomic) */
} boot_round;

/* nc resamples of k draws each into idx, in order. */
static void draw_chunk(attn_prng *prng, size_t k, size_t nc, size_t *draw, uint32_t *idx)
{
    for (size_t r = 0; r < nc; r++) {
        attn_prng_fill_below(prng, k, draw, k);
        for (size_t j = 0; j < k; j++)
            idx[r * k + j] = (uint32_t)draw[j];
    }
}

static void *boot_work(void *arg)
{
    boot_round *B = arg;
    size_t first = B->next_idx ? 1 : 0, t;
    double sums[8];
    uint32_t counts[32];
    while ((t = __atomic_fetch_add(&B->next, 1, __ATOMIC_RELAXED)) < first + B->n_pieces) {
        const boot_piece *P;
        boot_job *J;
        size_t w;
        if (t < first) {
            draw_chunk(B->prng, B->k, B->next_nc, B->draw, B->next_idx);
            continue;
        }
        P = &B->pieces[t - first];
        J = P->job;
        w = P->m1 - P->m0;
        if (B->sort) {
            for (size_t m = P->m0; m < P->m1; m++) {   /* the job's columns */
                double *mm = J->means + m * B->R;
                J->outs[m]->lo = select_kth(mm, B->R, B->cut);
                J->outs[m]->hi = select_kth(mm, B->R, B->R - 1 - B->cut);
            }
            continue;
        }
        if (P->bin) {
            for (size_t r = P->r0; r < P->r1; r++) {
                count_draws(J->xb + P->m0, J->nbw, B->idx + r * B->k, B->k, counts);
                for (size_t m = 0; m < w; m++)
                    J->means[J->bcol[P->m0 + m] * B->R + B->base + r] =
                        (double)counts[m] / (double)B->k;
            }
            continue;
        }
        for (size_t r = P->r0; r < P->r1; r++) {
            sum_draws(J->xt + P->m0, J->ncw, B->idx + r * B->k, B->k, sums);
            for (size_t m = 0; m < w; m++)
                J->means[J->ccol[P->m0 + m] * B->R + B->base + r] = sums[m] / (double)B->k;
        }
    }
    return NULL;
}

/* Run a round on T threads: this one and T - 1 others (a thread that cannot
 * start leaves its share to the rest). */
static void boot_run_round(boot_round *B, size_t T)
{
    pthread_t tid[16];
    size_t started = 0, tasks = B->n_pieces + (B->next_idx ? 1 : 0);
    B->next = 0;
    if (T > tasks)
        T = tasks ? tasks : 1;
    for (size_t t = 1; t < T && t < 16; t++)
        if (!pthread_create(&tid[started], NULL, boot_work, B))
            started++;
    boot_work(B);
    for (size_t t = 0; t < started; t++)
        pthread_join(tid[t], NULL);
}

/* A job's values: the means (attn_bootstrap_mean, which also rejects a value
 * that is not finite) and, with a bootstrap to come, the row-major copies:
 * xb for the columns of only 0 and 1, xt for the others. */
static int fill_job(const attn_metrics_options *o, const attn_metrics_set *sets, size_t n,
                    boot_job *J, int want_xt, attn_error *err)
{
    const attn_metrics_set *S = &sets[J->set];
    size_t nm1 = n_metrics(o), k = J->k ? J->k : 1;
    double *x = attn_xcalloc(attn_st_mult(k, J->nm ? J->nm : 1), sizeof(double));
    int rc = 0;
    for (size_t c = 0; c < J->nm && !rc; c++) {
        size_t r = J->r0 + c / nm1, m = c % nm1, j = 0;
        const attn_pr_metrics *rows = S->rows[r];
        double *xc = x + c * k;
        for (size_t i = 0; i < n; i++)
            if (in_slice((attn_slice)J->slice, S->observed[i], !rows[i].empty))
                xc[j++] = metric_value(o, &rows[i], m);
        rc = attn_bootstrap_mean(xc, J->k, NULL, J->outs[c], err);
    }
    if (!rc && want_xt) {
        J->ccol = attn_xcalloc(J->nm ? J->nm : 1, sizeof(size_t));
        J->bcol = attn_xcalloc(J->nm ? J->nm : 1, sizeof(size_t));
        for (size_t c = 0; c < J->nm; c++) {
            const double *xc = x + c * k;
            size_t j = 0;
            while (j < J->k && (xc[j] == 0.0 || xc[j] == 1.0))
                j++;
            if (j == J->k)
                J->bcol[J->nb++] = c;
            else
                J->ccol[J->nc++] = c;
        }
        J->nbw = (J->nb + 31) / 32 * 32;
        J->ncw = (J->nc + 7) / 8 * 8;
        J->xt = attn_xcalloc(attn_st_mult(k, J->ncw ? J->ncw : 1), sizeof(double));
        J->xb = attn_xcalloc(attn_st_mult(k, J->nbw ? J->nbw : 1), 1);
        for (size_t j = 0; j < J->k; j++) {
            for (size_t c = 0; c < J->nc; c++)
                J->xt[j * J->ncw + c] = x[J->ccol[c] * k + j];
            for (size_t c = 0; c < J->nb; c++)
                J->xb[j * J->nbw + c] = x[J->bcol[c] * k + j] == 1.0;
        }
    }
    free(x);
    return rc;
}

static void job_free_rows(boot_job *J)
{
    free(J->xt);
    free(J->xb);
    free(J->ccol);
    free(J->bcol);
    J->xt = NULL;
    J->xb = NULL;
    J->ccol = J->bcol = NULL;
}

static int cmp_job_k(const void *a, const void *b)
{
    const boot_job *x = *(const boot_job *const *)a, *y = *(const boot_job *const *)b;
    if (x->k != y->k)
        return x->k < y->k ? -1 : 1;
    return x < y ? -1 : x > y;   /* jobs sit in one array: a stable order */
}

/* Resamples per chunk of draws for slices of k PRs. */
static size_t boot_chunk(size_t k, const attn_bootstrap_options *b)
{
    size_t budget = b->draw_bytes ? b->draw_bytes : (size_t)2 << 20;
    size_t chunk = budget / (k * sizeof(uint32_t));
    return chunk < 1 ? 1 : chunk > (size_t)b->resamples ? (size_t)b->resamples : chunk;
}

/* The intervals of the jobs of one size k (all non-alias, xt filled); idx[0]
 * and idx[1] have room for boot_chunk(k) resamples each, draw for k. */
static void boot_size(boot_job **jobs, size_t nj, size_t k, const attn_bootstrap_options *b,
                      uint32_t *idx[2], size_t *draw)
{
    size_t R = (size_t)b->resamples, T = b->threads > 1 ? (size_t)b->threads : 1;
    size_t chunk = boot_chunk(k, b), ncol = 0, nsort = 0, split, np;
    boot_piece *cols, *sorts;
    boot_round B;
    attn_prng prng;

    memset(&B, 0, sizeof(B));
    for (size_t j = 0; j < nj; j++) {
        ncol += (jobs[j]->nc + 7) / 8 + (jobs[j]->nb + 31) / 32;
        nsort += (jobs[j]->nm + 7) / 8;
    }
    /* column pieces (8 of xt, 32 of xb); a round cuts each into resample
     * ranges so that it has at least 4 pieces per thread; the sorting
     * round takes 8 of the job's columns at a time */
    cols = attn_xcalloc(ncol ? ncol : 1, sizeof(*cols));
    sorts = attn_xcalloc(nsort ? nsort : 1, sizeof(*sorts));
    ncol = nsort = 0;
    for (size_t j = 0; j < nj; j++) {
        boot_job *J = jobs[j];
        J->means = attn_xcalloc(attn_st_mult(J->nm, R), sizeof(double));
        for (size_t m = 0; m < J->nc; m += 8)
            cols[ncol++] = (boot_piece){J, 0, m, m + 8 < J->nc ? m + 8 : J->nc, 0, 0};
        for (size_t m = 0; m < J->nb; m += 32)
            cols[ncol++] = (boot_piece){J, 1, m, m + 32 < J->nb ? m + 32 : J->nb, 0, 0};
        for (size_t m = 0; m < J->nm; m += 8)
            sorts[nsort++] = (boot_piece){J, 0, m, m + 8 < J->nm ? m + 8 : J->nm, 0, 0};
    }
    split = T > 1 && ncol ? (4 * T + ncol - 1) / ncol : 1;
    np = attn_st_mult(ncol, split) > nsort ? ncol * split : nsort;
    B.pieces = attn_xcalloc(np ? np : 1, sizeof(*B.pieces));
    B.k = k;
    B.R = R;
    B.cut = R / 40;
    B.prng = &prng;
    B.draw = draw;
    attn_prng_seed(&prng, b->seed);
    draw_chunk(&prng, k, chunk < R ? chunk : R, draw, idx[0]);
    for (size_t c = 0, base = 0; base < R; c++, base += B.nc) {
        size_t after;
        B.idx = idx[c & 1];
        B.base = base;
        B.nc = chunk < R - base ? chunk : R - base;
        after = base + B.nc;
        B.next_idx = after < R ? idx[(c + 1) & 1] : NULL;
        B.next_nc = chunk < R - after ? chunk : R - after;
        B.n_pieces = 0;
        for (size_t p = 0; p < ncol; p++)
            for (size_t q = 0; q < split; q++) {
                boot_piece *P = &B.pieces[B.n_pieces];
                *P = cols[p];
                P->r0 = B.nc * q / split;
                P->r1 = B.nc * (q + 1) / split;
                B.n_pieces += P->r1 > P->r0;
            }
        boot_run_round(&B, T);
    }
    B.sort = 1;
    B.next_idx = NULL;
    memcpy(B.pieces, sorts, nsort * sizeof(*sorts));
    B.n_pieces = nsort;
    boot_run_round(&B, T);
    for (size_t j = 0; j < nj; j++) {
        free(jobs[j]->means);
        jobs[j]->means = NULL;
    }
    free(B.pieces);
    free(cols);
    free(sorts);
}

/*
 * The sizes side by side. Within a size the draws come from one generator in
 * order, so a round's drawing is one thread's work while the others sum; once
 * the 0/1 columns were counted in bytes, that drawing was the longer part
 * and the second core waited (profile: a 4-router report's bootstrap ran at
 * half of two cores). Different sizes draw from their own generators, so
 * when there are enough of them to share out evenly, each thread takes
 * whole sizes instead, largest first, and runs them as one thread would.
 */
typedef struct {
    boot_job **jobs;
    size_t nj, k;
    double work;             /* estimated: draws plus sums, per resample */
} boot_group;

typedef struct {
    boot_group *g;
    size_t ng, next;         /* next group to take (atomic) */
    attn_bootstrap_options b; /* threads = 1 */
    size_t most, kmax;       /* buffer sizes, as for one thread */
} boot_groups;

static void *group_work(void *arg)
{
    boot_groups *G = arg;
    uint32_t *idx[2];
    size_t *draw, t;
    idx[0] = attn_xmalloc(attn_st_mult(G->most, sizeof(uint32_t)));
    idx[1] = attn_xmalloc(attn_st_mult(G->most, sizeof(uint32_t)));
    draw = attn_xmalloc(attn_st_mult(G->kmax, sizeof(size_t)));
    while ((t = __atomic_fetch_add(&G->next, 1, __ATOMIC_RELAXED)) < G->ng) {
        boot_group *g = &G->g[t];
        boot_size(g->jobs, g->nj, g->k, &G->b, idx, draw);
        for (size_t j = 0; j < g->nj; j++)
            job_free_rows(g->jobs[j]);
    }
    free(idx[0]);
    free(idx[1]);
    free(draw);
    return NULL;
}

static int cmp_group_work(const void *a, const void *b)
{
    const boot_group *x = a, *y = b;
    if (x->work != y->work)
        return x->work > y->work ? -1 : 1;
    return x->k < y->k ? -1 : x->k > y->k;
}

/* Would T threads taking whole groups, largest first, finish within 15% of
 * an even share? (g sorted by cmp_group_work) */
static int groups_balance(const boot_group *g, size_t ng, size_t T)
{
    double load[16] = {0}, total = 0, most = 0;
    if (T < 2 || T > 16 || ng < T)
        return 0;
    for (size_t i = 0; i < ng; i++) {
        size_t least = 0;
        for (size_t t = 1; t < T; t++)
            least = load[t] < load[least] ? t : least;
        load[least] += g[i].work;
        total += g[i].work;
    }
    for (size_t t = 0; t < T; t++)
        most = load[t] > most ? load[t] : most;
    return most <= 1.15 * total / (double)T;
}

/* Bootstrap every size in parallel by sizes, when groups_balance says so;
 * 0 when it does not (nothing done). */
static int boot_by_groups(boot_job **order, size_t n_order, const attn_bootstrap_options *boot,
                          size_t most, size_t kmax)
{
    size_t ng = 0, T = boot->threads > 1 ? (size_t)boot->threads : 1, started = 0;
    boot_group *g = attn_xcalloc(n_order ? n_order : 1, sizeof(*g));
    boot_groups G;
    pthread_t tid[16];
    for (size_t a = 0, b; a < n_order; a = b) {
        boot_group *x = &g[ng++];
        double per = 3.0;   /* a draw, relative to summing 8 doubles (2) or 32 bytes (1) */
        for (b = a + 1; b < n_order && order[b]->k == order[a]->k; b++)
            ;
        for (size_t j = a; j < b; j++)
            per += 2.0 * (double)((order[j]->nc + 7) / 8) + (double)((order[j]->nb + 31) / 32);
        x->jobs = order + a;
        x->nj = b - a;
        x->k = order[a]->k;
        x->work = per * (double)x->k;
    }
    qsort(g, ng, sizeof(*g), cmp_group_work);
    if (!groups_balance(g, ng, T)) {
        free(g);
        return 0;
    }
    memset(&G, 0, sizeof(G));
    G.g = g;
    G.ng = ng;
    G.b = *boot;
    G.b.threads = 1;
    G.most = most;
    G.kmax = kmax;
    for (size_t t = 1; t < T; t++)
        if (!pthread_create(&tid[started], NULL, group_work, &G))
            started++;
    group_work(&G);
    for (size_t t = 0; t < started; t++)
        pthread_join(tid[t], NULL);
    free(g);
    return 1;
}

int attn_metrics_slices_sets(const attn_metrics_options *o, const attn_metrics_set *sets,
                             size_t n_sets, size_t nr, size_t n,
                             const attn_bootstrap_options *boot, attn_error *err)
{
    size_t nm1 = n_metrics(o), nj = 0, cap = n_sets * ATTN_SLICE_N * (nr ? nr : 1);
    boot_job *jobs = attn_xcalloc(cap ? cap : 1, sizeof(*jobs));
    boot_job **order = attn_xcalloc(cap ? cap : 1, sizeof(*order));
    size_t n_order = 0;
    int rc = 0;

    if (boot && boot->resamples < 1) {
        rc = attn_error_set(err, ATTN_EINVAL, "bootstrap: resamples must be at least 1, not %d",
                            boot->resamples);
        goto out;
    }
    if (n > UINT32_MAX) {
        rc = attn_error_set(err, ATTN_EINVAL, "bootstrap: %zu PRs is more than it can draw from",
                            n);
        goto out;
    }
    /* The jobs, each slice's intervals zeroed and n set. */
    for (size_t s = 0; s < n_sets; s++) {
        long first_of[ATTN_SLICE_N] = {-1, -1, -1, -1};
        for (int sl = 0; sl < ATTN_SLICE_N; sl++) {
            int shared = sl == ATTN_SLICE_ALL || sl == ATTN_SLICE_OBSERVED;
            size_t gn = shared ? nr : 1;
            for (size_t g = 0; g < nr; g += gn) {
                boot_job *J = &jobs[nj];
                size_t k = 0;
                for (size_t i = 0; i < n; i++)
                    if (in_slice((attn_slice)sl, sets[s].observed[i], !sets[s].rows[g][i].empty))
                        k++;
                J->set = (int)s;
                J->slice = sl;
                J->r0 = g;
                J->k = k;
                J->nm = gn * nm1;
                J->alias = -1;
                if (shared) {
                    first_of[sl] = (long)nj;
                } else {
                    /* same size as the router-independent slice it narrows:
                     * the same PRs */
                    long whole = first_of[sl == ATTN_SLICE_ROUTER_NONEMPTY ? ATTN_SLICE_ALL
                                                                          : ATTN_SLICE_OBSERVED];
                    if (whole >= 0 && jobs[whole].k == k) {
                        J->alias = whole;
                        J->alias_col = g * nm1;
                    }
                }
                J->outs = attn_xcalloc(J->nm ? J->nm : 1, sizeof(*J->outs));
                for (size_t r = g; r < g + gn; r++) {
                    memset(&sets[s].out[r][sl], 0, sizeof(sets[s].out[r][sl]));
                    sets[s].out[r][sl].n = k;
                    for (size_t m = 0; m < nm1; m++)
                        J->outs[(r - g) * nm1 + m] = summary_slot(o, &sets[s].out[r][sl], m);
                }
                nj++;
            }
        }
    }
    /* Means (every job), then the bootstrap by size. */
    for (size_t j = 0; j < nj && !rc; j++) {
        int boots = boot && jobs[j].k > 0 && jobs[j].alias < 0;
        rc = fill_job(o, sets, n, &jobs[j], boots, err);
        if (boots)
            order[n_order++] = &jobs[j];
    }
    if (!rc && n_order) {
        /* two buffers of draws (one summed while the other is drawn) for
         * every size (fresh pages cost a fault each: profile) */
        size_t most = 0, kmax = 0;
        uint32_t *idx[2];
        size_t *draw;
        for (size_t j = 0; j < n_order; j++) {
            size_t need = boot_chunk(order[j]->k, boot) * order[j]->k;
            most = need > most ? need : most;
            kmax = order[j]->k > kmax ? order[j]->k : kmax;
        }
        qsort(order, n_order, sizeof(*order), cmp_job_k);
        if (!boot_by_groups(order, n_order, boot, most, kmax)) {
            idx[0] = attn_xmalloc(attn_st_mult(most, sizeof(uint32_t)));
            idx[1] = attn_xmalloc(attn_st_mult(most, sizeof(uint32_t)));
            draw = attn_xmalloc(attn_st_mult(kmax, sizeof(size_t)));
            for (size_t a = 0, b; a < n_order; a = b) {
                for (b = a + 1; b < n_order && order[b]->k == order[a]->k; b++)
                    ;
                boot_size(order + a, b - a, order[a]->k, boot, idx, draw);
                for (size_t j = a; j < b; j++)
                    job_free_rows(order[j]);
            }
            free(idx[0]);
            free(idx[1]);
            free(draw);
        }
        for (size_t j = 0; j < nj; j++)
            if (jobs[j].alias >= 0 && jobs[j].k > 0)
                for (size_t m = 0; m < jobs[j].nm; m++) {
                    const attn_interval *v = jobs[jobs[j].alias].outs[jobs[j].alias_col + m];
                    jobs[j].outs[m]->lo = v->lo;
                    jobs[j].outs[m]->hi = v->hi;
                }
    }
out:
    for (size_t j = 0; j < nj; j++) {
        job_free_rows(&jobs[j]);
        free(jobs[j].outs);
    }
    free(jobs);
    free(order);
    return rc;
}

int attn_metrics_slices_many(const attn_metrics_options *o, const attn_pr_metrics *const *rows,
                             size_t nr, const int *observed, size_t n,
                             const attn_bootstrap_options *boot,
                             attn_slice_summary (*out)[ATTN_SLICE_N], attn_error *err)
{
    attn_metrics_set set = {rows, observed, out};
    return attn_metrics_slices_sets(o, &set, 1, nr, n, boot, err);
}

int attn_metrics_slices(const attn_metrics_options *o, const attn_pr_metrics *rows,
                        const int *observed, size_t n, const attn_bootstrap_options *boot,
                        attn_slice_summary out[ATTN_SLICE_N], attn_error *err)
{
    return attn_metrics_slices_many(o, &rows, 1, observed, n, boot,
                                    (attn_slice_summary(*)[ATTN_SLICE_N])out, err);
}

static json_t *pair_or_null(const attn_interval *v)
{
    return isnan(v->lo) ? json_null() : json_pack("[f, f]", v->lo, v->hi);
}

json_t *attn_metrics_slices_json(const attn_metrics_options *o,
                                 const attn_slice_summary s[ATTN_SLICE_N], int with_ci)
{
    json_t *all = json_object();
    for (int i = 0; i < ATTN_SLICE_N; i++) {
        json_t *sl = json_object(), *ci = json_object();
        json_object_set_new(sl, "n", json_integer((json_int_t)s[i].n));
        for (size_t m = 0; m < n_metrics(o); m++) {
            char key[32];
            const attn_interval *v = summary_slot(o, (attn_slice_summary *)&s[i], m);
            metric_name(o, m, key, sizeof(key));
            json_object_set_new(sl, key, real_or_null(v->mean));
            json_object_set_new(ci, key, pair_or_null(v));
        }
        if (with_ci)
            json_object_set_new(sl, "ci95", ci);
        else
            json_decref(ci);
        json_object_set_new(all, SLICE_NAMES[i], sl);
    }
    return all;
}

int attn_metrics_compare(const attn_metrics_options *o, const attn_pr_metrics *a,
                         const attn_pr_metrics *b, const int *observed, size_t n,
                         const attn_bootstrap_options *boot, json_t **out, attn_error *err)
{
    double *xa = n ? attn_xcalloc(n, sizeof(double)) : NULL;
    double *xb = n ? attn_xcalloc(n, sizeof(double)) : NULL;
    json_t *res = json_object();
    int rc = 0;
    *out = NULL;
    for (int s = 0; s < ATTN_SLICE_N && !rc; s++) {
        json_t *sl = json_object();
        size_t k = 0;
        json_object_set_new(res, SLICE_NAMES[s], sl);
        for (size_t m = 0; m < n_metrics(o) && !rc; m++) {
            attn_interval ia, ib, d;
            char key[32];
            k = 0;
            for (size_t i = 0; i < n; i++)
                if (in_slice((attn_slice)s, observed[i], !a[i].empty && !b[i].empty)) {
                    xa[k] = metric_value(o, &a[i], m);
                    xb[k++] = metric_value(o, &b[i], m);
                }
            if ((rc = attn_bootstrap_mean(xa, k, NULL, &ia, err)) ||
                (rc = attn_bootstrap_mean(xb, k, NULL, &ib, err)) ||
                (rc = attn_bootstrap_paired_diff(xa, xb, k, boot, &d, err)))
                break;
            metric_name(o, m, key, sizeof(key));
            json_object_set_new(sl, key,
                                json_pack("{s:o, s:o, s:o, s:o}", "a", real_or_null(ia.mean), "b",
                                          real_or_null(ib.mean), "diff", real_or_null(d.mean),
                                          "ci95", pair_or_null(&d)));
        }
        json_object_set_new(sl, "n", json_integer((json_int_t)k));
    }
    free(xa);
    free(xb);
    if (rc) {
        json_decref(res);
        return rc;
    }
    *out = res;
    return 0;
}

/* ---- queue --------------------------------------------------------------------------------- */

double attn_quantile(const double *sorted, size_t n, double p)
{
    double h = (double)(n - 1) * p, fl = floor(h);
    size_t i = (size_t)fl;
    if (i + 1 >= n)
        return sorted[n - 1];
    return sorted[i] + (h - fl) * (sorted[i + 1] - sorted[i]);
}

/* {"n", "mean", "median", "p90"} of the non-null values among v[0..n-1]. */
static json_t *time_stats(double *v, size_t n)
{
    double sum = 0;
    if (n == 0)
        return json_pack("{s:i, s:n, s:n, s:n}", "n", 0, "mean", "median", "p90");
    for (size_t i = 0; i < n; i++)
        sum += v[i];
    qsort(v, n, sizeof(double), cmp_double);
    return json_pack("{s:I, s:f, s:f, s:f}", "n", (json_int_t)n, "mean", sum / (double)n,
                     "median", attn_quantile(v, n, 0.5), "p90", attn_quantile(v, n, 0.9));
}

static void bucket_name(const char *b, char *out, size_t cap)
{
    size_t i = 0;
    if (!b || !b[0])
        b = "unknown";
    for (; b[i] && i + 1 < cap; i++)
        out[i] = (char)tolower((unsigned char)b[i]);
    out[i] = 0;
}

int attn_metrics_queue(const attn_queue_row *rows, size_t n, json_t **out, attn_error *err)
{
    double *r = n ? attn_xcalloc(n, sizeof(double)) : NULL;
    double *v = n ? attn_xcalloc(n, sizeof(double)) : NULL;
    char *done = n ? attn_xcalloc(n, 1) : NULL;
    json_t *res = json_object();
    *out = NULL;
    /* One bucket at a time, in order of first appearance; the object's keys
     * are sorted when dumped, so the order here does not show. */
    for (size_t i = 0; i < n; i++) {
        char name[64], other[64];
        size_t total = 0, nr = 0, nv = 0;
        if (done[i])
            continue;
        bucket_name(rows[i].bucket, name, sizeof(name));
        for (size_t j = i; j < n; j++) {
            if (done[j])
                continue;
            bucket_name(rows[j].bucket, other, sizeof(other));
            if (strcmp(name, other))
                continue;
            done[j] = 1;
            total++;
            if (rows[j].ttfr_seconds != ATTN_NULL_I64)
                r[nr++] = (double)rows[j].ttfr_seconds;
            if (rows[j].ttf_review_seconds != ATTN_NULL_I64)
                v[nv++] = (double)rows[j].ttf_review_seconds;
        }
        json_object_set_new(res, name,
                            json_pack("{s:I, s:o, s:o}", "n", (json_int_t)total,
                                      "time_to_first_response", time_stats(r, nr),
                                      "time_to_first_review", time_stats(v, nv)));
    }
    free(r);
    free(v);
    free(done);
    *out = res;
    return 0;
}
