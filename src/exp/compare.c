/*
 * compare.c - two evaluation runs side by side (see compare.h).
 *
 * Owns: the comparison document (its Markdown rendering is compare_md.c). Reads run
 * directories only; never writes into them. Deterministic: inputs are read
 * in file order, every list is in a documented order, the only randomness
 * is the bootstrap with A's seed, and no wall-clock value is written. The
 * loads, scans and bootstraps run on two threads (task_list); each task
 * writes only its own memory, so thread timing never reaches the output.
 */
#include "exp/compare.h"
#include "eval/metrics.h"
#include "llm/prompt.h"
#include "eval/pack.h"
#include "exp/compare_internal.h"
#include "util/alloc.h"
#include "util/fs.h"
#include "util/hashmap.h"
#include "util/prng.h"
#include "util/json.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void attn_compare_opts_init(attn_compare_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->k = 5;
    o->max_flips = 50;
    o->bins = 10;
    o->top_candidates = 3;
}

int attn_compare_add_pair(attn_compare_opts *o, const char *text, attn_error *err)
{
    const char *colon = strchr(text, ':');
    if (!colon || colon == text || !colon[1] || strchr(colon + 1, ':'))
        return attn_error_set(err, ATTN_EINVAL,
                              "--pair '%s' is not A_ROUTER:B_ROUTER (e.g. popularity:hybrid)", text);
    if (o->n_pairs == ATTN_COMPARE_MAX_PAIRS)
        return attn_error_set(err, ATTN_EINVAL, "at most %d --pair options",
                              ATTN_COMPARE_MAX_PAIRS);
    if ((size_t)(colon - text) >= sizeof(o->pairs[0].a_router) ||
        strlen(colon + 1) >= sizeof(o->pairs[0].b_router))
        return attn_error_set(err, ATTN_EINVAL, "--pair '%s': router name too long", text);
    snprintf(o->pairs[o->n_pairs].a_router, sizeof(o->pairs[0].a_router), "%.*s",
             (int)(colon - text), text);
    snprintf(o->pairs[o->n_pairs].b_router, sizeof(o->pairs[0].b_router), "%s", colon + 1);
    o->n_pairs++;
    return 0;
}

/* ---- loading a run -------------------------------------------------------- */

typedef struct {
    const char *dir;
    json_t *manifest;
    cmp_rows rows;      /* per_pr.jsonl, flat (compare_scan.c) */
    const char *run_id, *primary;
    char cutoffs_hash[65];
    attn_pack *pack;    /* the run's per-PR entries */
} run_t;

static void run_free(run_t *r)
{
    cmp_rows_free(&r->rows);
    free(r->rows.names);
    json_decref(r->manifest);
    attn_pack_close(r->pack);
}

/* attn_json_load_file (same flags, same message) from one read: jansson's
 * file loader takes a getc per byte of a 400 KB manifest. The cutoff map,
 * most of it, is only hashed: cmp_manifest_skim hashes its text and leaves
 * it out of the tree (cutoffs_hash then set). */
static int load_manifest(const char *path, run_t *r, attn_error *err)
{
    attn_buf text = ATTN_BUF_INIT;
    json_error_t je;
    int rc;
    if ((rc = attn_fs_read_file(path, &text, err)))
        return rc;
    if (!cmp_manifest_skim(text.ptr ? text.ptr : "", text.len, &r->manifest, r->cutoffs_hash)) {
        attn_buf_free(&text);
        return 0;
    }
    r->manifest = json_loadb(text.ptr ? text.ptr : "", text.len, JSON_REJECT_DUPLICATES, &je);
    attn_buf_free(&text);
    if (!r->manifest)
        return attn_error_set(err, ATTN_EINVAL, "%s:%d:%d: %s", path, je.line, je.column,
                              je.text);
    return 0;
}

static int run_load(const char *dir, run_t *r, attn_error *err)
{
    char path[4400];
    const json_t *cohort, *x;
    size_t i;
    int rc;

    memset(r, 0, sizeof(*r));
    r->dir = dir;
    snprintf(path, sizeof(path), "%s/manifest.json", dir);
    if (!attn_fs_exists(path))
        return attn_error_set(err, ATTN_ENOTFOUND,
                              "%s is not an evaluation run directory (no manifest.json); "
                              "list runs under the repository's eval/ directory",
                              dir);
    if ((rc = attn_pack_open(dir, &r->pack, err)) || (rc = load_manifest(path, r, err)))
        return rc;
    r->run_id = attn_json_str(r->manifest, "run_id");
    r->primary = attn_json_str(json_object_get(r->manifest, "truth"), "primary");
    if (!r->run_id || !r->primary)
        return attn_error_set(err, ATTN_ECORRUPT, "%s: manifest.json lacks run_id or truth.primary",
                              dir);
    cohort = json_object_get(r->manifest, "cohort");
    if (!r->cutoffs_hash[0]) {
        json_t *pc = json_object_get(cohort, "pr_cutoffs");
        json_t *nul = json_null();
        rc = attn_json_hash(pc ? pc : nul, r->cutoffs_hash, err);
        json_decref(nul);
        if (rc)
            return rc;
    }
    snprintf(path, sizeof(path), "%s/per_pr.jsonl", dir);
    if (!attn_fs_exists(path))
        return attn_error_set(err, ATTN_ENOTFOUND,
                              "%s has no per_pr.jsonl (an artifacts-only run cannot be compared)",
                              dir);
    /* Only the manifest's routers are ever paired, so only their values are kept. */
    r->rows.names = attn_xcalloc(json_array_size(json_object_get(r->manifest, "routers")) + 1,
                                 sizeof(char *));
    json_array_foreach(json_object_get(r->manifest, "routers"), i, x)
        if (attn_json_str(x, "name"))
            r->rows.names[r->rows.n_names++] = attn_json_str(x, "name");
    return cmp_rows_load(path, r->primary, &r->rows, err);
}

/* The manifest's router entry called name, or NULL. */
static const json_t *run_router(const run_t *r, const char *name)
{
    size_t i;
    const json_t *x;
    json_array_foreach(json_object_get(r->manifest, "routers"), i, x) {
        const char *n = attn_json_str(x, "name");
        if (n && !strcmp(n, name))
            return x;
    }
    return NULL;
}

/* ---- small JSON helpers -------------------------------------------------- */

static json_t *num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

/* Leaf-wise differences of a and b (either may be NULL = absent) into arr as
 * {"key": dotted path, "a": value, "b": value}; an absent side has no key. */
static void diff_json(const json_t *a, const json_t *b, const char *prefix, json_t *arr)
{
    if (a && b && json_is_object(a) && json_is_object(b)) {
        /* Keys in byte order, the union of both sides. */
        json_t *keys = json_object();
        const char *k;
        const json_t *v;
        json_object_foreach((json_t *)a, k, v) json_object_set_new(keys, k, json_true());
        json_object_foreach((json_t *)b, k, v) json_object_set_new(keys, k, json_true());
        size_t n = json_object_size(keys), i = 0;
        const char **names = attn_xcalloc(n ? n : 1, sizeof(*names));
        json_object_foreach(keys, k, v) names[i++] = k;
        for (i = 0; i + 1 < n; i++) /* insertion sort: configs are small */
            for (size_t j = i + 1; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
                const char *t = names[j];
                names[j] = names[j - 1];
                names[j - 1] = t;
            }
        for (i = 0; i < n; i++) {
            char path[512];
            snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", names[i]);
            diff_json(json_object_get(a, names[i]), json_object_get(b, names[i]), path, arr);
        }
        free(names);
        json_decref(keys);
        return;
    }
    if (a && b && json_equal((json_t *)a, (json_t *)b))
        return;
    json_t *e = json_pack("{s:s}", "key", prefix);
    if (a)
        json_object_set(e, "a", (json_t *)a);
    if (b)
        json_object_set(e, "b", (json_t *)b);
    json_array_append_new(arr, e);
}

static json_t *router_id(const json_t *r)
{
    return json_pack("{s:O?, s:O?, s:O?}", "name", json_object_get(r, "name"), "version",
                     json_object_get(r, "version"), "config_hash",
                     json_object_get(r, "config_hash"));
}

static json_t *config_diff(const run_t *A, const run_t *B)
{
    json_t *added = json_array(), *removed = json_array(), *changed = json_array();
    json_t *settings = json_array(), *ma, *mb, *ca;
    const json_t *x;
    size_t i;

    json_array_foreach(json_object_get(A->manifest, "routers"), i, x) {
        const json_t *y = run_router(B, attn_json_str(x, "name"));
        if (!y) {
            json_array_append_new(removed, router_id(x));
            continue;
        }
        if (json_equal(json_object_get(x, "config_hash"), json_object_get(y, "config_hash")) &&
            json_equal(json_object_get(x, "version"), json_object_get(y, "version")))
            continue;
        json_t *keys = json_array();
        diff_json(json_object_get(x, "config"), json_object_get(y, "config"), "", keys);
        json_array_append_new(changed, json_pack("{s:O?, s:o, s:o, s:o}", "name",
                                                 json_object_get(x, "name"), "a", router_id(x),
                                                 "b", router_id(y), "keys", keys));
    }
    json_array_foreach(json_object_get(B->manifest, "routers"), i, x)
        if (!run_router(A, attn_json_str(x, "name")))
            json_array_append_new(added, router_id(x));

    /* Everything else of the manifests, leaf by leaf, with the cutoff map
     * replaced by its hash (a 10,000-line diff helps nobody). */
    ma = json_deep_copy(A->manifest);
    mb = json_deep_copy(B->manifest);
    for (int s = 0; s < 2; s++) {
        json_t *m = s ? mb : ma;
        const run_t *r = s ? B : A;
        json_object_del(m, "routers");
        json_object_del(m, "run_id");
        json_object_del(m, "inputs_hash");
        if ((ca = json_object_get(m, "cohort"))) {
            json_object_del(ca, "pr_cutoffs");
            json_object_set_new(ca, "pr_cutoffs_hash", json_string(r->cutoffs_hash));
        }
    }
    diff_json(ma, mb, "", settings);
    json_decref(ma);
    json_decref(mb);
    return json_pack("{s:{s:o, s:o, s:o}, s:o}", "routers", "added", added, "removed", removed,
                     "changed", changed, "settings", settings);
}

/* ---- per-PR values -------------------------------------------------------- */

typedef struct {
    int rank;     /* 0 = no match */
    int empty;
} pr_val;

/* Router `router` of row i of a run (a router the row lacks: no match, empty). */
static void pr_value(const run_t *r, size_t i, const char *router, pr_val *v)
{
    int j = cmp_rows_router(&r->rows, router);
    v->rank = j < 0 ? 0 : r->rows.rank[i * r->rows.n_names + (size_t)j];
    v->empty = j < 0 ? 1 : r->rows.empty[i * r->rows.n_names + (size_t)j];
}

/* Route of PR n for router (NULL when absent or unreadable). */
static json_t *load_route(const run_t *r, long long n, const char *router)
{
    char entry[512];
    json_t *v = NULL;
    attn_error e;
    snprintf(entry, sizeof(entry), "routes/%s", router);
    if (attn_pack_read(r->pack, n, entry, &v, &e))
        return NULL;
    return v;
}

/* A pair of router names borrowed from the manifests. */
typedef struct {
    const char *a_router, *b_router;
} attn_compare_pair_ref;

typedef struct {
    const run_t *A, *B;
    const char *primary;
    const attn_compare_opts *o;
    attn_bootstrap_options boot;
    /* The common PRs in A's row order: A's row ca[i], B's row cb[i] (B's
     * last row of that number), PR number num[i]. */
    size_t n_common, *ca, *cb;
    int64_t *num;
    json_t *prompt_changed; /* sections whose prompt text differs between the runs, or NULL */
    cmp_kept *kept;         /* the routes flips show, per run and router */
    size_t n_kept;
} ctx_t;

/* The first LLM router's prompt bundle snapshot in a run's manifest, or NULL. */
static const json_t *run_prompt(const run_t *r)
{
    size_t i;
    const json_t *x;
    json_array_foreach(json_object_get(r->manifest, "routers"), i, x) {
        const json_t *p = json_object_get(json_object_get(x, "llm"), "prompt");
        if (p)
            return p;
    }
    return NULL;
}

static int is_llm_router(const run_t *r, const char *name)
{
    return json_object_get(json_object_get(run_router(r, name), "llm"), "prompt") != NULL;
}

/* Draws of attn_prng_below(n) from xoshiro256** as prng.h writes it out,
 * inlined on a copy of the state (a call per draw was half the cost of a
 * 10,000-PR bootstrap), with the division replaced by a multiply: n m >=
 * 2^64 - n, so r m / 2^64 > r / n - 1 and q underestimates r / n by at most
 * 1; one subtraction, without a branch (a mispredicted loop exit cost a
 * fifth of the draw), fixes r - q n. test_compare checks the intervals
 * against attn_bootstrap_mean. */
__extension__ typedef unsigned __int128 u128;

static inline uint64_t rotl64(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t below_fast(uint64_t *s, uint64_t n, uint64_t threshold, uint64_t m)
{
    uint64_t r, q, rem, t;
    do {
        r = rotl64(s[1] * 5, 7) * 9;
        t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = rotl64(s[3], 45);
    } while (r < threshold);
    q = (uint64_t)(((u128)r * m) >> 64);
    rem = r - q * n;
    return rem >= n ? rem - n : rem;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* attn_bootstrap_paired_diff of nm metrics (xa[j], xb[j]) over the same n
 * PRs, in one pass. The draws depend only on (seed, n), so every metric sees
 * the same resampled indices it would see in its own call, and each sum is
 * added in the same order: the intervals are bit for bit the same, for a
 * third of the draws. */
int cmp_boot_multi(const attn_bootstrap_options *b, double *const *xa, double *const *xb,
                   int nm, size_t n, attn_interval *out, attn_error *err)
{
    double *d[3], *means[3], sum;
    size_t R = (size_t)(b->resamples > 0 ? b->resamples : 1), cut;
    attn_prng prng;
    for (int j = 0; j < nm; j++) {
        out[j].n = n;
        out[j].mean = out[j].lo = out[j].hi = NAN;
    }
    if (b->resamples < 1)
        return attn_error_set(err, ATTN_EINVAL, "bootstrap: resamples must be at least 1, not %d",
                              b->resamples);
    for (int j = 0; j < nm; j++) {
        d[j] = attn_xmalloc(attn_st_mult(n ? n : 1, sizeof(double)));
        means[j] = attn_xmalloc(attn_st_mult(R, sizeof(double)));
        sum = 0;
        for (size_t i = 0; i < n; i++) {
            d[j][i] = xb[j][i] - xa[j][i];
            sum += d[j][i];
        }
        if (n)
            out[j].mean = sum / (double)n;
    }
    if (n) {
        uint64_t threshold = (0 - (uint64_t)n) % n, m = UINT64_MAX / n, st[4];
        attn_prng_seed(&prng, b->seed);
        memcpy(st, prng.s, sizeof(st));
        for (size_t r = 0; r < R; r++) {
            double s0 = 0, s1 = 0, s2 = 0;
            if (nm == 3)
                for (size_t i = 0; i < n; i++) {
                    uint64_t k = below_fast(st, n, threshold, m);
                    s0 += d[0][k];
                    s1 += d[1][k];
                    s2 += d[2][k];
                }
            else
                for (size_t i = 0; i < n; i++) {
                    uint64_t k = below_fast(st, n, threshold, m);
                    s0 += d[0][k];
                    s1 += nm > 1 ? d[1][k] : 0;
                }
            means[0][r] = s0 / (double)n;
            if (nm > 1)
                means[1][r] = s1 / (double)n;
            if (nm > 2)
                means[2][r] = s2 / (double)n;
        }
        cut = R / 40;
        for (int j = 0; j < nm; j++) {
            qsort(means[j], R, sizeof(double), cmp_double);
            out[j].lo = means[j][cut];
            out[j].hi = means[j][R - 1 - cut];
        }
    }
    for (int j = 0; j < nm; j++) {
        free(d[j]);
        free(means[j]);
    }
    return 0;
}

/* {"a", "b", "diff", "ci95"} of one metric over n PRs (sums sa, sb) with its interval. */
static json_t *metric_doc(double sa, double sb, size_t n, const attn_interval *iv)
{
    return json_pack("{s:o, s:o, s:o, s:o}", "a", num(n ? sa / n : NAN), "b",
                     num(n ? sb / n : NAN), "diff", num(n ? sb / n - sa / n : NAN), "ci95",
                     isfinite(iv->lo) ? json_pack("[o, o]", num(iv->lo), num(iv->hi))
                                      : json_null());
}

/* The routes of run r and router that the top-1 scan kept, or NULL. */
static const cmp_kept *kept_for(const cmp_kept *k, size_t nk, const run_t *r, const char *router)
{
    for (size_t i = 0; i < nk; i++)
        if (k[i].run == r && !strcmp(k[i].router, router))
            return &k[i];
    return NULL;
}

/* Common PR i's side of a flip: its rank and top candidates. */
static json_t *route_side(const ctx_t *c, const run_t *r, size_t ci, const char *router,
                          int rank, int top)
{
    const cmp_kept *k = kept_for(c->kept, c->n_kept, r, router);
    json_t *route = k && k->scanned ? json_incref(k->route[ci]) : load_route(r, c->num[ci], router);
    json_t *cands = json_array(), *side;
    size_t i;
    const json_t *x;
    json_array_foreach(json_object_get(route, "candidates"), i, x) {
        if ((int)i >= top)
            break;
        json_array_append_new(cands, json_pack("{s:O?, s:O?, s:O?}", "target",
                                               json_object_get(x, "target"), "score",
                                               json_object_get(x, "score"), "evidence",
                                               json_object_get(x, "evidence")));
    }
    side = json_pack("{s:s, s:o, s:o}", "router", router, "rank",
                     rank ? json_integer(rank) : json_null(), "top", cands);
    if (!route)
        json_object_set_new(side, "route_missing", json_true());
    json_decref(route);
    return side;
}

static int flip_item(const ctx_t *c, size_t i, const char *ar, const char *br, int rank_a,
                     int rank_b, json_t **out)
{
    json_t *ra = cmp_rows_json(&c->A->rows, c->ca[i]), *rb = cmp_rows_json(&c->B->rows, c->cb[i]);
    long long n = c->num[i];
    const json_t *ta = json_object_get(json_object_get(json_object_get(ra, "truth"), c->primary),
                                       "targets");
    const json_t *tb = json_object_get(json_object_get(json_object_get(rb, "truth"), c->primary),
                                       "targets");
    json_t *it = json_pack("{s:I, s:O?, s:O?, s:o, s:o}", "pr_number", (json_int_t)n, "cutoff",
                           json_object_get(ra, "cutoff"), "truth_targets", ta, "a",
                           route_side(c, c->A, i, ar, rank_a, c->o->top_candidates), "b",
                           route_side(c, c->B, i, br, rank_b, c->o->top_candidates));
    if (!json_equal((json_t *)ta, (json_t *)tb))
        json_object_set(it, "truth_targets_b", (json_t *)tb);
    /* Seed 004: name the prompt sections that changed beside each flip of an
     * LLM router, labelled as what it is. */
    if (it && json_array_size(c->prompt_changed) &&
        (is_llm_router(c->A, ar) || is_llm_router(c->B, br))) {
        json_object_set(it, "prompt_sections_changed", c->prompt_changed);
        json_object_set_new(it, "attribution", json_string("heuristic, not causal"));
    }
    json_decref(ra);
    json_decref(rb);
    *out = it;
    return 0;
}

/* One pair to compare: its per-PR values (filled before the tasks) and its
 * slices' numbers (filled by slice_numbers, which builds no JSON, so it can
 * run on either thread beside the top-1 scans). */
typedef struct {
    const char *a_router, *b_router;
    pr_val *va, *vb;
    int *obs;
    int rc[ATTN_SLICE_N];
    size_t m[ATTN_SLICE_N];
    double sa[ATTN_SLICE_N][3], sb[ATTN_SLICE_N][3];
    attn_interval iv[ATTN_SLICE_N][3];
} pair_work;

/* Slice s of a pair: n and the sums of mrr, hit@1, hit@k of either run
 * with paired-bootstrap intervals. */
static int slice_numbers(const ctx_t *c, pair_work *w, int s, attn_error *err)
{
    size_t n = c->n_common, m = 0;
    int k = c->o->k, nm = k != 1 ? 3 : 2, rc;
    const pr_val *va = w->va, *vb = w->vb;
    double *x[6];

    for (int j = 0; j < 6; j++)
        x[j] = attn_xcalloc(n ? n : 1, sizeof(double));
    for (size_t i = 0; i < n; i++) {
        int nonempty = !va[i].empty && !vb[i].empty;
        if ((s == ATTN_SLICE_OBSERVED && !w->obs[i]) ||
            (s == ATTN_SLICE_ROUTER_NONEMPTY && !nonempty) ||
            (s == ATTN_SLICE_OBSERVED_AND_ROUTER_NONEMPTY && !(w->obs[i] && nonempty)))
            continue;
        x[0][m] = va[i].rank ? 1.0 / va[i].rank : 0;
        x[1][m] = vb[i].rank ? 1.0 / vb[i].rank : 0;
        x[2][m] = va[i].rank == 1;
        x[3][m] = vb[i].rank == 1;
        x[4][m] = va[i].rank >= 1 && va[i].rank <= k;
        x[5][m] = vb[i].rank >= 1 && vb[i].rank <= k;
        m++;
    }
    double *const xa[3] = {x[0], x[2], x[4]}, *const xb[3] = {x[1], x[3], x[5]};
    w->m[s] = m;
    rc = cmp_boot_multi(&c->boot, xa, xb, nm, m, w->iv[s], err);
    for (int j = 0; j < nm; j++) {
        w->sa[s][j] = w->sb[s][j] = 0;
        for (size_t i = 0; i < m; i++) {
            w->sa[s][j] += xa[j][i];
            w->sb[s][j] += xb[j][i];
        }
    }
    for (int j = 0; j < 6; j++)
        free(x[j]);
    return rc;
}

static json_t *slices_doc(const ctx_t *c, const pair_work *w)
{
    int k = c->o->k, nm = k != 1 ? 3 : 2;
    char kname[32];
    static const char *const names[3] = {"mrr", "hit_at_1", NULL};
    json_t *slices = json_object();
    snprintf(kname, sizeof(kname), "hit_at_%d", k);
    for (int s = 0; s < ATTN_SLICE_N; s++) {
        json_t *sl = json_pack("{s:I}", "n", (json_int_t)w->m[s]);
        for (int j = 0; j < nm; j++)
            json_object_set_new(sl, names[j] ? names[j] : kname,
                                metric_doc(w->sa[s][j], w->sb[s][j], w->m[s], &w->iv[s][j]));
        json_object_set_new(slices, attn_slice_name((attn_slice)s), sl);
    }
    return slices;
}

/* The direction of common PR i's flip at hit@kk: 0 hit_to_miss, 1
 * miss_to_hit, -1 none. */
static int flip_dir(const pr_val *va, const pr_val *vb, size_t i, int kk)
{
    int ha = va[i].rank >= 1 && va[i].rank <= kk, hb = vb[i].rank >= 1 && vb[i].rank <= kk;
    return ha && !hb ? 0 : !ha && hb ? 1 : -1;
}

/* hit_to_miss / miss_to_hit of a pair at hit@1 and hit@k. */
static json_t *pair_flips(const ctx_t *c, const pr_val *va, const pr_val *vb, const char *ar,
                          const char *br)
{
    json_t *flips = json_object();
    int k = c->o->k;
    /* A PR that flips at hit@1 and at hit@k is the same item twice (same
     * ranks, same routes): built once, shared. */
    json_t **memo = attn_xcalloc(c->n_common + 1, sizeof(json_t *));
    for (int f = 0; f < 2; f++) {
        int kk = f ? k : 1;
        json_t *dirs[2] = {json_array(), json_array()};
        size_t tot[2] = {0, 0};
        char name[32];
        if (f && k == 1) {
            json_decref(dirs[0]);
            json_decref(dirs[1]);
            break;
        }
        for (size_t i = 0; i < c->n_common; i++) {
            int d = flip_dir(va, vb, i, kk);
            json_t *it;
            if (d < 0)
                continue;
            tot[d]++;
            if (tot[d] > (size_t)c->o->max_flips)
                continue;
            if (!memo[i])
                flip_item(c, i, ar, br, va[i].rank, vb[i].rank, &memo[i]);
            it = memo[i];
            json_array_append(dirs[d], it);
        }
        snprintf(name, sizeof(name), "hit_at_%d", kk);
        json_object_set_new(flips, name,
                            json_pack("{s:{s:I, s:o}, s:{s:I, s:o}}", "hit_to_miss", "total",
                                      (json_int_t)tot[0], "items", dirs[0], "miss_to_hit",
                                      "total", (json_int_t)tot[1], "items", dirs[1]));
    }
    for (size_t i = 0; i < c->n_common; i++)
        json_decref(memo[i]);
    free(memo);
    return flips;
}

/* The kept routes of run r and router, added when new. */
static cmp_kept *kept_add(ctx_t *c, const run_t *r, const char *router)
{
    cmp_kept *k = (cmp_kept *)kept_for(c->kept, c->n_kept, r, router);
    size_t n = c->n_common + 1;
    if (k)
        return k;
    k = &c->kept[c->n_kept++];
    k->run = r;
    k->router = router;
    k->n = n;
    k->keep = attn_xcalloc(n, 1);
    k->route = attn_xcalloc(n, sizeof(*k->route));
    return k;
}

/* Mark the routes pair_flips will show (the first max_flips of each
 * direction at hit@1 and hit@k), so the top-1 scans keep them. */
static void mark_flips(ctx_t *c, const pair_work *w)
{
    cmp_kept *ka = kept_add(c, c->A, w->a_router), *kb = kept_add(c, c->B, w->b_router);
    for (int f = 0; f < (c->o->k == 1 ? 1 : 2); f++) {
        size_t tot[2] = {0, 0};
        for (size_t i = 0; i < c->n_common; i++) {
            int d = flip_dir(w->va, w->vb, i, f ? c->o->k : 1);
            if (d >= 0 && ++tot[d] <= (size_t)c->o->max_flips)
                ka->keep[i] = kb->keep[i] = 1;
        }
    }
}

static void pair_values(const ctx_t *c, pair_work *w)
{
    size_t n = c->n_common;
    w->va = attn_xcalloc(n ? n : 1, sizeof(*w->va));
    w->vb = attn_xcalloc(n ? n : 1, sizeof(*w->vb));
    w->obs = attn_xcalloc(n ? n : 1, sizeof(*w->obs));
    for (size_t i = 0; i < n; i++) {
        pr_value(c->A, c->ca[i], w->a_router, &w->va[i]);
        pr_value(c->B, c->cb[i], w->b_router, &w->vb[i]);
        w->obs[i] = c->A->rows.rows[c->ca[i]].observed && c->B->rows.rows[c->cb[i]].observed;
    }
}

/* ---- histograms ------------------------------------------------------------- */

static void top1_scores(const ctx_t *c, const run_t *r, const char *router, double *scores,
                        int *state)
{
    /* state: 0 = score, 1 = empty, 2 = missing route */
    cmp_top1_scores(r->pack, router, c->num, c->n_common, scores, state,
                    (cmp_kept *)kept_for(c->kept, c->n_kept, r, router));
}

/* One router's top-1 scores in both runs (has[s]: run s has the router). */
typedef struct {
    const char *name; /* a key of the plan's names */
    int has[2];
    double *sc[2];
    int *st[2];
} hist_scan;

typedef struct {
    json_t *names; /* every router name of either run, A's first */
    hist_scan *h;
    size_t n;
} hist_plan;

static void hist_plan_init(const ctx_t *c, hist_plan *p)
{
    const json_t *x;
    size_t i, n = c->n_common;
    const char *name;
    json_t *dummy;
    p->names = json_object();
    for (int s = 0; s < 2; s++)
        json_array_foreach(json_object_get((s ? c->B : c->A)->manifest, "routers"), i, x)
            if (attn_json_str(x, "name"))
                json_object_set_new(p->names, attn_json_str(x, "name"), json_true());
    p->h = attn_xcalloc(json_object_size(p->names) + 1, sizeof(*p->h));
    p->n = 0;
    json_object_foreach(p->names, name, dummy) {
        hist_scan *h = &p->h[p->n++];
        h->name = name;
        h->has[0] = run_router(c->A, name) != NULL;
        h->has[1] = run_router(c->B, name) != NULL;
        for (int s = 0; s < 2; s++) {
            h->sc[s] = attn_xcalloc(n ? n : 1, sizeof(double));
            h->st[s] = attn_xcalloc(n ? n : 1, sizeof(int));
        }
    }
}

static void hist_plan_free(hist_plan *p)
{
    for (size_t i = 0; i < p->n; i++)
        for (int s = 0; s < 2; s++) {
            free(p->h[i].sc[s]);
            free(p->h[i].st[s]);
        }
    free(p->h);
    json_decref(p->names);
}

/* The top-1 scans of run s (s ? B : A), for the histograms and the flips. */
static void hist_scan_run(const ctx_t *c, hist_plan *p, int s)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->h[i].has[s])
            top1_scores(c, s ? c->B : c->A, p->h[i].name, p->h[i].sc[s], p->h[i].st[s]);
}

/* One router's histogram: counts of both runs over shared edges. */
static json_t *histogram(const ctx_t *c, const hist_scan *hs)
{
    size_t i, n = c->n_common;
    int bins = c->o->bins;
    double *const *sc = hs->sc;
    int *const *st = hs->st;
    double max = 0;
    json_t *h = json_object(), *edges = json_array();
    for (int s = 0; s < 2; s++)
        for (i = 0; hs->has[s] && i < n; i++)
            if (!st[s][i] && isfinite(sc[s][i]) && sc[s][i] > max)
                max = sc[s][i];
    for (int b = 0; b <= bins; b++)
        json_array_append_new(edges, json_real(max * b / bins));
    for (int s = 0; s < 2; s++) {
        json_t *counts;
        long long cnt[1024] = {0}, empty = 0, missing = 0, scored = 0;
        if (!hs->has[s]) {
            json_object_set_new(h, s ? "b" : "a", json_null());
            continue;
        }
        counts = json_array();
        for (i = 0; i < n; i++) {
            int b;
            if (st[s][i] == 1) {
                empty++;
                continue;
            }
            if (st[s][i] == 2) {
                missing++;
                continue;
            }
            scored++;
            b = max > 0 && sc[s][i] > 0 ? (int)(sc[s][i] / max * bins) : 0;
            cnt[b >= bins ? bins - 1 : b]++;
        }
        for (int b = 0; b < bins; b++)
            json_array_append_new(counts, json_integer(cnt[b]));
        json_object_set_new(h, s ? "b" : "a",
                            json_pack("{s:I, s:I, s:I, s:o}", "n", (json_int_t)scored, "empty",
                                      (json_int_t)empty, "missing", (json_int_t)missing,
                                      "counts", counts));
    }
    json_object_set_new(h, "max", json_real(max));
    json_object_set_new(h, "edges", edges);
    return h;
}

static json_t *histograms(const ctx_t *c, const hist_plan *p)
{
    json_t *out = json_object();
    for (size_t i = 0; i < p->n; i++)
        json_object_set_new(out, p->h[i].name, histogram(c, &p->h[i]));
    return out;
}

/* ---- the document ---------------------------------------------------------- */

static json_t *run_ident(const run_t *r)
{
    const json_t *cohort = json_object_get(r->manifest, "cohort");
    return json_pack("{s:s, s:O?, s:O?, s:s, s:s, s:I}", "run_id", r->run_id, "inputs_hash",
                     json_object_get(r->manifest, "inputs_hash"), "cohort_hash",
                     json_object_get(cohort, "hash"), "pr_cutoffs_hash", r->cutoffs_hash,
                     "primary_policy", r->primary, "n", (json_int_t)r->rows.n_rows);
}

static const char *short_val(const json_t *v, char *buf, size_t cap)
{
    if (json_is_string(v))
        snprintf(buf, cap, "%.16s", json_string_value(v));
    else
        snprintf(buf, cap, "%s", json_is_null(v) || !v ? "none" : "?");
    return buf;
}

/* Cohort, cutoffs and primary policy: each difference goes to warnings and
 * to why (empty when the runs are comparable). */
static void check_compat(const run_t *A, const run_t *B, attn_buf *why, json_t *warnings)
{
    const json_t *ca = json_object_get(json_object_get(A->manifest, "cohort"), "hash");
    const json_t *cb = json_object_get(json_object_get(B->manifest, "cohort"), "hash");
    if (!json_equal((json_t *)(ca ? ca : json_null()), (json_t *)(cb ? cb : json_null()))) {
        char s1[24], s2[24];
        attn_buf_printf(why, "%scohort hash differs (%s vs %s)", why->len ? "; " : "",
                        short_val(ca, s1, sizeof(s1)), short_val(cb, s2, sizeof(s2)));
        json_array_append_new(warnings, json_sprintf("cohort hash differs (%s vs %s)",
                                                     short_val(ca, s1, sizeof(s1)),
                                                     short_val(cb, s2, sizeof(s2))));
    }
    if (strcmp(A->cutoffs_hash, B->cutoffs_hash)) {
        attn_buf_printf(why, "%spr_cutoffs differ (hash %.16s vs %.16s)", why->len ? "; " : "",
                        A->cutoffs_hash, B->cutoffs_hash);
        json_array_append_new(warnings, json_sprintf("pr_cutoffs differ (hash %.16s vs %.16s)",
                                                     A->cutoffs_hash, B->cutoffs_hash));
    }
    if (strcmp(A->primary, B->primary)) {
        attn_buf_printf(why, "%sprimary truth policy differs (%s vs %s)", why->len ? "; " : "",
                        A->primary, B->primary);
        json_array_append_new(warnings, json_sprintf("primary truth policy differs (%s vs %s)",
                                                     A->primary, B->primary));
    }
}

/* The prompt diff panel (NULL when neither run has a prompt bundle); sets
 * c->prompt_changed when both have one. */
static json_t *prompt_panel(ctx_t *c)
{
    const json_t *pa = run_prompt(c->A), *pb = run_prompt(c->B), *p;
    json_t *diff, *side;
    if (pa && pb) {
        if ((diff = attn_prompt_diff_snapshots(pa, pb))) {
            c->prompt_changed = json_incref(json_object_get(diff, "changed_sections"));
            json_object_set_new(diff, "attribution",
                                json_string("per-PR flips of LLM routers list the changed "
                                            "sections: heuristic attribution, not causality"));
        }
        return diff;
    }
    if (!pa && !pb)
        return NULL;
    p = pa ? pa : pb;
    side = json_pack("{s:s?, s:s?, s:s?}", "name", attn_json_str(p, "name"), "version",
                     attn_json_str(p, "version"), "prompt_hash", attn_json_str(p, "prompt_hash"));
    diff = json_pack("{s:o, s:o, s:b, s:[], s:{}, s:s}", "a", pa ? json_incref(side) : json_null(),
                     "b", pb ? json_incref(side) : json_null(), "same", 0, "changed_sections",
                     "sections", "note", "only one run has a prompt bundle");
    json_decref(side);
    return diff;
}

/* The common PRs (A's rows whose number B has, B's last row of it) and the
 * warnings about PR sets and top_k. */
static void build_common(ctx_t *c, const attn_compare_opts *o, json_t *warnings)
{
    const cmp_rows *ra = &c->A->rows, *rb = &c->B->rows;
    attn_map64 bidx = ATTN_MAP64_INIT;
    int64_t ta = attn_json_i64(c->A->manifest, "top_k", 0);
    int64_t tb = attn_json_i64(c->B->manifest, "top_k", 0);
    for (size_t i = 0; i < rb->n_rows; i++) /* a later row of a number wins, as before */
        attn_map64_put(&bidx, (uint64_t)rb->rows[i].number, (uint32_t)i);
    c->ca = attn_xcalloc(ra->n_rows + 1, sizeof(size_t));
    c->cb = attn_xcalloc(ra->n_rows + 1, sizeof(size_t));
    c->num = attn_xcalloc(ra->n_rows + 1, sizeof(int64_t));
    for (size_t i = 0; i < ra->n_rows; i++) {
        uint32_t j = attn_map64_get(&bidx, (uint64_t)ra->rows[i].number);
        if (j == ATTN_MAP64_NONE)
            continue;
        c->ca[c->n_common] = i;
        c->cb[c->n_common] = j;
        c->num[c->n_common++] = ra->rows[i].number;
    }
    attn_map64_free(&bidx);
    if (c->n_common != ra->n_rows || c->n_common != rb->n_rows)
        json_array_append_new(warnings,
                              json_sprintf("PR sets differ: %zu common, %zu only in A, %zu only in B",
                                           c->n_common, ra->n_rows - c->n_common,
                                           rb->n_rows - c->n_common));
    if ((ta && ta < o->k) || (tb && tb < o->k))
        json_array_append_new(warnings, json_sprintf("hit@%d counts only the top %lld "
                                                     "candidates a run kept",
                                                     o->k, (long long)(ta < tb ? ta : tb)));
}

/* Pairs: shared routers, explicit pairs, else the cross product; each pair
 * once, in that order, into w[*nw] with their per-PR values. */
static int build_pairs(const ctx_t *c, const attn_compare_opts *o, pair_work *w, size_t *nw,
                       attn_error *err)
{
    attn_compare_pair_ref list[ATTN_COMPARE_MAX_PAIRS * 4];
    size_t np = 0, i, cap = sizeof(list) / sizeof(list[0]);
    const json_t *x, *y;
    json_t *seen = json_object();
    char buf[256];
    int rc = 0, shared;
    json_array_foreach(json_object_get(c->A->manifest, "routers"), i, x) {
        const char *nm = attn_json_str(x, "name");
        if (nm && run_router(c->B, nm) && np < cap)
            list[np++] = (attn_compare_pair_ref){nm, nm};
    }
    shared = np > 0;
    for (size_t p = 0; p < o->n_pairs; p++) {
        const json_t *xa = run_router(c->A, o->pairs[p].a_router);
        const json_t *xb = run_router(c->B, o->pairs[p].b_router);
        if (!xa || !xb) {
            rc = attn_error_set(err, ATTN_EINVAL, "--pair %s:%s: run %s has no router '%s'",
                                o->pairs[p].a_router, o->pairs[p].b_router,
                                xa ? c->B->run_id : c->A->run_id,
                                xa ? o->pairs[p].b_router : o->pairs[p].a_router);
            goto out;
        }
        if (np < cap)
            list[np++] = (attn_compare_pair_ref){attn_json_str(xa, "name"),
                                                 attn_json_str(xb, "name")};
    }
    if (!shared && !o->n_pairs) {
        size_t j;
        json_array_foreach(json_object_get(c->A->manifest, "routers"), i, x)
            json_array_foreach(json_object_get(c->B->manifest, "routers"), j, y)
                if (attn_json_str(x, "name") && attn_json_str(y, "name") && np < cap)
                    list[np++] = (attn_compare_pair_ref){attn_json_str(x, "name"),
                                                         attn_json_str(y, "name")};
    }
    for (size_t p = 0; p < np; p++) {
        snprintf(buf, sizeof(buf), "%s:%s", list[p].a_router, list[p].b_router);
        if (json_object_get(seen, buf))
            continue;
        json_object_set_new(seen, buf, json_true());
        w[*nw].a_router = list[p].a_router;
        w[*nw].b_router = list[p].b_router;
        pair_values(c, &w[(*nw)++]);
    }
out:
    json_decref(seen);
    return rc;
}

/* ---- two threads ------------------------------------------------------------ */

/* fn(arg) on a second thread while the caller does other work. The two
 * sides share nothing they write, so the result is what running them one
 * after the other gives (and fn runs inline when no thread can start). */
typedef struct {
    pthread_t th;
    int started;
    void (*fn)(void *);
    void *arg;
} side_task;

static void *side_main(void *t)
{
    ((side_task *)t)->fn(((side_task *)t)->arg);
    return NULL;
}

static void side_start(side_task *t, void (*fn)(void *), void *arg)
{
    t->fn = fn;
    t->arg = arg;
    t->started = !pthread_create(&t->th, NULL, side_main, t);
    if (!t->started)
        fn(arg);
}

static void side_join(side_task *t)
{
    if (t->started)
        pthread_join(t->th, NULL);
}

/* The reads and arithmetic of a comparison, taken in order by whichever
 * thread is free: loading run A and run B (tasks 0, 1); then the top-1
 * scans of run A and of run B (2, 3: a run's pack is only read by one
 * thread) and each pair's slices. A task writes only its own slots, so who
 * runs which changes nothing. */
typedef struct {
    const char *dir[2];
    run_t *run[2];
    int load_rc[2];
    attn_error load_err[2];
    const ctx_t *c;
    hist_plan *hp;
    pair_work *w;
    size_t n_tasks;
    atomic_size_t next;
} task_list;

static void tasks_run(void *arg)
{
    task_list *t = arg;
    attn_error e;
    size_t i;
    while ((i = atomic_fetch_add(&t->next, 1)) < t->n_tasks) {
        if (i < 2) {
            t->load_rc[i] = run_load(t->dir[i], t->run[i], &t->load_err[i]);
        } else if (i < 4) {
            hist_scan_run(t->c, t->hp, (int)i - 2);
        } else {
            pair_work *w = &t->w[(i - 4) / ATTN_SLICE_N];
            int s = (int)((i - 4) % ATTN_SLICE_N);
            w->rc[s] = slice_numbers(t->c, w, s, &e);
        }
    }
}

/* Tasks [from, to) of t on this thread and a second one. */
static void tasks_both(task_list *t, size_t from, size_t to)
{
    side_task side;
    t->n_tasks = to;
    atomic_init(&t->next, from);
    side_start(&side, tasks_run, t);
    tasks_run(t);
    side_join(&side);
}

void attn_compare_ranks_free(attn_compare_ranks *r)
{
    for (int s = 0; s < 2; s++) {
        free(r->num[s]);
        free(r->rank[s]);
    }
    memset(r, 0, sizeof(*r));
}

/* The first pair's ranks under A's primary policy: from the rows in
 * memory, or (B under another policy) read again. */
static void first_pair_ranks(const ctx_t *c, const pair_work *w, size_t nw,
                             attn_compare_ranks *rk)
{
    attn_error e;
    memset(rk, 0, sizeof(*rk));
    rk->ok = nw > 0;
    for (int s = 0; s < 2 && rk->ok; s++) {
        const run_t *r = s ? c->B : c->A;
        const char *router = s ? w->b_router : w->a_router;
        int j = cmp_rows_router(&r->rows, router);
        if (j < 0 || strcmp(r->primary, c->primary)) {
            rk->ok = !attn_compare_pr_ranks(r->dir, router, c->primary, &rk->num[s],
                                            &rk->rank[s], &rk->n[s], &e);
            continue;
        }
        rk->n[s] = r->rows.n_rows;
        rk->num[s] = attn_xcalloc(rk->n[s] + 1, sizeof(int64_t));
        rk->rank[s] = attn_xcalloc(rk->n[s] + 1, sizeof(int));
        for (size_t i = 0; i < rk->n[s]; i++) {
            rk->num[s][i] = r->rows.rows[i].number;
            rk->rank[s][i] = r->rows.rank[i * r->rows.n_names + (size_t)j];
        }
    }
    if (!rk->ok)
        attn_compare_ranks_free(rk);
}

int attn_compare_runs(const char *dir_a, const char *dir_b, const attn_compare_opts *o,
                      json_t **out, attn_error *err)
{
    return attn_compare_runs_ranks(dir_a, dir_b, o, out, NULL, err);
}

/* Both runs load at once, then two threads share the top-1 scans and the
 * bootstraps (task_list); the JSON is built on this thread afterwards, in
 * one order, so the document does not depend on the threads. */
int attn_compare_runs_ranks(const char *dir_a, const char *dir_b, const attn_compare_opts *o,
                            json_t **out, attn_compare_ranks *ranks, attn_error *err)
{
    run_t A, B;
    ctx_t c;
    json_t *warnings = json_array(), *pairs = json_array(), *doc = NULL, *prompt_diff = NULL;
    json_t *flips[ATTN_COMPARE_MAX_PAIRS * 4] = {NULL}, *cdiff = NULL, *hist = NULL;
    pair_work *w = attn_xcalloc(ATTN_COMPARE_MAX_PAIRS * 4, sizeof(*w));
    size_t nw = 0;
    attn_buf why = ATTN_BUF_INIT;
    task_list tl = {.dir = {dir_a, dir_b}, .run = {&A, &B}};
    hist_plan hp = {NULL, NULL, 0};
    int rc;

    *out = NULL;
    memset(&c, 0, sizeof(c));
    if (ranks)
        memset(ranks, 0, sizeof(*ranks));
    tasks_both(&tl, 0, 2);
    for (int s = 0; s < 2; s++) /* A's error first, as when they load in turn */
        if ((rc = tl.load_rc[s])) {
            *err = tl.load_err[s];
            goto out;
        }
    if (o->k < 1 || o->bins < 1 || o->bins > 1000 || o->max_flips < 0) {
        rc = attn_error_set(err, ATTN_EINVAL, "compare: k >= 1, 1 <= bins <= 1000, max_flips >= 0");
        goto out;
    }
    check_compat(&A, &B, &why, warnings);
    if (why.len && !o->force) {
        rc = attn_error_set(err, ATTN_ECONFLICT,
                            "runs %s and %s are not comparable: %s; pass --force to compare anyway",
                            A.run_id, B.run_id, why.ptr);
        goto out;
    }
    c.A = &A;
    c.B = &B;
    prompt_diff = prompt_panel(&c);
    c.primary = A.primary;
    c.o = o;
    attn_bootstrap_options_init(&c.boot);
    {
        const json_t *bo = json_object_get(A.manifest, "bootstrap");
        int64_t rs = attn_json_i64(bo, "resamples", 0);
        c.boot.resamples = rs > 0 && rs <= 1000000 ? (int)rs : 1000;
        c.boot.seed = (uint64_t)attn_json_i64(bo, "seed", 42);
    }
    build_common(&c, o, warnings);
    if ((rc = build_pairs(&c, o, w, &nw, err)))
        goto out;

    c.kept = attn_xcalloc(2 * nw + 1, sizeof(*c.kept));
    for (size_t p = 0; p < nw; p++)
        mark_flips(&c, &w[p]); /* the scans keep the routes the flips show */
    hist_plan_init(&c, &hp);
    tl.c = &c;
    tl.hp = &hp;
    tl.w = w;
    tasks_both(&tl, 2, 4 + nw * ATTN_SLICE_N);
    for (size_t p = 0; p < nw; p++)
        for (int sl = 0; sl < ATTN_SLICE_N; sl++)
            if (w[p].rc[sl]) { /* the first failure again, for its message */
                rc = slice_numbers(&c, &w[p], sl, err);
                goto out;
            }
    hist = histograms(&c, &hp);
    for (size_t p = 0; p < nw; p++)
        flips[p] = pair_flips(&c, w[p].va, w[p].vb, w[p].a_router, w[p].b_router);
    cdiff = config_diff(&A, &B);
    for (size_t p = 0; p < nw; p++) {
        json_array_append_new(pairs, json_pack("{s:s, s:s, s:o, s:o}", "a_router",
                                               w[p].a_router, "b_router", w[p].b_router,
                                               "slices", slices_doc(&c, &w[p]), "flips",
                                               flips[p]));
        flips[p] = NULL;
    }

    /* the manifest's run_id and truth.primary were checked when it was read */
    doc = attn_xcheck(json_pack(
        "{s:s, s:s, s:o, s:o, s:b, s:b, s:O, s:o, s:s, s:I, s:{s:i, s:I}, s:I, s:I, s:I, s:O, s:o}",
        "kind", "compare", "version", ATTN_COMPARE_VERSION, "a", run_ident(&A), "b", run_ident(&B),
        "compatible", !why.len, "forced", o->force && why.len, "warnings", warnings,
        "config_diff", cdiff, "primary_policy", A.primary, "k", (json_int_t)o->k, "bootstrap",
        "resamples", c.boot.resamples, "seed", (json_int_t)c.boot.seed, "n_common",
        (json_int_t)c.n_common, "only_in_a", (json_int_t)(A.rows.n_rows - c.n_common), "only_in_b",
        (json_int_t)(B.rows.n_rows - c.n_common), "pairs", pairs, "histograms", hist));
    cdiff = hist = NULL; /* "o" took them */
    if (prompt_diff)
        attn_xcheck_rc(json_object_set(doc, "prompt_diff", prompt_diff));
    if (ranks)
        first_pair_ranks(&c, w, nw, ranks);
    *out = doc;
out:
    json_decref(prompt_diff);
    json_decref(c.prompt_changed);
    json_decref(cdiff);
    json_decref(hist);
    attn_buf_free(&why);
    json_decref(warnings);
    json_decref(pairs);
    for (size_t p = 0; p < nw; p++) {
        json_decref(flips[p]);
        free(w[p].va);
        free(w[p].vb);
        free(w[p].obs);
    }
    free(w);
    hist_plan_free(&hp);
    for (size_t k = 0; k < c.n_kept; k++)
        cmp_kept_free(&c.kept[k]);
    free(c.kept);
    free(c.ca);
    free(c.cb);
    free(c.num);
    run_free(&A);
    run_free(&B);
    return rc;
}

int attn_compare_write(const char *out_dir, const json_t *cmp, attn_error *err)
{
    attn_buf js = ATTN_BUF_INIT, md = ATTN_BUF_INIT;
    char path[4400];
    int rc;
    if ((rc = attn_fs_mkdirs(out_dir, err)))
        return rc;
    if (attn_json_dump_pretty(cmp, &js)) {
        rc = attn_error_set(err, ATTN_EINVAL, "compare.json: a value cannot be written as JSON");
        goto out;
    }
    attn_compare_markdown(cmp, &md);
    snprintf(path, sizeof(path), "%s/compare.json", out_dir);
    if ((rc = attn_fs_write_atomic(path, js.ptr, js.len, err)))
        goto out;
    snprintf(path, sizeof(path), "%s/compare.md", out_dir);
    rc = attn_fs_write_atomic(path, md.ptr, md.len, err);
out:
    attn_buf_free(&js);
    attn_buf_free(&md);
    return rc;
}
