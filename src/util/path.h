/*
 * path.h - validation of names that become file system paths.
 *
 * Repository names, run ids and pinned-file paths all end up inside the data
 * directory; these checks make sure none of them can climb out of it.
 */
#ifndef ATTN_UTIL_PATH_H
#define ATTN_UTIL_PATH_H

#include <stddef.h>
#include "util/error.h"

#define ATTN_NAME_MAX 100

/* Split and validate "owner/name": each part 1..100 of [A-Za-z0-9._-], not "." or "..". */
int attn_path_parse_repo(const char *repo, char owner[ATTN_NAME_MAX + 1],
                         char name[ATTN_NAME_MAX + 1], attn_error *err);

/* Validate an identifier (run id, export id): 1..128 of [A-Za-z0-9._-], not "." or "..".
 * `what` names it in the message. */
int attn_path_check_id(const char *id, const char *what, attn_error *err);

/* Validate a relative path inside a repository: non-empty, not absolute, no "." or ".."
 * segment, no empty segment, no NUL or backslash. */
int attn_path_check_relative(const char *path, attn_error *err);

/* DATA/github/<owner>/<name> into out. */
int attn_path_repo_dir(const char *data_dir, const char *repo, char *out, size_t cap,
                       attn_error *err);

#endif
