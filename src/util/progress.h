/*
 * progress.h - the progress line of a long command, on stderr.
 *
 * Three modes (--progress): none; tty, one live line redrawn in place (as
 * on a terminal); lines, one plain line every interval seconds (default 10,
 * $ATTN_PROGRESS_INTERVAL overrides it) for logs and CI, where a redrawn
 * line is noise. Never writes to stdout; never fails (progress is best
 * effort).
 */
#ifndef ATTN_UTIL_PROGRESS_H
#define ATTN_UTIL_PROGRESS_H

enum { ATTN_PROGRESS_OFF = 0, ATTN_PROGRESS_LIVE = 1, ATTN_PROGRESS_PERIODIC = 2 };

typedef struct {
    int mode;          /* ATTN_PROGRESS_* above */
    double interval_s; /* lines mode: seconds between lines */
    double start, last;
    int drawn;         /* tty mode: a line is on screen */
} attn_progress;

void attn_progress_init(attn_progress *p, int mode);
/* Show the line fmt: redrawn in tty mode (every call), printed in lines
 * mode when interval_s has passed since the last one, or when force. */
void attn_progress_show(attn_progress *p, int force, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Before other stderr output: end a live line so the message starts clean. */
void attn_progress_break(attn_progress *p);
/* Seconds since init (for rates and ETAs). */
double attn_progress_elapsed(const attn_progress *p);

#endif
