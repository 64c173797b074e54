/*
 * ingest_internal.h - what phase 1 (ingest.c: fetching) calls in phase 2
 * (ingest_normalize.c: archive -> tables). Not for use outside src/ingest.
 */
#ifndef ATTN_INGEST_INTERNAL_H
#define ATTN_INGEST_INTERNAL_H

#include "ingest/ingest.h"
#include "ingest/archive.h"

/* Normalize the archived groups of `numbers` (sorted); full: a whole-history
 * run, heal: the store had gaps (derived events are corrected). */
int ingest_normalize_numbers(attn_store *s, attn_archive *ar, int64_t repo_id,
                             const int64_t *numbers, size_t n, int full, int heal,
                             attn_ingest_report *rep, attn_error *err);

/* Numbers whose archived objects changed at or after since (ATTN_NULL_I64: all). */
int ingest_dirty_numbers(attn_store *s, int64_t since, int64_t **out, size_t *n,
                         attn_error *err);

/* ingest.c: an item's time field (0 with *t = ATTN_NULL_I64 when absent or bad),
 * and a monotonic clock for durations. */
int ingest_item_time(const json_t *v, const char *key, int64_t *t);
double ingest_mono_now(void);

#endif
