/*
 * progress.c - see progress.h. Owns only the drawing of one line on stderr.
 */
#include "util/progress.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void attn_progress_init(attn_progress *p, int mode)
{
    const char *env = getenv("ATTN_PROGRESS_INTERVAL");
    char *end;
    double v = env && *env ? strtod(env, &end) : -1.0;
    p->mode = mode;
    p->interval_s = env && *env && !*end && v >= 0 ? v : 10.0;
    p->start = p->last = mono();
    p->drawn = 0;
}

double attn_progress_elapsed(const attn_progress *p) { return mono() - p->start; }

void attn_progress_show(attn_progress *p, int force, const char *fmt, ...)
{
    va_list ap;
    double now;
    if (p->mode == ATTN_PROGRESS_OFF)
        return;
    now = mono();
    if (p->mode == ATTN_PROGRESS_PERIODIC && !force && now - p->last < p->interval_s)
        return;
    p->last = now;
    if (p->mode == ATTN_PROGRESS_LIVE)
        fputs("\r\033[K", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    if (p->mode == ATTN_PROGRESS_PERIODIC)
        fputc('\n', stderr);
    else
        p->drawn = 1;
    fflush(stderr);
}

void attn_progress_break(attn_progress *p)
{
    if (p->mode == ATTN_PROGRESS_LIVE && p->drawn) {
        fputc('\n', stderr);
        p->drawn = 0;
    }
}
