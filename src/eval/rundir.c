/*
 * rundir.c - run directories written to a temporary name and renamed into
 * place (rundir.h). Owns: naming and cleaning temporary trees, the
 * replace-by-rename, and the packed per-PR file (pack.h): a write to
 * "prs/<n>/<entry>.json" lands as one row of ATTN_PACK_FILE, not as a file.
 * Must never: write into a final run directory in place.
 *
 * The pack is a SQLite file written in one transaction with no journal (the
 * whole tree is renamed into place only after it is complete and synced, so
 * a journal would protect nothing). Rows go in the order they are written,
 * so the same writes give the same bytes. Two choices keep it cheap to
 * write (profile: the 8-router eval's pack was 455 MB for 277 MB of JSON,
 * and writing it was a third of the merging thread's time):
 *  - entries is a rowid table (with its (pr, entry) key as an index), so
 *    rows are appended: a table keyed by (pr, entry) itself rebalanced
 *    three pages at each split, copying them;
 *  - its pages are 64 KiB: a row larger than a page spills into overflow
 *    pages, and most routes were larger than the default 4 KiB allowed.
 * The rust-clippy eval's pack went from 86 to 50 MB.
 */
#define _GNU_SOURCE /* syncfs */
#include "eval/rundir.h"
#include "util/alloc.h"
#include "util/fs.h"
#include "util/json.h"
#include "eval/pack.h"
#include "util/path.h"
#include "util/sha256.h"

#include <sqlite3.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct attn_rundir {
    char parent[4096];
    char tmp[4400];
    char final[4400];
    attn_buf scratch;
    char last_dir[8600];   /* the last directory created (most writes go to the same one) */
    sqlite3 *pack;         /* the packed per-PR entries, opened at the first one */
    sqlite3_stmt *ins;
    int buffered;          /* attn_rundir_buffer_new: writes are kept in `log` */
    attn_buf log;          /* records: u32 rel length, rel, u64 data length, data */
    pthread_t flusher;     /* writing the finished pack to disk (start_writeback) */
    int flushing;
};

/* Remove .tmp-*-<pid> and .old-*-<pid> trees whose process is gone. */
static void sweep_stale(const char *parent)
{
    DIR *d = opendir(parent);
    struct dirent *e;
    if (!d)
        return;
    while ((e = readdir(d))) {
        const char *dash;
        long pid;
        char path[4400];
        attn_error err;
        if (strncmp(e->d_name, ".tmp-", 5) && strncmp(e->d_name, ".old-", 5))
            continue;
        if (!(dash = strrchr(e->d_name, '-')) || (pid = strtol(dash + 1, NULL, 10)) <= 0)
            continue;
        if (pid != (long)getpid() && kill((pid_t)pid, 0) == 0)
            continue; /* still running */
        snprintf(path, sizeof(path), "%s/%s", parent, e->d_name);
        attn_fs_remove_tree(path, &err);
    }
    closedir(d);
}

int attn_rundir_begin(const char *parent, const char *run_id, attn_rundir **out, attn_error *err)
{
    attn_rundir *d;
    int rc;
    *out = NULL;
    if ((rc = attn_path_check_id(run_id, "run id", err)))
        return rc;
    d = attn_xcalloc(1, sizeof(*d));
    snprintf(d->parent, sizeof(d->parent), "%s", parent);
    snprintf(d->tmp, sizeof(d->tmp), "%s/.tmp-%s-%ld", parent, run_id, (long)getpid());
    snprintf(d->final, sizeof(d->final), "%s/%s", parent, run_id);
    if ((rc = attn_fs_mkdirs(parent, err))) {
        free(d);
        return rc;
    }
    sweep_stale(parent);
    attn_fs_remove_tree(d->tmp, err);
    if ((rc = attn_fs_mkdirs(d->tmp, err))) {
        free(d);
        return rc;
    }
    *out = d;
    return 0;
}

const char *attn_rundir_tmp(const attn_rundir *d) { return d->tmp; }
const char *attn_rundir_final(const attn_rundir *d) { return d->final; }

/* "prs/<n>/<entry>.json" -> n and entry (entry without ".json", in buf);
 * 0 when rel is not a per-PR entry. */
static int pr_entry(const char *rel, int64_t *pr, char *buf, size_t cap)
{
    const char *p = rel + 4, *slash;
    char *end;
    long long n;
    size_t len;
    if (strncmp(rel, "prs/", 4) || *p < '0' || *p > '9')
        return 0;
    n = strtoll(p, &end, 10);
    if (*end != '/' || n < 0)
        return 0;
    slash = end + 1;
    len = strlen(slash);
    if (len <= 5 || strcmp(slash + len - 5, ".json") || len - 5 >= cap)
        return 0;
    memcpy(buf, slash, len - 5);
    buf[len - 5] = 0;
    *pr = n;
    return 1;
}

static int pack_fail(attn_rundir *d, const char *what, attn_error *err)
{
    return attn_error_set(err, ATTN_EIO, "%s the packed entries of %s: %s (disk full?)", what,
                          d->tmp, d->pack ? sqlite3_errmsg(d->pack) : "cannot open");
}

static int pack_open(attn_rundir *d, attn_error *err)
{
    char path[8600];
    snprintf(path, sizeof(path), "%s/%s", d->tmp, ATTN_PACK_FILE);
    if (sqlite3_open_v2(path, &d->pack, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
            SQLITE_OK ||
        sqlite3_exec(d->pack,
                     "PRAGMA page_size = 65536; PRAGMA journal_mode = OFF;"
                     " PRAGMA synchronous = OFF;"
                     " PRAGMA locking_mode = EXCLUSIVE; BEGIN;"
                     " CREATE TABLE pack_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
                     " WITHOUT ROWID;"
                     " INSERT INTO pack_meta VALUES ('format', '" ATTN_PACK_FORMAT "');"
                     " CREATE TABLE entries (pr INTEGER NOT NULL, entry TEXT NOT NULL,"
                     " json TEXT NOT NULL, PRIMARY KEY (pr, entry));",
                     NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(d->pack, "INSERT OR REPLACE INTO entries VALUES (?, ?, ?)", -1,
                           &d->ins, NULL) != SQLITE_OK)
        return pack_fail(d, "cannot create", err);
    return 0;
}

static int pack_put(attn_rundir *d, int64_t pr, const char *entry, const void *data, size_t len,
                    attn_error *err)
{
    int rc;
    if (!d->pack && (rc = pack_open(d, err)))
        return rc;
    sqlite3_reset(d->ins);
    sqlite3_bind_int64(d->ins, 1, pr);
    sqlite3_bind_text(d->ins, 2, entry, -1, SQLITE_STATIC);
    sqlite3_bind_text(d->ins, 3, len ? data : "", (int)len, SQLITE_STATIC);
    if (sqlite3_step(d->ins) != SQLITE_DONE)
        return pack_fail(d, "cannot write", err);
    return 0;
}

/* Finish the pack (0 when there is none). */
static int pack_close(attn_rundir *d, int keep, attn_error *err)
{
    int rc = 0;
    if (!d->pack)
        return 0;
    sqlite3_finalize(d->ins);
    d->ins = NULL;
    if (keep && sqlite3_exec(d->pack, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        rc = pack_fail(d, "cannot finish", err);
    sqlite3_close(d->pack);
    d->pack = NULL;
    return rc;
}

/* The finished pack goes to disk on a thread of its own while the report
 * is computed, so the commit's sync_dir finds little left to flush (it
 * waited 30 ms at the end of the rust-clippy eval for the 50 MB pack).
 * Not on the caller's thread: starting the writeback of 50 MB blocked it for
 * as long, on the device's queue. */
static void *flush_pack(void *arg)
{
    const attn_rundir *d = arg;
    char path[sizeof(d->tmp) + 32];
    int fd;
    snprintf(path, sizeof(path), "%s/%s", d->tmp, ATTN_PACK_FILE);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
        (void)fdatasync(fd);   /* an early start: the commit syncs anyway */
        close(fd);
    }
    return NULL;
}

static void start_writeback(attn_rundir *d)
{
    d->flushing = pthread_create(&d->flusher, NULL, flush_pack, d) == 0;
}

static void end_writeback(attn_rundir *d)
{
    if (d->flushing)
        pthread_join(d->flusher, NULL);
    d->flushing = 0;
}

int attn_rundir_entries_done(attn_rundir *d, attn_error *err)
{
    int rc, had = d->pack != NULL;
    if (d->buffered)
        return 0;
    if (!(rc = pack_close(d, 1, err)) && had)
        start_writeback(d);
    return rc;
}

static int log_put(attn_rundir *d, const char *rel, const void *data, size_t len,
                   attn_error *err)
{
    uint32_t rl = (uint32_t)strlen(rel);
    uint64_t dl = len;
    attn_buf_put(&d->log, &rl, sizeof(rl));
    attn_buf_put(&d->log, rel, rl);
    attn_buf_put(&d->log, &dl, sizeof(dl));
    attn_buf_put(&d->log, data, len);
    return 0;
}

int attn_rundir_write(attn_rundir *d, const char *rel, const void *data, size_t len,
                      attn_error *err)
{
    char path[8600], dir[8600];
    char *slash;
    int fd, e, rc;
    int64_t pr;
    if ((rc = attn_path_check_relative(rel, err)))
        return rc;
    if (d->buffered)
        return log_put(d, rel, data, len, err);
    if (pr_entry(rel, &pr, dir, sizeof(dir)))
        return pack_put(d, pr, dir, data, len, err);
    snprintf(path, sizeof(path), "%s/%s", d->tmp, rel);
    snprintf(dir, sizeof(dir), "%s", path);
    if ((slash = strrchr(dir, '/')) && slash > dir + strlen(d->tmp)) {
        *slash = 0;
        if (strcmp(dir, d->last_dir)) {
            if ((rc = attn_fs_mkdirs(dir, err)))
                return rc;
            snprintf(d->last_dir, sizeof(d->last_dir), "%s", dir);
        }
    }
    /* The tree is renamed into place as a whole, so files need no rename of
     * their own; commit syncs them all at once. */
    if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
        return attn_error_set(err, ATTN_EIO, "cannot create %s: %s", path, strerror(errno));
    e = attn_fs_write_all(fd, data, len);
    if (close(fd) < 0 && !e)
        e = errno;
    if (e)
        return attn_error_set(err, ATTN_EIO, "cannot write %s: %s (disk full?)", path,
                              strerror(e));
    return 0;
}

static int write_json(attn_rundir *d, const char *rel, const json_t *v, char *sha,
                      attn_error *err)
{
    int64_t pr;
    char entry[512];
    int rc;
    attn_buf_clear(&d->scratch);
    /* Packed entries are stored compact (the canonical form); `attn artifacts`
     * prints them pretty, byte for byte what the file used to hold. */
    if (pr_entry(rel, &pr, entry, sizeof(entry))) {
        if ((rc = attn_json_canonical(v, &d->scratch, err))) {
            attn_error_wrap(err, "writing %s", rel);
            return rc;
        }
    } else if (sha) {
        return attn_error_set(err, ATTN_EINVAL, "hashing %s: not a per-PR entry", rel);
    } else if (attn_json_dump_pretty(v, &d->scratch)) {
        return attn_error_set(err, ATTN_EINVAL, "writing %s: a value JSON cannot hold", rel);
    }
    if ((rc = attn_rundir_write(d, rel, d->scratch.ptr ? d->scratch.ptr : "", d->scratch.len,
                                err)))
        return rc;
    if (sha)
        attn_sha256_hex(d->scratch.ptr ? d->scratch.ptr : "", d->scratch.len, sha);
    return 0;
}

int attn_rundir_write_json(attn_rundir *d, const char *rel, const json_t *v, attn_error *err)
{
    return write_json(d, rel, v, NULL, err);
}

int attn_rundir_write_json_sha(attn_rundir *d, const char *rel, const json_t *v, char sha[65],
                               attn_error *err)
{
    return write_json(d, rel, v, sha, err);
}

int attn_rundir_buffer_new(attn_rundir **out, attn_error *err)
{
    *out = attn_xcalloc(1, sizeof(**out));
    (*out)->buffered = 1;
    return 0;
}

int attn_rundir_buffer_flush(attn_rundir *buf, attn_rundir *d, attn_error *err)
{
    size_t at = 0;
    int rc = 0;
    char rel[4096];
    while (!rc && at + sizeof(uint32_t) <= buf->log.len) {
        uint32_t rl;
        uint64_t dl;
        memcpy(&rl, buf->log.ptr + at, sizeof(rl));
        at += sizeof(rl);
        memcpy(rel, buf->log.ptr + at, rl < sizeof(rel) ? rl : sizeof(rel) - 1);
        rel[rl < sizeof(rel) ? rl : sizeof(rel) - 1] = 0;
        at += rl;
        memcpy(&dl, buf->log.ptr + at, sizeof(dl));
        at += sizeof(dl);
        rc = attn_rundir_write(d, rel, buf->log.ptr + at, (size_t)dl, err);
        at += (size_t)dl;
    }
    attn_buf_clear(&buf->log);
    return rc;
}

static void sync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        syncfs(fd);
        fsync(fd);
        close(fd);
    }
}

int attn_rundir_commit(attn_rundir *d, attn_error *err)
{
    char old[4500];
    int had_old = 0, rc = 0;

    end_writeback(d);
    if ((rc = pack_close(d, 1, err)))
        goto out;
    sync_dir(d->tmp);
    snprintf(old, sizeof(old), "%s/.old-%s-%ld", d->parent, strrchr(d->final, '/') + 1,
             (long)getpid());
    if (attn_fs_exists(d->final)) {
        if (rename(d->final, old) < 0) {
            rc = attn_error_set(err, ATTN_EIO, "cannot move the previous %s aside: %s", d->final,
                                strerror(errno));
            goto out;
        }
        had_old = 1;
    }
    if (rename(d->tmp, d->final) < 0) {
        rc = attn_error_set(err, ATTN_EIO, "cannot rename %s into place: %s", d->final,
                            strerror(errno));
        if (had_old)
            rename(old, d->final);
        goto out;
    }
    sync_dir(d->parent);
    if (had_old)
        attn_fs_remove_tree(old, err);
out:
    if (rc) {
        pack_close(d, 0, NULL);
        attn_fs_remove_tree(d->tmp, NULL);
    }
    attn_buf_free(&d->scratch);
    attn_buf_free(&d->log);
    free(d);
    return rc;
}

void attn_rundir_abort(attn_rundir *d)
{
    if (!d)
        return;
    end_writeback(d);
    pack_close(d, 0, NULL);
    if (!d->buffered)
        attn_fs_remove_tree(d->tmp, NULL);
    attn_buf_free(&d->scratch);
    attn_buf_free(&d->log);
    free(d);
}
