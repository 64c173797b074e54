/*
 * link.c - RFC 8288 (formerly RFC 5988) Link header parsing for pagination.
 *
 * GitHub pages its lists with `Link: <url>; rel="next", <url>; rel="last"`.
 * The grammar is small but a naive split on ',' or ';' breaks on real URLs
 * (a `labels=a,b` query holds commas), so this walks the header honouring
 * <...> and quoted strings. Per the RFC, rel holds a space-separated list of
 * relation types compared case-insensitively, parameter names are
 * case-insensitive, and only the first rel parameter of a link counts.
 * Malformed link-values are skipped, never guessed at.
 *
 * Must never: return a truncated URL (a cut "next" link would fetch the
 * wrong page); it reports -1 instead.
 */
#include "github/client.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

/* RFC 7230 tchar: the characters a token (parameter name or bare value) may hold. */
static int is_tchar(int ch)
{
    return isalnum(ch) || (ch && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

static const char *skip_ows(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
    return p;
}

/* Advance to the ',' that ends the current link-value (or the end), stepping
 * over <...> and "..." so that commas inside them do not split values. */
static const char *skip_value(const char *p)
{
    while (*p && *p != ',') {
        if (*p == '<') {
            const char *e = strchr(p, '>');
            if (!e)
                return p + strlen(p);
            p = e + 1;
        } else if (*p == '"') {
            p++;
            while (*p && *p != '"') {
                if (*p == '\\' && p[1])
                    p++;
                p++;
            }
            if (*p)
                p++;
        } else {
            p++;
        }
    }
    return p;
}

/* Does the space-separated relation list `list` contain `rel` (case-insensitive)? */
static int rel_list_has(const char *list, const char *rel)
{
    size_t rl = strlen(rel);
    const char *p = list;
    while (*p) {
        while (*p == ' ' || *p == '\t')
            p++;
        const char *s = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        if ((size_t)(p - s) == rl && rl > 0 && strncasecmp(s, rel, rl) == 0)
            return 1;
    }
    return 0;
}

/*
 * Parse the parameters after a link's URI. Returns the position after them
 * (at ',' or end) and sets *matched when the first rel parameter lists `rel`.
 * A parameter that breaks the grammar abandons the rest of this link-value.
 */
static const char *parse_params(const char *p, const char *rel, int *matched)
{
    int seen_rel = 0;
    *matched = 0;
    for (;;) {
        char name[32], value[512];
        size_t nl = 0, vl = 0;
        int name_fits = 1;

        p = skip_ows(p);
        if (*p == ',' || *p == '\0')
            return p;
        if (*p != ';') {
            *matched = 0;   /* garbage after the URI: the link is malformed */
            return skip_value(p);
        }
        p = skip_ows(p + 1);
        if (!is_tchar((unsigned char)*p)) {
            if (*p == ';' || *p == ',' || *p == '\0')
                continue;   /* empty parameter ("; ;"): tolerate */
            *matched = 0;
            return skip_value(p);
        }
        while (is_tchar((unsigned char)*p)) {
            if (nl + 1 < sizeof(name))
                name[nl++] = *p;
            else
                name_fits = 0;
            p++;
        }
        name[nl] = '\0';
        p = skip_ows(p);
        value[0] = '\0';
        if (*p == '=') {
            p = skip_ows(p + 1);
            if (*p == '"') {
                p++;
                while (*p && *p != '"') {
                    if (*p == '\\' && p[1])
                        p++;
                    if (vl + 1 < sizeof(value))
                        value[vl++] = *p;
                    p++;
                }
                if (*p != '"') {   /* unterminated quoted string */
                    *matched = 0;
                    return p;
                }
                p++;
            } else {
                /* Bare values should be tokens, but servers write e.g. type=text/html:
                 * take everything up to the next delimiter rather than reject the link. */
                while (*p && *p != ';' && *p != ',' && *p != ' ' && *p != '\t') {
                    if (vl + 1 < sizeof(value))
                        value[vl++] = *p;
                    p++;
                }
            }
            value[vl] = '\0';
        }
        if (name_fits && strcasecmp(name, "rel") == 0 && !seen_rel) {
            seen_rel = 1;   /* RFC 8288 §3.3: later rel parameters are ignored */
            *matched = rel_list_has(value, rel);
        }
    }
}

int attn_gh_link_find(const char *link_header, const char *rel, char *out, size_t cap)
{
    const char *p = link_header;

    if (out && cap)
        out[0] = '\0';
    if (!p || !rel || !*rel)
        return 0;
    for (;;) {
        const char *u, *e;
        int matched;

        while (*p == ',' || *p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
            p++;
        if (!*p)
            return 0;
        if (*p != '<') {   /* a value that does not start with a URI is malformed */
            p = skip_value(p);
            continue;
        }
        u = p + 1;
        e = strchr(u, '>');
        if (!e)
            return 0;
        p = parse_params(e + 1, rel, &matched);
        if (matched) {
            size_t len;
            while (u < e && (*u == ' ' || *u == '\t'))
                u++;
            while (e > u && (e[-1] == ' ' || e[-1] == '\t'))
                e--;
            len = (size_t)(e - u);
            if (!out)
                return 1;
            if (len >= cap)
                return -1;
            memcpy(out, u, len);
            out[len] = '\0';
            return 1;
        }
    }
}
