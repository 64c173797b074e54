/*
 * gates.h - PR-body gates (reference §5.3) and their correlation with the
 * outcome (reference §7.5): does the body link an issue, disclose AI use,
 * state its provenance?
 *
 * Parsing is permissive on purpose, as in the reference; the rules, in order,
 * first match wins (PCRE2, byte mode, so invalid UTF-8 is no error):
 *   issue:  1. a GitHub issue or pull URL
 *              (https?://github.com/OWNER/REPO/(issues|pull)/N, any case);
 *           2. "#N" not preceded by a word character;
 *           3. a JIRA key [A-Z][A-Z0-9]+-N (case-sensitive, whole word).
 *           The value is the matched text.
 *   ai_disclosure: 1. a line "<key>: <answer>", key ai | ai assisted |
 *           ai-assisted | ai assistance | genai | llm, optionally followed by
 *           "used", answer yes | no | true | false (any case; list markers
 *           "- " / "* " and **bold** around key or answer allowed); the value
 *           is "yes" (yes, true) or "no" (no, false);
 *           2. else the first checked box ("- [x] label", also "*" or "+")
 *           whose label names ai, genai, llm, copilot, chatgpt or claude as a
 *           word: "no" when the label also has the word no, not, none or
 *           without ("[x] No AI tools were used"), else "yes".
 *   provenance: 1. a line "<key>: <answer>", key provenance | origin | source,
 *           answer human | ai | mixed | unknown (value: the answer, lowercase);
 *           2. else the first checked box whose label has one of the words
 *           provenance, origin, source, human, manual, generated, assisted,
 *           mixed (as a word or word prefix: "AI-assisted", "human-written"):
 *           "mixed" if it says mixed or assisted, else "ai" if it says
 *           generated, else "human" if it says human or manual, else
 *           "unknown".
 * A field with no match is missing (NULL). A NULL body has every field missing.
 *
 * Correlation: per field, over the rows given, {n, missing_n, present_n,
 * missing_rate, merged_rate_missing, merged_rate_present} where "merged" is
 * the caller's outcome flag. attn uses "merged eventually" (a
 * pull_request.merged event at any time, attn_truth_pr_facts_get), not the
 * reference's "merged at or before the cutoff", which at a created_at cutoff
 * is always false. Rates with a zero denominator are null. Descriptive only.
 */
#ifndef ATTN_EVAL_GATES_H
#define ATTN_EVAL_GATES_H

#include <stddef.h>
#include <jansson.h>
#include "util/error.h"

typedef struct {
    char *issue, *ai_disclosure, *provenance;   /* NULL = missing */
} attn_gates;

/* The compiled patterns; reuse one parser for a cohort. */
typedef struct attn_gate_parser attn_gate_parser;
int attn_gate_parser_new(attn_gate_parser **out, attn_error *err);
void attn_gate_parser_free(attn_gate_parser *p);

/* Parse body (NULL: all missing) into *out; attn_gates_free it. */
int attn_gate_parse(attn_gate_parser *p, const char *body, attn_gates *out, attn_error *err);
void attn_gates_free(attn_gates *g);

/* {"issue", "ai_disclosure", "provenance": value|null, "missing_issue",
 *  "missing_ai_disclosure", "missing_provenance": bool}. */
json_t *attn_gates_json(const attn_gates *g);

typedef struct {
    const attn_gates *gates;
    int merged;                 /* the outcome: merged eventually */
} attn_gate_row;

/* {"issue": {...}, "ai_disclosure": {...}, "provenance": {...}} as above. */
int attn_gate_correlation(const attn_gate_row *rows, size_t n, json_t **out, attn_error *err);

#endif
