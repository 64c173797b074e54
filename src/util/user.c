/*
 * user.c - the bot rule (see user.h).
 *
 * Owns: what "bot" means. Must never: depend on the store or on locale
 * (the suffix is compared in ASCII).
 */
#include "util/user.h"

#include <string.h>
#include <strings.h>

int attn_is_bot(const char *login, const char *type)
{
    size_t n;
    if (type && !strcmp(type, "Bot"))
        return 1;
    if (!login)
        return 0;
    n = strlen(login);
    return n >= 5 && !strncasecmp(login + n - 5, "[bot]", 5);
}
