/*
 * duration.h - the durations written in evaluation specs (cutoff offsets,
 * truth windows): "<N>[smhd]", where a bare number means seconds.
 *
 * One parser for every eval spec so "created_at+90" and "window=90" mean the
 * same thing. Must never accept a sign, a fraction, spaces or a unit other
 * than s, m, h, d: a typo is refused with a message rather than read as
 * something else.
 */
#ifndef ATTN_EVAL_DURATION_H
#define ATTN_EVAL_DURATION_H

#include <stdint.h>
#include "util/error.h"

/* Longest accepted duration: 3650 days. Longer windows are typos, and the cap
 * keeps cutoff + window far from int64 overflow. */
#define ATTN_EVAL_DURATION_MAX ((int64_t)3650 * 86400)

/* Room for any formatted duration, with the NUL. */
#define ATTN_EVAL_DURATION_BUFSZ 32

/* Parse text into seconds. `what` names the thing in messages
 * ("cutoff offset", "truth window"); ATTN_EINVAL names the text and the
 * accepted form. */
int attn_eval_duration_parse(const char *text, const char *what, int64_t *out, attn_error *err);

/* Canonical text of seconds >= 0: the largest of d, h, m, s that divides it
 * exactly ("2d", "36h", "90s", "0s"), so equal durations print alike. */
char *attn_eval_duration_format(int64_t seconds, char buf[ATTN_EVAL_DURATION_BUFSZ]);

#endif
