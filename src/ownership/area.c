/*
 * area.c - default areas and area overrides (see area.h).
 *
 * Override files are small (tens of entries), so lookup is a first-match scan
 * over compiled patterns; the patterns themselves come from codeowners.c so
 * that a pattern like "src/" + "*" means the same thing in both files.
 */
#include "ownership/area.h"
#include "util/alloc.h"
#include "ownership/codeowners.h"
#include "util/fs.h"
#include "util/json.h"

#include <stdlib.h>
#include <string.h>

struct area_entry {
    attn_codeowners_pattern *pattern;
    char *area;
};

struct attn_area_map {
    struct area_entry *v;
    size_t n;
};

void attn_area_map_free(attn_area_map *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++) {
        attn_codeowners_pattern_free(m->v[i].pattern);
        free(m->v[i].area);
    }
    free(m->v);
    free(m);
}

size_t attn_area_map_count(const attn_area_map *m)
{
    return m ? m->n : 0;
}

/* Append one entry; `where` names it in messages ("entry 3", "key 'src/'"). */
static int add_entry(attn_area_map *m, const char *pattern, const json_t *area, const char *where,
                     attn_error *err)
{
    struct area_entry *e = &m->v[m->n];
    int rc;
    if (!pattern)
        return attn_error_set(err, ATTN_EINVAL, "area overrides: %s has no string \"pattern\"",
                              where);
    if (!json_is_string(area) || !json_string_length(area))
        return attn_error_set(err, ATTN_EINVAL,
                              "area overrides: %s (pattern '%s') needs a non-empty string area",
                              where, pattern);
    if ((rc = attn_codeowners_pattern_compile(pattern, &e->pattern, err)))
        return attn_error_wrap(err, "area overrides: %s", where);
    e->area = attn_xstrdup(json_string_value(area));
    m->n++;
    return 0;
}

int attn_area_map_from_json(const json_t *v, attn_area_map **out, attn_error *err)
{
    attn_area_map *m;
    size_t cap;
    char where[600];
    int rc = 0;

    if (out)
        *out = NULL;
    if (!out)
        return attn_error_set(err, ATTN_EINVAL, "attn_area_map_from_json: no result");
    if (!json_is_object(v) && !json_is_array(v))
        return attn_error_set(err, ATTN_EINVAL,
                              "area overrides: expected an object {pattern: area} or a list of "
                              "{\"pattern\", \"area\"}");
    cap = json_is_object(v) ? json_object_size(v) : json_array_size(v);
    m = attn_xcalloc(1, sizeof(*m));
    m->v = attn_xcalloc(cap ? cap : 1, sizeof(*m->v));
    if (json_is_object(v)) {
        const char *key;
        json_t *val;
        /* jansson iterates in the order the keys were written */
        json_object_foreach((json_t *)v, key, val) {
            snprintf(where, sizeof(where), "key '%.500s'", key);
            if ((rc = add_entry(m, key, val, where, err)))
                break;
        }
    } else {
        size_t i;
        json_t *item;
        json_array_foreach(v, i, item) {
            snprintf(where, sizeof(where), "entry %zu", i + 1);
            if (!json_is_object(item)) {
                rc = attn_error_set(err, ATTN_EINVAL,
                                    "area overrides: %s is not an object {\"pattern\", \"area\"}",
                                    where);
                break;
            }
            if ((rc = add_entry(m, attn_json_str(item, "pattern"), json_object_get(item, "area"),
                                where, err)))
                break;
        }
    }
    if (rc) {
        attn_area_map_free(m);
        return rc;
    }
    *out = m;
    return 0;
}

int attn_area_map_load(const char *path, attn_area_map **out, attn_error *err)
{
    json_t *v = NULL;
    int rc;
    if (out)
        *out = NULL;
    if (!path)
        return attn_error_set(err, ATTN_EINVAL, "area overrides: no file name");
    if (!attn_fs_exists(path))
        return attn_error_set(err, ATTN_ENOTFOUND, "area overrides file '%s' not found", path);
    /* attn_json_load_file names the file, line and column on bad JSON */
    if ((rc = attn_json_load_file(path, &v, err)))
        return rc;
    rc = attn_area_map_from_json(v, out, err);
    json_decref(v);
    if (rc)
        attn_error_wrap(err, "%s", path);
    return rc;
}

void attn_area_default(const char *path, attn_buf *out)
{
    const char *slash;
    attn_buf_clear(out);
    while (path && *path == '/')
        path++;
    slash = path ? strchr(path, '/') : NULL;
    /* a top-level file (or nothing at all) belongs to the root area */
    if (!slash || slash == path)
        attn_buf_puts(out, ATTN_AREA_ROOT);
    else
        attn_buf_put(out, path, (size_t)(slash - path));
}

int attn_area_of(const attn_area_map *m, const char *path, attn_buf *out)
{
    for (size_t i = 0; m && path && i < m->n; i++) {
        if (attn_codeowners_pattern_match(m->v[i].pattern, path)) {
            attn_buf_clear(out);
            attn_buf_puts(out, m->v[i].area);
            return 1;
        }
    }
    attn_area_default(path, out);
    return 0;
}
