/*
 * bundle_stream.h - `attn load` of a bundle file as a stream (bundle_stream.c).
 *
 * Owns reading a bundle file in two passes with memory that does not grow
 * with the bundle: a first pass checks the whole file (syntax, format, repo)
 * and spools where each element lies; attn_bundle_stream_apply then loads it
 * exactly as attn_bundle_apply loads the parsed tree (same checks, same
 * order, same rows, one transaction). Must never: hold more than one issue
 * number's objects in memory, or touch the store before the file is known to
 * be well-formed JSON for the right repository.
 */
#ifndef ATTN_INGEST_BUNDLE_STREAM_H
#define ATTN_INGEST_BUNDLE_STREAM_H

#include <jansson.h>
#include <stddef.h>
#include "ingest/bundle.h"

typedef struct attn_bundle_stream attn_bundle_stream;

/* Read path through once: JSON syntax (errors name file, line and column),
 * format, and repo.full_name == repo exactly (repo may be NULL). The file
 * must stay unchanged until attn_bundle_stream_free. */
int attn_bundle_stream_open(const char *path, const char *repo, attn_bundle_stream **out,
                            attn_error *err);
/* The same over a bundle in memory (data must outlive the stream); `what`
 * names it in messages. */
int attn_bundle_stream_open_mem(const void *data, size_t len, const char *what,
                                attn_bundle_stream **out, attn_error *err);
void attn_bundle_stream_free(attn_bundle_stream *b);

/* The bundle's small members (format, repo, generator, codeowners, ...: all
 * but the lists and the reviews/files maps), borrowed. */
const json_t *attn_bundle_stream_head(const attn_bundle_stream *b);
/* How many entries "pulls" has. */
size_t attn_bundle_stream_prs(const attn_bundle_stream *b);

/* attn_bundle_apply for a streamed bundle: same refusals, same rows. */
int attn_bundle_stream_apply(attn_store *s, attn_bundle_stream *b, attn_bundle_stats *stats,
                             attn_error *err);

#endif
