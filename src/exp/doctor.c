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

/* What the per-PR scan found: counts and the first LIST_CAP numbers of each
 * kind, read by the checks that follow it. */
typedef struct {
    json_t *missing_prs, *no_cutoff, *stale, *shas, *no_base, *leaks, *status_counts, *gap_prs,
        *unknown_prs;
    size_t n_missing, n_no_cutoff, n_stale, n_no_base, n_eval, n_window_in, n_unknown, n_gap_prs;
} tally;

typedef struct {
    const attn_doctor_opts *o;
    sqlite3 *db;
    attn_cutoff_policy cpol;
    attn_truth_policy tpol;
    int64_t repo_id, horizon, last_run;
    report R;
    tally T;
} doctor;

static void count_key(json_t *counts, const char *k)
{
    json_object_set_new(counts, k, json_integer(json_integer_value(json_object_get(counts, k)) + 1));
}

static int check_horizon(doctor *d, attn_error *err)
{
    char ts[ATTN_TIME_BUFSZ];
    int rc = attn_eval_horizon(d->o->store, d->repo_id, &d->horizon, err);
    if (rc)
        return rc;
    if (d->horizon == ATTN_NULL_I64)
        add(&d->R, "horizon", "fail", json_string("the store holds no events for this repository"),
            "load or ingest the repository first (attn load / attn ingest)", NULL);
    else if (attn_time_format(d->horizon, ts))
        add(&d->R, "horizon", "ok", json_sprintf("store horizon %s (latest event)", ts), NULL,
            json_pack("{s:s}", "horizon", ts));
    return 0;
}

static int check_ingestion(doctor *d, attn_error *err)
{
    char ts[ATTN_TIME_BUFSZ], umsg[400];
    int64_t n_qa;
    int rc, unfinished = 0;
    /* The instant that matters is when the last whole-repository run
     * started: the store is complete up to then (truth horizons use it).
     * Its finish, or the start of the last process of a resumed run, is
     * later, and printing it overstated how current the store is. */
    d->last_run = scalar_i64(d->db,
                             "SELECT coalesce(json_extract(summary_json, '$.started_at'),"
                             " created_at - CAST(coalesce(json_extract(summary_json,"
                             " '$.duration_s'), 0) + 0.999999 AS INTEGER)) FROM qa_reports WHERE repo_id = ? AND "
                             "json_extract(summary_json, '$.flow') IN ('ingest', 'incremental') "
                             "ORDER BY id DESC LIMIT 1",
                             d->repo_id);
    n_qa = scalar_i64(d->db, "SELECT count(*) FROM qa_reports WHERE repo_id = ?", d->repo_id);
    if ((rc = attn_store_unfinished_ingest(d->o->store, d->repo_id, &unfinished, umsg,
                                           sizeof(umsg), err)))
        return rc;
    if (unfinished)
        add(&d->R, "ingestion", "fail", json_string(umsg),
            "rerun the ingestion command named above; it resumes at its checkpoint", NULL);
    else if (d->last_run != ATTN_NULL_I64 && attn_time_format(d->last_run, ts))
        /* ts formatted first: argument evaluation order is unspecified */
        add(&d->R, "ingestion", "ok",
            json_sprintf("the store is complete up to %s (start of the last whole-repository "
                         "ingestion run)",
                         ts),
            NULL, json_pack("{s:s, s:I}", "last_run", ts, "qa_reports", (json_int_t)n_qa));
    else
        add(&d->R, "ingestion", "ok",
            json_string(n_qa > 0 ? "no whole-repository ingestion run recorded (window runs only): "
                                   "truth horizons come from each PR's own activity"
                                 : "no ingestion run recorded (store loaded from a bundle)"),
            NULL, json_pack("{s:I}", "qa_reports", (json_int_t)(n_qa > 0 ? n_qa : 0)));
    return 0;
}

/* One PR of the cohort: its cutoff, snapshot, truth and gaps into d->T. */
static int scan_pr(doctor *d, int64_t num, int64_t cut, attn_cutoff_resolver *res,
                   attn_asof_reader *rd, attn_truth_ctx *tc, sqlite3_stmt *gq, attn_error *err)
{
    tally *T = &d->T;
    json_t *snap = NULL, *tr = NULL;
    const json_t *x;
    const char *sha, *st;
    size_t j;
    attn_error e;
    int rc;

    if (cut == ATTN_NULL_I64) {
        int r2 = attn_cutoff_resolver_get(res, num, &d->cpol, &cut, &e);
        if (r2 == ATTN_ENOTFOUND) {
            T->n_missing++;
            push_capped(T->missing_prs, num);
            return 0;
        }
        if (r2) {
            T->n_no_cutoff++;
            push_capped(T->no_cutoff, num);
            return 0;
        }
    }
    if (attn_eval_cutoff_stale(d->horizon, cut)) {
        T->n_stale++;
        push_capped(T->stale, num);
    }
    rc = attn_asof_reader_pr_snapshot(rd, d->repo_id, num, cut, &snap, &e);
    if (rc == ATTN_ENOTFOUND) {
        T->n_missing++;
        push_capped(T->missing_prs, num);
        return 0;
    }
    if (rc) {
        *err = e;
        return rc;
    }
    T->n_eval++;
    json_array_foreach(json_object_get(snap, "leak_risk"), j, x) {
        const char *k = json_string_value(x);
        if (k)
            count_key(T->leaks, k);
    }
    sha = json_string_value(json_object_get(snap, "base_sha"));
    if (!sha) {
        T->n_no_base++;
        push_capped(T->no_base, num);
    } else if (!json_object_get(T->shas, sha)) {
        json_object_set_new(T->shas, sha, json_integer(num));
    }
    json_decref(snap);

    if ((rc = attn_truth_eval(tc, num, cut, &d->tpol, &tr, err)))
        return rc;
    st = json_string_value(json_object_get(tr, "status"));
    if (st)
        count_key(T->status_counts, st);
    if (st && !strcmp(st, ATTN_TRUTH_UNKNOWN)) {
        T->n_unknown++;
        push_capped(T->unknown_prs, num);
    }
    if (window_within_horizon(tr))
        T->n_window_in++;
    json_decref(tr);

    sqlite3_reset(gq);
    sqlite3_bind_int64(gq, 1, d->repo_id);
    sqlite3_bind_int64(gq, 2, num);
    if (sqlite3_step(gq) == SQLITE_ROW && sqlite3_column_int64(gq, 0) > 0) {
        T->n_gap_prs++;
        push_capped(T->gap_prs, num);
    }
    return 0;
}

static int scan_prs(doctor *d, attn_error *err)
{
    attn_cutoff_resolver *res = NULL;
    attn_asof_reader *rd = NULL;
    attn_truth_ctx *tc = NULL;
    sqlite3_stmt *gq = NULL;
    int rc;

    if ((rc = attn_cutoff_resolver_open(d->o->store, d->repo_id, &res, err)) ||
        (rc = attn_asof_reader_open(d->o->store, &rd, err)) ||
        (rc = attn_truth_ctx_open(d->o->store, d->repo_id, &tc, err)))
        goto out;
    if (sqlite3_prepare_v2(d->db,
                           "SELECT count(*) FROM ingestion_gaps WHERE repo_id = ? AND "
                           "pull_request_number = ? AND resolved_at IS NULL",
                           -1, &gq, NULL) != SQLITE_OK) {
        rc = attn_error_set(err, ATTN_EDB, "doctor: %s", sqlite3_errmsg(d->db));
        goto out;
    }
    for (size_t i = 0; i < d->o->n_prs && !rc; i++)
        rc = scan_pr(d, d->o->prs[i].number, d->o->prs[i].cutoff, res, rd, tc, gq, err);
out:
    sqlite3_finalize(gq);
    attn_cutoff_resolver_free(res);
    attn_asof_reader_free(rd);
    attn_truth_ctx_free(tc);
    return rc;
}

static void check_prs(doctor *d)
{
    tally *T = &d->T;
    char nums[128];
    if (T->n_missing || T->n_no_cutoff) {
        numbers_text(T->n_missing ? T->missing_prs : T->no_cutoff,
                     T->n_missing ? T->n_missing : T->n_no_cutoff, nums, sizeof(nums));
        add(&d->R, "prs", "fail",
            json_sprintf("%zu PR(s) unknown to the store, %zu without a cutoff under %s (%s)",
                         T->n_missing, T->n_no_cutoff, d->cpol.id, nums),
            "check the cohort's repository, or ingest those PRs (attn pull-requests)",
            json_pack("{s:I, s:O, s:I, s:O}", "unknown", (json_int_t)T->n_missing, "unknown_prs",
                      T->missing_prs, "no_cutoff", (json_int_t)T->n_no_cutoff, "no_cutoff_prs",
                      T->no_cutoff));
    } else {
        add(&d->R, "prs", "ok",
            json_sprintf("%zu PRs, every one in the store with a cutoff (%s)", d->o->n_prs,
                         d->cpol.id),
            NULL, NULL);
    }
}

static void check_stale(doctor *d)
{
    tally *T = &d->T;
    char msg[512], nums[128];
    if (T->n_stale) {
        numbers_text(T->stale, T->n_stale, nums, sizeof(nums));
        snprintf(msg, sizeof(msg), "%zu PR(s) have cutoffs after the store horizon (%s)",
                 T->n_stale, nums);
        add(&d->R, "stale", "fail", json_string(msg),
            "update the store (attn incremental) or end the cohort earlier; eval refuses stale "
            "cutoffs unless --allow-stale",
            json_pack("{s:I, s:O}", "n", (json_int_t)T->n_stale, "prs", T->stale));
    } else {
        add(&d->R, "stale", "ok", json_string("no cutoff is after the store horizon"), NULL, NULL);
    }
}

static void check_pins(doctor *d)
{
    const attn_doctor_opts *o = d->o;
    tally *T = &d->T;
    size_t n_sha = json_object_size(T->shas), unpinned = 0, no_co = 0;
    json_t *unpinned_list = json_array();
    const char *sha;
    json_t *v;
    json_object_foreach(T->shas, sha, v) {
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
                            (json_int_t)no_co, "prs_without_base_sha", (json_int_t)T->n_no_base,
                            "unpinned_shas", unpinned_list, "prs_without_base", T->no_base);
    if (unpinned) {
        char adv[256];
        snprintf(adv, sizeof(adv), "run `attn pin --repo %s` (the codeowners router reads "
                                   "CODEOWNERS at each base SHA)",
                 o->repo);
        add(&d->R, "pins", "warn",
            json_sprintf("%zu of %zu base SHA(s) have no pinned CODEOWNERS; %zu PR(s) have no "
                         "base SHA at the cutoff",
                         unpinned, n_sha, T->n_no_base),
            adv, det);
    } else if (T->n_no_base) {
        add(&d->R, "pins", "warn",
            json_sprintf("every base SHA is pinned (%zu, %zu without CODEOWNERS), but %zu PR(s) "
                         "have no base SHA at the cutoff",
                         n_sha, no_co, T->n_no_base),
            "those PRs get no CODEOWNERS routing", det);
    } else {
        add(&d->R, "pins", "ok",
            json_sprintf("all %zu base SHA(s) pinned (%zu without a CODEOWNERS file)", n_sha, no_co),
            NULL, det);
    }
}

static void check_truth(doctor *d)
{
    tally *T = &d->T;
    json_t *det = json_pack("{s:s, s:O, s:I, s:I, s:O}", "policy", d->tpol.spec, "statuses",
                            T->status_counts, "window_within_horizon", (json_int_t)T->n_window_in,
                            "unknown_ingestion_gap", (json_int_t)T->n_unknown, "unknown_prs",
                            T->unknown_prs);
    double share = T->n_eval ? (double)T->n_window_in / (double)T->n_eval : 0;
    json_t *m = json_sprintf("%s: %zu of %zu PRs have their window end within the horizon "
                             "(%.0f%%); %zu unknown_ingestion_gap",
                             d->tpol.spec, T->n_window_in, T->n_eval, 100 * share, T->n_unknown);
    if (T->n_eval && T->n_unknown * 5 > T->n_eval)
        add(&d->R, "truth", "fail", m,
            "update the store (attn incremental) or end the cohort earlier so labels are final",
            det);
    else if (T->n_unknown)
        add(&d->R, "truth", "warn", m,
            "labels of those PRs are unknown; update the store or resolve the gaps", det);
    else
        add(&d->R, "truth", "ok", m, NULL, det);
}

static int check_gaps(doctor *d, attn_error *err)
{
    sqlite3_stmt *st;
    json_t *by_res;
    int64_t n_repo = 0;
    if (sqlite3_prepare_v2(d->db,
                           "SELECT resource, count(*) FROM ingestion_gaps WHERE repo_id = ? AND "
                           "pull_request_number IS NULL AND resolved_at IS NULL "
                           "GROUP BY resource ORDER BY resource",
                           -1, &st, NULL) != SQLITE_OK)
        return attn_error_set(err, ATTN_EDB, "doctor: %s", sqlite3_errmsg(d->db));
    by_res = json_object();
    sqlite3_bind_int64(st, 1, d->repo_id);
    while (sqlite3_step(st) == SQLITE_ROW) {
        json_object_set_new(by_res, (const char *)sqlite3_column_text(st, 0),
                            json_integer(sqlite3_column_int64(st, 1)));
        n_repo += sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    json_t *det = json_pack("{s:I, s:o, s:I, s:O}", "repo_level", (json_int_t)n_repo,
                            "repo_level_by_resource", by_res, "cohort_prs_with_gaps",
                            (json_int_t)d->T.n_gap_prs, "prs", d->T.gap_prs);
    if (n_repo || d->T.n_gap_prs)
        add(&d->R, "gaps", "warn",
            json_sprintf("%lld unresolved repository-level gap(s); %zu cohort PR(s) with "
                         "unresolved gaps",
                         (long long)n_repo, d->T.n_gap_prs),
            "re-run the ingestion (attn ingest resumes and retries gaps)", det);
    else
        add(&d->R, "gaps", "ok", json_string("no unresolved ingestion gaps"), NULL, det);
    return 0;
}

static void check_leak_risk(doctor *d)
{
    static const char *const serious[] = {ATTN_LEAK_FILES_UNKNOWN, ATTN_LEAK_BASE_UNKNOWN,
                                          ATTN_LEAK_HEAD_UNKNOWN};
    json_t *leaks = d->T.leaks;
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
        add(&d->R, "leak_risk", "warn",
            json_sprintf("snapshots at the cutoffs lack data: %s (of %zu PRs)", b.ptr, d->T.n_eval),
            /* After an API ingest, "ingest with the API" is what was just
             * done: a backfill sees only each PR's final head and files.
             * What helps then is recording them as they change. */
            d->last_run != ATTN_NULL_I64
                ? "routers see less than a live reviewer would: a backfill sees only each "
                  "PR's final head and file list; run attn incremental on a schedule so "
                  "later PRs' heads and files are recorded as they change"
                : "routers see less than a live reviewer would; ingest with the API (attn "
                  "ingest) to record heads and file lists as they happened",
            json_incref(leaks));
    else
        add(&d->R, "leak_risk", "ok",
            json_sprintf("no snapshot lacks files or SHAs at its cutoff (%zu flags of data "
                         "observed at ingestion time)",
                         json_object_size(leaks)),
            NULL, json_incref(leaks));
    attn_buf_free(&b);
}

int attn_doctor_run(const attn_doctor_opts *o, json_t **out, attn_error *err)
{
    doctor d = {.o = o, .db = attn_store_db(o->store), .R = {json_array(), 0, 0}};
    tally *T = &d.T;
    int rc;

    T->missing_prs = json_array();
    T->no_cutoff = json_array();
    T->stale = json_array();
    T->shas = json_object();
    T->no_base = json_array();
    T->leaks = json_object();
    T->status_counts = json_object();
    T->gap_prs = json_array();
    T->unknown_prs = json_array();
    *out = NULL;
    if ((rc = attn_cutoff_policy_parse(o->cutoff_policy ? o->cutoff_policy : "created_at",
                                       &d.cpol, err)))
        goto out;
    if ((rc = o->truth ? attn_truth_policy_parse(o->truth, &d.tpol, err)
                       : attn_truth_policy_default(ATTN_TRUTH_FIRST_RESPONSE, &d.tpol, err)))
        goto out;
    if ((rc = attn_store_repo_id(o->store, o->repo, &d.repo_id, err)) ||
        (rc = check_horizon(&d, err)) || (rc = check_ingestion(&d, err)) ||
        (rc = scan_prs(&d, err)))
        goto out;
    check_prs(&d);
    check_stale(&d);
    check_pins(&d);
    check_truth(&d);
    if ((rc = check_gaps(&d, err)))
        goto out;
    check_leak_risk(&d);

    *out = json_pack("{s:s, s:I, s:b, s:i, s:i, s:O}", "repo", o->repo, "n_prs",
                     (json_int_t)o->n_prs, "ready", d.R.failures == 0, "failures", d.R.failures,
                     "warnings", d.R.warnings, "checks", d.R.checks);
out:
    json_decref(d.R.checks);
    json_decref(T->missing_prs);
    json_decref(T->no_cutoff);
    json_decref(T->stale);
    json_decref(T->shas);
    json_decref(T->no_base);
    json_decref(T->leaks);
    json_decref(T->status_counts);
    json_decref(T->gap_prs);
    json_decref(T->unknown_prs);
    return rc;
}
