/*
 * html.c - escaping, page frame, number formatting and inline SVG charts.
 * Charts are drawn here as SVG text so a page needs nothing but this server
 * and reads the same with JavaScript off.
 */
#include "serve/html.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void attn_html_esc(attn_buf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': attn_buf_puts(b, "&amp;"); break;
        case '<': attn_buf_puts(b, "&lt;"); break;
        case '>': attn_buf_puts(b, "&gt;"); break;
        case '"': attn_buf_puts(b, "&quot;"); break;
        case '\'': attn_buf_puts(b, "&#39;"); break;
        default: attn_buf_putc(b, *s);
        }
    }
}

void attn_html_url(attn_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            strchr("-._~/:", c))
            attn_buf_putc(b, (char)c);
        else {
            attn_buf_putc(b, '%');
            attn_buf_putc(b, hex[c >> 4]);
            attn_buf_putc(b, hex[c & 15]);
        }
    }
}

static const char CSS[] =
    "body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1b1f24;background:#fafbfc}"
    "header{background:#24292f;color:#fff;padding:8px 20px}header a{color:#fff;margin-right:16px}"
    "main{padding:12px 20px;max-width:1400px}h1{font-size:20px}h2{font-size:16px;margin-top:22px}"
    "table{border-collapse:collapse;margin:6px 0;background:#fff}"
    "td,th{border:1px solid #d0d7de;padding:3px 7px;text-align:left;vertical-align:top}"
    "th{background:#f0f3f6}td.n{text-align:right;font-variant-numeric:tabular-nums}"
    ".pos{color:#1a7f37}.neg{color:#cf222e}.muted{color:#656d76}"
    ".panel{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;background:#fff;"
    "border:1px solid #d0d7de;padding:8px}code,pre{font:12px ui-monospace,monospace}td code{word-break:break-all}"
    "pre{background:#fff;border:1px solid #d0d7de;padding:6px;overflow:auto;max-height:360px}"
    ".tag{background:#ddf4ff;border-radius:8px;padding:0 6px;margin-right:3px}"
    "form.inline{display:inline}.warn{background:#fff8c5;padding:4px 8px}"
    "svg{background:#fff;border:1px solid #d0d7de;margin:4px 8px 4px 0}";

void attn_html_head(attn_buf *b, const char *title, const char *repo)
{
    attn_buf_puts(b, "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>");
    attn_html_esc(b, title);
    attn_buf_printf(b, " - attn</title><style>%s</style></head><body><header><b>attn</b> "
                       "&nbsp; <a href=\"/runs",
                    CSS);
    if (repo) {
        attn_buf_puts(b, "?repo=");
        attn_html_url(b, repo);
    }
    attn_buf_puts(b, "\">Runs</a><a href=\"/live");
    if (repo) {
        attn_buf_puts(b, "?repo=");
        attn_html_url(b, repo);
    }
    attn_buf_puts(b, "\">Live</a><a href=\"/api/repos\">API</a>");
    if (repo) {
        attn_buf_puts(b, "<span class=\"muted\">");
        attn_html_esc(b, repo);
        attn_buf_puts(b, "</span>");
    }
    attn_buf_puts(b, "</header><main>");
}

void attn_html_foot(attn_buf *b)
{
    attn_buf_puts(b, "</main></body></html>\n");
}

void attn_html_num(attn_buf *b, const json_t *v)
{
    if (json_is_number(v))
        attn_buf_printf(b, "%.3f", json_number_value(v));
    else
        attn_buf_puts(b, "—");
}

void attn_html_ci(attn_buf *b, const json_t *ci)
{
    if (json_array_size(ci) == 2 && json_is_number(json_array_get(ci, 0)))
        attn_buf_printf(b, " <span class=\"muted\">[%.3f, %.3f]</span>",
                        json_number_value(json_array_get(ci, 0)),
                        json_number_value(json_array_get(ci, 1)));
}

void attn_html_delta(attn_buf *b, double d)
{
    attn_buf_printf(b, "<span class=\"%s\">%+.3f</span>", d > 0 ? "pos" : d < 0 ? "neg" : "muted",
                    d);
}

void attn_svg_bars(attn_buf *b, const char *title, const attn_bar *bars, size_t n, double max)
{
    const int lw = 130, w = 360, rh = 22, top = 24;
    int h = top + (int)n * rh + 8;
    size_t i;
    if (max <= 0) {
        for (i = 0; i < n; i++) {
            double v = isnan(bars[i].hi) ? bars[i].value : bars[i].hi;
            if (v > max)
                max = v;
        }
        if (max <= 0)
            max = 1;
    }
    attn_buf_printf(b, "<svg role=\"img\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">"
                       "<title>",
                    lw + w + 60, h, lw + w + 60, h);
    attn_html_esc(b, title);
    attn_buf_puts(b, "</title><text x=\"4\" y=\"15\" font-size=\"12\" font-weight=\"bold\">");
    attn_html_esc(b, title);
    attn_buf_puts(b, "</text>");
    for (i = 0; i < n; i++) {
        int y = top + (int)i * rh;
        double v = bars[i].value < 0 ? 0 : bars[i].value;
        attn_buf_printf(b, "<text x=\"4\" y=\"%d\" font-size=\"12\">", y + 14);
        attn_html_esc(b, bars[i].label);
        attn_buf_printf(b, "</text><rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"14\" "
                           "fill=\"#54aeff\"/>",
                        lw, y + 3, w * (v / max));
        if (!isnan(bars[i].lo))
            attn_buf_printf(b, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"#24292f\" "
                               "stroke-width=\"1.5\"/>",
                            lw + w * (bars[i].lo / max), lw + w * (bars[i].hi / max), y + 10,
                            y + 10);
        attn_buf_printf(b, "<text x=\"%d\" y=\"%d\" font-size=\"11\">%.3f</text>", lw + w + 6,
                        y + 14, bars[i].value);
    }
    attn_buf_puts(b, "</svg>");
}

void attn_svg_hist(attn_buf *b, const char *title, const json_t *edges, const json_t *counts_a,
                   const json_t *counts_b)
{
    const int w = 360, h = 150, pad = 28;
    size_t nb = json_array_size(counts_a) ? json_array_size(counts_a) : json_array_size(counts_b);
    double max = 1;
    size_t i;
    for (i = 0; i < nb; i++) {
        double a = json_number_value(json_array_get(counts_a, i));
        double c = json_number_value(json_array_get(counts_b, i));
        if (a > max) max = a;
        if (c > max) max = c;
    }
    attn_buf_printf(b, "<svg role=\"img\" width=\"%d\" height=\"%d\"><title>", w + 2 * pad,
                    h + 2 * pad);
    attn_html_esc(b, title);
    attn_buf_puts(b, "</title><text x=\"4\" y=\"14\" font-size=\"12\" font-weight=\"bold\">");
    attn_html_esc(b, title);
    attn_buf_printf(b, "</text><text x=\"%d\" y=\"14\" font-size=\"11\" fill=\"#0969da\">A</text>"
                       "<text x=\"%d\" y=\"14\" font-size=\"11\" fill=\"#bf3989\">B</text>",
                    w, w + 14);
    for (i = 0; nb && i < nb; i++) {
        double bw = (double)w / (double)nb, x = pad + bw * (double)i;
        double a = json_number_value(json_array_get(counts_a, i));
        double c = json_number_value(json_array_get(counts_b, i));
        double ha = h * a / max, hc = h * c / max;
        if (counts_a)
            attn_buf_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                               "fill=\"#0969da\" fill-opacity=\"0.45\"/>",
                            x, pad + h - ha, bw - 1, ha);
        if (counts_b)
            attn_buf_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                               "fill=\"#bf3989\" fill-opacity=\"0.45\"/>",
                            x, pad + h - hc, bw - 1, hc);
    }
    if (json_array_size(edges) >= 2)
        attn_buf_printf(b, "<text x=\"%d\" y=\"%d\" font-size=\"10\">%.2f</text>"
                           "<text x=\"%d\" y=\"%d\" font-size=\"10\" text-anchor=\"end\">%.2f</text>",
                        pad, pad + h + 14, json_number_value(json_array_get(edges, 0)), pad + w,
                        pad + h + 14,
                        json_number_value(json_array_get(edges, json_array_size(edges) - 1)));
    attn_buf_printf(b, "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"#888\"/></svg>", pad,
                    pad + w, pad + h, pad + h);
}
