/*
 * time.h - instants as INTEGER seconds since the Unix epoch (UTC).
 *
 * Every instant attn stores is an int64 epoch second; text appears only at the
 * edges, always as YYYY-MM-DDTHH:MM:SSZ. Never compare instants as text.
 */
#ifndef ATTN_UTIL_TIME_H
#define ATTN_UTIL_TIME_H

#include <stdint.h>
#include "util/error.h"

/* Marks a missing instant or integer in C structs (stored as SQL NULL). */
#define ATTN_NULL_I64 INT64_MIN

/* Length of a formatted instant including the NUL. */
#define ATTN_TIME_BUFSZ 48

/*
 * Parse an ISO-8601 / RFC 3339 instant: YYYY-MM-DDTHH:MM:SS, optional
 * fraction (truncated toward the earlier second), then Z or +HH:MM / -HH:MM
 * (or +HHMM). A bare date YYYY-MM-DD means midnight UTC. Anything else,
 * including a missing zone, out-of-range fields and trailing text, is rejected
 * with a message naming the value.
 */
int attn_time_parse(const char *s, int64_t *out, attn_error *err);

/* Write YYYY-MM-DDTHH:MM:SSZ into buf (ATTN_TIME_BUFSZ bytes); returns buf. */
char *attn_time_format(int64_t t, char *buf);

/* Days since 1970-01-01 for a proleptic Gregorian date (month 1-12). */
int64_t attn_days_from_civil(int64_t y, unsigned m, unsigned d);

/* Parse a duration such as 90s, 60m, 48h, 30d, 2w into seconds (>= 0). */
int attn_duration_parse(const char *s, int64_t *out, attn_error *err);

#endif
