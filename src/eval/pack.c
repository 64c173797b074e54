/*
 * pack.c - per-PR entries of a run directory (see pack.h).
 *
 * Owns: the mapping from (run, PR, entry) to stored bytes.
 * Must never: write; a reader never changes a run (the pack is opened
 * read-only and immutable).
 *
 * A run with ATTN_PACK_FILE is read from it; an older run from its per-PR
 * tree prs/<n>/<entry>.json.
 */
#include "eval/pack.h"
#include "util/alloc.h"

#include <dirent.h>
#include <sqlite3.h>
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

static int tree_get(const char *run_dir, int64_t pr, const char *entry, json_t **out,
                    attn_error *err)
{
    char path[PATH_MAX];
    attn_buf b = ATTN_BUF_INIT;
    json_error_t je;
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

static int tree_list(const char *run_dir, int64_t pr, json_t **out, attn_error *err)
{
    char root[PATH_MAX];
    json_t *arr = attn_xcheck(json_array()), *sorted;
    size_t n, i;
    json_t **v;
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

struct attn_pack {
    char dir[PATH_MAX];
    sqlite3 *db;          /* NULL: the old per-PR tree */
    sqlite3_stmt *get, *list, *prs;
};

int attn_pack_is_packed(const attn_pack *p) { return p->db != NULL; }

void attn_pack_close(attn_pack *p)
{
    if (!p)
        return;
    sqlite3_finalize(p->get);
    sqlite3_finalize(p->list);
    sqlite3_finalize(p->prs);
    sqlite3_close(p->db);
    free(p);
}

static int db_fail(attn_pack *p, attn_error *err)
{
    return attn_error_set(err, ATTN_ECORRUPT, "%s/%s: %s", p->dir, ATTN_PACK_FILE,
                          p->db ? sqlite3_errmsg(p->db) : "cannot open");
}

int attn_pack_open(const char *run_dir, attn_pack **out, attn_error *err)
{
    attn_pack *p;
    char path[PATH_MAX + 64], uri[2 * PATH_MAX + 64];
    struct stat st;
    *out = NULL;
    if (stat(run_dir, &st) || !S_ISDIR(st.st_mode))
        return attn_error_set(err, ATTN_ENOTFOUND, "no run directory %s", run_dir);
    p = attn_xcalloc(1, sizeof(*p));
    snprintf(p->dir, sizeof(p->dir), "%s", run_dir);
    snprintf(path, sizeof(path), "%s/%s", run_dir, ATTN_PACK_FILE);
    if (attn_fs_exists(path)) {
        /* URI form so immutable=1 applies: a finished run never changes, and
         * SQLite then takes no locks and writes nothing beside it. */
        size_t o = 0;
        o += (size_t)snprintf(uri, sizeof(uri), "file:");
        for (const char *c = path; *c && o + 4 < sizeof(uri); c++) {
            if (*c == '%' || *c == '?' || *c == '#')
                o += (size_t)snprintf(uri + o, sizeof(uri) - o, "%%%02X", (unsigned char)*c);
            else
                uri[o++] = *c;
        }
        snprintf(uri + o, sizeof(uri) - o, "?immutable=1");
        if (sqlite3_open_v2(uri, &p->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL) !=
                SQLITE_OK ||
            sqlite3_prepare_v2(p->db, "SELECT json FROM entries WHERE pr = ? AND entry = ?", -1,
                               &p->get, NULL) != SQLITE_OK ||
            sqlite3_prepare_v2(p->db, "SELECT entry FROM entries WHERE pr = ? ORDER BY entry",
                               -1, &p->list, NULL) != SQLITE_OK ||
            sqlite3_prepare_v2(p->db, "SELECT DISTINCT pr FROM entries ORDER BY pr", -1,
                               &p->prs, NULL) != SQLITE_OK) {
            int rc = db_fail(p, err);
            attn_pack_close(p);
            return rc;
        }
    }
    *out = p;
    return 0;
}

int attn_pack_read(attn_pack *p, int64_t pr, const char *entry, json_t **out, attn_error *err)
{
    json_error_t je;
    int rc;
    *out = NULL;
    if (!entry_ok(entry))
        return attn_error_set(err, ATTN_EINVAL, "bad entry name '%s'", entry ? entry : "");
    if (!p->db)
        return tree_get(p->dir, pr, entry, out, err);
    sqlite3_reset(p->get);
    sqlite3_bind_int64(p->get, 1, pr);
    sqlite3_bind_text(p->get, 2, entry, -1, SQLITE_STATIC);
    rc = sqlite3_step(p->get);
    if (rc == SQLITE_DONE)
        return attn_error_set(err, ATTN_ENOTFOUND, "run %s has no entry %s for PR #%lld",
                              p->dir, entry, (long long)pr);
    if (rc != SQLITE_ROW)
        return db_fail(p, err);
    *out = json_loadb((const char *)sqlite3_column_text(p->get, 0),
                      (size_t)sqlite3_column_bytes(p->get, 0), 0, &je);
    sqlite3_reset(p->get);
    if (!*out)
        return attn_error_set(err, ATTN_ECORRUPT, "%s/%s: entry %s of PR #%lld: bad JSON: %s",
                              p->dir, ATTN_PACK_FILE, entry, (long long)pr, je.text);
    return 0;
}

int attn_pack_scan(attn_pack *p, const char *entry, attn_pack_scan_fn fn, void *ctx,
                   attn_error *err)
{
    sqlite3_stmt *st = NULL;
    const unsigned char *fmt;
    int rc;
    if (!entry_ok(entry))
        return attn_error_set(err, ATTN_EINVAL, "bad entry name '%s'", entry ? entry : "");
    if (!p->db)
        return attn_error_set(err, ATTN_ENOTFOUND, "run %s keeps no %s", p->dir, ATTN_PACK_FILE);
    if (sqlite3_prepare_v2(p->db, "SELECT value FROM pack_meta WHERE key = 'format'", -1, &st,
                           NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW || !(fmt = sqlite3_column_text(st, 0)) ||
        strcmp((const char *)fmt, ATTN_PACK_FORMAT)) {
        sqlite3_finalize(st);
        return attn_error_set(err, ATTN_ECORRUPT, "%s/%s: not %s", p->dir, ATTN_PACK_FILE,
                              ATTN_PACK_FORMAT);
    }
    sqlite3_finalize(st);
    if (sqlite3_prepare_v2(p->db, "SELECT pr, json FROM entries WHERE entry = ?1 ORDER BY pr",
                           -1, &st, NULL) != SQLITE_OK)
        return db_fail(p, err);
    sqlite3_bind_text(st, 1, entry, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (sqlite3_column_type(st, 0) == SQLITE_INTEGER)
            fn(ctx, sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 1),
               (size_t)sqlite3_column_bytes(st, 1));
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : db_fail(p, err);
}

int attn_pack_entries(attn_pack *p, int64_t pr, json_t **out, attn_error *err)
{
    json_t *arr;
    int rc;
    if (!p->db)
        return tree_list(p->dir, pr, out, err);
    arr = attn_xcheck(json_array());
    sqlite3_reset(p->list);
    sqlite3_bind_int64(p->list, 1, pr);
    while ((rc = sqlite3_step(p->list)) == SQLITE_ROW)
        json_array_append_new(arr, json_string((const char *)sqlite3_column_text(p->list, 0)));
    sqlite3_reset(p->list);
    if (rc != SQLITE_DONE) {
        json_decref(arr);
        return db_fail(p, err);
    }
    *out = arr;
    return 0;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int tree_prs(attn_pack *p, json_t *arr)
{
    char path[PATH_MAX + 8];
    DIR *d;
    struct dirent *de;
    int64_t *v = NULL;
    size_t n = 0, cap = 0;
    snprintf(path, sizeof(path), "%s/prs", p->dir);
    if (!(d = opendir(path)))
        return 0;
    while ((de = readdir(d))) {
        char *end;
        long long x = strtoll(de->d_name, &end, 10);
        if (de->d_name[0] < '0' || de->d_name[0] > '9' || *end)
            continue;
        if (n == cap) {
            int64_t *nv = realloc(v, (cap = cap ? cap * 2 : 64) * sizeof(*v));
            if (!nv)
                break;
            v = nv;
        }
        v[n++] = x;
    }
    closedir(d);
    if (n)
        qsort(v, n, sizeof(*v), cmp_i64);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, json_integer(v[i]));
    free(v);
    return 0;
}

int attn_pack_prs(attn_pack *p, json_t **out, attn_error *err)
{
    json_t *arr = attn_xcheck(json_array());
    int rc;
    if (!p->db) {
        tree_prs(p, arr);
        *out = arr;
        return 0;
    }
    sqlite3_reset(p->prs);
    while ((rc = sqlite3_step(p->prs)) == SQLITE_ROW)
        json_array_append_new(arr, json_integer(sqlite3_column_int64(p->prs, 0)));
    sqlite3_reset(p->prs);
    if (rc != SQLITE_DONE) {
        json_decref(arr);
        return db_fail(p, err);
    }
    *out = arr;
    return 0;
}

int attn_pack_get(const char *run_dir, int64_t pr, const char *entry, json_t **out,
                  attn_error *err)
{
    attn_pack *p;
    int rc;
    *out = NULL;
    if ((rc = attn_pack_open(run_dir, &p, err)))
        return rc;
    rc = attn_pack_read(p, pr, entry, out, err);
    attn_pack_close(p);
    return rc;
}

int attn_pack_list(const char *run_dir, int64_t pr, json_t **out, attn_error *err)
{
    attn_pack *p;
    int rc;
    *out = NULL;
    if ((rc = attn_pack_open(run_dir, &p, err)))
        return rc;
    rc = attn_pack_entries(p, pr, out, err);
    attn_pack_close(p);
    return rc;
}
