/*
 * safe.h - text from files, specs and servers made safe for a terminal.
 *
 * A CODEOWNERS line or a spec tag may hold ESC sequences that would move the
 * cursor, retitle the window or hide text when printed raw (issue 18 D10).
 * Must never: alter printable text (UTF-8 passes through unchanged).
 */
#ifndef ATTN_UTIL_SAFE_H
#define ATTN_UTIL_SAFE_H

#include <stddef.h>

/* in with every C0 control byte and DEL written as \xNN (tab too), into out
 * (cap bytes, always terminated; cut when too long). Returns out. */
char *attn_safe_text(const char *in, char *out, size_t cap);

#endif
