/*
 * convert.c - value converters of classification post-processing: token
 * counts, id timestamps, metric-label canonicalisation against a catalogue,
 * and W&B summary flattening.
 *
 * Pure functions of their inputs (no locale, no clock). Where the dr_ingest
 * reference has a defect these follow the decisions in docs/classify.md
 * (e.g. "-5M" is no token count, "c4" stays "c4").
 */
#include "classify/classify.h"
#include "util/buf.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_sep(int ch)
{
    return ch == '-' || ch == '_' || ch == '/' || ch == '(' || ch == ')' || ch == '%' ||
           ch == '+' || ch == ',' || isspace(ch);
}

char *attn_classify_normalize(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s), o = 0;
    char *out = malloc(n + 1);
    if (!out)
        return NULL;
    int pending = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (is_sep(ch)) {
            pending = o > 0;
            continue;
        }
        if (pending)
            out[o++] = ' ';
        pending = 0;
        out[o++] = (char)tolower(ch);
    }
    out[o] = 0;
    if (!o) {
        free(out);
        return NULL;
    }
    return out;
}

/* Multiplier words, longest first so "million" wins over "m". */
static const struct { const char *word; double mult; } MULTS[] = {
    {"trillion", 1e12}, {"billion", 1e9}, {"million", 1e6}, {"m", 1e6}, {"g", 1e9},
    {"b", 1e9}, {"t", 1e12}, {"", 1.0},
};
/* What may follow the multiplier: a tokens marker ("100Mt", "2B toks"). */
static const char *const UNITS[] = {"", "t", "tok", "toks", "token", "tokens", NULL};

static int unit_ok(const char *s)
{
    while (*s == ' ')
        s++;
    for (size_t i = 0; UNITS[i]; i++)
        if (!strcmp(s, UNITS[i]))
            return 1;
    return 0;
}

int attn_classify_tokens(const char *s, double *out)
{
    char *n = attn_classify_normalize(s);
    if (!n)
        return -1;
    /* The reference turns '-' into a space before reading the sign, so
     * "-5M" became +5e6; a token count is never negative: no value. */
    const char *p = n;
    while (*s && isspace((unsigned char)*s))
        s++;
    if (*s == '-' || *s == '+' ) {
        free(n);
        return -1;
    }
    if (!isdigit((unsigned char)*p)) {
        free(n);
        return -1;
    }
    const char *q = p;
    while (isdigit((unsigned char)*q))
        q++;
    if (*q == '.') {
        if (!isdigit((unsigned char)q[1])) {
            free(n);
            return -1;
        }
        q++;
        while (isdigit((unsigned char)*q))
            q++;
    }
    double v = strtod(p, NULL);
    while (*q == ' ')
        q++;
    int rc = -1;
    for (size_t i = 0; i < sizeof MULTS / sizeof MULTS[0]; i++) {
        size_t wl = strlen(MULTS[i].word);
        if (strncmp(q, MULTS[i].word, wl) || !unit_ok(q + wl))
            continue;
        *out = v * MULTS[i].mult;
        rc = 0;
        break;
    }
    free(n);
    return rc;
}

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

static int leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int attn_classify_timestamp(const char *s, char out[20])
{
    int y, mo, d, h, mi, se;
    size_t n = s ? strlen(s) : 0;
    if (s && strchr(s, '_')) {
        /* YYYY_MM_DD-HH_MM_SS */
        if (n != 19 || s[4] != '_' || s[7] != '_' || s[10] != '-' || s[13] != '_' || s[16] != '_' ||
            digits(s, 4, &y) || digits(s + 5, 2, &mo) || digits(s + 8, 2, &d) ||
            digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) || digits(s + 17, 2, &se))
            return -1;
    } else {
        /* YYMMDD-HHMMSS; years 00-68 are 20xx, 69-99 19xx (POSIX %y). */
        if (n != 13 || s[6] != '-' || digits(s, 2, &y) || digits(s + 2, 2, &mo) ||
            digits(s + 4, 2, &d) || digits(s + 7, 2, &h) || digits(s + 9, 2, &mi) ||
            digits(s + 11, 2, &se))
            return -1;
        y += y <= 68 ? 2000 : 1900;
    }
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] + (mo == 2 && leap(y)) || h > 23 ||
        mi > 59 || se > 59 || y < 1)
        return -1;
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%04d-%02d-%02dT%02d:%02d:%02d", y, mo, d, h, mi, se);
    memcpy(out, tmp, 20);
    out[19] = 0;
    return 0;
}

/* Split s (normalised) on spaces into toks; returns count (max cap). */
static size_t split(char *s, char **toks, size_t cap)
{
    size_t n = 0;
    for (char *t = strtok(s, " "); t && n < cap; t = strtok(NULL, " "))
        toks[n++] = t;
    return n;
}

static char *join(char **toks, size_t from, size_t to)
{
    attn_buf b = ATTN_BUF_INIT;
    for (size_t i = from; i < to; i++) {
        if (i > from)
            attn_buf_putc(&b, ' ');
        attn_buf_puts(&b, toks[i]);
    }
    return to > from ? attn_buf_detach(&b) : (attn_buf_free(&b), (char *)NULL);
}

/* Number of tokens of `task` when they prefix toks[0..n), else 0. */
static size_t task_prefix(const char *task, char **toks, size_t n)
{
    char *t = attn_classify_normalize(task);
    char *tt[64];
    size_t k = t ? split(t, tt, 64) : 0, ok = k > 0 && k <= n;
    for (size_t i = 0; ok && i < k; i++)
        ok = !strcmp(tt[i], toks[i]);
    free(t);
    return ok ? k : 0;
}

int attn_classify_metric_parse(const json_t *catalogue, const char *label, char **task,
                               char **metric, char **unmatched)
{
    *task = *metric = *unmatched = NULL;
    char *n = attn_classify_normalize(label);
    if (!n)
        return 0;
    char *toks[128];
    size_t nt = split(n, toks, 128), best = 0;
    size_t i;
    json_t *v;
    /* Longest task first: the one covering the most tokens wins. */
    json_array_foreach(json_object_get(catalogue, "tasks"), i, v) {
        size_t k = task_prefix(json_string_value(v), toks, nt);
        if (k > best) {
            best = k;
            free(*task);
            *task = attn_classify_normalize(json_string_value(v));
        }
    }
    char *rest = join(toks, best, nt);
    if (rest) {
        json_array_foreach(json_object_get(catalogue, "metrics"), i, v) {
            char *m = attn_classify_normalize(json_string_value(v));
            int eq = m && !strcmp(m, rest);
            if (eq) {
                *metric = m;
                break;
            }
            free(m);
        }
        if (*metric)
            free(rest);
        else
            *unmatched = rest;
    }
    free(n);
    return 0;
}

char *attn_classify_metric_canonical(const json_t *catalogue, const char *label)
{
    char *t, *m, *u;
    if (attn_classify_metric_parse(catalogue, label, &t, &m, &u) < 0)
        return NULL;
    char *parts[3] = {t, m, u};
    attn_buf b = ATTN_BUF_INIT;
    for (int i = 0; i < 3; i++)
        if (parts[i]) {
            if (b.len)
                attn_buf_putc(&b, ' ');
            attn_buf_puts(&b, parts[i]);
        }
    free(t);
    free(m);
    free(u);
    return b.len ? attn_buf_detach(&b) : (attn_buf_free(&b), (char *)NULL);
}

/* Merge a task's value v (scalar or dict) into tasks[task]. */
static void put_task_value(json_t *tasks, const char *task, const char *metric, json_t *v)
{
    json_t *t = json_object_get(tasks, task);
    if (!t) {
        t = json_object();
        json_object_set_new(tasks, task, t);
    }
    if (metric) {
        json_object_set(t, metric, v);
        return;
    }
    if (json_is_object(v)) {
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x) json_object_set(t, k, x);
    } else {
        json_object_set(t, "value", v);
    }
}

/* Drop task_config and nulls, lift extra_metrics, collapse {value: x} to x, move value last. */
static json_t *finish_task(json_t *t)
{
    json_t *extra = json_incref(json_object_get(t, "extra_metrics"));
    json_object_del(t, "task_config");
    json_object_del(t, "extra_metrics");
    if (json_is_object(extra)) {
        const char *k;
        json_t *x;
        json_object_foreach(extra, k, x) if (!json_is_null(x)) json_object_set(t, k, x);
    }
    json_decref(extra);
    json_t *out = json_object();
    const char *k;
    json_t *x;
    json_object_foreach(t, k, x) if (!json_is_null(x) && strcmp(k, "value")) json_object_set(out, k, x);
    json_t *val = json_object_get(t, "value");
    if (val && !json_is_null(val)) {
        if (json_object_size(out) == 0) {
            json_decref(out);
            return json_incref(val);
        }
        json_object_set(out, "value", val);
    }
    if (json_object_size(out) == 0) {
        json_decref(out);
        return NULL;
    }
    return out;
}

json_t *attn_classify_flatten_summary(const json_t *summary)
{
    json_t *tasks = json_object(), *out = json_object();
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)summary, k, v) {
        if (strncmp(k, "oe_eval_metrics", 15) || json_is_null(v))
            continue;
        const char *s1 = strchr(k, '/'), *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
        if (!s1 || (s2 && strchr(s2 + 1, '/')))
            continue;
        char task[512];
        size_t tl = (size_t)((s2 ? s2 : k + strlen(k)) - s1 - 1);
        if (tl >= sizeof task)
            continue;
        memcpy(task, s1 + 1, tl);
        task[tl] = 0;
        put_task_value(tasks, task, s2 ? s2 + 1 : NULL, v);
    }
    json_object_foreach(tasks, k, v) {
        json_t *t = finish_task(v);
        if (t)
            json_object_set_new(out, k, t);
    }
    json_decref(tasks);
    return out;
}
