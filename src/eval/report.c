/*
 * report.c - the aggregation of one evaluation run (run_internal.h): per
 * policy and router metrics with bootstrap intervals, queue and workload
 * figures, then report.json and its human twin report.md.
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

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- aggregation ----------------------------------------------------------- */

/* Every router's slices for every policy (metrics.h: each bit-identical to
 * one call per router and policy, with the draws of each slice size made
 * once); observed is np rows of n. pm[p] gets policy p's. */
static int all_metrics(run *R, const int *observed, json_t **pm, attn_error *err)
{
    size_t np = R->np ? R->np : 1, nr = R->nr ? R->nr : 1;
    attn_slice_summary(*sum)[ATTN_SLICE_N] = attn_xcalloc(attn_st_mult(np, nr), sizeof(*sum));
    const attn_pr_metrics **rows = attn_xcalloc(attn_st_mult(np, nr), sizeof(*rows));
    attn_metrics_set *sets = attn_xcalloc(np, sizeof(*sets));
    attn_bootstrap_options b;
    int rc;
    attn_bootstrap_options_init(&b);
    b.resamples = R->o->bootstrap;
    b.seed = R->o->seed;
    b.threads = R->jobs;
    for (size_t p = 0; p < R->np; p++) {
        for (size_t r = 0; r < R->nr; r++)
            rows[p * nr + r] = &OUT(R, p, r, 0);
        sets[p].rows = rows + p * nr;
        sets[p].observed = observed + p * R->n;
        sets[p].out = sum + p * nr;
    }
    rc = attn_metrics_slices_sets(&R->mopt, sets, R->np, R->nr, R->n,
                                  R->o->bootstrap > 0 ? &b : NULL, err);
    for (size_t p = 0; p < R->np && !rc; p++)
        for (size_t r = 0; r < R->nr; r++) {
            json_t *rm = attn_xcheck(
                attn_metrics_slices_json(&R->mopt, sum[p * nr + r], R->o->bootstrap > 0));
            attn_xcheck_rc(json_object_set_new(pm[p], attn_router_def_of(R->routers[r])->name, rm));
        }
    free(sum);
    free(rows);
    free(sets);
    return rc;
}

static double round6(double x) { return round(x * 1e6) / 1e6; }

static int dbl_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* {n, responded, mean, median, p90} (seconds) of the non-negative values;
 * quantiles as metrics.h computes them. */
static json_t *duration_stats(const int64_t *v, size_t n)
{
    double *x = attn_xmalloc((n ? n : 1) * sizeof(double));
    size_t m = 0;
    double sum = 0;
    json_t *o;
    for (size_t i = 0; i < n; i++)
        if (v[i] >= 0) {
            x[m++] = (double)v[i];
            sum += (double)v[i];
        }
    qsort(x, m, sizeof(*x), dbl_cmp);
    if (!m)
        o = json_pack("{s:I, s:i, s:n, s:n, s:n}", "n", (json_int_t)n, "responded", 0, "mean",
                      "median", "p90");
    else
        o = json_pack("{s:I, s:I, s:f, s:f, s:f}", "n", (json_int_t)n, "responded",
                      (json_int_t)m, "mean", round6(sum / (double)m), "median",
                      round6(attn_quantile(x, m, 0.5)), "p90", round6(attn_quantile(x, m, 0.9)));
    free(x);
    return o;
}

/* Queue metrics by the router's risk (metrics.h), plus what only depends
 * on the router: how soon its first suggestion acted on the PR. */
static json_t *queue_metrics(run *R, size_t r, attn_error *err)
{
    attn_queue_row *rows = attn_xcalloc(R->n ? R->n : 1, sizeof(*rows));
    json_t *o = NULL;
    int64_t *t1 = attn_xmalloc(attn_st_mult(R->n ? R->n : 1, sizeof(int64_t)));
    for (size_t i = 0; i < R->n; i++) {
        rows[i].bucket = R->risk[r * R->n + i];
        rows[i].ttfr_seconds = R->rows[i].ttfr < 0 ? ATTN_NULL_I64 : R->rows[i].ttfr;
        rows[i].ttf_review_seconds = R->rows[i].ttfrev < 0 ? ATTN_NULL_I64 : R->rows[i].ttfrev;
        t1[i] = R->top1_resp[r * R->n + i];
    }
    if (!attn_metrics_queue(rows, R->n, &o, err))
        o = attn_xcheck(
            json_pack("{s:o, s:o}", "by_risk", o, "top1_response", duration_stats(t1, R->n)));
    free(rows);
    free(t1);
    return o;
}

typedef struct {
    const char *name;
    size_t n;
} name_count;

static int nc_cmp(const void *a, const void *b)
{
    const name_count *x = a, *y = b;
    if (x->n != y->n)
        return x->n > y->n ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* How concentrated the top-1 suggestions are (load spread). */
static json_t *workload(run *R, size_t r)
{
    name_count *c = attn_xcalloc(R->n ? R->n : 1, sizeof(*c));
    size_t nc = 0, total = 0;
    json_t *top = json_array();
    double ent = 0;
    for (size_t i = 0; i < R->n; i++) {
        const char *t = R->top1[r * R->n + i];
        size_t j;
        if (!t)
            continue;
        total++;
        for (j = 0; j < nc && strcmp(c[j].name, t); j++)
            ;
        if (j == nc)
            c[nc++].name = t;
        c[j].n++;
    }
    qsort(c, nc, sizeof(*c), nc_cmp);
    for (size_t j = 0; j < nc; j++) {
        double q = (double)c[j].n / (double)total;
        ent -= q * log2(q);
        if (j < 5)
            json_array_append_new(top, json_pack("{s:s, s:I}", "name", c[j].name, "n",
                                                 (json_int_t)c[j].n));
    }
    {
        json_t *o = json_pack("{s:I, s:I, s:o, s:f, s:o}", "prs_with_user_top1", (json_int_t)total,
                              "distinct_top1", (json_int_t)nc, "max_share",
                              total ? json_real(round6((double)c[0].n / (double)total))
                                    : json_null(),
                              "entropy_bits", round6(ent), "most_suggested", top);
        free(c);
        return o;
    }
}

json_t *eval_report_json(run *R, const char *run_id, attn_error *err)
{
    json_t *metrics = json_object(), *coverage = json_object(), *queue = json_object(),
           *work = json_object(), *routers = json_array(), *gates = NULL;
    int *observed = attn_xcalloc(attn_st_mult(R->np ? R->np : 1, R->n ? R->n : 1), sizeof(int));
    attn_gate_row *grows = attn_xcalloc(R->n ? R->n : 1, sizeof(*grows));
    json_t *pm[MAX_POLICIES];
    int rc = 0;
    for (size_t p = 0; p < R->np; p++) {
        json_t *cov = json_object();
        size_t counts[3] = {0, 0, 0};
        for (size_t i = 0; i < R->n; i++) {
            counts[R->rows[i].status[p]]++;
            observed[p * R->n + i] = R->rows[i].status[p] == 0;
        }
        for (int st = 0; st < 3; st++)
            json_object_set_new(cov, eval_status_name(st), json_integer((json_int_t)counts[st]));
        json_object_set_new(coverage, R->pol[p].spec, cov);
        pm[p] = json_object();
    }
    rc = all_metrics(R, observed, pm, err);
    for (size_t p = 0; p < R->np; p++)
        json_object_set_new(metrics, R->pol[p].spec, pm[p]);
    for (size_t r = 0; r < R->nr && !rc; r++) {
        const char *name = attn_router_def_of(R->routers[r])->name;
        json_t *q = queue_metrics(R, r, err);
        if (!q) {   /* attn_metrics_queue said why */
            rc = err->code;
            break;
        }
        json_object_set_new(queue, name, q);
        json_object_set_new(work, name, workload(R, r));
        json_array_append_new(routers, json_pack("{s:s, s:s, s:s}", "name", name, "version",
                                                 attn_router_def_of(R->routers[r])->version,
                                                 "config_hash",
                                                 attn_router_config_hash(R->routers[r])));
    }
    for (size_t i = 0; i < R->n; i++) {
        grows[i].gates = &R->rows[i].gates;
        grows[i].merged = R->rows[i].merged;
    }
    if (!rc)
        rc = attn_gate_correlation(grows, R->n, &gates, err);
    free(observed);
    free(grows);
    if (rc) {
        json_decref(metrics);
        json_decref(coverage);
        json_decref(queue);
        json_decref(work);
        json_decref(routers);
        return NULL;
    }
    return attn_xcheck(json_pack(
        "{s:s, s:s, s:s, s:s, s:I, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:O, s:s, s:O*}", "kind",
        "eval_report", "version", "attn.eval.v1", "repo", R->o->repo, "run_id", run_id, "n",
        (json_int_t)R->n, "primary_policy", R->pol[0].spec, "routers", routers, "truth_coverage",
        coverage, "metrics", metrics, "queue", queue, "workload", work, "gate_correlation", gates,
        "notes", R->notes, "headline_slice", "observed", "llm",
        json_object_size(R->llm) ? R->llm : NULL));
}

/* ---- report.md ------------------------------------------------------------- */

static void md_ci(attn_buf *b, const json_t *slice, const char *metric)
{
    const json_t *m = json_object_get(slice, metric);
    const json_t *ci = json_object_get(json_object_get(slice, "ci95"), metric);
    if (!json_is_number(m)) {
        attn_buf_puts(b, " - |");
        return;
    }
    attn_buf_printf(b, " %.3f", json_number_value(m));
    if (json_is_array(ci))
        attn_buf_printf(b, " [%.3f, %.3f]", json_number_value(json_array_get(ci, 0)),
                        json_number_value(json_array_get(ci, 1)));
    attn_buf_puts(b, " |");
}

/* One truth policy's section: its coverage, the headline table and the
 * slices. */
static void md_policy(attn_buf *b, run *R, size_t p, const json_t *metrics, const json_t *cov)
{
    const json_t *x;
    const char *k;
    const json_t *pm = json_object_get(metrics, R->pol[p].spec), *c;
    const json_t *pc = json_object_get(cov, R->pol[p].spec);
    attn_buf_printf(b, "## %s%s\n\n", R->pol[p].spec, p ? "" : " (primary)");
    attn_buf_printf(b,
                    "Truth: %lld observed, %lld no response, %lld unknown (ingestion gap). "
                    "Scores over the %lld observed PRs; a PR no router can match still "
                    "counts as a miss.\n\n",
                    (long long)json_integer_value(json_object_get(pc, ATTN_TRUTH_OBSERVED)),
                    (long long)json_integer_value(json_object_get(pc, ATTN_TRUTH_NO_RESPONSE)),
                    (long long)json_integer_value(json_object_get(pc, ATTN_TRUTH_UNKNOWN)),
                    (long long)json_integer_value(json_object_get(pc, ATTN_TRUTH_OBSERVED)));
    attn_buf_puts(b, "| router | n | coverage |");
    for (size_t m = 0; m <= R->mopt.n_ks; m++)
        attn_buf_printf(b, m < R->mopt.n_ks ? " hit@%d |" : " MRR |",
                        m < R->mopt.n_ks ? R->mopt.ks[m] : 0);
    attn_buf_puts(b, "\n|---|---:|---:|");
    for (size_t m = 0; m <= R->mopt.n_ks; m++)
        attn_buf_puts(b, "---|");
    attn_buf_putc(b, '\n');
    json_object_foreach((json_t *)pm, k, x) {
        const json_t *s = json_object_get(x, "observed");
        c = json_object_get(s, "coverage");
        attn_buf_printf(b, "| %s | %lld |", k, (long long)json_integer_value(json_object_get(s, "n")));
        if (json_is_number(c))
            attn_buf_printf(b, " %.3f |", json_number_value(c));
        else
            attn_buf_puts(b, " - |");
        for (size_t m = 0; m <= R->mopt.n_ks; m++) {
            char name[32];
            if (m < R->mopt.n_ks)
                snprintf(name, sizeof(name), "hit_at_%d", R->mopt.ks[m]);
            else
                snprintf(name, sizeof(name), "mrr");
            md_ci(b, s, name);
        }
        attn_buf_putc(b, '\n');
    }
    attn_buf_puts(b, "\nSlices (n, MRR):");
    json_object_foreach((json_t *)pm, k, x) {
        attn_buf_printf(b, "\n- %s:", k);
        for (int sl = 0; sl < ATTN_SLICE_N; sl++) {
            const json_t *so = json_object_get(x, attn_slice_name((attn_slice)sl));
            const json_t *mrr = json_object_get(so, "mrr");
            attn_buf_printf(b, " %s %lld", attn_slice_name((attn_slice)sl),
                            (long long)json_integer_value(json_object_get(so, "n")));
            if (json_is_number(mrr))
                attn_buf_printf(b, " (%.3f)", json_number_value(mrr));
            attn_buf_puts(b, sl + 1 < ATTN_SLICE_N ? ";" : "");
        }
    }
    attn_buf_puts(b, "\n\n");
}

/* Queue: response times by risk, then whether the top-1 acted. */
static void md_queue(attn_buf *b, const json_t *rep)
{
    const json_t *x;
    const char *k;
    attn_buf_puts(b, "## Queue\n\nHours after the cutoff, median / p90 over the PRs that got one, "
                      "by the router's risk. The response times do not depend on the router; "
                      "the top-1 columns do: whether and when the router's first suggestion "
                      "acted on the PR.\n\n"
                      "| router | risk | n | first response | first review |\n"
                      "|---|---|---:|---|---|\n");
    json_object_foreach(json_object_get((json_t *)rep, "queue"), k, x) {
        const char *bk;
        const json_t *q;
        json_object_foreach(json_object_get(x, "by_risk"), bk, q) {
            const json_t *arr[2] = {json_object_get(q, "time_to_first_response"),
                                    json_object_get(q, "time_to_first_review")};
            attn_buf_printf(b, "| %s | %s | %lld |", k, bk,
                            (long long)json_integer_value(json_object_get(q, "n")));
            for (int z = 0; z < 2; z++) {
                if (json_is_number(json_object_get(arr[z], "median")))
                    attn_buf_printf(b, " %.1f / %.1f |",
                                    json_number_value(json_object_get(arr[z], "median")) / 3600.0,
                                    json_number_value(json_object_get(arr[z], "p90")) / 3600.0);
                else
                    attn_buf_puts(b, " - |");
            }
            attn_buf_putc(b, '\n');
        }
    }
    attn_buf_puts(b, "\n| router | PRs with a user top-1 | top-1 acted | median / p90 hours |\n"
                      "|---|---:|---:|---|\n");
    json_object_foreach(json_object_get((json_t *)rep, "queue"), k, x) {
        const json_t *t1 = json_object_get(x, "top1_response");
        attn_buf_printf(b, "| %s | %lld | %lld |", k,
                        (long long)json_integer_value(json_object_get(t1, "n")),
                        (long long)json_integer_value(json_object_get(t1, "responded")));
        if (json_is_number(json_object_get(t1, "median")))
            attn_buf_printf(b, " %.1f / %.1f |\n",
                            json_number_value(json_object_get(t1, "median")) / 3600.0,
                            json_number_value(json_object_get(t1, "p90")) / 3600.0);
        else
            attn_buf_puts(b, " - |\n");
    }
}

/* Workload spread of the top-1 suggestions. */
static void md_workload(attn_buf *b, const json_t *rep)
{
    const json_t *x;
    const char *k;
    attn_buf_puts(b, "\n## Workload spread (top-1 suggestions)\n\n"
                      "| router | PRs | distinct | max share | entropy (bits) | most suggested |\n"
                      "|---|---:|---:|---:|---:|---|\n");
    json_object_foreach(json_object_get((json_t *)rep, "workload"), k, x) {
        const json_t *ms = json_object_get(x, "most_suggested"), *e;
        size_t i;
        attn_buf_printf(b, "| %s | %lld | %lld |", k,
                        (long long)json_integer_value(json_object_get(x, "prs_with_user_top1")),
                        (long long)json_integer_value(json_object_get(x, "distinct_top1")));
        if (json_is_number(json_object_get(x, "max_share")))
            attn_buf_printf(b, " %.3f |", json_number_value(json_object_get(x, "max_share")));
        else
            attn_buf_puts(b, " - |");
        attn_buf_printf(b, " %.2f |", json_number_value(json_object_get(x, "entropy_bits")));
        json_array_foreach(ms, i, e)
            attn_buf_printf(b, "%s%s (%lld)", i ? ", " : " ", attn_json_str(e, "name"),
                            (long long)json_integer_value(json_object_get(e, "n")));
        attn_buf_puts(b, " |\n");
    }
}

/* PR-body gates (reference §5.3): descriptive only. */
static void md_gates(attn_buf *b, const json_t *rep)
{
    static const char *const fields[] = {"issue", "ai_disclosure", "provenance"};
    const json_t *g = json_object_get((json_t *)rep, "gate_correlation");
    attn_buf_puts(b, "\n## PR-body gates\n\nWhat the body said at the cutoff, and how "
                      "often such PRs were merged eventually (descriptive, not causal).\n\n"
                      "| field | PRs | missing | merged when missing | merged when present |\n"
                      "|---|---:|---:|---:|---:|\n");
    for (size_t f = 0; f < 3; f++) {
        const json_t *gf = json_object_get(g, fields[f]);
        const char *keys[3] = {"missing_rate", "merged_rate_missing", "merged_rate_present"};
        attn_buf_printf(b, "| %s | %lld |", fields[f],
                        (long long)json_integer_value(json_object_get(gf, "n")));
        for (int kk = 0; kk < 3; kk++) {
            const json_t *v = json_object_get(gf, keys[kk]);
            if (json_is_number(v))
                attn_buf_printf(b, " %.3f |", json_number_value(v));
            else
                attn_buf_puts(b, " - |");
        }
        attn_buf_putc(b, '\n');
    }
}

/* LLM usage per router, and the run's notes. */
static void md_llm_notes(attn_buf *b, run *R)
{
    const json_t *x;
    const char *k;
    if (json_object_size(R->llm)) {
        attn_buf_puts(b, "\n## LLM usage\n\n| router | PRs | ok | invalid | error | tokens in |"
                          " tokens out | cost USD | mean latency ms |\n|---|---|---|---|---|---|---|"
                          "---|---|\n");
        json_object_foreach(R->llm, k, x) {
            const json_t *st = json_object_get(x, "status");
            int64_t prs = attn_json_i64(x, "prs", 0);
            attn_buf_printf(b, "| %s | %lld | %lld | %lld | %lld | %lld | %lld | %.6f | %lld |\n",
                            k, (long long)prs, (long long)attn_json_i64(st, "ok", 0),
                            (long long)attn_json_i64(st, "invalid", 0),
                            (long long)attn_json_i64(st, "error", 0),
                            (long long)attn_json_i64(x, "tokens_in", 0),
                            (long long)attn_json_i64(x, "tokens_out", 0),
                            json_number_value(json_object_get(x, "cost_usd")),
                            (long long)(prs ? attn_json_i64(x, "latency_ms_total", 0) / prs : 0));
        }
    }
    if (json_array_size(R->notes)) {
        size_t i;
        attn_buf_puts(b, "\n## Notes\n\n");
        json_array_foreach(R->notes, i, x)
            attn_buf_printf(b, "- %s\n", json_string_value(x));
    }
}

char *eval_report_md(run *R, const json_t *rep, const char *run_id)
{
    attn_buf b = ATTN_BUF_INIT;
    const json_t *metrics = json_object_get(rep, "metrics");
    const json_t *cov = json_object_get(rep, "truth_coverage");
    char ts0[32], ts1[32];

    attn_buf_printf(&b, "# Evaluation %s\n\n", run_id);
    attn_buf_printf(&b, "- repository: %s\n- PRs: %zu, cutoffs %s to %s (%s)\n", R->o->repo, R->n,
                    R->n ? attn_time_format(R->rows[0].cutoff, ts0) : "-",
                    R->n ? attn_time_format(R->rows[R->n - 1].cutoff, ts1) : "-", R->cutoff.id);
    attn_buf_printf(&b, "- truth: %s (primary)", R->pol[0].spec);
    for (size_t p = 1; p < R->np; p++)
        attn_buf_printf(&b, ", %s", R->pol[p].spec);
    attn_buf_printf(&b, "\n- intervals: 95%% bootstrap, %d resamples, seed %llu\n\n",
                    R->o->bootstrap, (unsigned long long)R->o->seed);
    for (size_t p = 0; p < R->np; p++)
        md_policy(&b, R, p, metrics, cov);
    md_queue(&b, rep);
    md_workload(&b, rep);
    md_gates(&b, rep);
    md_llm_notes(&b, R);
    return attn_buf_detach(&b);
}

