/*
 * doctor.c - readiness checks of a store for an evaluation (see doctor.h).
 *
 * Read-only: SQL SELECTs, the as-of reader, truth evaluation and the pinned
 * file store's manifests. Every count is over the PRs given, in their
 * order; lists of PR numbers are capped so the report stays readable.
 */
#include "exp/doctor.h"
#include "eval/horizon.h"
#include "eval/cutoff.h"
#include "eval/truth.h"
#include "history/asof.h"
#include "store/pinned.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/time.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIST_CAP 20

typedef struct {
    json_t *checks;
    int failures, warnings;
} report;

static void add(report *r, const char *name, const char *status, json_t *message,
                const char *advice, json_t *details)
{
    if (!strcmp(status, "fail"))
        r->failures++;
    else if (!strcmp(status, "warn"))
        r->warnings++;
    json_array_append_new(r->checks,
                          json_pack("{s:s, s:s, s:o, s:s, s:o}", "name", name, "status", status,
                                    "message", message ? message : json_string(""), "advice",
                                    advice ? advice : "", "details",
                                    details ? details : json_object()));
}

static void push_capped(json_t *arr, int64_t n)
{
    if (json_array_size(arr) < LIST_CAP)
        json_array_append_new(arr, json_integer(n));
}

static int64_t scalar_i64(sqlite3 *db, const char *sql, int64_t repo_id)
{
    sqlite3_stmt *st;
    int64_t v = ATTN_NULL_I64;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return v;
    sqlite3_bind_int64(st, 1, repo_id);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* 1 when a truth result's window end is at or before its horizon. */
static int window_within_horizon(const json_t *tr)
{
    int64_t we, h;
    attn_error e;
    const char *ws = json_string_value(json_object_get(tr, "window_end"));
    const char *hs = json_string_value(
        json_object_get(json_object_get(tr, "diagnostics"), "horizon"));
    return ws && hs && !attn_time_parse(ws, &we, &e) && !attn_time_parse(hs, &h, &e) && we <= h;
}

/* Comma list of the first numbers of arr for a message ("#1, #5, ..."). */
static void numbers_text(const json_t *arr, size_t total, char *buf, size_t cap)
{
    size_t i, len = 0;
    const json_t *x;
    buf[0] = 0;
    json_array_foreach(arr, i, x) {
        if (i == 5)
            break;
        len += snprintf(buf + len, len < cap ? cap - len : 0, "%s#%lld", i ? ", " : "",
                        (long long)json_integer_value(x));
    }
    if (total > 5 && len < cap)
        snprintf(buf + len, cap - len, ", ...");
}

int attn_doctor_run(const attn_doctor_opts *o, json_t **out, attn_error *err)
{
    sqlite3 *db = attn_store_db(o->store);
    attn_cutoff_policy cpol;
    attn_truth_policy tpol;
    attn_cutoff_resolver *res = NULL;
    attn_asof_reader *rd = NULL;
    attn_truth_ctx *tc = NULL;
    report R = {json_array(), 0, 0};
    json_t *missing_prs = json_array(), *no_cutoff = json_array(), *stale = json_array();
    json_t *shas = json_object(), *no_base = json_array(), *leaks = json_object();
    json_t *status_counts = json_object(), *gap_prs = json_array(), *unknown_prs = json_array();
    int64_t repo_id, horizon, last_run, n_qa;
    size_t n_missing = 0, n_no_cutoff = 0, n_stale = 0, n_no_base = 0, n_eval = 0;
    size_t n_window_in = 0, n_unknown = 0, n_gap_prs = 0;
    char ts[ATTN_TIME_BUFSZ], msg[512], nums[128], umsg[400];
    int rc, unfinished = 0;

    *out = NULL;
    if ((rc = attn_cutoff_policy_parse(o->cutoff_policy ? o->cutoff_policy : "created_at", &cpol,
                                       err)))
        goto out;
    if ((rc = o->truth ? attn_truth_policy_parse(o->truth, &tpol, err)
                       : attn_truth_policy_default(ATTN_TRUTH_FIRST_RESPONSE, &tpol, err)))
        goto out;
    if ((rc = attn_store_repo_id(o->store, o->repo, &repo_id, err)))
        goto out;

    /* horizon and ingestion */
    if ((rc = attn_eval_horizon(o->store, repo_id, &horizon, err)))
        goto out;
    if (horizon == ATTN_NULL_I64)
        add(&R, "horizon", "fail", json_string("the store holds no events for this repository"),
            "load or ingest the repository first (attn load / attn ingest)", NULL);
    else if (attn_time_format(horizon, ts))
        add(&R, "horizon", "ok", json_sprintf("store horizon %s (latest event)", ts), NULL,
            json_pack("{s:s}", "horizon", ts));
    /* The instant that matters is when the last whole-repository run
     * started: the store is complete up to then (truth horizons use it).
     * Its finish, or the start of the last process of a resumed run, is
     * later, and printing it overstated how current the store is. */
    last_run = scalar_i64(db,
                          "SELECT coalesce(json_extract(summary_json, '$.started_at'),"
                          " created_at - CAST(coalesce(json_extract(summary_json,"
                          " '$.duration_s'), 0) + 0.999999 AS INTEGER)) FROM qa_reports WHERE repo_id = ? AND "
                          "json_extract(summary_json, '$.flow') IN ('ingest', 'incremental') "
                          "ORDER BY id DESC LIMIT 1",
                          repo_id);
    n_qa = scalar_i64(db, "SELECT count(*) FROM qa_reports WHERE repo_id = ?", repo_id);
    if ((rc = attn_store_unfinished_ingest(o->store, repo_id, &unfinished, umsg, sizeof(umsg),
                                           err)))
        goto out;
    if (unfinished)
        add(&R, "ingestion", "fail", json_string(umsg),
            "rerun the ingestion command named above; it resumes at its checkpoint", NULL);
    else if (last_run != ATTN_NULL_I64 && attn_time_format(last_run, ts))
        /* ts formatted first: argument evaluation order is unspecified */
        add(&R, "ingestion", "ok",
            json_sprintf("the store is complete up to %s (start of the last whole-repository "
                         "ingestion run)",
                         ts),
            NULL, json_pack("{s:s, s:I}", "last_run", ts, "qa_reports", (json_int_t)n_qa));
    else
        add(&R, "ingestion", "ok",
            json_string(n_qa > 0 ? "no whole-repository ingestion run recorded (window runs only): "
                                   "truth horizons come from each PR's own activity"
                                 : "no ingestion run recorded (store loaded from a bundle)"),
            NULL, json_pack("{s:I}", "qa_reports", (json_int_t)(n_qa > 0 ? n_qa : 0)));

    if ((rc = attn_cutoff_resolver_open(o->store, repo_id, &res, err)) ||
        (rc = attn_asof_reader_open(o->store, &rd, err)) ||
        (rc = attn_truth_ctx_open(o->store, repo_id, &tc, err)))
        goto out;
    {
        sqlite3_stmt *gq = NULL;
        if (sqlite3_prepare_v2(db,
                               "SELECT count(*) FROM ingestion_gaps WHERE repo_id = ? AND "
                               "pull_request_number = ? AND resolved_at IS NULL",
                               -1, &gq, NULL) != SQLITE_OK) {
            rc = attn_error_set(err, ATTN_EDB, "doctor: %s", sqlite3_errmsg(db));
            goto out;
        }
        for (size_t i = 0; i < o->n_prs; i++) {
            int64_t num = o->prs[i].number, cut = o->prs[i].cutoff;
            json_t *snap = NULL, *tr = NULL;
            const json_t *x;
            const char *sha, *st;
            size_t j;
            attn_error e;

            if (cut == ATTN_NULL_I64) {
                int r2 = attn_cutoff_resolver_get(res, num, &cpol, &cut, &e);
                if (r2 == ATTN_ENOTFOUND) {
                    n_missing++;
                    push_capped(missing_prs, num);
                    continue;
                }
                if (r2) {
                    n_no_cutoff++;
                    push_capped(no_cutoff, num);
                    continue;
                }
            }
            if (attn_eval_cutoff_stale(horizon, cut)) {
                n_stale++;
                push_capped(stale, num);
            }
            rc = attn_asof_reader_pr_snapshot(rd, repo_id, num, cut, &snap, &e);
            if (rc == ATTN_ENOTFOUND) {
                rc = 0;
                n_missing++;
                push_capped(missing_prs, num);
                continue;
            }
            if (rc) {
                *err = e;
                sqlite3_finalize(gq);
                goto out;
            }
            n_eval++;
            json_array_foreach(json_object_get(snap, "leak_risk"), j, x) {
                const char *k = json_string_value(x);
                if (k)
                    json_object_set_new(leaks, k,
                                        json_integer(json_integer_value(json_object_get(leaks, k)) + 1));
            }
            sha = json_string_value(json_object_get(snap, "base_sha"));
            if (!sha) {
                n_no_base++;
                push_capped(no_base, num);
            } else if (!json_object_get(shas, sha)) {
                json_object_set_new(shas, sha, json_integer(num));
            }
            json_decref(snap);

            if ((rc = attn_truth_eval(tc, num, cut, &tpol, &tr, err)))
                goto out_gq;
            st = json_string_value(json_object_get(tr, "status"));
            if (st)
                json_object_set_new(status_counts, st,
                                    json_integer(json_integer_value(json_object_get(status_counts, st)) + 1));
            if (st && !strcmp(st, ATTN_TRUTH_UNKNOWN)) {
                n_unknown++;
                push_capped(unknown_prs, num);
            }
            if (window_within_horizon(tr))
                n_window_in++;
            json_decref(tr);

            sqlite3_reset(gq);
            sqlite3_bind_int64(gq, 1, repo_id);
            sqlite3_bind_int64(gq, 2, num);
            if (sqlite3_step(gq) == SQLITE_ROW && sqlite3_column_int64(gq, 0) > 0) {
                n_gap_prs++;
                push_capped(gap_prs, num);
            }
            continue;
        out_gq:
            sqlite3_finalize(gq);
            goto out;
        }
        sqlite3_finalize(gq);
    }

    /* prs */
    if (n_missing || n_no_cutoff) {
        numbers_text(n_missing ? missing_prs : no_cutoff, n_missing ? n_missing : n_no_cutoff,
                     nums, sizeof(nums));
        add(&R, "prs", "fail",
            json_sprintf("%zu PR(s) unknown to the store, %zu without a cutoff under %s (%s)",
                         n_missing, n_no_cutoff, cpol.id, nums),
            "check the cohort's repository, or ingest those PRs (attn pull-requests)",
            json_pack("{s:I, s:O, s:I, s:O}", "unknown", (json_int_t)n_missing, "unknown_prs",
                      missing_prs, "no_cutoff", (json_int_t)n_no_cutoff, "no_cutoff_prs",
                      no_cutoff));
    } else {
        add(&R, "prs", "ok", json_sprintf("%zu PRs, every one in the store with a cutoff (%s)",
                                          o->n_prs, cpol.id),
            NULL, NULL);
    }
    /* stale */
    if (n_stale) {
        numbers_text(stale, n_stale, nums, sizeof(nums));
        snprintf(msg, sizeof(msg), "%zu PR(s) have cutoffs after the store horizon (%s)", n_stale,
                 nums);
        add(&R, "stale", "fail", json_string(msg),
            "update the store (attn incremental) or end the cohort earlier; eval refuses stale "
            "cutoffs unless --allow-stale",
            json_pack("{s:I, s:O}", "n", (json_int_t)n_stale, "prs", stale));
    } else {
        add(&R, "stale", "ok", json_string("no cutoff is after the store horizon"), NULL, NULL);
    }
    /* pins */
    {
        size_t n_sha = json_object_size(shas), unpinned = 0, no_co = 0;
        json_t *unpinned_list = json_array();
        const char *sha;
        json_t *v;
        json_object_foreach(shas, sha, v) {
            char *text = NULL;
            size_t len;
            attn_error e;
            if (!attn_pinned_has(o->repo_dir, sha)) {
                /* The legacy location counts as pinned too (pinned.h). */
                int r2 = attn_pinned_codeowners(o->repo_dir, sha, &text, &len, NULL, 0, &e);
                free(text);
                if (r2 == 0 || r2 == 1) {
                    if (r2 == 1)
                        no_co++;
                    continue;
                }
                unpinned++;
                if (json_array_size(unpinned_list) < LIST_CAP)
                    json_array_append_new(unpinned_list,
                                          json_pack("{s:s, s:O}", "base_sha", sha, "pr", v));
                continue;
            }
            if (attn_pinned_codeowners(o->repo_dir, sha, &text, &len, NULL, 0, &e) == 1)
                no_co++;
            free(text);
        }
        json_t *det = json_pack("{s:I, s:I, s:I, s:I, s:o, s:O}", "base_shas", (json_int_t)n_sha,
                                "unpinned", (json_int_t)unpinned, "without_codeowners",
                                (json_int_t)no_co, "prs_without_base_sha", (json_int_t)n_no_base,
                                "unpinned_shas", unpinned_list, "prs_without_base", no_base);
        if (unpinned) {
            char adv[256];
            snprintf(adv, sizeof(adv), "run `attn pin --repo %s` (the codeowners router reads "
                                       "CODEOWNERS at each base SHA)",
                     o->repo);
            add(&R, "pins", "warn",
                json_sprintf("%zu of %zu base SHA(s) have no pinned CODEOWNERS; %zu PR(s) have no "
                             "base SHA at the cutoff",
                             unpinned, n_sha, n_no_base),
                adv, det);
        } else if (n_no_base) {
            add(&R, "pins", "warn",
                json_sprintf("every base SHA is pinned (%zu, %zu without CODEOWNERS), but %zu PR(s) "
                             "have no base SHA at the cutoff",
                             n_sha, no_co, n_no_base),
                "those PRs get no CODEOWNERS routing", det);
        } else {
            add(&R, "pins", "ok",
                json_sprintf("all %zu base SHA(s) pinned (%zu without a CODEOWNERS file)", n_sha,
                             no_co),
                NULL, det);
        }
    }
    /* truth */
    {
        json_t *det = json_pack("{s:s, s:O, s:I, s:I, s:O}", "policy", tpol.spec, "statuses",
                                status_counts, "window_within_horizon", (json_int_t)n_window_in,
                                "unknown_ingestion_gap", (json_int_t)n_unknown, "unknown_prs",
                                unknown_prs);
        double share = n_eval ? (double)n_window_in / (double)n_eval : 0;
        json_t *m = json_sprintf("%s: %zu of %zu PRs have their window end within the horizon "
                                 "(%.0f%%); %zu unknown_ingestion_gap",
                                 tpol.spec, n_window_in, n_eval, 100 * share, n_unknown);
        if (n_eval && n_unknown * 5 > n_eval)
            add(&R, "truth", "fail", m,
                "update the store (attn incremental) or end the cohort earlier so labels are final",
                det);
        else if (n_unknown)
            add(&R, "truth", "warn", m,
                "labels of those PRs are unknown; update the store or resolve the gaps", det);
        else
            add(&R, "truth", "ok", m, NULL, det);
    }
    /* gaps */
    {
        sqlite3_stmt *st;
        json_t *by_res = json_object();
        int64_t n_repo = 0;
        if (sqlite3_prepare_v2(db,
                               "SELECT resource, count(*) FROM ingestion_gaps WHERE repo_id = ? AND "
                               "pull_request_number IS NULL AND resolved_at IS NULL "
                               "GROUP BY resource ORDER BY resource",
                               -1, &st, NULL) != SQLITE_OK) {
            json_decref(by_res);
            rc = attn_error_set(err, ATTN_EDB, "doctor: %s", sqlite3_errmsg(db));
            goto out;
        }
        sqlite3_bind_int64(st, 1, repo_id);
        while (sqlite3_step(st) == SQLITE_ROW) {
            json_object_set_new(by_res, (const char *)sqlite3_column_text(st, 0),
                                json_integer(sqlite3_column_int64(st, 1)));
            n_repo += sqlite3_column_int64(st, 1);
        }
        sqlite3_finalize(st);
        json_t *det = json_pack("{s:I, s:o, s:I, s:O}", "repo_level", (json_int_t)n_repo,
                                "repo_level_by_resource", by_res, "cohort_prs_with_gaps",
                                (json_int_t)n_gap_prs, "prs", gap_prs);
        if (n_repo || n_gap_prs)
            add(&R, "gaps", "warn",
                json_sprintf("%lld unresolved repository-level gap(s); %zu cohort PR(s) with "
                             "unresolved gaps",
                             (long long)n_repo, n_gap_prs),
                "re-run the ingestion (attn ingest resumes and retries gaps)", det);
        else
            add(&R, "gaps", "ok", json_string("no unresolved ingestion gaps"), NULL, det);
    }
    /* leak risk */
    {
        static const char *const serious[] = {ATTN_LEAK_FILES_UNKNOWN, ATTN_LEAK_BASE_UNKNOWN,
                                              ATTN_LEAK_HEAD_UNKNOWN};
        attn_buf b = ATTN_BUF_INIT;
        int64_t bad = 0;
        for (size_t s = 0; s < 3; s++) {
            int64_t c = json_integer_value(json_object_get(leaks, serious[s]));
            if (c) {
                attn_buf_printf(&b, "%s%s %lld", b.len ? ", " : "", serious[s], (long long)c);
                bad += c;
            }
        }
        if (bad)
            add(&R, "leak_risk", "warn",
                json_sprintf("snapshots at the cutoffs lack data: %s (of %zu PRs)", b.ptr, n_eval),
                /* After an API ingest, "ingest with the API" is what was just
                 * done: a backfill sees only each PR's final head and files.
                 * What helps then is recording them as they change. */
                last_run != ATTN_NULL_I64
                    ? "routers see less than a live reviewer would: a backfill sees only each "
                      "PR's final head and file list; run attn incremental on a schedule so "
                      "later PRs' heads and files are recorded as they change"
                    : "routers see less than a live reviewer would; ingest with the API (attn "
                      "ingest) to record heads and file lists as they happened",
                json_incref(leaks));
        else
            add(&R, "leak_risk", "ok",
                json_sprintf("no snapshot lacks files or SHAs at its cutoff (%zu flags of data "
                             "observed at ingestion time)",
                             json_object_size(leaks)),
                NULL, json_incref(leaks));
        attn_buf_free(&b);
    }

    *out = json_pack("{s:s, s:I, s:b, s:i, s:i, s:O}", "repo", o->repo, "n_prs",
                     (json_int_t)o->n_prs, "ready", R.failures == 0, "failures", R.failures,
                     "warnings", R.warnings, "checks", R.checks);
out:
    attn_cutoff_resolver_free(res);
    attn_asof_reader_free(rd);
    attn_truth_ctx_free(tc);
    json_decref(R.checks);
    json_decref(missing_prs);
    json_decref(no_cutoff);
    json_decref(stale);
    json_decref(shas);
    json_decref(no_base);
    json_decref(leaks);
    json_decref(status_counts);
    json_decref(gap_prs);
    json_decref(unknown_prs);
    return rc;
}
