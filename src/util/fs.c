/*
 * fs.c - atomic file writes and small file system helpers (see fs.h).
 */
#define _XOPEN_SOURCE 700
#include "util/fs.h"
#include "util/alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int attn_fs_mkdirs(const char *dir, attn_error *err)
{
    char path[4096];
    size_t n = strlen(dir);

    if (n == 0 || n >= sizeof(path))
        return attn_error_set(err, ATTN_EINVAL, "directory path '%s' is empty or too long", dir);
    memcpy(path, dir, n + 1);
    for (char *p = path + 1; ; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(path, 0755) < 0 && errno != EEXIST)
                return attn_error_set(err, ATTN_EIO, "cannot create directory '%s': %s", path,
                                      strerror(errno));
            *p = c;
            if (!c)
                break;
        }
    }
    return 0;
}

static int parent_dir(const char *path, char *out, size_t cap)
{
    const char *slash = strrchr(path, '/');
    size_t n = slash ? (size_t)(slash - path) : 1;
    if (n >= cap)
        return -1;
    if (!slash)
        memcpy(out, ".", 2);
    else if (n == 0)
        memcpy(out, "/", 2);
    else {
        memcpy(out, path, n);
        out[n] = '\0';
    }
    return 0;
}

int attn_fs_write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return errno;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

int attn_fs_check_output(const char *path, attn_error *err)
{
    struct stat st;
    const char *what;
    if (!path || !*path)
        return attn_error_set(err, ATTN_EINVAL, "no output path given");
    if (lstat(path, &st) < 0)
        return errno == ENOENT ? 0
                               : attn_error_set(err, ATTN_EIO, "cannot inspect output '%s': %s",
                                                path, strerror(errno));
    if (S_ISREG(st.st_mode))
        return 0;
    what = S_ISLNK(st.st_mode)    ? "a symbolic link"
           : S_ISDIR(st.st_mode)  ? "a directory"
           : S_ISCHR(st.st_mode)  ? "a character device"
           : S_ISBLK(st.st_mode)  ? "a block device"
           : S_ISFIFO(st.st_mode) ? "a FIFO"
           : S_ISSOCK(st.st_mode) ? "a socket"
                                  : "not a regular file";
    return attn_error_set(err, ATTN_EINVAL,
                          "output '%s' is %s; attn writes through a temporary file and a rename, "
                          "which would replace it: give a new path or a regular file",
                          path, what);
}

int attn_fs_write_atomic(const char *path, const void *data, size_t len, attn_error *err)
{
    char dir[4096], tmp[4200];
    int fd, dfd, e;

    if ((e = attn_fs_check_output(path, err)))
        return e;
    if (parent_dir(path, dir, sizeof(dir)) < 0)
        return attn_error_set(err, ATTN_EINVAL, "path '%s' is too long", path);
    if (attn_fs_mkdirs(dir, err) < 0)
        return err ? err->code : ATTN_EIO;
    snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path);
    fd = mkstemp(tmp);
    if (fd < 0)
        return attn_error_set(err, ATTN_EIO, "cannot create temporary file for '%s': %s", path,
                              strerror(errno));
    if ((e = attn_fs_write_all(fd, data, len))) {
        close(fd);
        unlink(tmp);
        return attn_error_set(err, ATTN_EIO, "cannot write '%s': %s", path, strerror(e));
    }
    if (fchmod(fd, 0644) < 0 || fsync(fd) < 0 || close(fd) < 0) {
        e = errno;
        unlink(tmp);
        return attn_error_set(err, ATTN_EIO, "cannot flush '%s': %s", path, strerror(e));
    }
    /* Again just before the rename: the path may have changed meanwhile. */
    if ((e = attn_fs_check_output(path, err))) {
        unlink(tmp);
        return e;
    }
    if (rename(tmp, path) < 0) {
        e = errno;
        unlink(tmp);
        return attn_error_set(err, ATTN_EIO, "cannot rename into '%s': %s", path, strerror(e));
    }
    /* Persist the rename itself; failure here is not fatal to correctness. */
    dfd = open(dir, O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    return 0;
}

int attn_fs_read_file(const char *path, attn_buf *out, attn_error *err)
{
    char chunk[65536];
    size_t n;
    FILE *f = fopen(path, "rb");

    if (!f)
        return attn_error_set(err, errno == ENOENT ? ATTN_ENOTFOUND : ATTN_EIO,
                              "cannot read '%s': %s", path, strerror(errno));
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        attn_buf_put(out, chunk, n);
    }
    if (ferror(f)) {
        fclose(f);
        return attn_error_set(err, ATTN_EIO, "error reading '%s'", path);
    }
    fclose(f);
    return 0;
}

int attn_fs_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    return remove(p);
}

int attn_fs_remove_tree(const char *path, attn_error *err)
{
    if (!attn_fs_exists(path))
        return 0;
    if (nftw(path, rm_cb, 32, FTW_DEPTH | FTW_PHYS) < 0)
        return attn_error_set(err, ATTN_EIO, "cannot remove '%s': %s", path, strerror(errno));
    return 0;
}
