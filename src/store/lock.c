/*
 * lock.c - the store's writer lock (see lock.h).
 *
 * Owns: DB.lock and the holder line in it ("pid command\n").
 * Must never: remove the lock file (another process may hold an fd on it;
 * unlinking would let two writers lock two different inodes).
 */
#include "store/lock.h"
#include "util/alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

struct attn_store_lock {
    int fd;
};

static void holder_of(int fd, char *out, size_t cap)
{
    ssize_t n = pread(fd, out, cap - 1, 0);
    out[n > 0 ? n : 0] = 0;
    out[strcspn(out, "\n")] = 0;
    for (char *p = out; *p; p++)   /* the file is ours, but print it safely */
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
}

int attn_store_lock_acquire(const char *db_path, const char *command, int wait_ms,
                            attn_store_lock **out, attn_error *err)
{
    char path[PATH_MAX], line[256];
    struct timespec step = {0, 50 * 1000 * 1000};
    long waited = 0;
    int fd;
    *out = NULL;
    if (snprintf(path, sizeof(path), "%s.lock", db_path) >= (int)sizeof(path))
        return attn_error_set(err, ATTN_EINVAL, "store path too long: %s", db_path);
    if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0)
        return attn_error_set(err, ATTN_EIO, "cannot open lock %s: %s", path, strerror(errno));
    while (flock(fd, LOCK_EX | LOCK_NB)) {
        if (errno == EINTR)
            continue;
        if (errno != EWOULDBLOCK) {
            int e = errno;
            close(fd);
            return attn_error_set(err, ATTN_EIO, "cannot lock %s: %s", path, strerror(e));
        }
        if (wait_ms == 0 || (wait_ms > 0 && waited >= wait_ms)) {
            holder_of(fd, line, sizeof(line));
            close(fd);
            return attn_error_set(err, ATTN_ECONFLICT,
                                  "store %s is being written by %s%s; wait for it to finish or "
                                  "stop it",
                                  db_path, *line ? "pid " : "another process",
                                  *line ? line : "");
        }
        nanosleep(&step, NULL);
        waited += 50;
    }
    snprintf(line, sizeof(line), "%ld (%s)\n", (long)getpid(), command ? command : "attn");
    if (ftruncate(fd, 0) == 0 && pwrite(fd, line, strlen(line), 0) < 0) {
        /* the holder line is a courtesy for messages; the flock is the lock */
    }
    *out = attn_xmalloc(sizeof(**out));
    (*out)->fd = fd;
    return 0;
}

void attn_store_lock_release(attn_store_lock *l)
{
    if (!l)
        return;
    if (ftruncate(l->fd, 0)) {
        /* best effort: a stale holder line is harmless once the flock is gone */
    }
    flock(l->fd, LOCK_UN);
    close(l->fd);
    free(l);
}
