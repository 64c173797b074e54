/*
 * answer.h - strict validation of a chat-completions answer for a ranking,
 * and the price table.
 *
 * An answer is valid when: the body is JSON with choices[0].message.content
 * a string; the content (optionally inside one ```json fence) is a JSON
 * object with exactly the key "ranking"; "ranking" is a non-empty array of
 * objects with exactly "login" (string) and "reason" (string, at most 500
 * bytes); every login is one of the candidates (case-insensitively; the
 * candidate's spelling is returned) and appears once. Anything else is
 * invalid, with a one-line reason. Token counts come from "usage"
 * (prompt_tokens, completion_tokens; 0 when absent) either way.
 */
#ifndef ATTN_LLM_ANSWER_H
#define ATTN_LLM_ANSWER_H

#include <stddef.h>
#include <jansson.h>
#include "util/error.h"

/* 0 and *ranking = [{login, reason}] (new reference), or ATTN_EINVAL with
 * err->msg the reason. */
int attn_llm_answer_parse(const char *body, size_t len, const char *const *cands, size_t n,
                          json_t **ranking, long *tokens_in, long *tokens_out, attn_error *err);

/* Price of model in the table at path ({"<model>": {"input_usd_per_mtok": x,
 * "output_usd_per_mtok": y}, ...}): *found 0 when the file or the model is
 * absent. ATTN_EINVAL for a malformed table. */
int attn_llm_price_lookup(const char *path, const char *model, double *in_per_mtok,
                          double *out_per_mtok, int *found, attn_error *err);

#endif
