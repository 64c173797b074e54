/*
 * sha256.h - SHA-256 over bytes, via OpenSSL libcrypto.
 */
#ifndef ATTN_UTIL_SHA256_H
#define ATTN_UTIL_SHA256_H

#include <stddef.h>

/* Lowercase hex digest into hex (65 bytes). Returns 0, or -1 if libcrypto fails. */
int attn_sha256_hex(const void *data, size_t len, char hex[65]);

#endif
