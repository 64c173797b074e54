/*
 * rundir.c - run directories written to a temporary name and renamed into
 * place (rundir.h). Owns: naming and cleaning temporary trees, and the
 * replace-by-rename. Must never: write into a final run directory in place.
 */
#define _GNU_SOURCE /* syncfs */
#include "eval/rundir.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/path.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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
    if (!(d = calloc(1, sizeof(*d))))
        return attn_error_set(err, ATTN_ENOMEM, "out of memory starting run %s", run_id);
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

int attn_rundir_write(attn_rundir *d, const char *rel, const void *data, size_t len,
                      attn_error *err)
{
    char path[8600], dir[8600];
    char *slash;
    int fd, e, rc;
    if ((rc = attn_path_check_relative(rel, err)))
        return rc;
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
     * their own; commit syncs them all at once. Plain write(2): a run writes
     * about ten files per PR, and stdio's buffer per file was a measurable
     * share of the run. */
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

int attn_rundir_write_json(attn_rundir *d, const char *rel, const json_t *v, attn_error *err)
{
    attn_buf_clear(&d->scratch);
    if (attn_json_dump_pretty(v, &d->scratch))
        return attn_error_set(err, ATTN_ENOMEM, "out of memory writing %s", rel);
    return attn_rundir_write(d, rel, d->scratch.ptr, d->scratch.len, err);
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
    if (rc)
        attn_fs_remove_tree(d->tmp, NULL);
    attn_buf_free(&d->scratch);
    free(d);
    return rc;
}

void attn_rundir_abort(attn_rundir *d)
{
    if (!d)
        return;
    attn_fs_remove_tree(d->tmp, NULL);
    attn_buf_free(&d->scratch);
    free(d);
}
