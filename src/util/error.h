/*
 * error.h - the error slot every fallible attn function fills.
 *
 * libgit2 keeps the last error in a thread-local; attn passes the slot
 * explicitly instead, so there is no global mutable state and a caller always
 * knows which call produced a message. Convention: functions return 0 on
 * success and a negative attn_error_code on failure, after writing a one-line
 * message that names the thing that failed and, where possible, what to do.
 */
#ifndef ATTN_UTIL_ERROR_H
#define ATTN_UTIL_ERROR_H

#include <stddef.h>

typedef enum {
    ATTN_OK = 0,
    ATTN_EINVAL = -1,   /* bad input from the user (exit 2) */
    ATTN_EIO = -2,      /* file system or network trouble */
    ATTN_EDB = -3,      /* SQLite reported an error */
    ATTN_ENOMEM = -4,
    ATTN_ENOTFOUND = -5,
    ATTN_ECORRUPT = -6, /* stored data breaks an invariant */
    ATTN_EHTTP = -7,
    ATTN_ECONFLICT = -8
} attn_error_code;

typedef struct attn_error {
    int code;
    char msg[1024];
} attn_error;

/* Clear the slot. */
void attn_error_clear(attn_error *err);

/* Fill the slot (if err is non-NULL) and return code, so callers can write
 * `return attn_error_set(err, ATTN_EINVAL, "bad date '%s'", s);`. */
int attn_error_set(attn_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefix an existing message with context ("loading X: <old message>"). */
int attn_error_wrap(attn_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Exit status for a code: 2 for bad input, 1 for everything else. */
int attn_error_exit_status(int code);

#endif
