/*
 * output.c - how commands print JSON on stdout, gh style: `--json` prints
 * everything, `--json a,b` only those fields (of an object, or of each
 * object of an array), `--jq EXPR` filters through libjq (strings print
 * raw, as `jq -r` and gh do). Numbers always print in the artifacts'
 * shortest round-trip form (util/json.c): 0.8, not 0.80000000000000004.
 *
 * Also: tables (fixed columns, "–" for a missing metric) and "did you
 * mean" suggestions by edit distance.
 *
 * The selection is per process (set once by attn_cli_parse, read by
 * attn_cli_print_json): this file's one piece of state, part of the CLI
 * entry. A bad field or jq expression is a usage error (exit 2), reported
 * once through attn_cli_output_status(); never exits the process itself.
 */
#include "cmd/cmd.h"
#include "util/buf.h"
#include "util/json.h"

#include <jq.h>
#include <stdlib.h>
#include <string.h>

static struct {
    const char *fields; /* comma-separated, or NULL */
    const char *jq;     /* expression, or NULL */
    int status;         /* 0, or 2 after a bad field / expression */
} OUT;

void attn_cli_output_set(const char *fields, const char *jq)
{
    OUT.fields = fields && *fields ? fields : NULL;
    OUT.jq = jq && *jq ? jq : NULL;
    OUT.status = 0;
}

int attn_cli_output_status(void) { return OUT.status; }

static void fail_usage(const char *fmt, const char *a, const char *b)
{
    fputs("attn: ", stderr);
    fprintf(stderr, fmt, a, b);
    fputc('\n', stderr);
    OUT.status = 2;
}

/* Print v compact and canonical (sorted keys, shortest reals), newline. */
static void print_compact(const json_t *v)
{
    attn_buf b = ATTN_BUF_INIT;
    attn_error err;
    if (!attn_json_canonical(v, &b, &err)) {
        fputs(attn_buf_cstr(&b), stdout);
        fputc('\n', stdout);
    } else { /* NaN or Inf: jansson's own form */
        char *t = json_dumps(v, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENCODE_ANY);
        printf("%s\n", t ? t : "null");
        free(t);
    }
    attn_buf_free(&b);
}

/* The fields of one object, or NULL (and OUT.status 2) for an unknown one. */
static json_t *pick(const json_t *o)
{
    json_t *r = json_object();
    const char *p = OUT.fields;
    while (*p) {
        size_t n = strcspn(p, ",");
        char name[256];
        snprintf(name, sizeof(name), "%.*s", (int)(n < 255 ? n : 255), p);
        if (*name) {
            json_t *x = json_object_get(o, name);
            if (!x) {
                attn_buf keys = ATTN_BUF_INIT;
                const char *k;
                json_t *y;
                json_object_foreach((json_t *)o, k, y)
                    attn_buf_printf(&keys, "%s%s", keys.len ? ", " : "", k);
                fail_usage("unknown JSON field '%s'; available fields: %s", name,
                           keys.len ? attn_buf_cstr(&keys) : "(none)");
                attn_buf_free(&keys);
                json_decref(r);
                return NULL;
            }
            json_object_set(r, name, x);
        }
        p += n + (p[n] == ',');
    }
    return r;
}

static json_t *select_fields(json_t *v)
{
    size_t i;
    json_t *x, *out;
    if (json_is_object(v))
        return pick(v);
    if (!json_is_array(v)) {
        fail_usage("--json %s: this command's output has no fields%s", OUT.fields, "");
        return NULL;
    }
    out = json_array();
    json_array_foreach(v, i, x) {
        json_t *y = json_is_object(x) ? pick(x) : json_incref(x);
        if (!y) {
            json_decref(out);
            return NULL;
        }
        json_array_append_new(out, y);
    }
    return out;
}

static void jq_error(void *ctx, jv msg)
{
    char *first = ctx;
    if (!*first && jv_get_kind(msg) == JV_KIND_STRING) { /* one line */
        snprintf(first, 512, "%s", jv_string_value(msg));
        first[strcspn(first, "\n")] = 0;
    }
    jv_free(msg);
}

/* One jq output: strings raw, everything else as attn prints JSON. */
static void print_jv(jv x)
{
    if (jv_get_kind(x) == JV_KIND_STRING) {
        fputs(jv_string_value(x), stdout);
        fputc('\n', stdout);
        jv_free(x);
        return;
    }
    jv s = jv_dump_string(x, JV_PRINT_SORTED);
    json_t *back = json_loads(jv_string_value(s), JSON_DECODE_ANY, NULL);
    if (back)
        print_compact(back);
    else
        printf("%s\n", jv_string_value(s));
    json_decref(back);
    jv_free(s);
}

static void run_jq(const json_t *v)
{
    char first[512] = "";
    jq_state *jq = jq_init();
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
    jv in, x;
    if (!jq || !text) {
        fail_usage("out of memory running --jq%s%s", "", "");
        goto out;
    }
    jq_set_error_cb(jq, jq_error, first);
    if (!jq_compile(jq, OUT.jq)) {
        fail_usage("--jq '%s' does not compile: %s", OUT.jq, *first ? first : "syntax error");
        goto out;
    }
    in = jv_parse(text);
    jq_start(jq, in, 0);
    while (jv_is_valid(x = jq_next(jq)))
        print_jv(x);
    if (jv_invalid_has_msg(jv_copy(x))) {
        jv m = jv_invalid_get_msg(x);
        const char *ms = jv_get_kind(m) == JV_KIND_STRING ? jv_string_value(m) : "error";
        fail_usage("--jq '%s' failed: %s", OUT.jq, ms);
        jv_free(m);
    } else {
        jv_free(x);
    }
out:
    free(text);
    jq_teardown(&jq);
}

void attn_cli_print_json(json_t *o)
{
    json_t *v = o ? o : json_object();
    if (OUT.fields) {
        json_t *s = select_fields(v);
        json_decref(v);
        if (!(v = s))
            return;
    }
    if (OUT.jq)
        run_jq(v);
    else
        print_compact(v);
    json_decref(v);
}

int attn_cli_json_selected(void) { return OUT.fields || OUT.jq; }

/* ---- tables ------------------------------------------------------------------------ */

void attn_cli_metric(char *buf, size_t cap, const json_t *v, const char *fmt)
{
    if (json_is_number(v))
        snprintf(buf, cap, fmt, json_number_value(v));
    else
        snprintf(buf, cap, "%s", ATTN_CLI_MISSING);
}

const char *attn_cli_cell(char *buf, size_t cap, const json_t *v, int width, int prec)
{
    if (json_is_number(v))
        snprintf(buf, cap, "%*.*f", width, prec, json_number_value(v));
    else /* "–" is three bytes and one column */
        snprintf(buf, cap, "%*s%s", width > 1 ? width - 1 : 0, "", ATTN_CLI_MISSING);
    return buf;
}

/* ---- did you mean ------------------------------------------------------------------- */

static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), prev[64], cur[64];
    if (la > 63 || lb > 63)
        return 1000;
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]), del = prev[j] + 1,
                   ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, (lb + 1) * sizeof(size_t));
    }
    return prev[lb];
}

const char *attn_cli_suggest(const char *word, const char *const *names, size_t n)
{
    const char *best = NULL;
    size_t best_d = (size_t)-1, len = strlen(word);
    size_t limit = len < 6 ? 2 : len / 3 + 1;
    for (size_t i = 0; i < n; i++) {
        size_t d;
        if (!names[i])
            continue;
        d = edit_distance(word, names[i]);
        /* a prefix of a longer name is a likely typo too ("--quie") */
        if (len >= 3 && !strncmp(names[i], word, len))
            d = d < 1 ? d : 1;
        if (d < best_d) {
            best_d = d;
            best = names[i];
        }
    }
    return best && best_d <= limit ? best : NULL;
}
