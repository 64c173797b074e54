/* version.h - attn's version and the data contract it implements (SPEC §14). */
#ifndef ATTN_UTIL_VERSION_H
#define ATTN_UTIL_VERSION_H

#define ATTN_VERSION "0.2.0"
#define ATTN_CONTRACT "attn.contract.v1"

#endif
