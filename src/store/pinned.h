/*
 * pinned.h - the on-disk store of files pinned at PR base SHAs (SPEC §2, §4
 * "Pinned files").
 *
 * A router that reads CODEOWNERS must read the file as it was at the PR's
 * base commit, never today's. `attn pin` (ingest/pin.h) fetches those files
 * once; this module keeps them. Layout under a repository directory
 * (DATA/github/<owner>/<name>):
 *
 *   repo_artifacts/.blobs/<blob sha>      each distinct content once, named by
 *                                         its git blob SHA-1
 *   repo_artifacts/<base sha>/<path>      a hard link to that blob (a copy
 *                                         where the file system refuses links)
 *   repo_artifacts/<base sha>/.pin.json   the manifest, canonical JSON:
 *       {"base_sha", "codeowners_path": path | null,
 *        "files": {path: blob sha | null}, "format": "attn.pin.v1",
 *        "source": "contents_api" | "git" | "bundle"}
 *   codeowners/<base sha>/CODEOWNERS      the CODEOWNERS GitHub would use at
 *                                         that sha (the legacy location)
 *
 * The manifest is written last, atomically, so a base sha either has a
 * complete manifest or counts as not pinned. It records absence too: a path
 * mapped to null was looked for and does not exist at that sha, which is how
 * a reader tells "not pinned" (ATTN_ENOTFOUND: run `attn pin`) from "no
 * CODEOWNERS at this sha" (return value 1). Pinned-file keying is part of the
 * contract (SPEC §14): changing the layout bumps the contract version.
 *
 * Must never: write outside the repository directory (paths are validated:
 * relative, no "." / ".." / empty segment, no backslash), leave a temporary
 * file behind, or expose a manifest before every file it names is in place.
 */
#ifndef ATTN_STORE_PINNED_H
#define ATTN_STORE_PINNED_H

#include <stddef.h>
#include <jansson.h>
#include "util/error.h"

#define ATTN_PINNED_FORMAT "attn.pin.v1"

/* Where GitHub looks for CODEOWNERS, in its order of precedence. */
#define ATTN_PINNED_N_CODEOWNERS 3
extern const char *const attn_pinned_codeowners_paths[ATTN_PINNED_N_CODEOWNERS];

/* CODEOWNERS text pinned at base_sha, as GitHub picks it: the first of
 * .github/CODEOWNERS, CODEOWNERS, docs/CODEOWNERS present at that sha.
 * Returns 0 and sets *text (malloc'd, NUL-terminated), *len and which (the
 * path it came from; may be NULL); ATTN_ENOTFOUND when nothing was pinned at
 * base_sha (message says to run `attn pin`); 1 when the sha was pinned but
 * has no CODEOWNERS file (*text NULL, which ""). A store written only at the
 * legacy location (codeowners/<sha>/CODEOWNERS, no manifest) is read too;
 * which is then "codeowners/<sha>/CODEOWNERS", since the repository path is
 * unknown. Other negative codes: bad sha (ATTN_EINVAL), a damaged store
 * (ATTN_ECORRUPT: content that does not match its blob sha), I/O. */
int attn_pinned_codeowners(const char *repo_dir, const char *base_sha, char **text, size_t *len,
                           char *which, size_t which_cap, attn_error *err);

/* Any pinned file; same return convention. ATTN_ENOTFOUND also when the sha
 * was pinned but this path was never looked for (run `attn pin --path`). */
int attn_pinned_read(const char *repo_dir, const char *base_sha, const char *path, char **text,
                     size_t *len, attn_error *err);

/* One file of a fetched set; content NULL = absent at that sha. */
typedef struct {
    const char *path;
    const char *content;
    size_t len;
} attn_pinned_file;

/* Record a fetched set for base_sha. An existing manifest is merged with it
 * (entries for the same path are replaced; base-sha content is immutable, so
 * this only adds paths), which lets `attn pin --path P` extend earlier pins.
 * source names where the files came from ([a-z_]+, e.g. "contents_api").
 * Duplicate paths, paths that would nest inside another pinned file ("a" and
 * "a/b"), ".pin.json" and unsafe paths are refused with ATTN_EINVAL before
 * anything is written. */
int attn_pinned_write(const char *repo_dir, const char *base_sha, const char *source,
                      const attn_pinned_file *files, size_t n, attn_error *err);

/* 1 if a manifest exists for base_sha (0 for none or an invalid sha). */
int attn_pinned_has(const char *repo_dir, const char *base_sha);

/* The parsed, checked manifest of base_sha into *out (json_decref it), or
 * ATTN_ENOTFOUND when there is none. */
int attn_pinned_manifest(const char *repo_dir, const char *base_sha, json_t **out,
                         attn_error *err);

/* 0 when sha is 40 lowercase hex digits, else ATTN_EINVAL naming it. */
int attn_pinned_check_sha(const char *sha, attn_error *err);

/* 0 when path may be pinned (see attn_pinned_write), else ATTN_EINVAL. */
int attn_pinned_check_path(const char *path, attn_error *err);

/* Git blob SHA-1 of data (SHA-1 of "blob <len>\0" + data), lowercase hex. */
int attn_pinned_blob_sha(const void *data, size_t len, char hex[41]);

#endif
