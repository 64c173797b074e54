/*
 * cutoff.c - cutoff policies: parsing and per-PR resolution (see cutoff.h).
 */
#include "eval/cutoff.h"
#include "util/alloc.h"
#include "eval/duration.h"
#include "history/asof.h"
#include "util/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PLUS_PREFIX "created_at+"

static const char *SQL_PR_ID = "SELECT id FROM pull_requests WHERE repo_id = ?1 AND number = ?2";
/* Every draft interval of the PR; the rule of cutoff.h is applied in C. */
static const char *SQL_DRAFT =
    "SELECT is_draft, start_at, end_at FROM pull_request_draft_intervals"
    " WHERE pull_request_id = ?1 ORDER BY start_at, id";

int attn_cutoff_policy_parse(const char *text, attn_cutoff_policy *out, attn_error *err)
{
    memset(out, 0, sizeof(*out));
    if (!text)
        text = "";
    if (!strcmp(text, "created_at") || !strcmp(text, "ready_for_review")) {
        out->kind = text[0] == 'c' ? ATTN_CUTOFF_CREATED_AT : ATTN_CUTOFF_READY_FOR_REVIEW;
        snprintf(out->id, sizeof(out->id), "%s", text);
        return 0;
    }
    if (!strncmp(text, PLUS_PREFIX, strlen(PLUS_PREFIX))) {
        char buf[ATTN_EVAL_DURATION_BUFSZ];
        int64_t off;
        int rc = attn_eval_duration_parse(text + strlen(PLUS_PREFIX), "cutoff offset", &off, err);
        if (rc)
            return attn_error_wrap(err, "cutoff policy '%s'", text);
        if (off == 0) {
            snprintf(out->id, sizeof(out->id), "created_at");
            return 0;
        }
        out->kind = ATTN_CUTOFF_CREATED_AT_PLUS;
        out->offset_seconds = off;
        snprintf(out->id, sizeof(out->id), PLUS_PREFIX "%s", attn_eval_duration_format(off, buf));
        return 0;
    }
    return attn_error_set(err, ATTN_EINVAL,
                          "unknown cutoff policy '%s': use created_at, created_at+<N>[smhd] "
                          "(e.g. created_at+30m) or ready_for_review",
                          text);
}

json_t *attn_cutoff_policy_json(const attn_cutoff_policy *p)
{
    json_t *params = json_object();
    if (p->kind == ATTN_CUTOFF_CREATED_AT_PLUS)
        json_object_set_new(params, "offset_seconds", json_integer(p->offset_seconds));
    return json_pack("{s:s, s:s, s:o}", "id", p->id, "version", ATTN_CUTOFF_POLICY_VERSION,
                     "params", params);
}

int attn_cutoff_policy_hash(const attn_cutoff_policy *p, char hex[65], attn_error *err)
{
    json_t *v = attn_xcheck(attn_cutoff_policy_json(p));
    int rc;
    rc = attn_json_hash(v, hex, err);
    json_decref(v);
    return rc;
}

struct attn_cutoff_resolver {
    attn_store *s;
    int64_t repo_id;
    attn_asof_reader *reader;
    sqlite3_stmt *pr_id, *draft;
};

int attn_cutoff_resolver_open(attn_store *s, int64_t repo_id, attn_cutoff_resolver **out,
                              attn_error *err)
{
    attn_cutoff_resolver *r = attn_xcalloc(1, sizeof(*r));
    sqlite3 *db = attn_store_db(s);
    int rc;
    *out = NULL;
    r->s = s;
    r->repo_id = repo_id;
    if ((rc = attn_asof_reader_open(s, &r->reader, err))) {
        free(r);
        return rc;
    }
    if (sqlite3_prepare_v2(db, SQL_PR_ID, -1, &r->pr_id, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, SQL_DRAFT, -1, &r->draft, NULL) != SQLITE_OK) {
        rc = attn_error_set(err, ATTN_EDB, "%s: cutoff queries: %s", attn_store_path(s),
                            sqlite3_errmsg(db));
        attn_cutoff_resolver_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

void attn_cutoff_resolver_free(attn_cutoff_resolver *r)
{
    if (!r)
        return;
    sqlite3_finalize(r->pr_id);
    sqlite3_finalize(r->draft);
    attn_asof_reader_free(r->reader);
    free(r);
}

/* ready_for_review from the draft intervals of the PR (rule in cutoff.h). */
static int ready_at(attn_cutoff_resolver *r, int64_t pr_number, int64_t created_at,
                    int64_t *cutoff, attn_error *err)
{
    sqlite3 *db = attn_store_db(r->s);
    int64_t pr_id = ATTN_NULL_I64, best = ATTN_NULL_I64;
    int any = 0, step;

    sqlite3_reset(r->pr_id);
    sqlite3_bind_int64(r->pr_id, 1, r->repo_id);
    sqlite3_bind_int64(r->pr_id, 2, pr_number);
    step = sqlite3_step(r->pr_id);
    if (step == SQLITE_ROW)
        pr_id = sqlite3_column_int64(r->pr_id, 0);
    sqlite3_reset(r->pr_id);
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        return attn_error_set(err, ATTN_EDB, "cutoff of PR #%lld: %s", (long long)pr_number,
                              sqlite3_errmsg(db));
    if (pr_id == ATTN_NULL_I64)
        return attn_error_set(err, ATTN_ENOTFOUND, "no pull request #%lld in this repository",
                              (long long)pr_number);

    sqlite3_reset(r->draft);
    sqlite3_bind_int64(r->draft, 1, pr_id);
    while ((step = sqlite3_step(r->draft)) == SQLITE_ROW) {
        int is_draft = sqlite3_column_int(r->draft, 0);
        int64_t start = sqlite3_column_int64(r->draft, 1);
        int open_ended = sqlite3_column_type(r->draft, 2) == SQLITE_NULL;
        int64_t end = open_ended ? 0 : sqlite3_column_int64(r->draft, 2);
        int64_t t = start > created_at ? start : created_at;
        any = 1;
        /* The first instant of this interval at or after created_at, if the
         * interval is active there (start <= t < end). */
        if (!is_draft && (open_ended || t < end) && (best == ATTN_NULL_I64 || t < best))
            best = t;
    }
    sqlite3_reset(r->draft);
    if (step != SQLITE_DONE)
        return attn_error_set(err, ATTN_EDB, "draft intervals of PR #%lld: %s",
                              (long long)pr_number, sqlite3_errmsg(db));
    if (!any) {
        *cutoff = created_at;
        return 0;
    }
    if (best == ATTN_NULL_I64)
        return attn_error_set(err, ATTN_CUTOFF_NONE,
                              "PR #%lld is still a draft in the store: cutoff policy "
                              "ready_for_review gives it no cutoff",
                              (long long)pr_number);
    *cutoff = best;
    return 0;
}

int attn_cutoff_resolver_get(attn_cutoff_resolver *r, int64_t pr_number,
                             const attn_cutoff_policy *policy, int64_t *cutoff, attn_error *err)
{
    int64_t created_at = ATTN_NULL_I64;
    int rc;
    *cutoff = ATTN_NULL_I64;
    if ((rc = attn_asof_reader_pr_created_at(r->reader, r->repo_id, pr_number, &created_at,
                                             err)))
        return rc;
    if (created_at == ATTN_NULL_I64)
        return attn_error_set(err, ATTN_ECORRUPT, "PR #%lld has no created_at in the store",
                              (long long)pr_number);
    switch (policy->kind) {
    case ATTN_CUTOFF_CREATED_AT:
        *cutoff = created_at;
        return 0;
    case ATTN_CUTOFF_CREATED_AT_PLUS:
        *cutoff = created_at + policy->offset_seconds;
        return 0;
    case ATTN_CUTOFF_READY_FOR_REVIEW:
        return ready_at(r, pr_number, created_at, cutoff, err);
    }
    return attn_error_set(err, ATTN_EINVAL, "cutoff policy '%s' is not resolvable", policy->id);
}

int attn_cutoff_resolve(attn_store *s, int64_t repo_id, int64_t pr_number,
                        const attn_cutoff_policy *policy, int64_t *cutoff, attn_error *err)
{
    attn_cutoff_resolver *r;
    int rc;
    *cutoff = ATTN_NULL_I64;
    if ((rc = attn_cutoff_resolver_open(s, repo_id, &r, err)))
        return rc;
    rc = attn_cutoff_resolver_get(r, pr_number, policy, cutoff, err);
    attn_cutoff_resolver_free(r);
    return rc;
}
