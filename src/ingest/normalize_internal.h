/*
 * normalize_internal.h - helpers shared by the normalize_*.c files (not API).
 *
 * Owns the event emission (stats, keys), required-field checks with messages
 * that name the object, and the ctx lookup caches. Nothing outside
 * src/ingest/ includes this.
 */
#ifndef ATTN_INGEST_NORMALIZE_INTERNAL_H
#define ATTN_INGEST_NORMALIZE_INTERNAL_H

#include "ingest/normalize.h"
#include "util/json.h"
#include "util/time.h"

#define NORM_KEY_MAX 160

/* Event emission. payload is stolen (may be NULL). Object type NULL = none. */
typedef struct {
    int64_t occurred_at, actor_id;
    const char *subject_type;
    int64_t subject_id;
    const char *event_type, *object_type;
    int64_t object_id;
    const char *commit_sha;
    json_t *payload;
    char key[NORM_KEY_MAX];
} norm_event;

void norm_event_init(norm_event *e);
int norm_emit(attn_norm_ctx *ctx, norm_event *e, attn_error *err);

/* Required integer field: error names `what` (e.g. "pull request #12"). */
int norm_req_i64(const json_t *obj, const char *key, const char *what, int64_t *out,
                 attn_error *err);
/* Time field; a malformed value is an error naming `what`. required: NULL is an error. */
int norm_time(const json_t *obj, const char *key, const char *what, int required,
              int64_t *out, attn_error *err);
/* Upsert the user under key (object or null); *id = ATTN_NULL_I64 when absent. */
int norm_user_at(attn_norm_ctx *ctx, const json_t *obj, const char *key, int64_t *id,
                 attn_error *err);

/* Lookup caches (normalize_ctx.c). */
void norm_map_note_number(attn_norm_ctx *ctx, int64_t number, int64_t issue_id,
                          int64_t pull_request_id, const char *head_sha);
/* The PR's current head ref (from its object, this ctx only; NULL if unknown). */
void norm_map_note_head_ref(attn_norm_ctx *ctx, int64_t number, const char *head_ref);
const char *norm_map_head_ref(attn_norm_ctx *ctx, int64_t number);
int norm_map_pr_head(attn_norm_ctx *ctx, int64_t number, const char **head_sha,
                     attn_error *err);
void norm_map_note_label(attn_norm_ctx *ctx, const char *name, int64_t id);
int norm_map_label_id(attn_norm_ctx *ctx, const char *name, int64_t *id, attn_error *err);
void norm_map_note_milestone(attn_norm_ctx *ctx, const char *title, int64_t id);
int norm_map_milestone_id(attn_norm_ctx *ctx, const char *title, int64_t *id,
                          attn_error *err);

/* 1 if user id was already upserted through ctx, else records it and returns 0
 * (memory runs out only by exiting, util/alloc.h). */
int norm_map_user_seen(attn_norm_ctx *ctx, int64_t id);
/* A first load (ctx->first_load) remembers which issues it gave a synthesized
 * close, so dropping one (when the real close arrives) needs no search of an
 * events table whose subject index is not built yet: no other can exist. */
void norm_map_note_synth_close(attn_norm_ctx *ctx, int64_t issue_id);
int norm_map_may_have_synth_close(attn_norm_ctx *ctx, int64_t issue_id);

/* Issue events: ordering by (created_at, id), earliest event of a name. */
int norm_event_earlier(const json_t *a, const json_t *b);
const json_t *norm_earliest_named(const json_t *events, const char *name);
/* Issue row + creation events + synthesized close (normalize_issue.c). */
int norm_issue_core(attn_norm_ctx *ctx, const json_t *issue, const json_t *events,
                    attn_error *err);

/* Upsert the labels, assignees and milestone embedded in an issue or PR. */
int norm_embedded_catalogue(attn_norm_ctx *ctx, const json_t *obj, const char *what,
                            attn_error *err);

/* Event name helpers. */
int norm_is_draft_event(const char *name, int *is_draft_after);

#endif
