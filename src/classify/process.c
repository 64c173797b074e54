/*
 * process.c - post-processing steps declared in a classification config,
 * applied to the rows of one run type (a JSON array of objects).
 *
 * Steps (each {"step": KIND, "run_types": [...] (optional filter), ...}):
 *   fill_from_summary {map: {column: summary_key}}   raw value, overwrites
 *   fill_from_config  {map: {column: config_key}}    fills missing cells only,
 *                                                    value as text (5e-06 -> "5e-06")
 *   defaults     {values: {column: v}}   fills null cells of columns the group has
 *   map_values   {columns: [...], map: {from: to}}  unknown values pass through
 *   rename       {map: {old: new}}       columns that exist
 *   convert      {columns: [{column, converter}]}  timestamp | tokens_to_number | number
 *   set          {values, when_run_id_contains?, only_missing?}
 *   product      {target, factors: [a, b...]}  target = product where target is null
 *   canonicalize_metric {column}         label -> "task metric rest" (catalogue)
 *   flatten_summary {column}             oe_eval_metrics/... summary -> {task: ...}
 * The two fill steps run only for rows that carry "_summary"/"_config"
 * (records imported with their W&B config and summary). Never adds a step
 * kind that runs code named in the config: hooks are these steps.
 */
#include "classify/classify.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const KINDS[] = {"fill_from_summary", "fill_from_config", "defaults",
                                    "map_values", "rename", "convert", "set", "product",
                                    "canonicalize_metric", "flatten_summary", NULL};

static int is_str_obj(const json_t *o)
{
    const char *k;
    json_t *v;
    if (!json_is_object(o))
        return 0;
    json_object_foreach((json_t *)o, k, v) if (!json_is_string(v)) return 0;
    return 1;
}

static int is_str_arr(const json_t *a, size_t min)
{
    size_t i;
    json_t *v;
    if (!json_is_array(a) || json_array_size(a) < min)
        return 0;
    json_array_foreach(a, i, v) if (!json_is_string(v)) return 0;
    return 1;
}

static int keys_ok(const json_t *s, const char *const *extra, const char **bad)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)s, k, v) {
        int ok = !strcmp(k, "step") || !strcmp(k, "run_types") || !strcmp(k, "description");
        for (size_t i = 0; extra[i] && !ok; i++)
            ok = !strcmp(k, extra[i]);
        if (!ok) {
            *bad = k;
            return 0;
        }
    }
    return 1;
}

static int check_convert(const json_t *cols, size_t index, attn_error *err)
{
    size_t i;
    json_t *c;
    if (!json_is_array(cols))
        return attn_error_set(err, ATTN_EINVAL, "step %zu (convert): \"columns\" must be an array of {column, converter}", index + 1);
    json_array_foreach(cols, i, c) {
        const char *col = json_string_value(json_object_get(c, "column")),
                   *cv = json_string_value(json_object_get(c, "converter"));
        if (!col || !cv || json_object_size(c) != 2)
            return attn_error_set(err, ATTN_EINVAL, "step %zu (convert): entry %zu must be {\"column\": ..., \"converter\": ...}", index + 1, i + 1);
        if (strcmp(cv, "timestamp") && strcmp(cv, "tokens_to_number") && strcmp(cv, "number"))
            return attn_error_set(err, ATTN_EINVAL, "step %zu (convert): unknown converter '%s' (timestamp, tokens_to_number, number)", index + 1, cv);
    }
    return 0;
}

int attn_classify_step_check(const json_t *s, size_t index, attn_error *err)
{
    static const char *const k_map[] = {"map", NULL}, *const k_values[] = {"values", NULL},
                             *const k_mapv[] = {"columns", "map", NULL},
                             *const k_conv[] = {"columns", NULL},
                             *const k_set[] = {"values", "when_run_id_contains", "only_missing", NULL},
                             *const k_prod[] = {"target", "factors", NULL},
                             *const k_col[] = {"column", NULL};
    const char *kind = json_string_value(json_object_get(s, "step")), *bad = NULL;
    if (!json_is_object(s) || !kind)
        return attn_error_set(err, ATTN_EINVAL, "step %zu: must be an object with a \"step\" name", index + 1);
    size_t k = 0;
    while (KINDS[k] && strcmp(KINDS[k], kind))
        k++;
    if (!KINDS[k])
        return attn_error_set(err, ATTN_EINVAL, "step %zu: unknown step '%s' (known: fill_from_summary, fill_from_config, defaults, map_values, rename, convert, set, product, canonicalize_metric, flatten_summary)", index + 1, kind);
    const json_t *rt = json_object_get(s, "run_types");
    if (rt && !is_str_arr(rt, 1))
        return attn_error_set(err, ATTN_EINVAL, "step %zu (%s): \"run_types\" must be a non-empty array of strings", index + 1, kind);
    const char *const *allowed = k <= 1 || k == 4 ? k_map : k == 2 ? k_values : k == 3 ? k_mapv
                                 : k == 5 ? k_conv : k == 6 ? k_set : k == 7 ? k_prod : k_col;
    if (!keys_ok(s, allowed, &bad))
        return attn_error_set(err, ATTN_EINVAL, "step %zu (%s): unknown key '%s'", index + 1, kind, bad);
    int ok = 1;
    switch (k) {
    case 0: case 1: case 4: ok = is_str_obj(json_object_get(s, "map")); break;
    case 2: ok = json_is_object(json_object_get(s, "values")); break;
    case 3: ok = is_str_arr(json_object_get(s, "columns"), 1) && is_str_obj(json_object_get(s, "map")); break;
    case 5: return check_convert(json_object_get(s, "columns"), index, err);
    case 6: {
        const json_t *w = json_object_get(s, "when_run_id_contains"), *om = json_object_get(s, "only_missing");
        ok = json_is_object(json_object_get(s, "values")) && (!w || json_is_string(w)) &&
             (!om || json_is_boolean(om));
        break;
    }
    case 7: ok = json_is_string(json_object_get(s, "target")) && is_str_arr(json_object_get(s, "factors"), 2); break;
    default: ok = json_is_string(json_object_get(s, "column")); break;
    }
    if (!ok)
        return attn_error_set(err, ATTN_EINVAL, "step %zu (%s): missing or malformed arguments (see docs/classify.md)", index + 1, kind);
    return 0;
}

static int applies(const json_t *s, const char *run_type)
{
    const json_t *rt = json_object_get(s, "run_types");
    size_t i;
    json_t *v;
    if (!rt)
        return 1;
    json_array_foreach(rt, i, v) if (!strcmp(json_string_value(v), run_type)) return 1;
    return 0;
}

static int missing(const json_t *v)
{
    return !v || json_is_null(v) || (json_is_string(v) && !strcmp(json_string_value(v), "N/A"));
}

static int group_has(const json_t *rows, const char *col)
{
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r) if (json_object_get(r, col)) return 1;
    return 0;
}

/* Python str() of a JSON scalar: the shortest text that reads back the same. */
static json_t *as_text(const json_t *v)
{
    char b[64];
    if (json_is_string(v))
        return json_incref((json_t *)v);
    if (json_is_integer(v)) {
        snprintf(b, sizeof b, "%lld", (long long)json_integer_value(v));
    } else if (json_is_real(v)) {
        double d = json_real_value(v);
        for (int p = 1; p <= 17; p++) {
            snprintf(b, sizeof b, "%.*g", p, d);
            if (strtod(b, NULL) == d)
                break;
        }
    } else if (json_is_boolean(v)) {
        snprintf(b, sizeof b, "%s", json_is_true(v) ? "True" : "False");
    } else {
        char *d = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
        json_t *t = d ? json_string(d) : NULL;
        free(d);
        return t;
    }
    return json_string(b);
}

static void fill(json_t *rows, const json_t *s, int from_summary)
{
    const char *src = from_summary ? "_summary" : "_config";
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r) {
        const json_t *payload = json_object_get(r, src);
        if (!payload)
            continue;
        const char *col;
        json_t *key;
        json_object_foreach(json_object_get(s, "map"), col, key) {
            json_t *v = json_is_object(payload) ? json_object_get(payload, json_string_value(key)) : NULL;
            if (!json_object_get(r, col))
                json_object_set_new(r, col, json_null());
            if (!v || json_is_null(v))
                continue;
            if (from_summary)
                json_object_set(r, col, v);
            else if (missing(json_object_get(r, col)))
            {
                json_t *t = as_text(v);
                json_object_set_new(r, col, t ? t : json_null());
            }
        }
    }
}

static void defaults(json_t *rows, const json_t *values)
{
    const char *col;
    json_t *v;
    json_object_foreach((json_t *)values, col, v) {
        if (!group_has(rows, col))
            continue;
        size_t i;
        json_t *r;
        json_array_foreach(rows, i, r) if (missing(json_object_get(r, col)))
            json_object_set(r, col, v);
    }
}

static void map_values(json_t *rows, const json_t *s)
{
    size_t i, j;
    json_t *r, *c;
    json_array_foreach(rows, i, r) json_array_foreach(json_object_get(s, "columns"), j, c) {
        const char *v = json_string_value(json_object_get(r, json_string_value(c)));
        const json_t *to = v ? json_object_get(json_object_get(s, "map"), v) : NULL;
        if (to)
            json_object_set(r, json_string_value(c), (json_t *)to);
    }
}

static void rename_cols(json_t *rows, const json_t *map)
{
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r) {
        const char *from;
        json_t *to;
        json_object_foreach((json_t *)map, from, to) {
            json_t *v = json_object_get(r, from);
            if (!v)
                continue;
            json_object_set(r, json_string_value(to), v);
            json_object_del(r, from);
        }
    }
}

json_t *attn_classify_convert(const char *cv, const json_t *v)
{
    char ts[20];
    double d;
    if (!v || json_is_null(v))
        return json_null();
    if (!strcmp(cv, "timestamp"))
        return json_is_string(v) && !attn_classify_timestamp(json_string_value(v), ts)
                   ? json_string(ts) : json_null();
    if (json_is_number(v))
        return json_real(json_number_value(v));
    if (!json_is_string(v))
        return json_null();
    if (!strcmp(cv, "tokens_to_number"))
        return attn_classify_tokens(json_string_value(v), &d) ? json_null() : json_real(d);
    char *end;
    const char *s = json_string_value(v);
    d = strtod(s, &end);
    return *s && !*end && isfinite(d) ? json_real(d) : json_null();
}

static void convert(json_t *rows, const json_t *cols)
{
    size_t i, j;
    json_t *r, *c;
    json_array_foreach(cols, j, c) {
        const char *col = json_string_value(json_object_get(c, "column")),
                   *cv = json_string_value(json_object_get(c, "converter"));
        json_array_foreach(rows, i, r) if (json_object_get(r, col))
            json_object_set_new(r, col, attn_classify_convert(cv, json_object_get(r, col)));
    }
}

static void set_values(json_t *rows, const json_t *s)
{
    const char *when = json_string_value(json_object_get(s, "when_run_id_contains"));
    int only_missing = json_is_true(json_object_get(s, "only_missing"));
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r) {
        const char *id = json_string_value(json_object_get(r, "run_id"));
        if (when && (!id || !strstr(id, when)))
            continue;
        const char *col;
        json_t *v;
        json_object_foreach(json_object_get(s, "values"), col, v) if (!only_missing || missing(json_object_get(r, col)))
            json_object_set(r, col, v);
    }
}

static void product(json_t *rows, const json_t *s)
{
    const char *target = json_string_value(json_object_get(s, "target"));
    const json_t *factors = json_object_get(s, "factors");
    size_t i, j;
    json_t *r, *f;
    json_array_foreach(factors, j, f) if (!group_has(rows, json_string_value(f))) return;
    json_array_foreach(rows, i, r) {
        json_t *t = json_object_get(r, target);
        if (t && !json_is_null(t))
            continue;
        double p = 1;
        int ok = 1;
        json_array_foreach(factors, j, f) {
            json_t *v = json_object_get(r, json_string_value(f));
            ok &= json_is_number(v);
            p *= ok ? json_number_value(v) : 1;
        }
        json_object_set_new(r, target, ok ? json_real(p) : json_null());
    }
}

static void canonicalize(json_t *rows, const char *col, const json_t *catalogue)
{
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r) {
        const char *v = json_string_value(json_object_get(r, col));
        if (!v)
            continue;
        char *c = attn_classify_metric_canonical(catalogue, v);
        json_object_set_new(r, col, c ? json_string(c) : json_null());
        free(c);
    }
}

static void flatten(json_t *rows, const char *col)
{
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r) {
        json_t *s = json_object_get(r, "_summary");
        if (json_is_object(s))
            json_object_set_new(r, col, attn_classify_flatten_summary(s));
    }
}

int attn_classify_process(const attn_classify_cfg *c, const char *run_type, json_t *rows,
                          attn_error *err)
{
    size_t n;
    json_t *s;
    json_array_foreach(attn_classify_cfg_steps(c), n, s) {
        if (!applies(s, run_type))
            continue;
        const char *kind = json_string_value(json_object_get(s, "step"));
        if (!strcmp(kind, "fill_from_summary")) fill(rows, s, 1);
        else if (!strcmp(kind, "fill_from_config")) fill(rows, s, 0);
        else if (!strcmp(kind, "defaults")) defaults(rows, json_object_get(s, "values"));
        else if (!strcmp(kind, "map_values")) map_values(rows, s);
        else if (!strcmp(kind, "rename")) rename_cols(rows, json_object_get(s, "map"));
        else if (!strcmp(kind, "convert")) convert(rows, json_object_get(s, "columns"));
        else if (!strcmp(kind, "set")) set_values(rows, s);
        else if (!strcmp(kind, "product")) product(rows, s);
        else if (!strcmp(kind, "canonicalize_metric"))
            canonicalize(rows, json_string_value(json_object_get(s, "column")), attn_classify_cfg_catalogue(c));
        else if (!strcmp(kind, "flatten_summary"))
            flatten(rows, json_string_value(json_object_get(s, "column")));
    }
    json_t *r;
    json_array_foreach(rows, n, r) {
        json_object_del(r, "_config");
        json_object_del(r, "_summary");
    }
    (void)err;
    return 0;
}
