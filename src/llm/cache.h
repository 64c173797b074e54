/*
 * cache.h - the LLM replay cache: one zstd-compressed canonical JSON entry
 * per request key under DIR/<k0k1>/<key>.json.zst (DIR is DATA/llm-cache).
 *
 * The key is the SHA-256 of the canonical JSON of {base_url, model,
 * prompt_hash, messages, params}; the entry is {key, status, body,
 * latency_ms}: the answer's raw body and the latency measured when it was
 * recorded (so a replay reports the recorded figure, byte for byte).
 * Must never: write a partial entry (temp + rename), or return an entry
 * whose key does not match its name.
 */
#ifndef ATTN_LLM_CACHE_H
#define ATTN_LLM_CACHE_H

#include <jansson.h>
#include "util/error.h"

typedef enum { ATTN_LLM_LIVE, ATTN_LLM_RECORD, ATTN_LLM_REPLAY, ATTN_LLM_OFF } attn_llm_mode;

/* "live" | "record" | "replay" | "off"; ATTN_EINVAL naming the modes. */
int attn_llm_mode_parse(const char *s, attn_llm_mode *out, attn_error *err);
const char *attn_llm_mode_name(attn_llm_mode m);

/* ATTN_ENOTFOUND when absent; ATTN_ECORRUPT when unreadable. */
int attn_llm_cache_get(const char *dir, const char *key, json_t **entry, attn_error *err);
int attn_llm_cache_put(const char *dir, const char *key, const json_t *entry, attn_error *err);

#endif
