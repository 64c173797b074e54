/*
 * gates.c - PR-body gate parsing with PCRE2, and the gate correlation
 * aggregate (see gates.h for the rules).
 *
 * Every pattern is compiled once per parser and run with a match limit, so a
 * hostile body costs bounded time and yields "missing", never a crash.
 */
#include "eval/gates.h"
#include "util/alloc.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    P_ISSUE_URL, P_ISSUE_HASH, P_ISSUE_JIRA, P_AI_LINE, P_PROV_LINE, P_CHECKED, P_AI_WORD,
    P_NEG_WORD, P_PROV_WORD, P_MIXED, P_GENERATED, P_HUMAN, N_P
};

#define KEY_OPEN "^[ \\t]*(?:[-*+][ \\t]+)?(?:\\*\\*)?"
#define KEY_CLOSE "(?:\\*\\*)?[ \\t]*:(?:\\*\\*)?[ \\t]*(?:\\*\\*)?"

static const struct {
    const char *re;
    uint32_t flags;
} PATTERNS[N_P] = {
    [P_ISSUE_URL] = {"https?://github\\.com/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/(?:issues|pull)/[0-9]+",
                     PCRE2_CASELESS},
    [P_ISSUE_HASH] = {"(?<![A-Za-z0-9_])#[0-9]+", 0},
    [P_ISSUE_JIRA] = {"\\b[A-Z][A-Z0-9]+-[0-9]+\\b", 0},
    [P_AI_LINE] = {KEY_OPEN "(?:ai|ai[ -]?assist(?:ed|ance)|genai|llm)(?:[ \\t]+used)?" KEY_CLOSE
                   "(yes|no|true|false)\\b",
                   PCRE2_CASELESS | PCRE2_MULTILINE},
    [P_PROV_LINE] = {KEY_OPEN "(?:provenance|origin|source)" KEY_CLOSE
                     "(human|ai|mixed|unknown)\\b",
                     PCRE2_CASELESS | PCRE2_MULTILINE},
    [P_CHECKED] = {"^[ \\t]*[-*+][ \\t]+\\[[xX]\\][ \\t]*(.*?)[ \\t\\r]*$", PCRE2_MULTILINE},
    [P_AI_WORD] = {"\\b(?:ai|genai|llm|copilot|chatgpt|claude)\\b", PCRE2_CASELESS},
    [P_NEG_WORD] = {"\\b(?:no|not|none|without)\\b", PCRE2_CASELESS},
    [P_PROV_WORD] = {"\\b(?:provenance|origin|source|human|manual|generated|assisted|mixed)",
                     PCRE2_CASELESS},
    [P_MIXED] = {"\\b(?:mixed|assisted)", PCRE2_CASELESS},
    [P_GENERATED] = {"\\bgenerated", PCRE2_CASELESS},
    [P_HUMAN] = {"\\b(?:human|manual)", PCRE2_CASELESS},
};

struct attn_gate_parser {
    pcre2_code *code[N_P];
    pcre2_match_data *md;
    pcre2_match_context *mctx;
};

void attn_gate_parser_free(attn_gate_parser *p)
{
    if (!p)
        return;
    for (int i = 0; i < N_P; i++)
        pcre2_code_free(p->code[i]);
    pcre2_match_data_free(p->md);
    pcre2_match_context_free(p->mctx);
    free(p);
}

int attn_gate_parser_new(attn_gate_parser **out, attn_error *err)
{
    attn_gate_parser *p = attn_xcalloc(1, sizeof(*p));
    *out = NULL;
    for (int i = 0; i < N_P; i++) {
        int ec;
        PCRE2_SIZE off;
        p->code[i] = pcre2_compile((PCRE2_SPTR)PATTERNS[i].re, PCRE2_ZERO_TERMINATED,
                                   PATTERNS[i].flags, &ec, &off, NULL);
        if (!p->code[i]) {
            PCRE2_UCHAR msg[256];
            pcre2_get_error_message(ec, msg, sizeof(msg));
            attn_gate_parser_free(p);
            return attn_error_set(err, ATTN_ECORRUPT, "gate pattern %d at offset %zu: %s", i,
                                  (size_t)off, (const char *)msg);
        }
    }
    p->md = attn_xcheck(pcre2_match_data_create(8, NULL));
    p->mctx = attn_xcheck(pcre2_match_context_create(NULL));
    /* Bounded work per body: a pathological body is "missing", not a hang. */
    pcre2_set_match_limit(p->mctx, 1000000);
    *out = p;
    return 0;
}

/* Match pattern i in s[start..len). 1 match (ovector in p->md), 0 none. */
static int match(attn_gate_parser *p, int i, const char *s, size_t len, size_t start)
{
    int rc = pcre2_match(p->code[i], (PCRE2_SPTR)s, len, start, 0, p->md, p->mctx);
    return rc > 0;
}

static char *group_dup(attn_gate_parser *p, const char *s, int g)
{
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(p->md);
    size_t n = ov[2 * g + 1] - ov[2 * g];
    return attn_xstrndup(s + ov[2 * g], n);
}

static void lower(char *s)
{
    for (; s && *s; s++)
        *s = (char)tolower((unsigned char)*s);
}

/* Each checked box's label in order; fn decides, returning a value to keep
 * (static string) or NULL to go on. */
static const char *first_checkbox(attn_gate_parser *p, const char *body, size_t len,
                                  const char *(*fn)(attn_gate_parser *, const char *))
{
    size_t start = 0;
    while (start <= len && match(p, P_CHECKED, body, len, start)) {
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(p->md);
        size_t end = ov[1];
        char *label = group_dup(p, body, 1);
        const char *v = label ? fn(p, label) : NULL;
        free(label);
        if (v)
            return v;
        start = end > start ? end : start + 1;
    }
    return NULL;
}

static const char *ai_box(attn_gate_parser *p, const char *label)
{
    size_t n = strlen(label);
    if (!match(p, P_AI_WORD, label, n, 0))
        return NULL;
    return match(p, P_NEG_WORD, label, n, 0) ? "no" : "yes";
}

static const char *prov_box(attn_gate_parser *p, const char *label)
{
    size_t n = strlen(label);
    if (!match(p, P_PROV_WORD, label, n, 0))
        return NULL;
    if (match(p, P_MIXED, label, n, 0))
        return "mixed";
    if (match(p, P_GENERATED, label, n, 0))
        return "ai";
    if (match(p, P_HUMAN, label, n, 0))
        return "human";
    return "unknown";
}

void attn_gates_free(attn_gates *g)
{
    free(g->issue);
    free(g->ai_disclosure);
    free(g->provenance);
    memset(g, 0, sizeof(*g));
}

int attn_gate_parse(attn_gate_parser *p, const char *body, attn_gates *out, attn_error *err)
{
    size_t len;
    const char *v;
    memset(out, 0, sizeof(*out));
    if (!body)
        return 0;
    len = strlen(body);

    for (int i = P_ISSUE_URL; i <= P_ISSUE_JIRA && !out->issue; i++)
        if (match(p, i, body, len, 0))
            out->issue = group_dup(p, body, 0);

    if (match(p, P_AI_LINE, body, len, 0)) {
        char *ans = group_dup(p, body, 1);
        lower(ans);
        v = !strcmp(ans, "yes") || !strcmp(ans, "true") ? "yes" : "no";
        free(ans);
    } else {
        v = first_checkbox(p, body, len, ai_box);
    }
    if (v)
        out->ai_disclosure = attn_xstrdup(v);

    if (match(p, P_PROV_LINE, body, len, 0)) {
        out->provenance = group_dup(p, body, 1);
        lower(out->provenance);
    } else if ((v = first_checkbox(p, body, len, prov_box))) {
        out->provenance = attn_xstrdup(v);
    }
    return 0;
}

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

json_t *attn_gates_json(const attn_gates *g)
{
    return json_pack("{s:o, s:o, s:o, s:b, s:b, s:b}", "issue", str_or_null(g->issue),
                     "ai_disclosure", str_or_null(g->ai_disclosure), "provenance",
                     str_or_null(g->provenance), "missing_issue", g->issue == NULL,
                     "missing_ai_disclosure", g->ai_disclosure == NULL, "missing_provenance",
                     g->provenance == NULL);
}

static json_t *rate(size_t num, size_t den)
{
    return den ? json_real((double)num / (double)den) : json_null();
}

int attn_gate_correlation(const attn_gate_row *rows, size_t n, json_t **out, attn_error *err)
{
    static const char *const FIELDS[] = {"issue", "ai_disclosure", "provenance"};
    json_t *res = attn_xcheck(json_object());
    for (int f = 0; f < 3; f++) {
        size_t missing = 0, merged_missing = 0, merged_present = 0;
        for (size_t i = 0; i < n; i++) {
            const attn_gates *g = rows[i].gates;
            const char *v = !g ? NULL : f == 0 ? g->issue : f == 1 ? g->ai_disclosure
                                                                    : g->provenance;
            if (!v) {
                missing++;
                merged_missing += rows[i].merged != 0;
            } else {
                merged_present += rows[i].merged != 0;
            }
        }
        json_object_set_new(res, FIELDS[f],
                            json_pack("{s:I, s:I, s:I, s:o, s:o, s:o}", "n", (json_int_t)n,
                                      "missing_n", (json_int_t)missing, "present_n",
                                      (json_int_t)(n - missing), "missing_rate", rate(missing, n),
                                      "merged_rate_missing", rate(merged_missing, missing),
                                      "merged_rate_present",
                                      rate(merged_present, n - missing)));
    }
    *out = res;
    return 0;
}
