/*
 * pqenc.h - the byte-level encoders of attn's Parquet writer: the Thrift
 * compact protocol (for page headers and the footer), ULEB128/zigzag varints,
 * the RLE/bit-packed hybrid (definition levels, dictionary indices) and
 * PLAIN values.
 *
 * Owns only encoding into an attn_buf; never does I/O and never knows the
 * Parquet schema (parquet.c does). Every function returns 0, or -1 when the
 * buffer could not grow.
 */
#ifndef ATTN_EXPORT_PQENC_H
#define ATTN_EXPORT_PQENC_H

#include <stddef.h>
#include <stdint.h>
#include "util/buf.h"

/* Thrift compact-protocol type ids (field headers and list element types). */
enum {
    ATTN_TC_TRUE = 1, ATTN_TC_FALSE = 2, ATTN_TC_BYTE = 3, ATTN_TC_I16 = 4, ATTN_TC_I32 = 5,
    ATTN_TC_I64 = 6, ATTN_TC_DOUBLE = 7, ATTN_TC_BINARY = 8, ATTN_TC_LIST = 9,
    ATTN_TC_SET = 10, ATTN_TC_MAP = 11, ATTN_TC_STRUCT = 12
};

#define ATTN_TC_MAX_DEPTH 16

/* A compact-protocol writer: the last field id of each open struct. */
typedef struct {
    attn_buf *out;
    int16_t last[ATTN_TC_MAX_DEPTH];
    int depth;
    int failed;   /* sticky: set when a write failed or nesting is too deep */
} attn_tc;

void attn_tc_init(attn_tc *w, attn_buf *out);
int attn_pq_uvarint(attn_buf *b, uint64_t v);
uint64_t attn_pq_zigzag(int64_t v);
/* Field header for id with compact type (delta form when 1..15 apart). */
void attn_tc_field(attn_tc *w, int16_t id, int type);
void attn_tc_i32(attn_tc *w, int16_t id, int32_t v);
void attn_tc_i64(attn_tc *w, int16_t id, int64_t v);
void attn_tc_bool(attn_tc *w, int16_t id, int v);
void attn_tc_binary(attn_tc *w, int16_t id, const void *p, size_t n);
void attn_tc_string(attn_tc *w, int16_t id, const char *s);
/* A nested struct field: begin pushes a field-id scope, end writes STOP and pops. */
void attn_tc_struct_begin(attn_tc *w, int16_t id);
void attn_tc_struct_end(attn_tc *w);
/* A list field header; its n elements follow (struct elements: elem_begin/struct_end). */
void attn_tc_list(attn_tc *w, int16_t id, int elem_type, size_t n);
void attn_tc_elem_begin(attn_tc *w);       /* a struct element of a list */
void attn_tc_elem_i32(attn_tc *w, int32_t v);
void attn_tc_elem_binary(attn_tc *w, const void *p, size_t n);
/* STOP of the outermost struct (the message itself). */
void attn_tc_stop(attn_tc *w);

/* Bits needed to store v (0 for 0). */
int attn_pq_bit_width(uint64_t v);

/*
 * The RLE/bit-packed hybrid encoder of Parquet: runs of 8 or more equal values
 * become RLE runs, the rest bit-packed groups of 8 (only the last group is
 * zero padded, which readers ignore as they know the value count). A
 * bit-packed run holds at most 63 groups so its header is one byte, written
 * in place when the run ends. Values are pushed one at a time into out;
 * finish writes what is pending.
 */
typedef struct {
    int width;
    uint32_t buf[8];     /* values since the last bit-packed group */
    int nbuf;
    uint32_t prev;       /* the last value and how often it repeated */
    uint64_t repeat;
    size_t groups;       /* groups in the open bit-packed run */
    long header_at;      /* offset of its one-byte header in out, -1 if none */
} attn_rle;

void attn_rle_init(attn_rle *r, int width);
int attn_rle_put(attn_rle *r, attn_buf *out, uint32_t v);
int attn_rle_finish(attn_rle *r, attn_buf *out);

/* PLAIN values (little-endian; BYTE_ARRAY is a 4-byte length then bytes). */
int attn_pq_plain_i64(attn_buf *b, int64_t v);
int attn_pq_plain_i32(attn_buf *b, int32_t v);
int attn_pq_plain_f64(attn_buf *b, double v);
int attn_pq_plain_bytes(attn_buf *b, const void *p, size_t n);

#endif
