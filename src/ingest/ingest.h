/*
 * ingest.h - live ingestion from the GitHub REST API (SPEC §4): `attn ingest`,
 * `attn incremental`, `attn pull-requests`, `attn renormalize`.
 *
 * Two phases.
 *
 * Phase 1, FETCH, walks the request plan and stores every API object raw in
 * object_snapshots (archive.h). Each page is one transaction holding its
 * objects together with the cursor that says where to continue, so kill -9
 * at any instant followed by the same command resumes exactly:
 *   - watermarks(resource): updated_at = high-water mark of the last complete
 *     walk (max updated_at; created_at for issue events), etag/last_modified
 *     = validators of that walk's first page, cursor = JSON of a walk in
 *     progress ({"next": url, "page": n, "hw": .., "etag": .., "gap": 0|1}),
 *     NULL at rest.
 *   - ingestion_checkpoints(flow, stage): a "run" row (started_at, since)
 *     marks an unfinished run of that flow; a stage row with completed_at is
 *     skipped on resume; "pr_todo" holds the PR numbers whose per-PR data must
 *     be fetched, "pr_details" how many of them are done. All rows of the flow
 *     are deleted when the run completes, so the next run starts afresh (the
 *     old system's "resume skips everything forever" defect).
 * Request plan, in order: GET /repos/o/r; /labels; /milestones?state=all;
 * /pulls?state=all&sort=updated&direction=desc (incremental stops below the
 * watermark); /issues?state=all&sort=updated&direction=asc[&since=];
 * /issues/comments[?since=]; /pulls/comments[?since=]; /issues/events walked
 * newest first down to the watermark; then per PR whose updated_at changed
 * (or is new) only /pulls/N/reviews and /pulls/N/files (3,000 files =
 * files_truncated). `incremental` sends the stored ETag / Last-Modified on
 * the first page of every list, so an unchanged repository costs only 304s.
 * `pull-requests` lists /pulls and /issues by created desc and stops past the
 * window; per PR it fetches files, and with --with-truth also reviews,
 * /issues/N/events, /issues/N/comments and /pulls/N/comments.
 *
 * Gaps: a page that fails for good (404/410/422, retries exhausted,
 * malformed JSON, or empty with a next link) becomes an ingestion_gaps row
 * (resource, url, page, pull_request_number for per-PR data, detail) plus one
 * stderr warning, and the walk goes on at the next page when the URL has a
 * page number, else the list stops there. A list walk with a gap does not
 * advance its watermark, so the next incremental asks again. Gaps do not make
 * the command fail: exit status 0, a warning per gap and "gaps N" in the
 * summary. Gaps heal: the next run fetches again the per-PR lists of every
 * PR with an open gap, and a list walked to its end without a gap (or
 * answered 304) resolves that list's gaps; resolved_at is set. While a store
 * has open gaps its phase 2 corrects events derived from the incomplete
 * source (store.h attn_store_correct_event), so after a clean rerun the store
 * equals one that never had the gap. Errors that would make every later request fail too (401,
 * rate-limit wait over --max-wait, the repository request) stop the run at its
 * checkpoint with exit 1; rerunning resumes.
 *
 * Phase 2, NORMALIZE, reads the archived objects whose payload changed in
 * this run (fetched_at >= the run's start), grouped by issue number in
 * number order, and feeds them in parts through attn_bundle_apply_part — the
 * same grouping `attn load` uses, so a live fetch and a bundle load of the
 * same history give the same rows — one transaction per part. Then intervals
 * are rebuilt: fully for `ingest`, scoped to the changed issues and PRs
 * otherwise. Phase 2 is idempotent (event keys), so `attn renormalize` runs it
 * over the whole archive without a single request.
 *
 * Must never: print or store the token; write an event outside phase 2;
 * commit objects of a page without the cursor that follows them.
 */
#ifndef ATTN_INGEST_INGEST_H
#define ATTN_INGEST_INGEST_H

#include <stdint.h>
#include "ingest/normalize.h"
#include "store/store.h"
#include "util/error.h"

typedef enum {
    ATTN_INGEST_FULL,         /* attn ingest */
    ATTN_INGEST_INCREMENTAL,  /* attn incremental */
    ATTN_INGEST_WINDOW        /* attn pull-requests */
} attn_ingest_flow;

typedef struct {
    const char *repo;         /* "owner/name" */
    const char *api_url;      /* NULL = https://api.github.com */
    const char *token;        /* may be NULL; never printed */
    int64_t since;            /* ingest --since, ATTN_NULL_I64 when absent */
    int64_t from, end_at;     /* pull-requests window [from, end_at) */
    int with_truth;
    int64_t max_wait_s;       /* < 0: client default */
    int64_t deadline_s;       /* <= 0: client default (300 s without an answer per request) */
    int progress;             /* 0 none, 1 live line (tty), 2 a line every 10 s (util/progress.h) */
    int verbose;              /* log every request on stderr (github/client.h) */
    int quiet;                /* no gap warnings */
} attn_ingest_options;

typedef struct {
    int64_t requests, not_modified, pages, objects, objects_changed, gaps;
    int64_t gaps_resolved;    /* earlier gaps this run healed */
    int64_t prs_listed, prs_fetched, numbers_normalized;
    int64_t rate_remaining;
    double duration_s;
    attn_norm_stats norm;
    attn_rebuild_stats rebuild;
} attn_ingest_report;

/* Run phase 1 then phase 2 of `flow` against the store of o->repo. */
int attn_ingest_run(attn_store *s, attn_ingest_flow flow, const attn_ingest_options *o,
                    attn_ingest_report *rep, attn_error *err);

/* Phase 2 alone over the whole archive, then a full interval rebuild. */
int attn_ingest_renormalize(attn_store *s, const char *repo, attn_ingest_report *rep,
                            attn_error *err);

/* Phase 2 for the archived objects of the issue numbers `numbers` (sorted,
 * distinct) of repository repo_id, with a scoped interval rebuild: what the
 * webhook writer runs after archiving a delivery (ar: the store's open
 * archive). Inside the caller's open
 * transaction when there is one, else one transaction per part. */
struct attn_archive;
int attn_ingest_normalize_numbers(attn_store *s, struct attn_archive *ar, int64_t repo_id,
                                  const int64_t *numbers, size_t n, attn_ingest_report *rep,
                                  attn_error *err);

#endif
