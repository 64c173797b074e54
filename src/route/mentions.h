/*
 * mentions.h - the @mention scanner behind the `mentions` router, exposed so
 * its syntax can be tested as data (tests/data/mentions/cases.txt).
 *
 * Syntax (GitHub's, with the choices documented in mentions.c):
 *   @login      1-39 ASCII letters/digits and single inner hyphens
 *   @org/slug   org as a login, slug [A-Za-z0-9][A-Za-z0-9_-]* (not ending in '-')
 * not preceded by a letter, digit or one of _ . - + / = @ (so e-mail
 * addresses and URL paths are not mentions), and not followed by a login
 * character, '_', '@', or a '.' that continues a word (so `@alice.com` and
 * `@me@host` are not mentions); a team followed by '/' is a path, not a team.
 */
#ifndef ATTN_ROUTE_MENTIONS_H
#define ATTN_ROUTE_MENTIONS_H

#include <stddef.h>
#include <jansson.h>
#include "util/error.h"

/* Flags: which Markdown regions to skip. */
#define ATTN_MENTIONS_SKIP_CODE 1u     /* ``` / ~~~ fenced blocks and `inline` spans */
#define ATTN_MENTIONS_SKIP_QUOTES 2u   /* lines starting with '>' (quoted replies) */
#define ATTN_MENTIONS_SKIP_HTML 4u     /* <!-- HTML comments --> (template hints) */
#define ATTN_MENTIONS_INLINE 8u        /* one line of inline text (a title): no blocks */
#define ATTN_MENTIONS_BODY (ATTN_MENTIONS_SKIP_CODE | ATTN_MENTIONS_SKIP_QUOTES | \
                            ATTN_MENTIONS_SKIP_HTML)

/* Append the mentions of text[0..len) to list (a JSON array) in order of
 * appearance, as {type: "user"|"team", name, source, offset} (offset: byte
 * offset of the '@' in text), skipping any whose (type, name) is already in
 * list case-insensitively, so title and body can share one list. */
int attn_mentions_extract(const char *text, size_t len, unsigned flags, const char *source,
                          json_t *list, attn_error *err);

#endif
