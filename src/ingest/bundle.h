/*
 * bundle.h - loading a GitHub bundle (docs/bundle.md) into the store.
 *
 * Owns: reading and checking a bundle file, grouping its lists by issue
 * number so each PR is normalized with its issue, issue events, reviews and
 * files (see normalize.h for why), the transaction of a load (one, interval
 * rebuild included), and the final interval rebuild. Must never: leave part
 * of a bundle applied, or accept a bundle for another repo.
 */
#ifndef ATTN_INGEST_BUNDLE_H
#define ATTN_INGEST_BUNDLE_H

#include <jansson.h>
#include "ingest/normalize.h"
#include "store/store.h"
#include "util/error.h"

#define ATTN_BUNDLE_FORMAT "attn.github_bundle.v1"

typedef struct {
    int64_t repo_id;
    attn_norm_stats norm;
    attn_rebuild_stats rebuild;
} attn_bundle_stats;

/* Parse path (errors name file, line and column) and check its format and
 * that repo.full_name equals `repo` exactly (the name becomes a directory).
 * *out is the bundle; free with json_decref. */
int attn_bundle_read(const char *path, const char *repo, json_t **out, attn_error *err);

/* Check an already parsed bundle (format, repo name); `what` names it. */
int attn_bundle_check(const json_t *bundle, const char *what, const char *repo,
                      attn_error *err);

/* Normalize everything in the bundle into s, then rebuild the repo's
 * intervals, all in one transaction: any failure rolls the whole load back,
 * so the store is as it was. Reloading the same bundle inserts nothing new.
 * A PR or issue with a number <= 0, an id another entry of its list has, or
 * a title that is not a string is refused (ATTN_EINVAL,
 * naming the entry). */
int attn_bundle_apply(attn_store *s, const json_t *bundle, attn_bundle_stats *stats,
                      attn_error *err);

/* Normalize a partial bundle (any subset of the lists above; "repo" is
 * required) into ctx inside the caller's transaction, without a rebuild. Each
 * issue number must be wholly inside one part (see attn_normalize_pull). */
int attn_bundle_apply_part(attn_norm_ctx *ctx, const json_t *part, attn_error *err);

#endif
