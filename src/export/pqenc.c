/*
 * pqenc.c - Thrift compact protocol, varints, RLE/bit-packed hybrid and PLAIN
 * values for the Parquet writer (see pqenc.h). Pure encoding into buffers.
 */
#include "export/pqenc.h"

#include <string.h>

int attn_pq_uvarint(attn_buf *b, uint64_t v)
{
    unsigned char tmp[10];
    size_t n = 0;
    do {
        unsigned char c = v & 0x7f;
        v >>= 7;
        tmp[n++] = c | (v ? 0x80 : 0);
    } while (v);
    return attn_buf_put(b, tmp, n);
}

uint64_t attn_pq_zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

void attn_tc_init(attn_tc *w, attn_buf *out)
{
    memset(w, 0, sizeof(*w));
    w->out = out;
}

static void tc_byte(attn_tc *w, unsigned c)
{
    char b = (char)c;
    if (attn_buf_put(w->out, &b, 1) < 0)
        w->failed = 1;
}

static void tc_varint(attn_tc *w, uint64_t v)
{
    if (attn_pq_uvarint(w->out, v) < 0)
        w->failed = 1;
}

void attn_tc_field(attn_tc *w, int16_t id, int type)
{
    int16_t delta = (int16_t)(id - w->last[w->depth]);
    if (delta > 0 && delta <= 15) {
        tc_byte(w, (unsigned)(delta << 4 | type));
    } else {
        tc_byte(w, (unsigned)type);
        tc_varint(w, attn_pq_zigzag(id));
    }
    w->last[w->depth] = id;
}

void attn_tc_i32(attn_tc *w, int16_t id, int32_t v)
{
    attn_tc_field(w, id, ATTN_TC_I32);
    tc_varint(w, attn_pq_zigzag(v));
}

void attn_tc_i64(attn_tc *w, int16_t id, int64_t v)
{
    attn_tc_field(w, id, ATTN_TC_I64);
    tc_varint(w, attn_pq_zigzag(v));
}

/* Compact protocol folds a bool field's value into its type nibble. */
void attn_tc_bool(attn_tc *w, int16_t id, int v)
{
    attn_tc_field(w, id, v ? ATTN_TC_TRUE : ATTN_TC_FALSE);
}

void attn_tc_elem_binary(attn_tc *w, const void *p, size_t n)
{
    tc_varint(w, n);
    if (n && attn_buf_put(w->out, p, n) < 0)
        w->failed = 1;
}

void attn_tc_binary(attn_tc *w, int16_t id, const void *p, size_t n)
{
    attn_tc_field(w, id, ATTN_TC_BINARY);
    attn_tc_elem_binary(w, p, n);
}

void attn_tc_string(attn_tc *w, int16_t id, const char *s)
{
    attn_tc_binary(w, id, s, strlen(s));
}

void attn_tc_elem_begin(attn_tc *w)
{
    if (w->depth + 1 >= ATTN_TC_MAX_DEPTH) {
        w->failed = 1;
        return;
    }
    w->last[++w->depth] = 0;
}

void attn_tc_struct_begin(attn_tc *w, int16_t id)
{
    attn_tc_field(w, id, ATTN_TC_STRUCT);
    attn_tc_elem_begin(w);
}

void attn_tc_struct_end(attn_tc *w)
{
    tc_byte(w, 0);
    if (w->depth > 0)
        w->depth--;
}

void attn_tc_stop(attn_tc *w)
{
    tc_byte(w, 0);
}

void attn_tc_list(attn_tc *w, int16_t id, int elem_type, size_t n)
{
    attn_tc_field(w, id, ATTN_TC_LIST);
    if (n < 15) {
        tc_byte(w, (unsigned)(n << 4 | (unsigned)elem_type));
    } else {
        tc_byte(w, 0xf0u | (unsigned)elem_type);
        tc_varint(w, n);
    }
}

void attn_tc_elem_i32(attn_tc *w, int32_t v)
{
    tc_varint(w, attn_pq_zigzag(v));
}

int attn_pq_bit_width(uint64_t v)
{
    int n = 0;
    while (v) {
        n++;
        v >>= 1;
    }
    return n;
}

void attn_rle_init(attn_rle *r, int width)
{
    memset(r, 0, sizeof(*r));
    r->width = width;
    r->header_at = -1;
}

static int rle_end_packed(attn_rle *r, attn_buf *out)
{
    if (r->header_at >= 0)
        out->ptr[r->header_at] = (char)(r->groups << 1 | 1);
    r->header_at = -1;
    r->groups = 0;
    return 0;
}

/* Bit-pack the 8 buffered values (LSB first) into the open run, opening one
 * (with a placeholder header byte) when needed. */
static int rle_pack_group(attn_rle *r, attn_buf *out)
{
    unsigned char bytes[32];
    uint64_t acc = 0;
    int nbits = 0;
    size_t nb = 0;

    if (r->groups >= 63)
        rle_end_packed(r, out);
    if (r->header_at < 0) {
        r->header_at = (long)out->len;
        if (attn_buf_put(out, "", 1) < 0)
            return -1;
    }
    for (int i = 0; i < 8; i++) {
        acc |= (uint64_t)r->buf[i] << nbits;
        nbits += r->width;
        while (nbits >= 8) {
            bytes[nb++] = (unsigned char)(acc & 0xff);
            acc >>= 8;
            nbits -= 8;
        }
    }
    if (nbits > 0)
        bytes[nb++] = (unsigned char)(acc & 0xff);
    r->nbuf = 0;
    r->repeat = 0;
    r->groups++;
    return nb ? attn_buf_put(out, bytes, nb) : 0;
}

static int rle_write_run(attn_rle *r, attn_buf *out)
{
    unsigned char v[4];
    int nbytes = (r->width + 7) / 8;
    rle_end_packed(r, out);
    if (attn_pq_uvarint(out, r->repeat << 1) < 0)
        return -1;
    for (int i = 0; i < nbytes; i++)
        v[i] = (unsigned char)(r->prev >> (8 * i));
    r->repeat = 0;
    r->nbuf = 0;
    return nbytes ? attn_buf_put(out, v, (size_t)nbytes) : 0;
}

/*
 * When a value repeats for the 8th time since the last bit-packed group, the
 * 7 buffered values are all that value (a full buffer would have been packed
 * and the count reset), so they fold into the RLE run.
 */
int attn_rle_put(attn_rle *r, attn_buf *out, uint32_t v)
{
    if (v == r->prev && (r->repeat > 0 || r->nbuf > 0)) {
        if (++r->repeat >= 8)
            return 0;
    } else {
        if (r->repeat >= 8 && rle_write_run(r, out) < 0)
            return -1;
        r->repeat = 1;
        r->prev = v;
    }
    r->buf[r->nbuf++] = v;
    if (r->nbuf == 8)
        return rle_pack_group(r, out);
    return 0;
}

int attn_rle_finish(attn_rle *r, attn_buf *out)
{
    if (r->repeat >= 8) {
        if (rle_write_run(r, out) < 0)
            return -1;
    } else if (r->nbuf > 0) {
        while (r->nbuf < 8)
            r->buf[r->nbuf++] = 0;
        if (rle_pack_group(r, out) < 0)
            return -1;
    }
    return rle_end_packed(r, out);
}

static int put_le(attn_buf *b, uint64_t v, int n)
{
    unsigned char tmp[8];
    for (int i = 0; i < n; i++)
        tmp[i] = (unsigned char)(v >> (8 * i));
    return attn_buf_put(b, tmp, (size_t)n);
}

int attn_pq_plain_i64(attn_buf *b, int64_t v)
{
    return put_le(b, (uint64_t)v, 8);
}

int attn_pq_plain_i32(attn_buf *b, int32_t v)
{
    return put_le(b, (uint32_t)v, 4);
}

int attn_pq_plain_f64(attn_buf *b, double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    return put_le(b, u, 8);
}

int attn_pq_plain_bytes(attn_buf *b, const void *p, size_t n)
{
    if (put_le(b, n, 4) < 0)
        return -1;
    return n ? attn_buf_put(b, p, n) : 0;
}
