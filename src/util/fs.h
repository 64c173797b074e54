/*
 * fs.h - file system helpers: atomic writes, directories, whole-file reads.
 *
 * An artifact is either absent or complete: writes go to a temporary file in
 * the same directory, are fsynced, then renamed over the target.
 */
#ifndef ATTN_UTIL_FS_H
#define ATTN_UTIL_FS_H

#include <stddef.h>
#include "util/buf.h"
#include "util/error.h"

/* Create dir and its parents (mode 0755); existing directories are fine. */
int attn_fs_mkdirs(const char *dir, attn_error *err);

/* write(2) all of data to fd, retrying short writes and EINTR: 0, or errno. */
int attn_fs_write_all(int fd, const void *data, size_t len);

/* An output path attn may write by temp file + rename: a new path or a
 * regular file. A device, FIFO, socket, directory or symlink is refused
 * (ATTN_EINVAL naming it): a rename would replace the special file itself
 * (as root, --out /dev/null would break the machine; issue 18). */
int attn_fs_check_output(const char *path, attn_error *err);

/* Atomically replace path with data (parent directories are created);
 * path must pass attn_fs_check_output. */
int attn_fs_write_atomic(const char *path, const void *data, size_t len, attn_error *err);

/* Read a whole file into out (appends). */
int attn_fs_read_file(const char *path, attn_buf *out, attn_error *err);

/* 1 if path exists (any type), else 0. */
int attn_fs_exists(const char *path);

/* Remove a directory tree; a missing path is not an error. */
int attn_fs_remove_tree(const char *path, attn_error *err);

#endif
