/*
 * io.c - runs in (JSONL of W&B export records) and tables out (grouped rows,
 * CSV) for classification. Deterministic: rows sorted by (run_id, pattern),
 * columns in order of first appearance, numbers in their shortest exact text.
 * Never writes files itself; callers write atomically.
 */
#include "classify/classify.h"
#include "util/alloc.h"
#include "util/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *payload(json_t *v)
{
    if (json_is_object(v))
        return json_incref(v);
    if (json_is_string(v)) {
        json_t *o = json_loads(json_string_value(v), 0, NULL);
        if (json_is_object(o))
            return o;
        json_decref(o);
    }
    return NULL;
}

static int read_line(json_t *arr, const char *path, size_t lineno, const char *line, size_t n,
                     attn_error *err)
{
    json_error_t je;
    json_t *o = json_loadb(line, n, 0, &je);
    if (!json_is_object(o)) {
        json_decref(o);
        return attn_error_set(err, ATTN_EINVAL, "%s:%zu: not a JSON object%s%s", path, lineno,
                              o ? "" : ": ", o ? "" : je.text);
    }
    json_t *id = json_object_get(o, "run_id");
    if (!json_is_string(id) || !*json_string_value(id)) {
        json_decref(o);
        return attn_error_set(err, ATTN_EINVAL, "%s:%zu: \"run_id\" must be a non-empty string", path, lineno);
    }
    if (strlen(json_string_value(id)) != json_string_length(id)) {
        json_decref(o);
        return attn_error_set(err, ATTN_EINVAL, "%s:%zu: \"run_id\" contains a NUL character", path, lineno);
    }
    static const char *const keys[] = {"config", "summary"};
    for (int k = 0; k < 2; k++) {
        json_t *v = json_object_get(o, keys[k]);
        if (v) {
            json_t *p = payload(v);
            json_object_set_new(o, keys[k], p ? p : json_null());
        }
    }
    json_array_append_new(arr, o);
    return 0;
}

int attn_classify_read_runs(const char *path, json_t **out, attn_error *err)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
    if (!f)
        return attn_error_set(err, ATTN_EINVAL, "cannot open runs file '%s'", path);
    json_t *arr = json_array();
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t n;
    int rc = 0;
    while (rc == 0 && (n = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            n--;
        size_t i = 0;
        while (i < (size_t)n && (line[i] == ' ' || line[i] == '\t'))
            i++;
        if (i == (size_t)n)
            continue;
        rc = read_line(arr, path, lineno, line, (size_t)n, err);
    }
    if (rc == 0 && ferror(f))
        rc = attn_error_set(err, ATTN_EIO, "error reading '%s'", path);
    free(line);
    if (f != stdin)
        fclose(f);
    if (rc < 0) {
        json_decref(arr);
        return rc;
    }
    *out = arr;
    return 0;
}

static int row_cmp(const void *a, const void *b)
{
    const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    int c = strcmp(json_string_value(json_object_get(x, "run_id")),
                   json_string_value(json_object_get(y, "run_id")));
    if (c)
        return c;
    const char *px = json_string_value(json_object_get(x, "pattern_name")),
               *py = json_string_value(json_object_get(y, "pattern_name"));
    return strcmp(px ? px : "", py ? py : "");
}

static json_t *sorted(json_t *rows)
{
    size_t n = json_array_size(rows);
    json_t **v = malloc((n + 1) * sizeof *v), *out = json_array();
    for (size_t i = 0; v && i < n; i++)
        v[i] = json_array_get(rows, i);
    if (v)
        qsort(v, n, sizeof *v, row_cmp);
    for (size_t i = 0; v && i < n; i++)
        json_array_append(out, v[i]);
    free(v);
    json_decref(rows);
    return out;
}

int attn_classify_group(attn_classify_matcher *m, const attn_classify_cfg *c, const json_t *runs,
                        int keep_all, json_t **groups, attn_error *err)
{
    json_t *g = json_object();
    size_t i;
    json_t *run;
    json_array_foreach(runs, i, run) {
        const char *id = json_string_value(json_object_get(run, "run_id"));
        attn_classify_result r;
        attn_classify_id(m, id, strlen(id), &r);
        if (!keep_all && attn_classify_cfg_drops(c, r.run_type))
            continue;
        json_t *row = json_object();
        json_object_set_new(row, "run_id", json_string(id));
        if (r.winner >= 0) {
            json_object_set_new(row, "pattern_name",
                                json_string(attn_classify_cfg_pattern_name(c, (size_t)r.winner)));
            json_t *f = attn_classify_fields(m, id, strlen(id), &r);
            json_object_update(row, f);
            json_decref(f);
        }
        json_t *cfg = json_object_get(run, "config"), *sum = json_object_get(run, "summary");
        if (cfg)
            json_object_set(row, "_config", cfg);
        if (sum)
            json_object_set(row, "_summary", sum);
        json_t *arr = json_object_get(g, r.run_type);
        if (!arr) {
            arr = json_array();
            json_object_set_new(g, r.run_type, arr);
        }
        json_array_append_new(arr, row);
    }
    const char *type;
    json_t *rows;
    void *tmp;
    json_object_foreach_safe(g, tmp, type, rows) {
        json_t *s = sorted(json_incref(rows));
        json_object_set_new(g, type, s);
        int rc = attn_classify_process(c, type, s, err);
        if (rc < 0) {
            json_decref(g);
            return rc;
        }
    }
    *groups = g;
    return 0;
}

static void csv_cell(attn_buf *b, const json_t *v)
{
    char num[64];
    const char *s = NULL;
    char *dump = NULL;
    if (!v || json_is_null(v))
        return;
    if (json_is_string(v)) {
        s = json_string_value(v);
    } else if (json_is_integer(v)) {
        snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
        s = num;
    } else if (json_is_real(v)) {
        double d = json_real_value(v);
        if (d > -1e15 && d < 1e15 && d == (double)(long long)d) { /* 100000000, not 1e+08 */
            snprintf(num, sizeof num, "%lld", (long long)d);
        } else {
            for (int p = 1; p <= 17; p++) {
                snprintf(num, sizeof num, "%.*g", p, d);
                if (strtod(num, NULL) == d)
                    break;
            }
        }
        s = num;
    } else if (json_is_boolean(v)) {
        s = json_is_true(v) ? "true" : "false";
    } else {
        s = dump = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
    }
    if (s && strpbrk(s, ",\"\r\n")) {
        attn_buf_putc(b, '"');
        for (const char *p = s; *p; p++) {
            if (*p == '"')
                attn_buf_putc(b, '"');
            attn_buf_putc(b, *p);
        }
        attn_buf_putc(b, '"');
    } else if (s) {
        attn_buf_puts(b, s);
    }
    free(dump);
}

void attn_classify_csv(const json_t *rows, char **out, size_t *len)
{
    json_t *cols = attn_xcheck(json_array());
    size_t i, j;
    json_t *r, *c;
    json_array_append_new(cols, json_string("run_id"));
    json_array_foreach(rows, i, r) {
        const char *k;
        json_t *v;
        json_object_foreach(r, k, v) {
            int seen = 0;
            json_array_foreach(cols, j, c) seen |= !strcmp(json_string_value(c), k);
            if (!seen)
                json_array_append_new(cols, json_string(k));
        }
    }
    attn_buf b = ATTN_BUF_INIT;
    json_array_foreach(cols, j, c) {
        if (j)
            attn_buf_putc(&b, ',');
        csv_cell(&b, c);
    }
    attn_buf_putc(&b, '\n');
    json_array_foreach(rows, i, r) {
        json_array_foreach(cols, j, c) {
            if (j)
                attn_buf_putc(&b, ',');
            csv_cell(&b, json_object_get(r, json_string_value(c)));
        }
        attn_buf_putc(&b, '\n');
    }
    json_decref(cols);
    *len = b.len;
    *out = attn_buf_detach(&b);
}
