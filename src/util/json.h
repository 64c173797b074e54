/*
 * json.h - small helpers over jansson, and canonical JSON.
 *
 * Canonical JSON is attn's hashing form: object keys sorted by byte order,
 * no whitespace, integers in decimal, reals in the shortest form that reads
 * back to the same double (always with a '.' or exponent so the type
 * survives), strings with the minimal escapes and raw UTF-8. It does not
 * depend on jansson's own dump flags, so hashes stay stable across versions.
 */
#ifndef ATTN_UTIL_JSON_H
#define ATTN_UTIL_JSON_H

#include <stdint.h>
#include <jansson.h>
#include "util/buf.h"
#include "util/error.h"

/* Append the canonical form of v to out. Fails on NaN/Inf reals. */
int attn_json_canonical(const json_t *v, attn_buf *out, attn_error *err);
/* Pieces of the canonical form, for a writer that lays out a known shape
 * without building a jansson tree first (the learned router's feature
 * table, a thousand reals a PR): a string, quoted and escaped, and a real
 * (fails on NaN/Inf), appended as attn_json_canonical writes them. The
 * caller writes keys in sorted order; s must be valid UTF-8. */
void attn_json_put_string(attn_buf *out, const char *s, size_t len);
int attn_json_put_real(attn_buf *out, double d, attn_error *err);
/* The real -mant * 10^-k (neg) or mant * 10^-k, mant in [1, 10^15), as
 * put_real writes the double nearest to it: valid only when that decimal is
 * the double's shortest form (attn_round_sig_parts says when). */
void attn_json_put_decimal(attn_buf *out, int neg, uint64_t mant, int k);

/* SHA-256 (lowercase hex, 64 chars + NUL) of the canonical form of v. */
int attn_json_hash(const json_t *v, char hex[65], attn_error *err);

/* Load a JSON file; the message names the file, line and column on error. */
int attn_json_load_file(const char *path, json_t **out, attn_error *err);

/* Parse a JSON text; `what` names its origin in error messages. */
int attn_json_parse(const char *text, size_t len, const char *what, json_t **out,
                    attn_error *err);

/* Pretty, sorted-key dump with a trailing newline (for files people read):
 * two-space indent, and the canonical form's escapes and shortest reals. */
int attn_json_dump_pretty(const json_t *v, attn_buf *out);

/* A new object from (key, value) pairs ended by a NULL key, as
 * json_pack("{s:o, ...}") builds it without parsing a format or checking
 * the keys, which are the caller's literals (profile: json_pack's format
 * parsing and key checks were most of building a route's evidence). Values
 * are new references, set in order; a NULL value (jansson out of memory)
 * ends the process as attn_xcheck does. Example:
 *     attn_json_obj("number", json_integer(n), "score", json_real(s), NULL) */
json_t *attn_json_obj(const char *key, ...);

/* Accessors tolerant of missing keys and JSON null. */
/* 1 when s is a string jansson takes (UTF-8 as json_string() checks it: no
 * overlong forms, surrogates or code points past U+10FFFF); 0 for NULL.
 * Text from outside (a pinned file, an HTTP body) is checked with this
 * before it goes into JSON, so a NULL from jansson only means memory. */
int attn_utf8_valid(const char *s);
const char *attn_json_str(const json_t *obj, const char *key);      /* NULL if absent/not string */
int64_t attn_json_i64(const json_t *obj, const char *key, int64_t dflt);
int attn_json_bool(const json_t *obj, const char *key, int dflt);   /* -1 allowed as dflt */
/* Instant field: ATTN_NULL_I64 when absent or null; error when malformed. */
int attn_json_time(const json_t *obj, const char *key, int64_t *out, attn_error *err);

#endif
