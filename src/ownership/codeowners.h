/*
 * codeowners.h - GitHub CODEOWNERS: parse a file, then answer "who owns this
 * path" the way GitHub does.
 *
 * This module owns the CODEOWNERS syntax and its path patterns (also used by
 * area overrides, see area.h). It never reads files or the store: callers hand
 * it the text. Semantics (GitHub's documentation plus git's gitignore format):
 *
 *   - one rule per line: a pattern, then zero or more owners separated by
 *     blanks; `#` at the start of a line, or at the start of a blank-separated
 *     word after the pattern, begins a comment; blank lines are ignored;
 *   - the LAST matching rule wins; a rule without owners makes the paths it
 *     matches explicitly unowned (it still overrides earlier rules);
 *   - a pattern with no `/` other than a trailing one matches at any depth;
 *     a leading or middle `/` anchors it at the repository root;
 *   - `*` matches within one path segment, `?` one character other than `/`,
 *     `**` as a whole segment matches any number of segments (`**` + `/x`,
 *     `x/` + `**`, `a/` + `**` + `/b`); other runs of `*` are plain `*`;
 *   - a pattern that matches a directory owns everything beneath it; a
 *     trailing `/` matches directories only (never a file of that name); a
 *     final segment that is a lone `*` (`docs/` + `*`) matches the directory's
 *     direct children only, as GitHub documents;
 *   - `\` escapes the next character (`\#`, `\ ` for spaces, `\*`);
 *   - `!` negation and `[ ]` ranges are not supported by GitHub: such lines are
 *     invalid. Invalid lines (bad pattern or any bad owner) are skipped, never
 *     applied, and reported with their line number and a reason;
 *   - matching is case-sensitive; owners are @user, @org/team or an e-mail.
 *
 * Files of ATTN_CODEOWNERS_MAX_BYTES or more are rejected, as GitHub ignores
 * CODEOWNERS files that are not under 3 MB.
 */
#ifndef ATTN_OWNERSHIP_CODEOWNERS_H
#define ATTN_OWNERSHIP_CODEOWNERS_H

#include <stddef.h>
#include "util/error.h"

#define ATTN_CODEOWNERS_MAX_BYTES ((size_t)3 * 1024 * 1024)

typedef enum {
    ATTN_CODEOWNERS_USER = 1,   /* @login */
    ATTN_CODEOWNERS_TEAM = 2,   /* @org/team-slug */
    ATTN_CODEOWNERS_EMAIL = 3   /* name@example.com */
} attn_codeowners_owner_type;

typedef struct {
    attn_codeowners_owner_type type;
    const char *name;   /* as written: "@octocat", "@org/team", "a@example.com" */
} attn_codeowners_owner;

/* One valid rule. Owned by the attn_codeowners it came from. */
typedef struct {
    int line;                           /* 1-based line number in the file */
    const char *pattern;                /* as written, escapes kept */
    size_t n_owners;                    /* 0: matching paths are explicitly unowned */
    const attn_codeowners_owner *owners;/* de-duplicated case-insensitively, file order */
} attn_codeowners_rule;

/* One skipped line. */
typedef struct {
    int line;
    const char *text;     /* the line without its line ending */
    const char *reason;   /* one phrase, e.g. "negation (!) is not supported" */
} attn_codeowners_invalid;

typedef struct attn_codeowners attn_codeowners;

/* Parse a CODEOWNERS text (LF or CRLF; a leading UTF-8 BOM is ignored).
 * Invalid lines are not errors: they are collected (see _invalid_*). Fails
 * with ATTN_EINVAL when len >= ATTN_CODEOWNERS_MAX_BYTES (memory running out
 * ends the process, util/alloc.h). On success *out must be released with attn_codeowners_free. */
int attn_codeowners_parse(const char *text, size_t len, attn_codeowners **out,
                          attn_error *err);
void attn_codeowners_free(attn_codeowners *co);

/* The rule that decides the owners of path (repo-relative, '/'-separated; a
 * leading "/" or trailing "/" is ignored). Returns 1 and sets *rule (if rule
 * is non-NULL) to the last matching rule, or returns 0 and sets *rule to NULL
 * when no rule matches. A matched rule with n_owners == 0 means "unowned".
 * Thread-safe: matching does not modify co and does not allocate. */
int attn_codeowners_match(const attn_codeowners *co, const char *path,
                          const attn_codeowners_rule **rule);

size_t attn_codeowners_rule_count(const attn_codeowners *co);
const attn_codeowners_rule *attn_codeowners_rule_at(const attn_codeowners *co, size_t i);
size_t attn_codeowners_invalid_count(const attn_codeowners *co);
const attn_codeowners_invalid *attn_codeowners_invalid_at(const attn_codeowners *co, size_t i);

/* Name of an owner type: "user", "team" or "email". */
const char *attn_codeowners_owner_type_name(attn_codeowners_owner_type t);

/* A single compiled pattern with the same syntax and semantics, for other
 * path-keyed configuration (area overrides). Compiling fails with ATTN_EINVAL
 * and the reason in err for a pattern a CODEOWNERS line could not use. */
typedef struct attn_codeowners_pattern attn_codeowners_pattern;

int attn_codeowners_pattern_compile(const char *pattern, attn_codeowners_pattern **out,
                                    attn_error *err);
int attn_codeowners_pattern_match(const attn_codeowners_pattern *p, const char *path);
void attn_codeowners_pattern_free(attn_codeowners_pattern *p);

#endif
