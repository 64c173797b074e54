/*
 * cohort.c - cohorts: selection, hashing and validation (cohort.h).
 *
 * Owns: the cohort file format. Must never: accept a cohort whose hash does
 * not match its content (a hand-edited cohort silently changes what a run
 * measures), or recompute cutoffs of a loaded cohort.
 */
#include "exp/cohort.h"
#include "util/alloc.h"
#include "eval/cutoff.h"
#include "util/json.h"
#include "util/prng.h"
#include "util/time.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#define COHORT_VERSION "attn.cohort.v1"

struct attn_cohort {
    json_t *doc;
    int64_t *number, *cutoff;
    size_t n;
    char hash[65];
    char policy[48];
    char repo[256];
};

typedef struct {
    int64_t number, created, cutoff;
} cand;

static int by_number(const void *a, const void *b)
{
    const cand *x = a, *y = b;
    return x->number < y->number ? -1 : x->number > y->number;
}

int attn_cohort_create(attn_store *s, const char *repo, const attn_cohort_filters *f,
                       json_t **out, attn_error *err)
{
    attn_cutoff_policy pol;
    attn_cutoff_resolver *res = NULL;
    sqlite3_stmt *st = NULL;
    cand *pool = NULL;
    size_t n = 0, cap = 0, keep;
    int64_t repo_id;
    json_t *prs = NULL, *doc = NULL;
    char hash[65], ts0[32], ts1[32];
    int rc;

    *out = NULL;
    if (f->end_at <= f->from)
        return attn_error_set(err, ATTN_EINVAL, "cohort window: --end-at must be after --from");
    if (f->limit < 0)
        return attn_error_set(err, ATTN_EINVAL, "cohort limit must be positive");
    if ((rc = attn_cutoff_policy_parse(f->cutoff_policy ? f->cutoff_policy : "created_at", &pol,
                                       err)) ||
        (rc = attn_store_repo_id(s, repo, &repo_id, err)) ||
        (rc = attn_cutoff_resolver_open(s, repo_id, &res, err)))
        return rc;
    if (sqlite3_prepare_v2(attn_store_db(s),
                           "SELECT number, created_at FROM pull_requests WHERE repo_id = ?"
                           " AND created_at >= ? AND created_at < ? ORDER BY created_at, number",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = attn_error_set(err, ATTN_EDB, "selecting the cohort: %s",
                            sqlite3_errmsg(attn_store_db(s)));
        goto out;
    }
    sqlite3_bind_int64(st, 1, repo_id);
    sqlite3_bind_int64(st, 2, f->from);
    sqlite3_bind_int64(st, 3, f->end_at);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        cand c = {sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1), 0};
        rc = attn_cutoff_resolver_get(res, c.number, &pol, &c.cutoff, err);
        if (rc == ATTN_CUTOFF_NONE)
            continue;
        if (rc)
            goto out;
        if (n == cap) {
            pool = attn_xrealloc(pool, attn_st_mult(cap = cap ? 2 * cap : 256, sizeof(*pool)));
        }
        pool[n++] = c;
    }
    if (rc != SQLITE_DONE) {
        rc = attn_error_set(err, ATTN_EDB, "selecting the cohort failed");
        goto out;
    }
    rc = 0;
    if (!n) {
        rc = attn_error_set(err, ATTN_EINVAL, "no PR of %s was created from %s to %s", repo,
                            attn_time_format(f->from, ts0), attn_time_format(f->end_at, ts1));
        goto out;
    }
    keep = f->limit > 0 && (size_t)f->limit < n ? (size_t)f->limit : n;
    if (keep < n && f->has_seed) {
        int *idx = attn_xcalloc(n, sizeof(int));
        cand *picked = attn_xcalloc(keep ? keep : 1, sizeof(*picked));
        attn_prng g;
        for (size_t i = 0; i < n; i++)
            idx[i] = (int)i;
        attn_prng_seed(&g, f->seed);
        attn_prng_shuffle(&g, idx, n);
        for (size_t i = 0; i < keep; i++)
            picked[i] = pool[idx[i]];
        memcpy(pool, picked, keep * sizeof(*pool));
        free(idx);
        free(picked);
    }
    n = keep;
    qsort(pool, n, sizeof(*pool), by_number);
    prs = attn_xcheck(json_array());
    for (size_t i = 0; i < n; i++)
        attn_xcheck_rc(json_array_append_new(
            prs, attn_xcheck(json_pack("{s:I, s:s}", "number", (json_int_t)pool[i].number,
                                       "cutoff", attn_time_format(pool[i].cutoff, ts0)))));
    doc = attn_xcheck(json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:s, s:o, s:o}, s:o}", "kind", "cohort",
                    "version", COHORT_VERSION, "repo", repo, "cutoff_policy", pol.id, "filters",
                    "from", attn_time_format(f->from, ts0), "end_at",
                    attn_time_format(f->end_at, ts1), "limit",
                    f->limit > 0 ? json_integer(f->limit) : json_null(), "seed",
                    f->has_seed ? json_integer((json_int_t)f->seed) : json_null(), "prs", prs));
    prs = NULL;
    if ((rc = attn_json_hash(doc, hash, err)))
        goto out;
    attn_xcheck_rc(json_object_set_new(doc, "hash", attn_xcheck(json_string(hash))));
    *out = doc;
    doc = NULL;
out:
    sqlite3_finalize(st);
    attn_cutoff_resolver_free(res);
    free(pool);
    json_decref(prs);
    json_decref(doc);
    return rc;
}

void attn_cohort_free(attn_cohort *c)
{
    if (!c)
        return;
    json_decref(c->doc);
    free(c->number);
    free(c->cutoff);
    free(c);
}

int attn_cohort_from_json(const json_t *v, const char *what, const char *repo, attn_cohort **out,
                          attn_error *err)
{
    attn_cohort *c;
    json_t *copy;
    const json_t *prs, *p;
    const char *h, *r, *pol;
    char actual[65];
    attn_cutoff_policy cp;
    size_t i;
    int rc;

    *out = NULL;
    if (!json_is_object(v) || strcmp(attn_json_str(v, "kind") ? attn_json_str(v, "kind") : "",
                                     "cohort"))
        return attn_error_set(err, ATTN_EINVAL, "%s is not a cohort (kind must be \"cohort\")",
                              what);
    if (!attn_json_str(v, "version") || strcmp(attn_json_str(v, "version"), COHORT_VERSION))
        return attn_error_set(err, ATTN_EINVAL, "%s: unsupported cohort version (want %s)", what,
                              COHORT_VERSION);
    if (!(h = attn_json_str(v, "hash")))
        return attn_error_set(err, ATTN_EINVAL, "%s: the cohort has no hash", what);
    copy = attn_xcheck(json_deep_copy(v));
    json_object_del(copy, "hash");
    rc = attn_json_hash(copy, actual, err);
    json_decref(copy);
    if (rc)
        return rc;
    if (strcmp(actual, h))
        return attn_error_set(err, ATTN_EINVAL,
                              "%s: hash mismatch (the file says %.12s..., its content hashes to "
                              "%.12s...): the cohort was edited after it was created; recreate "
                              "it with `attn cohort create`",
                              what, h, actual);
    r = attn_json_str(v, "repo");
    pol = attn_json_str(v, "cutoff_policy");
    prs = json_object_get(v, "prs");
    if (!r || !pol || !json_is_array(prs))
        return attn_error_set(err, ATTN_EINVAL, "%s: a cohort needs repo, cutoff_policy and prs",
                              what);
    if (repo && strcmp(r, repo))
        return attn_error_set(err, ATTN_EINVAL, "%s is a cohort of %s, not %s", what, r, repo);
    if ((rc = attn_cutoff_policy_parse(pol, &cp, err)))
        return attn_error_wrap(err, "%s", what);
    c = attn_xcalloc(1, sizeof(*c));
    c->number = attn_xcalloc(json_array_size(prs) + 1, sizeof(int64_t));
    c->cutoff = attn_xcalloc(json_array_size(prs) + 1, sizeof(int64_t));
    json_array_foreach(prs, i, p) {
        json_t *num = json_object_get(p, "number");
        if (!json_is_integer(num) || json_integer_value(num) <= 0 ||
            attn_json_time(p, "cutoff", &c->cutoff[i], err)) {
            attn_cohort_free(c);
            return attn_error_set(err, ATTN_EINVAL, "%s: prs[%zu] needs a number and a cutoff",
                                  what, i);
        }
        c->number[i] = json_integer_value(num);
        if (i && c->number[i] <= c->number[i - 1]) {
            attn_cohort_free(c);
            return attn_error_set(err, ATTN_EINVAL, "%s: prs must be sorted by number without "
                                                    "repeats (at prs[%zu])", what, i);
        }
    }
    c->n = json_array_size(prs);
    if (!c->n) {
        attn_cohort_free(c);
        return attn_error_set(err, ATTN_EINVAL, "%s: the cohort is empty", what);
    }
    snprintf(c->hash, sizeof(c->hash), "%s", h);
    snprintf(c->policy, sizeof(c->policy), "%s", cp.id);
    snprintf(c->repo, sizeof(c->repo), "%s", r);
    c->doc = json_incref((json_t *)v);
    *out = c;
    return 0;
}

int attn_cohort_load(const char *path, const char *repo, attn_cohort **out, attn_error *err)
{
    json_t *v = NULL;
    int rc;
    *out = NULL;
    if ((rc = attn_json_load_file(path, &v, err)))
        return rc;
    rc = attn_cohort_from_json(v, path, repo, out, err);
    json_decref(v);
    return rc;
}

size_t attn_cohort_size(const attn_cohort *c) { return c->n; }

void attn_cohort_pr(const attn_cohort *c, size_t i, int64_t *number, int64_t *cutoff)
{
    *number = c->number[i];
    *cutoff = c->cutoff[i];
}

const char *attn_cohort_hash(const attn_cohort *c) { return c->hash; }
const char *attn_cohort_cutoff_policy(const attn_cohort *c) { return c->policy; }
const char *attn_cohort_repo(const attn_cohort *c) { return c->repo; }
const json_t *attn_cohort_json(const attn_cohort *c) { return c->doc; }
