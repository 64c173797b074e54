/*
 * mentions.c - the `mentions` router: the users and teams @mentioned in the
 * PR's title and body as they stood at the cutoff (SPEC §7).
 *
 * Owns the @mention syntax (mentions.h) and the mention scoring. Must never
 * read anything but q->snapshot (title, body, leak_risk) and, for team
 * expansion, the roster at q->as_of. Fixes original.md §15 item 12: the title
 * is read too (first), and teams can be expanded to the people they stand for.
 * The author and bots are removed by router.c like for every router.
 *
 * Scoring: the de-duplicated mentions, title first then body, each in order of
 * appearance, get position i = 0, 1, ... and score 1/(1+i). Evidence:
 * {kind:"mention", data:{source:"title"|"body", position}}; a team expanded
 * through the roster gives each member the team's score (a member mentioned
 * in person keeps the higher of the two) with evidence data {..., via_team}.
 * Risk is "low" with candidates, "high" (and a note) when nobody but the
 * author or bots is mentioned; confidence stays "unknown" (positions are not
 * calibrated).
 *
 * Config (default_config below):
 *   sources               which texts to read, a non-empty subset of
 *                         ["title", "body"]; the scan order is always title
 *                         then body, whatever the order written
 *   expand_teams          false: a team mention stays a team target "org/slug".
 *                         true: a team with members at the cutoff in
 *                         routing/team_roster.json is replaced by its members
 *                         (a team the roster does not know stays a team)
 *   ignore_code           skip ``` / ~~~ fenced blocks and `inline` code spans
 *                         (a mention in code is an example, not a request)
 *   ignore_quotes         skip lines starting with '>' (quoted replies repeat
 *                         someone else's mentions)
 *   ignore_html_comments  skip <!-- ... --> (PR templates put instructions such
 *                         as "cc @maintainers" in comments GitHub never shows)
 *
 * Syntax choices (the data-driven cases in tests/data/mentions/cases.txt pin
 * them down):
 *   - the character before '@' must not be a letter, digit or one of
 *     _ . - + / = @ : e-mail addresses (a@b.com, first.last@x), URL paths
 *     (medium.com/@alice) and query strings are not mentions; any other
 *     character, including non-ASCII text ("请@alice") and a backtick that
 *     opens no code span, may precede;
 *   - a login is 1-39 letters, digits and single inner hyphens; a longer or
 *     malformed run ("@a--b", "@alice-", 40 characters) is not truncated to
 *     a valid prefix, it is not a mention at all;
 *   - after the login: '_' or '@' ("@me@mastodon.social") reject it; dots are
 *     allowed only when what follows them is not a word character, so
 *     "thanks @alice." is a mention and "@alice.com" is not;
 *   - "@org/slug" is a team (slug: letter or digit first, then letters,
 *     digits, '_' or '-', not ending in '-'); a slug followed by '/' is a
 *     path ("@scope/pkg/file.js"), and "@alice/" alone is nothing. npm
 *     scopes ("@types/node") are indistinguishable from teams and are kept;
 *     with expand_teams they expand to nothing and stay team targets;
 *   - fences open on a line whose first non-blank characters are 3+
 *     backticks (no backtick after them) or 3+ tildes and close on a line of
 *     at least as many of the same character and nothing else; an unclosed
 *     fence runs to the end (CommonMark). Leading blanks of any width are
 *     allowed, so fences inside list items count. Indented (4-space) code
 *     blocks and <pre>/<code> HTML are not recognised: PR bodies indent lists
 *     far more often than code;
 *   - a code span opens with a run of n backticks and closes at the next run
 *     of exactly n before a blank line; without a close the backticks are
 *     literal and the text after them is scanned;
 *   - the title is one line of inline text: only code spans and HTML
 *     comments apply to it, never fences or quotes;
 *   - at most ATTN_MENTIONS_CAP distinct mentions are kept (later ones would
 *     score below 1/ATTN_MENTIONS_CAP); a note says when the cap was hit.
 */
#include "route/mentions.h"
#include "util/alloc.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "history/asof.h"
#include "route/baselines.h"
#include "route/router.h"
#include "util/buf.h"

#define ATTN_MENTIONS_CAP 1000

static int is_alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static int is_word(unsigned char c)
{
    return is_alnum(c) || c == '_';
}

static int blocks_before(unsigned char c)
{
    return is_word(c) || (c && strchr("._-+/=@", c) != NULL);
}

/* The maximal [A-Za-z0-9-] run at s[i..] ends at *end; its length when it is
 * a valid login (1-39, no leading, trailing or doubled hyphen), else 0. */
static size_t login_run(const char *s, size_t n, size_t i, size_t *end)
{
    size_t j = i;
    while (j < n && (is_alnum((unsigned char)s[j]) || s[j] == '-'))
        j++;
    *end = j;
    if (j == i || j - i > 39 || s[i] == '-' || s[j - 1] == '-')
        return 0;
    for (size_t k = i + 1; k < j; k++)
        if (s[k] == '-' && s[k - 1] == '-')
            return 0;
    return j - i;
}

/* May a mention end just before s[j]? */
static int ends_ok(const char *s, size_t n, size_t j)
{
    if (j >= n)
        return 1;
    if (s[j] == '_' || s[j] == '@')
        return 0;
    if (s[j] == '.') {
        while (j < n && s[j] == '.')
            j++;
        return j >= n || !is_word((unsigned char)s[j]);
    }
    return 1;
}

/* End of the code span whose opening run of r backticks ends at from, or 0
 * when no run of exactly r backticks follows before a blank line. */
static size_t span_close(const char *s, size_t n, size_t from, size_t r)
{
    size_t k = from;
    while (k < n) {
        if (s[k] == '`') {
            size_t m = k;
            while (m < n && s[m] == '`')
                m++;
            if (m - k == r)
                return m;
            k = m;
            continue;
        }
        if (s[k] == '\n') {
            size_t m = k + 1;
            while (m < n && (s[m] == ' ' || s[m] == '\t' || s[m] == '\r'))
                m++;
            if (m >= n || s[m] == '\n')
                return 0;
        }
        k++;
    }
    return 0;
}

static size_t line_end(const char *s, size_t n, size_t i)
{
    const char *nl = memchr(s + i, '\n', n - i);
    return nl ? (size_t)(nl - s) : n;
}

static int only_blanks(const char *s, size_t i, size_t j)
{
    for (; i < j; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return 0;
    return 1;
}

/* Add (type, name) unless present; 1 when the cap stops it. */
static int add(json_t *list, const char *type, const char *name, size_t len, const char *source,
               size_t offset)
{
    size_t i;
    json_t *v;
    char buf[256];
    if (len >= sizeof(buf))
        return 0;      /* cannot be a real team; logins are <= 39 */
    memcpy(buf, name, len);
    buf[len] = '\0';
    json_array_foreach(list, i, v) {
        if (!strcmp(json_string_value(json_object_get(v, "type")), type) &&
            !strcasecmp(json_string_value(json_object_get(v, "name")), buf))
            return 0;
    }
    if (json_array_size(list) >= ATTN_MENTIONS_CAP)
        return 1;
    v = attn_xcheck(json_pack("{s:s, s:s, s:s, s:I}", "type", type, "name", buf, "source", source,
                              "offset", (json_int_t)offset));
    attn_xcheck_rc(json_array_append_new(list, v));
    return 0;
}

/* Try a mention at s[i] == '@'. Returns the index to continue from. */
static size_t at_mention(const char *s, size_t n, size_t i, const char *source, json_t *list,
                         int *rc, attn_error *err)
{
    size_t end, t0, t;
    if (i > 0 && blocks_before((unsigned char)s[i - 1]))
        return i + 1;
    if (!login_run(s, n, i + 1, &end))
        return end > i + 1 ? end : i + 1;
    if (end < n && s[end] == '/') {
        t0 = t = end + 1;
        while (t < n && (is_word((unsigned char)s[t]) || s[t] == '-'))
            t++;
        if (t == t0 || !is_alnum((unsigned char)s[t0]) || s[t - 1] == '-' ||
            (t < n && s[t] == '/') || !ends_ok(s, n, t))
            return t > t0 ? t : t0;
        *rc = add(list, "team", s + i + 1, t - i - 1, source, i);
        return t;
    }
    if (!ends_ok(s, n, end))
        return end;
    *rc = add(list, "user", s + i + 1, end - i - 1, source, i);
    return end;
}

int attn_mentions_extract(const char *s, size_t n, unsigned flags, const char *source,
                          json_t *list, attn_error *err)
{
    size_t i = 0, flen = 0;
    int line_start = 1, in_fence = 0, rc = 0, capped = 0;
    char fch = 0;
    int blocks = !(flags & ATTN_MENTIONS_INLINE);

    while (i < n) {
        if (line_start && blocks) {
            size_t j = i, eol;
            line_start = 0;
            while (j < n && (s[j] == ' ' || s[j] == '\t'))
                j++;
            eol = line_end(s, n, j);
            if (in_fence) {
                size_t k = j;
                while (k < eol && s[k] == fch)
                    k++;
                if (k > j && k - j >= flen && only_blanks(s, k, eol))
                    in_fence = 0;
                i = eol;
                continue;
            }
            if ((flags & ATTN_MENTIONS_SKIP_CODE) && j < n && (s[j] == '`' || s[j] == '~')) {
                size_t k = j;
                while (k < eol && s[k] == s[j])
                    k++;
                if (k - j >= 3 && !(s[j] == '`' && memchr(s + k, '`', eol - k))) {
                    in_fence = 1;
                    fch = s[j];
                    flen = k - j;
                    i = eol;
                    continue;
                }
            }
            if ((flags & ATTN_MENTIONS_SKIP_QUOTES) && j < n && s[j] == '>') {
                i = eol;
                continue;
            }
        }
        if (s[i] == '\n') {
            line_start = 1;
            i++;
        } else if ((flags & ATTN_MENTIONS_SKIP_HTML) && s[i] == '<' && n - i >= 4 &&
                   !memcmp(s + i, "<!--", 4)) {
            /* An unclosed comment hides the rest, as in HTML. */
            size_t k = i + 4;
            while (k + 3 <= n && memcmp(s + k, "-->", 3))
                k++;
            i = k + 3 <= n ? k + 3 : n;
        } else if ((flags & ATTN_MENTIONS_SKIP_CODE) && s[i] == '`') {
            size_t r = i, close;
            while (r < n && s[r] == '`')
                r++;
            close = span_close(s, n, r, r - i);
            i = close ? close : r;
        } else if (s[i] == '@') {
            i = at_mention(s, n, i, source, list, &rc, err);
            if (rc < 0)
                return rc;
            if (rc > 0)
                capped = 1;
            rc = 0;
        } else {
            i++;
        }
    }
    return capped;
}

/* ------------------------------------------------------------------------ */

typedef struct {
    int title, body;
    int expand_teams;
    unsigned body_flags, title_flags;
} mentions_state;

static const char *NAME = "mentions";

static int mentions_init(const json_t *config, const attn_route_ctx *ctx, void **state,
                         attn_error *err)
{
    mentions_state *st;
    const json_t *src = json_object_get(config, "sources"), *v;
    int code, quotes, html;
    size_t i;
    (void)ctx;
    st = attn_xcalloc(1, sizeof(*st));
    if (!json_is_array(src) || !json_array_size(src)) {
        free(st);
        return attn_error_set(err, ATTN_EINVAL,
                              "mentions config: sources must be a non-empty array of "
                              "\"title\" and/or \"body\"");
    }
    json_array_foreach(src, i, v) {
        const char *s = json_string_value(v);
        int *slot = !s ? NULL : !strcmp(s, "title") ? &st->title
                              : !strcmp(s, "body") ? &st->body : NULL;
        if (!slot || *slot) {
            free(st);
            return attn_error_set(err, ATTN_EINVAL,
                                  "mentions config: sources[%zu] must be \"title\" or \"body\""
                                  " (each at most once)", i);
        }
        *slot = 1;
    }
    if (attn_bl_bool(config, NAME, "expand_teams", &st->expand_teams, err) ||
        attn_bl_bool(config, NAME, "ignore_code", &code, err) ||
        attn_bl_bool(config, NAME, "ignore_quotes", &quotes, err) ||
        attn_bl_bool(config, NAME, "ignore_html_comments", &html, err)) {
        free(st);
        return ATTN_EINVAL;
    }
    st->body_flags = (code ? ATTN_MENTIONS_SKIP_CODE : 0) |
                     (quotes ? ATTN_MENTIONS_SKIP_QUOTES : 0) |
                     (html ? ATTN_MENTIONS_SKIP_HTML : 0);
    st->title_flags = ATTN_MENTIONS_INLINE | (code ? ATTN_MENTIONS_SKIP_CODE : 0) |
                      (html ? ATTN_MENTIONS_SKIP_HTML : 0);
    *state = st;
    return 0;
}

static int scan_field(const json_t *snap, const char *field, unsigned flags, json_t *list,
                      int *capped, attn_error *err)
{
    const json_t *v = json_object_get(snap, field);
    int rc;
    if (!json_is_string(v))
        return 0;
    rc = attn_mentions_extract(json_string_value(v), json_string_length(v), flags, field, list,
                               err);
    if (rc < 0)
        return rc;
    if (rc > 0)
        *capped = 1;
    return 0;
}

static void cand_mention(attn_cand *c, double score, const json_t *m, size_t pos,
                         const char *via_team)
{
    json_t *data;
    if (!c)
        return;
    data = attn_xcheck(json_pack("{s:O, s:I}", "source", json_object_get(m, "source"), "position",
                                 (json_int_t)pos));
    if (via_team)
        attn_xcheck_rc(json_object_set_new(data, "via_team", attn_xcheck(json_string(via_team))));
    if (attn_cand_score(c) < score)
        attn_cand_set_score(c, score);
    attn_cand_evidence(c, "mention", data);
}

static int mentions_route(void *state, const attn_route_ctx *ctx, const attn_route_query *q,
                          attn_route_result *res, attn_error *err)
{
    mentions_state *st = state;
    json_t *list = attn_xcheck(json_array());
    const json_t *m;
    size_t i, unexpanded = 0;
    int capped = 0, rc = 0;

    if ((st->title && (rc = scan_field(q->snapshot, "title", st->title_flags, list, &capped,
                                       err))) ||
        (st->body && (rc = scan_field(q->snapshot, "body", st->body_flags, list, &capped, err))))
        goto done;

    json_array_foreach(list, i, m) {
        const char *type = json_string_value(json_object_get(m, "type"));
        const char *name = json_string_value(json_object_get(m, "name"));
        double score = 1.0 / (1.0 + (double)i);
        if (!strcmp(type, "team") && st->expand_teams && ctx->roster) {
            const char **members;
            size_t nm;
            attn_bl_team_members(ctx->roster, name, q->as_of, &members, &nm);
            for (size_t k = 0; k < nm; k++)
                cand_mention(attn_result_cand(res, "user", members[k]), score, m, i, name);
            free(members);
            if (nm)
                continue;
            unexpanded++;
        }
        cand_mention(attn_result_cand(res, type, name), score, m, i, NULL);
    }

    if (st->body && attn_bl_leak_has(q->snapshot, ATTN_LEAK_BODY_OBSERVED))
        attn_result_note(res, "body observed at ingestion (may postdate the cutoff)");
    if (attn_bl_leak_has(q->snapshot, ATTN_LEAK_CONTENT_MISSING))
        attn_result_note(res, "title and body unknown at the cutoff");
    if (capped)
        attn_result_note(res, "more than %d distinct mentions: later ones ignored",
                         ATTN_MENTIONS_CAP);
    if (unexpanded)
        attn_result_note(res, "%zu mentioned team%s without members in the roster at the cutoff"
                         " kept as team targets", unexpanded, unexpanded == 1 ? "" : "s");
    if (st->expand_teams && !ctx->roster) {
        json_array_foreach(list, i, m) {
            if (!strcmp(json_string_value(json_object_get(m, "type")), "team")) {
                attn_result_note(res, "expand_teams is set but no team roster is loaded:"
                                 " teams kept as team targets");
                break;
            }
        }
    }
    attn_result_set_confidence(res, "unknown");
    if (attn_bl_survivors(res, ctx, q->snapshot, NULL)) {
        attn_result_set_risk(res, "low");
    } else {
        attn_result_set_risk(res, "high");
        if (json_array_size(list))
            attn_result_note(res, "no @mentions of anyone but the author or bots");
        else
            attn_result_note(res, "no @mentions in the %s",
                             st->title && st->body ? "title or body" : st->title ? "title" : "body");
    }
done:
    json_decref(list);
    return rc;
}

static void mentions_free(void *state)
{
    free(state);
}

const attn_router_def attn_router_mentions = {
    "mentions",
    "mentions.v1",
    "@users and @org/teams in the PR title and body as of the cutoff, in order of appearance",
    "{\"sources\": [\"title\", \"body\"], \"expand_teams\": false, \"ignore_code\": true,"
    " \"ignore_quotes\": true, \"ignore_html_comments\": true}",
    mentions_init,
    mentions_route,
    mentions_free,
};
