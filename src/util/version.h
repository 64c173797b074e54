/* version.h - attn's version and the data contract it implements (SPEC §14). */
#ifndef ATTN_UTIL_VERSION_H
#define ATTN_UTIL_VERSION_H

#define ATTN_VERSION "0.2.0"
/* v2: a run's per-PR entries are packed into one file (eval/pack.h), and
 * routes, features entries and manifests carry candidate_gen_version. */
#define ATTN_CONTRACT "attn.contract.v2"
/* The candidate sources routers draw from (seed 001 §10): bump whenever a
 * router gains, loses or changes a source of candidates, so runs made with
 * different candidate generation are never compared as if alike. */
#define ATTN_CANDIDATE_GEN_VERSION "cg1"

#endif
