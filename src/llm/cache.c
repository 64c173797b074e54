/*
 * cache.c - the zstd replay cache (cache.h). Owns the on-disk entry format.
 */
#include "llm/cache.h"
#include "util/buf.h"
#include "util/alloc.h"
#include "util/fs.h"
#include "util/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

int attn_llm_mode_parse(const char *s, attn_llm_mode *out, attn_error *err)
{
    static const char *const names[] = {"live", "record", "replay", "off"};
    for (int i = 0; i < 4; i++)
        if (s && !strcmp(s, names[i])) {
            *out = (attn_llm_mode)i;
            return 0;
        }
    return attn_error_set(err, ATTN_EINVAL,
                          "LLM cache mode '%s' is not one of live, record, replay, off "
                          "(ATTN_LLM_CACHE)",
                          s ? s : "");
}

const char *attn_llm_mode_name(attn_llm_mode m)
{
    static const char *const names[] = {"live", "record", "replay", "off"};
    return names[m];
}

static void entry_path(const char *dir, const char *key, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%.2s/%s.json.zst", dir, key, key);
}

int attn_llm_cache_get(const char *dir, const char *key, json_t **entry, attn_error *err)
{
    char path[4400];
    attn_buf z = ATTN_BUF_INIT;
    unsigned long long size;
    char *raw = NULL;
    int rc;
    *entry = NULL;
    entry_path(dir, key, path, sizeof(path));
    if (!attn_fs_exists(path))
        return ATTN_ENOTFOUND;
    if ((rc = attn_fs_read_file(path, &z, err)))
        return rc;
    size = ZSTD_getFrameContentSize(z.ptr, z.len);
    if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN || size > (1u << 30) ||
        !(raw = malloc(size + 1)) || ZSTD_isError(ZSTD_decompress(raw, size, z.ptr, z.len))) {
        rc = attn_error_set(err, ATTN_ECORRUPT,
                            "LLM cache entry %s is not a zstd frame; delete it to re-record", path);
    } else if ((rc = attn_json_parse(raw, size, path, entry, err)) == 0 &&
               (!attn_json_str(*entry, "key") || strcmp(attn_json_str(*entry, "key"), key))) {
        json_decref(*entry);
        *entry = NULL;
        rc = attn_error_set(err, ATTN_ECORRUPT, "LLM cache entry %s holds another key", path);
    }
    free(raw);
    attn_buf_free(&z);
    return rc;
}

int attn_llm_cache_put(const char *dir, const char *key, const json_t *entry, attn_error *err)
{
    char path[4400];
    attn_buf c = ATTN_BUF_INIT;
    size_t cap, n;
    void *z;
    int rc;
    if ((rc = attn_json_canonical(entry, &c, err)))
        return rc;
    cap = ZSTD_compressBound(c.len);
    z = attn_xmalloc(cap);
    n = ZSTD_compress(z, cap, c.ptr, c.len, 3);
    entry_path(dir, key, path, sizeof(path));
    rc = ZSTD_isError(n) ? attn_error_set(err, ATTN_EIO, "zstd: %s", ZSTD_getErrorName(n))
                         : attn_fs_write_atomic(path, z, n, err);
    free(z);
    attn_buf_free(&c);
    return rc;
}
