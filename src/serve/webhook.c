/*
 * webhook.c - POST /webhook: GitHub deliveries into the history store.
 *
 * A delivery is verified (X-Hub-Signature-256, HMAC-SHA256 of the raw body
 * with ATTN_WEBHOOK_SECRET, compared in constant time), then applied under
 * the store's writer lock in ONE transaction: the whole payload goes to the
 * raw archive as resource "webhook" keyed by X-GitHub-Delivery (so a
 * redelivery finds it and is a no-op), the objects it carries go to the
 * archive under the same resources and source ids `attn ingest` uses
 * ("pull", "issue", "pull_reviews", "issue_comment", "review_comment"), and
 * the PR's number is normalized from the archive by ingestion's own phase 2
 * (attn_ingest_normalize_numbers). So the event keys are ingestion's, a later
 * `attn incremental` adds no duplicates, and out-of-order deliveries
 * converge: an object only replaces its archived copy when it is not older
 * (updated_at), and a review that arrives before its PR waits in the archive
 * until the PR's delivery normalizes the number.
 *
 * Group commit: deliveries that arrive together (one per HTTP worker thread)
 * queue up; the first thread to find the writer idle applies all queued
 * deliveries of a repository in one transaction, normalizing each touched
 * number once, and commits with synchronous=FULL; every delivery is answered
 * only after the commit of its batch. One delivery alone is a batch of one.
 * If a batch fails, its deliveries are applied again one per transaction so
 * only the bad one fails.
 *
 * Must never: apply a delivery whose signature does not verify, answer 200
 * before the delivery's transaction is durable on disk, or write outside the
 * transaction.
 */
#include "serve/internal.h"
#include "serve/recommend.h"
#include "ingest/archive.h"
#include "ingest/ingest.h"
#include "store/lock.h"
#include "store/store.h"
#include "util/alloc.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/path.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LOCK_WAIT_MS 5000

static int signature_ok(const attn_server *s, const attn_req *q)
{
    const char *sig = attn_req_header(q, "X-Hub-Signature-256");
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    char hex[2 * EVP_MAX_MD_SIZE + 8];
    if (!sig || strlen(sig) != 71 || strncmp(sig, "sha256=", 7))
        return 0;
    if (!HMAC(EVP_sha256(), s->webhook_secret, (int)strlen(s->webhook_secret),
              (const unsigned char *)q->body, q->body_len, md, &len) || len != 32)
        return 0;
    for (unsigned i = 0; i < len; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    return CRYPTO_memcmp(hex, sig + 7, 64) == 0;
}

static int delivery_id_ok(const char *d)
{
    size_t n = d ? strlen(d) : 0;
    if (!n || n > 64)
        return 0;
    for (; *d; d++)
        if (!((*d >= '0' && *d <= '9') || (*d >= 'a' && *d <= 'z') || (*d >= 'A' && *d <= 'Z') ||
              *d == '-'))
            return 0;
    return 1;
}

/* Is a not older than b by updated_at (missing times count as not older)? */
static int not_older(const json_t *a, const json_t *b)
{
    const char *ta = attn_json_str(a, "updated_at"), *tb = attn_json_str(b, "updated_at");
    return !ta || !tb || strcmp(ta, tb) >= 0; /* ISO 8601 Z instants order as text */
}

/* Archive obj under (kind, sid) unless the archived copy is newer. */
static int put_newer(attn_archive *ar, const char *kind, const char *sid, const json_t *obj,
                     int64_t now, attn_error *err)
{
    json_t *old = NULL;
    int rc;
    if (!json_is_object(obj))
        return 0;
    if ((rc = attn_archive_get(ar, kind, sid, &old, err)))
        return rc;
    if (!old || not_older(obj, old))
        rc = attn_archive_put(ar, kind, sid, NULL, now, obj, NULL, err);
    json_decref(old);
    return rc;
}

/* Only when nothing is archived yet (a review's simplified PR must not
 * replace the full one from pull_request deliveries or ingestion). */
static int put_if_absent(attn_archive *ar, const char *kind, const char *sid, const json_t *obj,
                         int64_t now, attn_error *err)
{
    json_t *old = NULL;
    int rc;
    if (!json_is_object(obj))
        return 0;
    if ((rc = attn_archive_get(ar, kind, sid, &old, err)))
        return rc;
    if (!old)
        rc = attn_archive_put(ar, kind, sid, NULL, now, obj, NULL, err);
    json_decref(old);
    return rc;
}

/* Merge a review into the PR's archived review list (by id, id order); the
 * webhook spells states in lower case, the REST API (and so the archive) in
 * upper case. */
static int put_review(attn_archive *ar, int64_t number, const json_t *review, int64_t now,
                      attn_error *err)
{
    char sid[32], up[64];
    json_t *list = NULL, *next, *r, *copy;
    int64_t id = attn_json_i64(review, "id", -1);
    const char *st = attn_json_str(review, "state");
    size_t i, at;
    int rc;
    attn_archive_num_id(sid, sizeof(sid), number);
    if ((rc = attn_archive_get(ar, "pull_reviews", sid, &list, err)))
        return rc;
    copy = json_deep_copy(review);
    if (st) {
        snprintf(up, sizeof(up), "%s", st);
        for (char *p = up; *p; p++)
            if (*p >= 'a' && *p <= 'z')
                *p = (char)(*p - 32);
        json_object_set_new(copy, "state", json_string(up));
    }
    next = json_array();
    at = (size_t)-1;
    json_array_foreach(list, i, r) {
        int64_t rid = attn_json_i64(r, "id", -1);
        if (rid == id) {
            json_array_append(next, not_older(copy, r) ? copy : r);
            at = i;
            continue;
        }
        if (at == (size_t)-1 && rid > id) {
            json_array_append(next, copy);
            at = i;
        }
        json_array_append(next, r);
    }
    if (at == (size_t)-1)
        json_array_append(next, copy);
    rc = attn_archive_put(ar, "pull_reviews", sid, NULL, now, next, NULL, err);
    json_decref(copy);
    json_decref(next);
    json_decref(list);
    return rc;
}

/* Archive the objects of one delivery; *number is the issue/PR number to
 * normalize (-1: nothing to normalize). */
static int archive_objects(attn_archive *ar, const char *event, const json_t *p, int64_t now,
                           int64_t *number, attn_error *err)
{
    const json_t *pr = json_object_get(p, "pull_request"), *issue = json_object_get(p, "issue");
    char sid[64];
    int rc = 0;
    *number = -1;
    if (!strcmp(event, "pull_request")) {
        *number = attn_json_i64(pr, "number", -1);
        attn_archive_num_id(sid, sizeof(sid), *number);
        return *number < 0 ? 0 : put_newer(ar, "pull", sid, pr, now, err);
    }
    if (!strcmp(event, "pull_request_review") || !strcmp(event, "pull_request_review_comment")) {
        const json_t *c = json_object_get(p, "comment");
        *number = attn_json_i64(pr, "number", -1);
        if (*number < 0)
            return 0;
        attn_archive_num_id(sid, sizeof(sid), *number);
        if ((rc = put_if_absent(ar, "pull", sid, pr, now, err)))
            return rc;
        if (event[19] == 0) /* pull_request_review */
            return json_is_object(json_object_get(p, "review"))
                       ? put_review(ar, *number, json_object_get(p, "review"), now, err)
                       : 0;
        attn_archive_num_sub_id(sid, sizeof(sid), *number, attn_json_i64(c, "id", 0));
        return put_newer(ar, "review_comment", sid, c, now, err);
    }
    if (!strcmp(event, "issue_comment")) {
        const json_t *c = json_object_get(p, "comment");
        *number = attn_json_i64(issue, "number", -1);
        if (*number < 0)
            return 0;
        attn_archive_num_id(sid, sizeof(sid), *number);
        if ((rc = put_newer(ar, "issue", sid, issue, now, err)))
            return rc;
        attn_archive_num_sub_id(sid, sizeof(sid), *number, attn_json_i64(c, "id", 0));
        return put_newer(ar, "issue_comment", sid, c, now, err);
    }
    return 0;
}

typedef struct {
    const char *delivery, *event, *action;
    int duplicate;
    int64_t number;
} delivery_result;

/* Everything of a delivery but the normalization, inside the caller's
 * transaction: the webhook record (or, already there, duplicate = 1), the
 * repository object and the objects the payload carries. */
static int archive_delivery(attn_archive *ar, const json_t *payload, delivery_result *d,
                            attn_error *err)
{
    json_t *old = NULL, *rec;
    const json_t *repo_obj = json_object_get(payload, "repository");
    int64_t now = (int64_t)time(NULL);
    int rc;
    if ((rc = attn_archive_get(ar, "webhook", d->delivery, &old, err)))
        return rc;
    if (old) { /* a redelivery: already applied */
        d->duplicate = 1;
        json_decref(old);
        return 0;
    }
    rec = json_pack("{s:s, s:s, s:O}", "delivery", d->delivery, "event", d->event, "payload",
                    payload);
    rc = attn_archive_put(ar, "webhook", d->delivery, NULL, now, rec, NULL, err);
    json_decref(rec);
    if (rc || (rc = put_if_absent(ar, "repo", "repo", repo_obj, now, err)))
        return rc;
    if (d->action && !strcmp(d->action, "deleted")) /* a deleted comment: recorded only */
        return 0;
    return archive_objects(ar, d->event, payload, now, &d->number, err);
}

/* The repository's row id; a store that holds nothing yet takes it from the
 * payload's repository object (archived above), as ingest does. */
static int repo_id_of(attn_store *st, const char *repo, const json_t *payload, int64_t *id,
                      attn_error *err)
{
    int rc = attn_store_repo_id(st, repo, id, err);
    if (rc == ATTN_ENOTFOUND || (!rc && *id == ATTN_NULL_I64)) {
        *id = attn_json_i64(json_object_get(payload, "repository"), "id", ATTN_NULL_I64);
        rc = 0;
    }
    return rc;
}

/* One delivery waiting for the writer; lives on its HTTP thread's stack. */
typedef struct attn_serve_job {
    const char *repo, *db;
    json_t *payload;
    delivery_result *d;
    attn_error err;
    int rc, done;
    struct attn_serve_job *next;
} job_t;

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Apply jobs (one repository, arrival order) in ONE transaction: archive
 * each, then normalize every touched number once, in number order as ingest
 * does. The normalizers read only the archive, so the tables after the batch
 * are those after applying the deliveries one by one. Any failure rolls the
 * whole batch back (the caller then retries one at a time). */
static int apply_batch(attn_store *st, attn_archive *ar, job_t *jobs, attn_error *err)
{
    attn_ingest_report rep;
    int64_t *nums = NULL, repo_id = ATTN_NULL_I64;
    const json_t *repo_payload = NULL;
    size_t n = 0, cap = 0, k = 0;
    int rc;
    if ((rc = attn_store_begin(st, err)))
        return rc;
    for (job_t *j = jobs; j && !rc; j = j->next) {
        if ((rc = archive_delivery(ar, j->payload, j->d, err)) || j->d->duplicate ||
            j->d->number <= 0)
            continue;
        ATTN_ALLOC_GROW(nums, n + 1, cap);
        nums[n++] = j->d->number;
        if (!repo_payload)
            repo_payload = j->payload;
    }
    if (!rc && n) {
        qsort(nums, n, sizeof(*nums), cmp_i64);
        for (size_t i = 0; i < n; i++)
            if (!k || nums[k - 1] != nums[i])
                nums[k++] = nums[i];
        if (!(rc = repo_id_of(st, jobs->repo, repo_payload, &repo_id, err)))
            rc = attn_ingest_normalize_numbers(st, ar, repo_id, nums, k, &rep, err);
    }
    free(nums);
    if (!rc && !(rc = attn_store_commit(st, err)))
        return 0;
    attn_store_rollback(st);
    for (job_t *j = jobs; j; j = j->next) { /* nothing of the batch was applied */
        j->d->duplicate = 0;
        j->d->number = 0;
    }
    return rc;
}

static int supported(const char *event)
{
    return !strcmp(event, "pull_request") || !strcmp(event, "pull_request_review") ||
           !strcmp(event, "pull_request_review_comment") || !strcmp(event, "issue_comment");
}

/* The open store of repo (opened on first use); under write_mu. Its commits
 * are synchronous=FULL: a delivery is answered only after its batch's commit
 * reached the disk, so nothing acknowledged is lost even to a power cut (the
 * store's default, NORMAL in WAL, survives a crash of the process only).
 * Group commit pays that fsync once per batch, not per delivery. */
static int cached_store(attn_server *s, const char *repo, const char *db, attn_store **out,
                        attn_archive **ar, attn_error *err)
{
    int i, rc;
    for (i = 0; i < s->n_wstores; i++)
        if (!strcmp(s->wstores[i].repo, repo)) {
            *out = s->wstores[i].st;
            *ar = s->wstores[i].ar;
            return 0;
        }
    if ((rc = attn_store_open(db, out, err)))
        return rc;
    if (sqlite3_exec(attn_store_db(*out), "PRAGMA synchronous=FULL", NULL, NULL, NULL) !=
        SQLITE_OK) {
        attn_store_close(*out);
        return attn_error_set(err, ATTN_EDB, "%s: cannot set synchronous=FULL", db);
    }
    if ((rc = attn_archive_open(*out, ar, err))) {
        attn_store_close(*out);
        return rc;
    }
    if (s->n_wstores == (int)(sizeof(s->wstores) / sizeof(s->wstores[0]))) {
        attn_archive_close(s->wstores[0].ar); /* evict the oldest */
        attn_store_close(s->wstores[0].st);
        memmove(s->wstores, s->wstores + 1, sizeof(s->wstores[0]) * (size_t)(s->n_wstores - 1));
        s->n_wstores--;
    }
    snprintf(s->wstores[s->n_wstores].repo, sizeof(s->wstores[0].repo), "%s", repo);
    s->wstores[s->n_wstores].ar = *ar;
    s->wstores[s->n_wstores++].st = *out;
    return 0;
}

static void drop_store(attn_server *s, const char *repo)
{
    for (int i = 0; i < s->n_wstores; i++)
        if (!strcmp(s->wstores[i].repo, repo)) {
            attn_archive_close(s->wstores[i].ar);
            attn_store_close(s->wstores[i].st);
            s->wstores[i] = s->wstores[--s->n_wstores];
            return;
        }
}

void attn_serve_close_stores(attn_server *s)
{
    while (s->n_wstores > 0) {
        s->n_wstores--;
        attn_archive_close(s->wstores[s->n_wstores].ar);
        attn_store_close(s->wstores[s->n_wstores].st);
    }
}

/* The jobs of one repository under its store lock: as one batch, or (one
 * job, or the batch failed) one transaction each, so a bad delivery fails
 * alone with its own error, as before batching. */
static void apply_group(attn_server *s, job_t *jobs)
{
    attn_store_lock *lock = NULL;
    attn_store *st = NULL;
    attn_archive *ar = NULL;
    attn_error err;
    job_t *j, *next;
    int rc;
    attn_error_clear(&err);
    if ((rc = attn_store_lock_acquire(jobs->db, "attn serve webhook", LOCK_WAIT_MS, &lock,
                                      &err))) {
        for (j = jobs; j; j = j->next) {
            j->rc = rc;
            j->err = err;
        }
        return;
    }
    if (jobs->next) {
        if (!(rc = cached_store(s, jobs->repo, jobs->db, &st, &ar, &err)) &&
            !(rc = apply_batch(st, ar, jobs, &err))) {
            for (j = jobs; j; j = j->next)
                j->rc = 0;
            goto out;
        }
        drop_store(s, jobs->repo);
    }
    for (j = jobs; j; j = next) {
        next = j->next;
        j->next = NULL; /* a batch of one */
        attn_error_clear(&j->err);
        if ((j->rc = cached_store(s, j->repo, j->db, &st, &ar, &j->err)) ||
            (j->rc = apply_batch(st, ar, j, &j->err)))
            drop_store(s, j->repo); /* reopened by the next delivery */
        j->next = next;
    }
out:
    attn_store_lock_release(lock);
}

/* Take every queued delivery and apply them, one group per repository (in
 * the order their first delivery arrived); called by the thread that found
 * the writer idle, with q_mu held and q_busy set. */
static void drain(attn_server *s)
{
    job_t *batch = s->q_head, *done = NULL, **done_tail = &done;
    s->q_head = NULL;
    s->q_tail = &s->q_head;
    pthread_mutex_unlock(&s->q_mu);
    pthread_mutex_lock(&s->write_mu);
    while (batch) {
        job_t *mine = NULL, **mt = &mine, *rest = NULL, **rt = &rest, *j, *next;
        for (j = batch; j; j = next) {
            next = j->next;
            j->next = NULL;
            if (!strcmp(j->repo, batch->repo)) {
                *mt = j;
                mt = &j->next;
            } else {
                *rt = j;
                rt = &j->next;
            }
        }
        apply_group(s, mine);
        *done_tail = mine;
        done_tail = mt;
        batch = rest;
    }
    pthread_mutex_unlock(&s->write_mu);
    pthread_mutex_lock(&s->q_mu);
    /* A waiting thread may return (and its job vanish) as soon as done is set. */
    for (job_t *j = done, *next; j; j = next) {
        next = j->next;
        j->done = 1;
    }
    s->q_busy = 0;
    pthread_cond_broadcast(&s->q_cv);
}

/* Queue the delivery and wait until a batch holding it committed (or
 * failed); the first thread to find the writer idle drains the queue. */
static void enqueue_and_wait(attn_server *s, job_t *job)
{
    pthread_mutex_lock(&s->q_mu);
    *s->q_tail = job;
    s->q_tail = &job->next;
    while (!job->done) {
        if (!s->q_busy) {
            s->q_busy = 1;
            drain(s);
        } else {
            pthread_cond_wait(&s->q_cv, &s->q_mu);
        }
    }
    pthread_mutex_unlock(&s->q_mu);
}

static void deliver(attn_server *s, const attn_req *q, json_t *payload, delivery_result *d,
                    attn_resp *r)
{
    const char *repo = attn_json_str(json_object_get(payload, "repository"), "full_name");
    char owner[ATTN_NAME_MAX + 1], name[ATTN_NAME_MAX + 1], db[4400];
    job_t job;
    attn_error err;
    attn_error_clear(&err);
    if (!repo || attn_path_parse_repo(repo, owner, name, &err)) {
        attn_resp_error(r, 400, "bad_payload", "the payload names no valid repository.full_name");
        return;
    }
    if (attn_serve_repo_path(s, repo, "history.sqlite", db, sizeof(db), &err) ||
        !attn_fs_exists(db)) {
        attn_resp_error(r, 404, "repo_not_found",
                        "repository %s has no history store here; run attn init --repo %s", repo,
                        repo);
        return;
    }
    memset(&job, 0, sizeof(job));
    job.repo = repo;
    job.db = db;
    job.payload = payload;
    job.d = d;
    enqueue_and_wait(s, &job);
    if (job.rc == ATTN_ECONFLICT)
        attn_resp_error(r, 503, "store_busy", "%s", job.err.msg);
    else if (job.rc)
        attn_resp_from_err(r, &job.err);
    else {
        if (!d->duplicate && !strcmp(d->event, "pull_request") && d->action &&
            (!strcmp(d->action, "opened") || !strcmp(d->action, "ready_for_review")))
            attn_serve_recommend_pr(s, repo, d->number, d->delivery);
        attn_resp_json(r, 200, json_pack("{s:s, s:s, s:s?, s:b, s:I}", "delivery", d->delivery,
                                         "event", d->event, "action", d->action, "duplicate",
                                         d->duplicate, "number", (json_int_t)d->number));
    }
}

void attn_serve_webhook(attn_server *s, const attn_req *q, attn_resp *r)
{
    delivery_result d;
    json_t *payload;
    json_error_t je;
    memset(&d, 0, sizeof(d));
    if (strcmp(q->method, "POST")) {
        attn_resp_error(r, 405, "method_not_allowed", "deliveries are POSTed");
        return;
    }
    if (!s->webhook_secret[0]) {
        attn_resp_error(r, 403, "webhook_not_configured",
                        "webhooks are disabled: start attn serve with ATTN_WEBHOOK_SECRET set");
        return;
    }
    if (!signature_ok(s, q)) {
        attn_resp_error(r, 401, "bad_signature",
                        "X-Hub-Signature-256 is missing or does not match the body");
        return;
    }
    d.event = attn_req_header(q, "X-GitHub-Event");
    d.delivery = attn_req_header(q, "X-GitHub-Delivery");
    if (!d.event || !delivery_id_ok(d.delivery)) {
        attn_resp_error(r, 400, "bad_delivery",
                        "X-GitHub-Event and X-GitHub-Delivery (1-64 of [A-Za-z0-9-]) are required");
        return;
    }
    if (!(payload = json_loadb(q->body, q->body_len, 0, &je)) || !json_is_object(payload)) {
        json_decref(payload);
        attn_resp_error(r, 400, "invalid_json", "the delivery body is not a JSON object");
        return;
    }
    d.action = attn_json_str(payload, "action");
    if (!strcmp(d.event, "ping"))
        attn_resp_json(r, 200, json_pack("{s:s}", "ok", "pong"));
    else if (!supported(d.event))
        attn_resp_json(r, 202, json_pack("{s:s, s:s}", "ignored", d.event, "delivery", d.delivery));
    else
        deliver(s, q, payload, &d, r);
    json_decref(payload);
}
