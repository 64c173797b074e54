/*
 * quality.c - quality gates and promotion over a run's artifacts (quality.h).
 *
 * Owns: the gate and promotion rules. Must never: read the store (a gate
 * judges what the run recorded), or fail a gate on 0/0 (reference §15.16).
 */
#include "exp/quality.h"
#include "util/alloc.h"
#include "eval/metrics.h"
#include "eval/pack.h"
#include "eval/truth.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int attn_quality_load_per_pr(const char *dir, json_t **out, attn_error *err)
{
    attn_buf b = ATTN_BUF_INIT;
    char path[4400];
    json_t *arr;
    char *line, *save = NULL;
    int rc, ln = 0;

    *out = NULL;
    snprintf(path, sizeof(path), "%s/per_pr.jsonl", dir);
    if ((rc = attn_fs_read_file(path, &b, err)))
        return rc;
    arr = attn_xcheck(json_array());
    for (line = b.ptr ? strtok_r(b.ptr, "\n", &save) : NULL; line;
         line = strtok_r(NULL, "\n", &save)) {
        json_t *v;
        ln++;
        if ((rc = attn_json_parse(line, strlen(line), path, &v, err))) {
            attn_error_wrap(err, "line %d", ln);
            json_decref(arr);
            attn_buf_free(&b);
            return rc;
        }
        json_array_append_new(arr, v);
    }
    attn_buf_free(&b);
    *out = arr;
    return 0;
}

static json_t *rate(size_t num, size_t den)
{
    return den ? json_real((double)num / (double)den) : json_null();
}

static json_t *gate(json_t *value, int pass, const char *note)
{
    json_t *g = json_pack("{s:o, s:b}", "value", value, "pass", pass);
    if (g && note)
        json_object_set_new(g, "note", json_string(note));
    return g;
}

int attn_quality_gates(const char *dir, const json_t *per_pr, const json_t *report,
                       const attn_spec *spec, json_t **out, attn_error *err)
{
    json_t *gates = attn_xcheck(json_object()), *g, *empty_rates = attn_xcheck(json_object());
    json_t *line;
    size_t n = json_array_size(per_pr), i;
    size_t g1_ok = 0, g1_n = 0, g2_ok = 0, g2_n = 0, owners_ok = 0, missing = 0, slots = 0;
    int has_codeowners = 0, has_hybrid = 0, all = 1, rc = 0;
    json_t *hybrid_hashes = attn_xcheck(json_object());
    attn_pack *pack = NULL;
    const char *k;
    json_t *x;

    *out = NULL;
    for (size_t r = 0; r < spec->n_routers; r++) {
        has_codeowners |= !strcmp(spec->routers[r].name, "codeowners");
        has_hybrid |= !strcmp(spec->routers[r].name, "hybrid");
    }
    if ((rc = attn_pack_open(dir, &pack, err)))
        goto out;
    /* G1, G2: the full labels in each PR's truth entry. */
    json_array_foreach(per_pr, i, line) {
        json_t *truth = NULL;
        json_int_t num = json_integer_value(json_object_get(line, "pr_number"));
        if (attn_pack_read(pack, num, "truth", &truth, err))
            truth = NULL;
        for (size_t p = 0; p < spec->n_truth; p++) {
            attn_truth_policy pol;
            const json_t *t;
            int64_t cut, end;
            attn_truth_policy_parse(spec->truth[p], &pol, NULL);
            t = json_object_get(truth, pol.spec);
            g2_n++;
            if (t && json_is_string(json_object_get(t, "status")) &&
                json_is_object(json_object_get(t, "diagnostics")))
                g2_ok++;
            if (!t)
                continue;
            g1_n++;
            if (!attn_json_time(t, "cutoff", &cut, NULL) &&
                !attn_json_time(t, "window_end", &end, NULL) && cut != ATTN_NULL_I64 &&
                end != ATTN_NULL_I64 && end > cut)
                g1_ok++;
        }
        json_decref(truth);
        /* G6: config hash of every hybrid route. */
        if (has_hybrid) {
            json_t *route = NULL;
            if (!attn_pack_read(pack, num, "routes/hybrid", &route, NULL)) {
                const char *h = attn_json_str(route, "config_hash");
                json_object_set_new(hybrid_hashes, h ? h : "(none)", json_true());
                json_decref(route);
            }
        }
        /* G4, G5 from the per-PR line. */
        for (size_t r = 0; r < spec->n_routers; r++) {
            const json_t *ro = json_object_get(json_object_get(line, "routers"),
                                               spec->routers[r].name);
            const json_t *c = json_object_get(ro, "candidates");
            slots++;
            if (!ro || !json_is_array(c))
                missing++;
            if (!strcmp(spec->routers[r].name, "codeowners") && json_array_size(c))
                owners_ok++;
        }
    }
    attn_error_clear(err);
    for (size_t r = 0; r < spec->n_routers; r++) {
        size_t empty = 0;
        json_array_foreach(per_pr, i, line) {
            const json_t *c = json_object_get(
                json_object_get(json_object_get(line, "routers"), spec->routers[r].name),
                "candidates");
            if (json_is_array(c) && !json_array_size(c))
                empty++;
        }
        json_object_set_new(empty_rates, spec->routers[r].name, rate(empty, n));
    }

    g = gate(g1_n ? rate(g1_ok, g1_n) : json_real(1.0), g1_ok == g1_n,
             g1_n ? NULL : "no labels to check");
    all &= g1_ok == g1_n;
    json_object_set_new(gates, "G1_truth_window_consistency", g);

    g = gate(g2_n ? rate(g2_ok, g2_n) : json_real(1.0), g2_ok == g2_n, NULL);
    all &= g2_ok == g2_n;
    json_object_set_new(gates, "G2_truth_policy_schema", g);
    {
        attn_truth_policy pol;
        const json_t *cov;
        json_int_t unknown;
        attn_truth_policy_parse(spec->truth[0], &pol, NULL);
        cov = json_object_get(json_object_get(report, "truth_coverage"), pol.spec);
        unknown = json_integer_value(json_object_get(cov, ATTN_TRUTH_UNKNOWN));
        int pass = !n || (double)unknown / (double)n <= spec->gates.unknown_max;
        g = gate(rate((size_t)unknown, n), pass, n ? NULL : "no PRs");
        json_object_set_new(g, "unknown", json_integer(unknown));
        json_object_set_new(g, "policy", json_string(pol.spec));
        all &= pass;
        json_object_set_new(gates, "G3_unknown_ingestion_gap_rate", g);
    }
    if (!has_codeowners)
        g = gate(json_null(), 1, "n/a: codeowners not routed");
    else if (!n)
        g = gate(json_null(), 1, "n/a: no PRs");
    else {
        int pass = (double)owners_ok / (double)n >= spec->gates.availability_min;
        g = gate(rate(owners_ok, n), pass, NULL);
        all &= pass;
    }
    json_object_set_new(gates, "G4_ownership_availability", g);
    {
        int pass = !slots || (double)missing / (double)slots <= spec->gates.unavailable_max;
        g = gate(slots ? rate(missing, slots) : json_null(), pass, slots ? NULL : "no PRs");
        json_object_set_new(g, "empty_candidates_rate", empty_rates);
        empty_rates = NULL;
        all &= pass;
        json_object_set_new(gates, "G5_router_unavailable_rate", g);
    }
    if (!has_hybrid)
        g = gate(json_null(), 1, "n/a: hybrid not routed");
    else {
        size_t distinct = json_object_size(hybrid_hashes);
        json_t *hs = json_array();
        json_object_foreach(hybrid_hashes, k, x) json_array_append_new(hs, json_string(k));
        g = gate(json_integer((json_int_t)distinct), distinct <= 1, NULL);
        json_object_set_new(g, "config_hashes", hs);
        all &= distinct <= 1;
    }
    json_object_set_new(gates, "G6_deterministic_reproducibility", g);
    *out = attn_xcheck(json_pack("{s:o, s:b, s:{s:f, s:f, s:f}}", "gates", gates, "all_pass", all,
                                 "thresholds", "unknown_max", spec->gates.unknown_max,
                                 "availability_min", spec->gates.availability_min,
                                 "unavailable_max", spec->gates.unavailable_max));
    gates = NULL;
out:
    attn_pack_close(pack);
    json_decref(gates);
    json_decref(empty_rates);
    json_decref(hybrid_hashes);
    return rc;
}

static json_t *num_or_null(double v)
{
    return isnan(v) ? json_null() : json_real(v);
}

int attn_quality_promotion(const json_t *per_pr, const attn_spec *spec, int gates_pass,
                           json_t **out, attn_error *err)
{
    const attn_spec_promotion *pr = &spec->promotion;
    attn_truth_policy pol;
    size_t n = json_array_size(per_pr), m = 0, i;
    double *a = NULL, *b = NULL, hit_a = 0, hit_b = 0, sum_a = 0, sum_b = 0;
    attn_interval ci = {0, NAN, NAN, NAN};
    json_t *line, *reasons, *res;
    int rc = 0;

    *out = NULL;
    if ((rc = attn_truth_policy_parse(spec->truth[0], &pol, err)))
        return rc;
    if (!pr->baseline_router) {
        *out = attn_xcheck(json_pack("{s:b, s:b, s:s, s:n, s:n, s:[s]}", "eligible", 0, "promote",
                                     0, "primary_policy", pol.spec, "baseline_router",
                                     "candidate_router", "reasons",
                                     "the spec names no baseline/candidate router pair"));
        return 0;
    }
    a = attn_xcalloc(n ? n : 1, sizeof(*a));
    b = attn_xcalloc(n ? n : 1, sizeof(*b));
    json_array_foreach(per_pr, i, line) {
        const json_t *t = json_object_get(json_object_get(line, "truth"), pol.spec);
        const json_t *routers = json_object_get(line, "routers");
        const json_t *ra = json_object_get(routers, pr->baseline_router);
        const json_t *rb = json_object_get(routers, pr->candidate_router);
        json_int_t ka, kb;
        if (!t || strcmp(attn_json_str(t, "status") ? attn_json_str(t, "status") : "",
                         ATTN_TRUTH_OBSERVED) ||
            !json_array_size(json_object_get(ra, "candidates")) ||
            !json_array_size(json_object_get(rb, "candidates")))
            continue;
        ka = json_integer_value(json_object_get(json_object_get(ra, "rank"), pol.spec));
        kb = json_integer_value(json_object_get(json_object_get(rb, "rank"), pol.spec));
        a[m] = ka > 0 ? 1.0 / (double)ka : 0.0;
        b[m] = kb > 0 ? 1.0 / (double)kb : 0.0;
        sum_a += a[m];
        sum_b += b[m];
        hit_a += ka == 1;
        hit_b += kb == 1;
        m++;
    }
    if (m) {
        attn_bootstrap_options bo;
        attn_bootstrap_options_init(&bo);
        bo.resamples = spec->resamples > 0 ? spec->resamples : 1000;
        bo.seed = spec->seed;
        if ((rc = attn_bootstrap_paired_diff(a, b, m, &bo, &ci, err)))
            goto out;
    }
    {
        double dm = m ? (sum_b - sum_a) / (double)m : NAN;
        double dh = m ? (hit_b - hit_a) / (double)m : NAN;
        int n_ok = (long)m >= pr->min_n, d_ok = m && dm >= pr->min_delta_mrr,
            ci_ok = m && !isnan(ci.lo) && ci.lo > 0, h_ok = m && dh >= -pr->max_hit1_drop;
        int promote = n_ok && d_ok && ci_ok && gates_pass && h_ok;
        char why[200];
        reasons = json_array();
        if (!n_ok) {
            snprintf(why, sizeof(why), "n = %zu observed rows with both routers non-empty, below min_n %ld",
                     m, pr->min_n);
            json_array_append_new(reasons, json_string(why));
        }
        if (!d_ok) {
            snprintf(why, sizeof(why), "delta MRR %.4f is below min_delta_mrr %.4f", m ? dm : 0.0,
                     pr->min_delta_mrr);
            json_array_append_new(reasons, json_string(why));
        }
        if (!ci_ok) {
            /* Say which side of 0 the interval is on: one that lies wholly
             * below 0 excludes 0 too (the candidate is worse), and calling
             * it "does not exclude 0" misreports the evidence. */
            if (!m || isnan(ci.lo))
                snprintf(why, sizeof(why), "no 95%% interval of delta MRR (no comparable rows)");
            else if (ci.hi < 0)
                snprintf(why, sizeof(why),
                         "the 95%% interval of delta MRR [%.4f, %.4f] lies below 0: the "
                         "candidate is worse",
                         ci.lo, ci.hi);
            else
                snprintf(why, sizeof(why),
                         "the 95%% interval of delta MRR [%.4f, %.4f] includes 0", ci.lo, ci.hi);
            json_array_append_new(reasons, json_string(why));
        }
        if (!gates_pass)
            json_array_append_new(reasons, json_string("a quality gate failed (gates.json)"));
        if (!h_ok) {
            snprintf(why, sizeof(why), "hit@1 drops by more than %.4f", pr->max_hit1_drop);
            json_array_append_new(reasons, json_string(why));
        }
        res = attn_xcheck(json_pack("{s:b, s:b, s:s, s:s, s:s, s:I, s:o, s:o, s:o,"
                        " s:{s:I, s:f, s:f}, s:{s:b, s:b, s:b, s:b, s:b}, s:o, s:s}",
                        "eligible", 1, "promote", promote, "primary_policy", pol.spec,
                        "baseline_router", pr->baseline_router, "candidate_router",
                        pr->candidate_router, "n", (json_int_t)m, "delta_mrr", num_or_null(dm),
                        "ci95",
                        isnan(ci.lo) ? json_null()
                                     : json_pack("[f, f]", ci.lo, ci.hi),
                        "delta_hit_at_1", num_or_null(dh), "criteria", "min_n",
                        (json_int_t)pr->min_n, "min_delta_mrr", pr->min_delta_mrr,
                        "max_hit1_drop", pr->max_hit1_drop, "checks", "n", n_ok, "delta_mrr",
                        d_ok, "ci_lo_positive", ci_ok, "gates", gates_pass, "hit_at_1", h_ok,
                        "reasons", reasons, "slice", "observed_and_router_nonempty"));
        *out = res;
    }
out:
    free(a);
    free(b);
    return rc;
}
