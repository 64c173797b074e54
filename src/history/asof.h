/*
 * asof.h - a pull request's state as of a cutoff (SPEC §5), from events and
 * intervals only.
 *
 * Owns: the PR snapshot and its leak_risk list. Must never: read a mutable
 * "latest" column (title, body, state, draft, head, base, labels... of the
 * pull_requests/issues rows) or any row whose time is after the cutoff. The
 * only entity columns read are immutable ones: ids, number, author id and
 * created_at, plus names (logins, label names, team slugs) to render ids.
 */
#ifndef ATTN_HISTORY_ASOF_H
#define ATTN_HISTORY_ASOF_H

#include <stdint.h>
#include <jansson.h>
#include "store/store.h"
#include "util/error.h"

/* leak_risk names (sorted in the output). */
#define ATTN_LEAK_BODY_OBSERVED "body_observed_at_ingestion"
#define ATTN_LEAK_DRAFT_OBSERVED "draft_observed_at_ingestion"
#define ATTN_LEAK_HEAD_OBSERVED "head_sha_observed_at_ingestion"
#define ATTN_LEAK_HEAD_UNKNOWN "head_sha_unknown"
#define ATTN_LEAK_BASE_OBSERVED "base_sha_observed_at_ingestion"
#define ATTN_LEAK_BASE_UNKNOWN "base_sha_unknown"
#define ATTN_LEAK_FILES_LATER "files_from_later_head"
#define ATTN_LEAK_FILES_OBSERVED "files_observed_at_ingestion"
#define ATTN_LEAK_FILES_UNKNOWN "files_unknown_at_cutoff"
#define ATTN_LEAK_CONTENT_MISSING "content_unknown"

/* A reader keeps its prepared statements across snapshots (use one per
 * store for a cohort); the two plain functions below open one per call. */
typedef struct attn_asof_reader attn_asof_reader;
int attn_asof_reader_open(attn_store *s, attn_asof_reader **out, attn_error *err);
void attn_asof_reader_free(attn_asof_reader *r);
/* By default a snapshot whose head at the cutoff has no stored file list
 * gets changed_files [] and leak_risk files_unknown_at_cutoff: the lists
 * stored are those of later heads, fetched after the cutoff. allow = 1 shows
 * the latest head's list instead, flagged files_from_later_head (for people
 * inspecting a PR, never for routing: it breaks the leakage rule). */
void attn_asof_reader_allow_later_files(attn_asof_reader *r, int allow);
int attn_asof_reader_pr_created_at(attn_asof_reader *r, int64_t repo_id, int64_t pr_number,
                                   int64_t *created_at, attn_error *err);
int attn_asof_reader_pr_snapshot(attn_asof_reader *r, int64_t repo_id, int64_t pr_number,
                                 int64_t as_of, json_t **out, attn_error *err);

/* PR created_at (the default cutoff). ATTN_ENOTFOUND for an unknown number. */
int attn_asof_pr_created_at(attn_store *s, int64_t repo_id, int64_t pr_number,
                            int64_t *created_at, attn_error *err);

/* The snapshot object: repo, number, pull_request_id, issue_id, author,
 * created_at, as_of, state (open|closed|merged|null), title, body, draft,
 * base_ref, base_sha, head_ref, head_sha, labels[], assignees[], milestone,
 * changed_files[{path,status,additions,deletions,changes}],
 * review_requests[{type,name}], leak_risk[]. ATTN_ENOTFOUND when the PR is
 * unknown or created after as_of. *out is new; json_decref it. */
int attn_asof_pr_snapshot(attn_store *s, int64_t repo_id, int64_t pr_number, int64_t as_of,
                          json_t **out, attn_error *err);

#endif
