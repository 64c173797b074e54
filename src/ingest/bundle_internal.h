/*
 * bundle_internal.h - what the two bundle loaders share (bundle.c loads a
 * parsed tree, bundle_stream.c a file read as a stream).
 *
 * Owns the one definition of a bundle "group" (everything normalized with one
 * issue number) and of the checks and stamps both loaders apply, so the two
 * paths cannot drift: the same bundle gives the same rows, in the same order,
 * whichever path loads it. Nothing outside src/ingest/bundle*.c includes it.
 */
#ifndef ATTN_INGEST_BUNDLE_INTERNAL_H
#define ATTN_INGEST_BUNDLE_INTERNAL_H

#include "ingest/bundle.h"

typedef struct {
    int64_t number;
    const json_t *pr, *issue, *reviews, *files;
    json_t *events, *review_comments, *issue_comments;   /* owned arrays */
} attn_bundle_group;

/* A PR or issue the normalizers can store faithfully: a positive integer
 * number and a string (or absent) title; *number gets the number. */
int attn_bundle_check_item(const json_t *v, const char *list, size_t i, int64_t *number,
                           attn_error *err);
/* Normalize one group: its PR (or issue) with its events, reviews and files,
 * then its review comments and issue comments. */
int attn_bundle_apply_group(attn_norm_ctx *ctx, const attn_bundle_group *g, attn_error *err);
/* When team memberships were seen (never the wall clock). */
int64_t attn_bundle_observed_at(const json_t *bundle);
/* The number an issue event belongs to: its issue's number, else its URL's. */
int64_t attn_bundle_event_number(const json_t *ev);

/* The transaction of a load: begin, the bulk path when the store holds no
 * event yet (ctx->first_load), body, the events indexes, a full interval
 * rebuild (stats->rebuild), commit; on any failure a rollback, so the store
 * is as it was. */
typedef int (*attn_bundle_body)(attn_norm_ctx *ctx, void *arg, attn_error *err);
int attn_bundle_load_tx(attn_store *s, attn_norm_ctx *ctx, attn_bundle_body body, void *arg,
                        attn_bundle_stats *stats, attn_error *err);

#endif
