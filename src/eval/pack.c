/*
 * pack.c - per-PR entries of a run directory (see pack.h).
 *
 * Owns: the mapping from (run, PR, entry) to stored bytes.
 * Must never: write; a reader never changes a run.
 *
 * This version reads the per-PR tree prs/<n>/<entry>.json.
 */
#include "eval/pack.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "util/buf.h"
#include "util/fs.h"

/* An entry name is one or more [A-Za-z0-9_.-] segments joined by '/', none
 * of them "." or "..": no path tricks reach the file system. */
static int entry_ok(const char *e)
{
    size_t seg = 0;
    if (!e || !*e)
        return 0;
    for (const char *p = e;; p++) {
        if (*p == '/' || !*p) {
            if (seg == 0 || (seg == 1 && p[-1] == '.') ||
                (seg == 2 && p[-1] == '.' && p[-2] == '.'))
                return 0;
            if (!*p)
                return 1;
            seg = 0;
            continue;
        }
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '-' || *p == '.'))
            return 0;
        seg++;
    }
}

int attn_pack_get(const char *run_dir, int64_t pr, const char *entry, json_t **out,
                  attn_error *err)
{
    char path[PATH_MAX];
    attn_buf b = ATTN_BUF_INIT;
    json_error_t je;
    *out = NULL;
    if (!entry_ok(entry))
        return attn_error_set(err, ATTN_EINVAL, "bad entry name '%s'", entry ? entry : "");
    if (snprintf(path, sizeof(path), "%s/prs/%lld/%s.json", run_dir, (long long)pr, entry) >=
        (int)sizeof(path))
        return attn_error_set(err, ATTN_EINVAL, "path too long for run %s", run_dir);
    if (!attn_fs_exists(path))
        return attn_error_set(err, ATTN_ENOTFOUND, "run %s has no entry %s for PR #%lld",
                              run_dir, entry, (long long)pr);
    if (attn_fs_read_file(path, &b, err))
        return err->code;
    *out = json_loadb(b.ptr ? b.ptr : "", b.len, 0, &je);
    attn_buf_free(&b);
    if (!*out)
        return attn_error_set(err, ATTN_ECORRUPT, "%s: bad JSON at line %d: %s", path, je.line,
                              je.text);
    return 0;
}

static int list_dir(const char *root, const char *prefix, json_t *arr)
{
    char path[PATH_MAX];
    DIR *d;
    struct dirent *de;
    snprintf(path, sizeof(path), "%s%s%s", root, *prefix ? "/" : "", prefix);
    if (!(d = opendir(path)))
        return 0;
    while ((de = readdir(d))) {
        char sub[PATH_MAX];
        struct stat st;
        size_t n = strlen(de->d_name);
        if (de->d_name[0] == '.')
            continue;
        if (snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name) >= (int)sizeof(sub) ||
            stat(sub, &st))
            continue;
        if (snprintf(sub, sizeof(sub), "%s%s%s", prefix, *prefix ? "/" : "", de->d_name) >=
            (int)sizeof(sub))
            continue;
        if (S_ISDIR(st.st_mode))
            list_dir(root, sub, arr);
        else if (n > 5 && !strcmp(de->d_name + n - 5, ".json")) {
            sub[strlen(sub) - 5] = 0;
            json_array_append_new(arr, json_string(sub));
        }
    }
    closedir(d);
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(json_string_value(*(json_t *const *)a), json_string_value(*(json_t *const *)b));
}

int attn_pack_list(const char *run_dir, int64_t pr, json_t **out, attn_error *err)
{
    char root[PATH_MAX];
    json_t *arr = json_array(), *sorted;
    size_t n, i;
    json_t **v;
    if (!arr)
        return attn_error_set(err, ATTN_ENOMEM, "out of memory");
    snprintf(root, sizeof(root), "%s/prs/%lld", run_dir, (long long)pr);
    list_dir(root, "", arr);
    n = json_array_size(arr);
    v = n ? calloc(n, sizeof(*v)) : NULL;
    for (i = 0; i < n; i++)
        v[i] = json_array_get(arr, i);
    if (n)
        qsort(v, n, sizeof(*v), cmp_str);
    sorted = json_array();
    for (i = 0; i < n; i++)
        json_array_append(sorted, v[i]);
    free(v);
    json_decref(arr);
    *out = sorted;
    return 0;
}
