/*
 * user.h - the one bot rule of the program (SPEC §3).
 *
 * A user is a bot when GitHub says so (type "Bot") or when its login ends in
 * "[bot]", in any case ("Renovate[BOT]" too). Ingestion stores the type with
 * this rule; activity, candidates, truth and the baselines exclude with it.
 * There is no second copy: change it here or nowhere.
 */
#ifndef ATTN_UTIL_USER_H
#define ATTN_UTIL_USER_H

/* 1 when login/type name a bot (either may be NULL), else 0. */
int attn_is_bot(const char *login, const char *type);

#endif
