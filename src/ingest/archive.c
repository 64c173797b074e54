/*
 * archive.c - object_snapshots: zstd-compressed raw API objects (archive.h).
 *
 * Statements are prepared once per archive handle. Compression is at a fixed
 * level so one object always compresses to the same bytes, which lets the
 * upsert detect "unchanged" by comparing blobs inside SQLite.
 */
#include "ingest/archive.h"
#include "util/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#define ZLEVEL 3

struct attn_archive {
    sqlite3 *db;
    sqlite3_stmt *put, *get, *scan;
    ZSTD_CCtx *cctx;
    ZSTD_DCtx *dctx;
    void *zbuf;
    size_t zcap;
};

static const char *SQL_PUT =
    "INSERT INTO object_snapshots (resource, source_id, etag, fetched_at, codec, raw_size, payload)"
    " VALUES (?1, ?2, ?3, ?4, 'zstd', ?5, ?6)"
    " ON CONFLICT (resource, source_id) DO UPDATE SET etag = excluded.etag,"
    " fetched_at = excluded.fetched_at, raw_size = excluded.raw_size, payload = excluded.payload"
    " WHERE object_snapshots.payload IS NOT excluded.payload";
static const char *SQL_GET =
    "SELECT payload, raw_size FROM object_snapshots WHERE resource = ?1 AND source_id = ?2";
static const char *SQL_SCAN =
    "SELECT source_id, payload, raw_size FROM object_snapshots WHERE resource = ?1"
    " AND (?2 IS NULL OR source_id >= ?2) AND (?3 IS NULL OR source_id < ?3)"
    " ORDER BY source_id";

static int db_fail(attn_archive *a, attn_error *err, const char *what)
{
    return attn_error_set(err, ATTN_EDB, "object_snapshots %s: %s", what, sqlite3_errmsg(a->db));
}

int attn_archive_open(attn_store *s, attn_archive **out, attn_error *err)
{
    attn_archive *a = attn_xcalloc(1, sizeof(*a));
    *out = NULL;
    a->db = attn_store_db(s);
    if (sqlite3_prepare_v2(a->db, SQL_PUT, -1, &a->put, NULL) ||
        sqlite3_prepare_v2(a->db, SQL_GET, -1, &a->get, NULL) ||
        sqlite3_prepare_v2(a->db, SQL_SCAN, -1, &a->scan, NULL)) {
        db_fail(a, err, "prepare");
        attn_archive_close(a);
        return err->code;
    }
    a->cctx = attn_xcheck(ZSTD_createCCtx());
    a->dctx = attn_xcheck(ZSTD_createDCtx());
    *out = a;
    return 0;
}

void attn_archive_close(attn_archive *a)
{
    if (!a)
        return;
    sqlite3_finalize(a->put);
    sqlite3_finalize(a->get);
    sqlite3_finalize(a->scan);
    ZSTD_freeCCtx(a->cctx);
    ZSTD_freeDCtx(a->dctx);
    free(a->zbuf);
    free(a);
}

static int ensure(attn_archive *a, size_t need, attn_error *err)
{
    if (need <= a->zcap)
        return 0;
    a->zbuf = attn_xrealloc(a->zbuf, need);
    a->zcap = need;
    return 0;
}

int attn_archive_put(attn_archive *a, const char *resource, const char *source_id,
                     const char *etag, int64_t fetched_at, const json_t *obj, int *changed,
                     attn_error *err)
{
    char *text = attn_xcheck(json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY));
    size_t len, zlen;
    int rc = 0;
    if (changed)
        *changed = 0;
    len = strlen(text);
    if ((rc = ensure(a, ZSTD_compressBound(len), err)))
        goto out;
    zlen = ZSTD_compressCCtx(a->cctx, a->zbuf, a->zcap, text, len, ZLEVEL);
    if (ZSTD_isError(zlen)) {
        rc = attn_error_set(err, ATTN_EIO, "zstd: %s", ZSTD_getErrorName(zlen));
        goto out;
    }
    sqlite3_reset(a->put);
    sqlite3_bind_text(a->put, 1, resource, -1, SQLITE_STATIC);
    sqlite3_bind_text(a->put, 2, source_id, -1, SQLITE_STATIC);
    if (etag && *etag)
        sqlite3_bind_text(a->put, 3, etag, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(a->put, 3);
    sqlite3_bind_int64(a->put, 4, fetched_at);
    sqlite3_bind_int64(a->put, 5, (sqlite3_int64)len);
    sqlite3_bind_blob(a->put, 6, a->zbuf, (int)zlen, SQLITE_STATIC);
    if (sqlite3_step(a->put) != SQLITE_DONE)
        rc = db_fail(a, err, "insert");
    else if (changed)
        *changed = sqlite3_changes(a->db) > 0;
    sqlite3_reset(a->put);
    sqlite3_clear_bindings(a->put);
out:
    free(text);
    return rc;
}

static int decode(attn_archive *a, sqlite3_stmt *st, int col, const char *what, json_t **out,
                  attn_error *err)
{
    const void *blob = sqlite3_column_blob(st, col);
    size_t blen = (size_t)sqlite3_column_bytes(st, col);
    size_t raw = (size_t)sqlite3_column_int64(st, col + 1), got;
    json_error_t je;
    int rc;
    if ((rc = ensure(a, raw + 1, err)))
        return rc;
    got = ZSTD_decompressDCtx(a->dctx, a->zbuf, raw, blob, blen);
    if (ZSTD_isError(got) || got != raw)
        return attn_error_set(err, ATTN_ECORRUPT, "object_snapshots %s: bad zstd payload", what);
    *out = json_loadb(a->zbuf, raw, JSON_DECODE_ANY, &je);
    if (!*out)
        return attn_error_set(err, ATTN_ECORRUPT, "object_snapshots %s: bad JSON: %s", what,
                              je.text);
    return 0;
}

int attn_archive_get(attn_archive *a, const char *resource, const char *source_id, json_t **out,
                     attn_error *err)
{
    int rc = 0, step;
    *out = NULL;
    sqlite3_reset(a->get);
    sqlite3_bind_text(a->get, 1, resource, -1, SQLITE_STATIC);
    sqlite3_bind_text(a->get, 2, source_id, -1, SQLITE_STATIC);
    step = sqlite3_step(a->get);
    if (step == SQLITE_ROW)
        rc = decode(a, a->get, 0, source_id, out, err);
    else if (step != SQLITE_DONE)
        rc = db_fail(a, err, "select");
    sqlite3_reset(a->get);
    return rc;
}

int attn_archive_scan(attn_archive *a, const char *resource, const char *lo, const char *hi,
                      attn_archive_fn fn, void *ctx, attn_error *err)
{
    int rc = 0, step;
    sqlite3_stmt *st = a->scan;
    /* The scan statement may be needed again by fn's caller later, never
     * re-entrantly: fn must not scan. */
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, resource, -1, SQLITE_TRANSIENT);
    if (lo)
        sqlite3_bind_text(st, 2, lo, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, 2);
    if (hi)
        sqlite3_bind_text(st, 3, hi, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, 3);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *obj = NULL;
        char sid[96];
        snprintf(sid, sizeof(sid), "%s", (const char *)sqlite3_column_text(st, 0));
        if ((rc = decode(a, st, 1, sid, &obj, err)))
            break;
        rc = fn(ctx, sid, obj, err);
        json_decref(obj);
        if (rc)
            break;
    }
    if (!rc && step != SQLITE_DONE && step != SQLITE_ROW)
        rc = db_fail(a, err, "scan");
    sqlite3_reset(st);
    return rc;
}

void attn_archive_num_id(char *out, size_t cap, int64_t number)
{
    snprintf(out, cap, "%0*lld", ATTN_ARCHIVE_NUM_DIGITS, (long long)number);
}

void attn_archive_num_sub_id(char *out, size_t cap, int64_t number, int64_t id)
{
    snprintf(out, cap, "%0*lld/%019lld", ATTN_ARCHIVE_NUM_DIGITS, (long long)number,
             (long long)id);
}
