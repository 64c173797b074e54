/*
 * html.h - HTML and inline-SVG building blocks of the dashboard.
 *
 * Owns: escaping (every request or data value goes through attn_html_esc or
 * attn_html_url before it reaches a page), the page frame, number
 * formatting, and the two charts (bars with interval whiskers, overlaid
 * histograms). Must never: emit a value unescaped, or reference anything
 * outside this server (no CDN, fonts or scripts from elsewhere).
 */
#ifndef ATTN_SERVE_HTML_H
#define ATTN_SERVE_HTML_H

#include <jansson.h>
#include "util/buf.h"

void attn_html_esc(attn_buf *b, const char *s);
/* Percent-encode s for a query value. */
void attn_html_url(attn_buf *b, const char *s);
void attn_html_head(attn_buf *b, const char *title, const char *repo);
void attn_html_foot(attn_buf *b);
/* A number with 3 decimals, "—" for null. */
void attn_html_num(attn_buf *b, const json_t *v);
/* "[lo, hi]" from a two-element array, "" otherwise. */
void attn_html_ci(attn_buf *b, const json_t *ci);
/* Signed delta with 3 decimals, class pos/neg. */
void attn_html_delta(attn_buf *b, double d);

typedef struct {
    const char *label;
    double value, lo, hi;        /* lo/hi: NaN when there is no interval */
} attn_bar;

/* Horizontal bars on [0, max] (max <= 0: the largest value or 1). */
void attn_svg_bars(attn_buf *b, const char *title, const attn_bar *bars, size_t n, double max);
/* Two histograms over shared edges, A and B overlaid (either may be NULL). */
void attn_svg_hist(attn_buf *b, const char *title, const json_t *edges, const json_t *counts_a,
                   const json_t *counts_b);

#endif
