/*
 * archive.h - the raw archive of API objects (object_snapshots, SPEC §4).
 *
 * Owns: compressing (zstd) and storing each fetched API object under
 * (resource, source_id), reading them back, and telling the caller whether a
 * put changed anything. Source ids of objects that belong to an issue number
 * start with the number zero-padded to ATTN_ARCHIVE_NUM_DIGITS digits
 * ("0000000042" for a PR or issue, "0000000042/0000000000012345678" for its
 * events and comments), so the archive can be read back grouped by number,
 * in number order, without decompressing anything.
 *
 * Must never: interpret objects (normalizers do) or open transactions (the
 * caller's page transaction covers the put and the cursor together).
 */
#ifndef ATTN_INGEST_ARCHIVE_H
#define ATTN_INGEST_ARCHIVE_H

#include <jansson.h>
#include <stdint.h>
#include "store/store.h"
#include "util/error.h"

#define ATTN_ARCHIVE_NUM_DIGITS 10

typedef struct attn_archive attn_archive;

int attn_archive_open(attn_store *s, attn_archive **out, attn_error *err);
void attn_archive_close(attn_archive *a);

/* Store obj (serialized compact with sorted keys, so equal objects give equal
 * bytes). fetched_at is only moved when the payload changed, which is what
 * phase 2 uses to find the numbers that need normalizing. *changed (may be
 * NULL) is 1 when the row is new or its payload differs. */
int attn_archive_put(attn_archive *a, const char *resource, const char *source_id,
                     const char *etag, int64_t fetched_at, const json_t *obj, int *changed,
                     attn_error *err);

/* The stored object or *out = NULL when absent. Caller decrefs. */
int attn_archive_get(attn_archive *a, const char *resource, const char *source_id, json_t **out,
                     attn_error *err);

/* Call fn for each object of `resource` with lo <= source_id < hi (NULL =
 * unbounded), in source_id order. fn borrows obj. */
typedef int (*attn_archive_fn)(void *ctx, const char *source_id, json_t *obj, attn_error *err);
int attn_archive_scan(attn_archive *a, const char *resource, const char *lo, const char *hi,
                      attn_archive_fn fn, void *ctx, attn_error *err);

/* Source ids: "%010lld" for a number, "%010lld/%019lld" for (number, id). */
void attn_archive_num_id(char *out, size_t cap, int64_t number);
void attn_archive_num_sub_id(char *out, size_t cap, int64_t number, int64_t id);

#endif
