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
        const json_t *t = json_is_object(json_object_get(v, "target")) ? json_object_get(v, "target")
                                                                         : v;
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

/* The resamples of columns [m0, m1) of one slice (see bootstrap_slice). */
typedef struct {
    const double *x;
    size_t k, m0, m1, R;
    uint64_t seed;
    attn_interval **outs;
    pthread_t tid;
} boot_part;

/*
 * sums[m] = the sum over draws j, in draw order, of xt[idx[j] * nm + m].
 * Eight metrics at a time are summed in locals, which the compiler keeps in
 * registers and adds two by two; each sum still takes its values in draw
 * order, so the results are those of the plain loop bit for bit (profile:
 * the plain loop stalled on storing each sum before the next draw read it).
 */
static void sum_draws(const double *xt, const size_t *idx, size_t k, size_t nm, double *sums)
{
    size_t c = 0;
    for (; c + 8 <= nm; c += 8) {
        double a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
        for (size_t j = 0; j < k; j++) {
            const double *row = xt + idx[j] * nm + c;
            a0 += row[0];
            a1 += row[1];
            a2 += row[2];
            a3 += row[3];
            a4 += row[4];
            a5 += row[5];
            a6 += row[6];
            a7 += row[7];
        }
        sums[c] = a0;
        sums[c + 1] = a1;
        sums[c + 2] = a2;
        sums[c + 3] = a3;
        sums[c + 4] = a4;
        sums[c + 5] = a5;
        sums[c + 6] = a6;
        sums[c + 7] = a7;
    }
    for (; c < nm; c++) {
        double a = 0;
        for (size_t j = 0; j < k; j++)
            a += xt[idx[j] * nm + c];
        sums[c] = a;
    }
}

static void *boot_part_run(void *arg)
{
    boot_part *P = arg;
    size_t nm = P->m1 - P->m0, k = P->k, R = P->R, cut = R / 40;
    double *means = attn_xcalloc(attn_st_mult(R, nm ? nm : 1), sizeof(double));
    size_t *idx = attn_xcalloc(k, sizeof(size_t));
    double *xt = attn_xcalloc(attn_st_mult(k, nm ? nm : 1), sizeof(double));
    double *sums = attn_xcalloc(nm ? nm : 1, sizeof(double));
    attn_prng prng;
    /* Row-major copy (item j's metrics side by side): one cache line per
     * draw instead of one per metric; each sum keeps its order of draws. */
    for (size_t m = 0; m < nm; m++)
        for (size_t j = 0; j < k; j++)
            xt[j * nm + m] = P->x[(P->m0 + m) * k + j];
    attn_prng_seed(&prng, P->seed);
    for (size_t r = 0; r < R; r++) {
        attn_prng_fill_below(&prng, k, idx, k);
        sum_draws(xt, idx, k, nm, sums);
        for (size_t m = 0; m < nm; m++)
            means[m * R + r] = sums[m] / (double)k;
    }
    for (size_t m = 0; m < nm; m++) {
        double *mm = means + m * R;
        qsort(mm, R, sizeof(double), cmp_double);
        P->outs[P->m0 + m]->lo = mm[cut];
        P->outs[P->m0 + m]->hi = mm[R - 1 - cut];
    }
    free(means);
    free(idx);
    free(xt);
    free(sums);
    return NULL;
}

/*
 * All metrics of one slice at once. Each metric's interval is exactly what
 * attn_bootstrap_mean gives for it alone (same seed, so the same indices in
 * the same order, summed in draw order): the draws are made once per
 * resample and shared, which makes a slice cost one pass of draws instead of
 * one per metric. With b->threads > 1 the metrics are split between threads
 * that each make the same draws, so every sum, and every interval, is the
 * same whatever the thread count.
 */
static int bootstrap_slice(const double *x, size_t nm, size_t k, const attn_bootstrap_options *b,
                           attn_interval **outs, attn_error *err)
{
    boot_part parts[16];
    size_t T;
    int rc = 0;

    for (size_t m = 0; m < nm; m++)
        if ((rc = attn_bootstrap_mean(x + m * k, k, NULL, outs[m], err)))
            return rc;
    if (!b || k == 0)
        return b && b->resamples < 1
                   ? attn_error_set(err, ATTN_EINVAL,
                                    "bootstrap: resamples must be at least 1, not %d",
                                    b->resamples)
                   : 0;
    if (b->resamples < 1)
        return attn_error_set(err, ATTN_EINVAL, "bootstrap: resamples must be at least 1, not %d",
                              b->resamples);
    T = b->threads > 1 ? (size_t)b->threads : 1;
    if (T > 16)
        T = 16;
    if (T > nm)
        T = nm ? nm : 1;
    for (size_t t = 0; t < T; t++) {
        boot_part *P = &parts[t];
        P->x = x;
        P->k = k;
        P->m0 = nm * t / T;
        P->m1 = nm * (t + 1) / T;
        P->R = (size_t)b->resamples;
        P->seed = b->seed;
        P->outs = outs;
    }
    /* the first part runs here; a thread that cannot start leaves its part
     * to this one too */
    for (size_t t = 1; t < T; t++)
        if (pthread_create(&parts[t].tid, NULL, boot_part_run, &parts[t]))
            parts[t].tid = pthread_self();
    boot_part_run(&parts[0]);
    for (size_t t = 1; t < T; t++) {
        if (pthread_equal(parts[t].tid, pthread_self()))
            boot_part_run(&parts[t]);
        else
            pthread_join(parts[t].tid, NULL);
    }
    return 0;
}

int attn_metrics_slices_many(const attn_metrics_options *o, const attn_pr_metrics *const *rows,
                             size_t nr, const int *observed, size_t n,
                             const attn_bootstrap_options *boot,
                             attn_slice_summary (*out)[ATTN_SLICE_N], attn_error *err)
{
    size_t nm = n_metrics(o);
    double *x = attn_xcalloc(attn_st_mult(attn_st_mult(n ? n : 1, nm), nr ? nr : 1),
                             sizeof(double));
    attn_interval **slots = attn_xcalloc(attn_st_mult(nm, nr ? nr : 1), sizeof(*slots));
    int rc = 0;
    for (int s = 0; s < ATTN_SLICE_N && !rc; s++) {
        /* Slices whose PRs do not depend on the router: one group of all
         * routers, so one pass of draws serves them all. */
        int shared = s == ATTN_SLICE_ALL || s == ATTN_SLICE_OBSERVED;
        size_t gn = shared ? nr : 1;
        for (size_t g = 0; g < nr && !rc; g += gn) {
            size_t k = 0;
            for (size_t i = 0; i < n; i++)
                if (in_slice((attn_slice)s, observed[i], !rows[g][i].empty))
                    k++;
            for (size_t r = g; r < g + gn; r++) {
                memset(&out[r][s], 0, sizeof(out[r][s]));
                out[r][s].n = k;
                for (size_t m = 0; m < nm; m++) {
                    double *xm = x + ((r - g) * nm + m) * k;
                    size_t j = 0;
                    for (size_t i = 0; i < n; i++)
                        if (in_slice((attn_slice)s, observed[i], !rows[r][i].empty))
                            xm[j++] = metric_value(o, &rows[r][i], m);
                    slots[(r - g) * nm + m] = summary_slot(o, &out[r][s], m);
                }
            }
            rc = bootstrap_slice(x, gn * nm, k, boot, slots, err);
        }
    }
    free(x);
    free(slots);
    return rc;
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
