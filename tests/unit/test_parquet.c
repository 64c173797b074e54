/*
 * test_parquet.c - export/pqenc.c and export/parquet.c: varints, zigzag, the
 * Thrift compact protocol, the RLE/bit-packed hybrid (against a decoder
 * written here from the spec), PLAIN values; then whole files written by the
 * streaming writer and read back by DuckDB (tests/duckdb/compare.py, row by
 * row against a SQLite copy of the same rows): NULLs, timestamps, non-ASCII
 * text, doubles, booleans, many row groups and pages, dictionary overflow, an
 * empty table. The DuckDB checks skip when @duckdb/node-api is not installed.
 */
#include "testutil.h"

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include "export/parquet.h"
#include "export/pqenc.h"
#include "util/buf.h"
#include "util/fs.h"

static void assert_bytes(const attn_buf *b, const unsigned char *want, size_t n)
{
    assert_int_equal(b->len, n);
    assert_memory_equal(b->ptr, want, n);
}

static void test_varint_zigzag(void **state)
{
    attn_buf b = ATTN_BUF_INIT;
    (void)state;
    attn_pq_uvarint(&b, 300);
    assert_bytes(&b, (const unsigned char[]){0xac, 0x02}, 2);
    attn_buf_clear(&b);
    attn_pq_uvarint(&b, 0);
    assert_bytes(&b, (const unsigned char[]){0x00}, 1);
    assert_int_equal(attn_pq_zigzag(0), 0);
    assert_int_equal(attn_pq_zigzag(-1), 1);
    assert_int_equal(attn_pq_zigzag(1), 2);
    assert_int_equal(attn_pq_zigzag(-64), 127);
    assert_true(attn_pq_zigzag(INT64_MIN) == UINT64_MAX);
    attn_buf_free(&b);
}

static void test_compact_protocol(void **state)
{
    attn_buf b = ATTN_BUF_INIT;
    attn_tc t;
    (void)state;
    attn_tc_init(&t, &b);
    attn_tc_i32(&t, 1, 3);          /* delta 1, type i32: 0x15, zigzag(3)=6 */
    attn_tc_i64(&t, 20, -2);        /* delta 19 > 15: long form 0x06, zigzag(20)=40, zigzag(-2)=3 */
    attn_tc_bool(&t, 21, 1);        /* delta 1, TRUE: 0x11 */
    attn_tc_struct_begin(&t, 22);   /* 0x1c */
    attn_tc_string(&t, 1, "ab");    /* 0x18 02 'a' 'b' */
    attn_tc_struct_end(&t);         /* 0x00, back to last id 22 */
    attn_tc_list(&t, 23, ATTN_TC_I32, 2); /* 0x19, 0x25 */
    attn_tc_elem_i32(&t, 1);
    attn_tc_elem_i32(&t, -1);
    attn_tc_list(&t, 24, ATTN_TC_STRUCT, 20); /* 0x19, 0xfc, 20 */
    attn_tc_stop(&t);
    assert_false(t.failed);
    assert_bytes(&b, (const unsigned char[]){0x15, 0x06, 0x06, 0x28, 0x03, 0x11, 0x1c, 0x18, 0x02, 'a',
                                             'b', 0x00, 0x19, 0x25, 0x02, 0x01, 0x19, 0xfc, 0x14, 0x00},
                 20);
    attn_buf_free(&b);
}

/* A decoder of the RLE/bit-packed hybrid, from the format description. */
static size_t rle_decode(const unsigned char *p, size_t n, int width, uint32_t *out, size_t cap)
{
    size_t i = 0, got = 0;
    while (i < n && got < cap) {
        uint64_t h = 0;
        int shift = 0;
        while (1) {
            h |= (uint64_t)(p[i] & 0x7f) << shift;
            shift += 7;
            if (!(p[i++] & 0x80))
                break;
        }
        if (h & 1) {
            size_t count = (size_t)(h >> 1) * 8, bit = 0;
            for (size_t k = 0; k < count; k++) {
                uint32_t v = 0;
                for (int j = 0; j < width; j++, bit++)
                    v |= (uint32_t)((p[i + bit / 8] >> (bit % 8)) & 1) << j;
                if (got < cap)
                    out[got++] = v;
            }
            i += (size_t)(h >> 1) * (size_t)width;
        } else {
            uint32_t v = 0;
            for (int j = 0; j < (width + 7) / 8; j++)
                v |= (uint32_t)p[i++] << (8 * j);
            for (uint64_t k = 0; k < h >> 1 && got < cap; k++)
                out[got++] = v;
        }
    }
    return got;
}

static void test_rle_spec_examples(void **state)
{
    attn_buf b = ATTN_BUF_INIT;
    attn_rle r;
    (void)state;
    /* the format's example: 0..7 at width 3 bit-packed = 0x88 0xc6 0xfa */
    attn_rle_init(&r, 3);
    for (uint32_t v = 0; v < 8; v++)
        attn_rle_put(&r, &b, v);
    attn_rle_finish(&r, &b);
    assert_bytes(&b, (const unsigned char[]){0x03, 0x88, 0xc6, 0xfa}, 4);
    /* twenty 5s at width 3: one RLE run, header 20<<1, value in one byte */
    attn_buf_clear(&b);
    attn_rle_init(&r, 3);
    for (int i = 0; i < 20; i++)
        attn_rle_put(&r, &b, 5);
    attn_rle_finish(&r, &b);
    assert_bytes(&b, (const unsigned char[]){0x28, 0x05}, 2);
    assert_int_equal(attn_pq_bit_width(0), 0);
    assert_int_equal(attn_pq_bit_width(1), 1);
    assert_int_equal(attn_pq_bit_width(255), 8);
    assert_int_equal(attn_pq_bit_width(256), 9);
    attn_buf_free(&b);
}

/* Round trips of mixed runs at several widths through the decoder above. */
static void test_rle_roundtrip(void **state)
{
    static uint32_t in[5000], back[5100];
    const int widths[] = {1, 2, 3, 7, 8, 13, 17};
    uint32_t x = 12345;
    (void)state;
    for (size_t w = 0; w < sizeof(widths) / sizeof(widths[0]); w++) {
        int width = widths[w];
        uint32_t mask = width == 32 ? UINT32_MAX : ((1u << width) - 1);
        attn_buf b = ATTN_BUF_INIT;
        attn_rle r;
        size_t n = 0;
        while (n < 5000) { /* alternate random stretches and long repeats */
            x = x * 1103515245u + 12345u;
            size_t len = 1 + (x >> 16) % 40, rep = (x >> 8) & 1;
            uint32_t v = (x >> 4) & mask;
            for (size_t k = 0; k < len && n < 5000; k++) {
                x = x * 1103515245u + 12345u;
                in[n++] = rep ? v : ((x >> 7) & mask);
            }
        }
        n = 4997 - w; /* vary the tail: partial last groups */
        attn_rle_init(&r, width);
        for (size_t k = 0; k < n; k++)
            assert_int_equal(attn_rle_put(&r, &b, in[k]), 0);
        assert_int_equal(attn_rle_finish(&r, &b), 0);
        assert_true(rle_decode((unsigned char *)b.ptr, b.len, width, back, sizeof(back) / 4) >= n);
        assert_memory_equal(in, back, n * sizeof(uint32_t));
        attn_buf_free(&b);
    }
}

static void test_plain(void **state)
{
    attn_buf b = ATTN_BUF_INIT;
    (void)state;
    attn_pq_plain_i64(&b, -2);
    attn_pq_plain_i32(&b, 258);
    attn_pq_plain_bytes(&b, "hé", 3);
    attn_pq_plain_f64(&b, 1.0);
    assert_bytes(&b, (const unsigned char[]){0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                             0x02, 0x01, 0, 0, 3, 0, 0, 0, 'h', 0xc3, 0xa9,
                                             0, 0, 0, 0, 0, 0, 0xf0, 0x3f},
                 27);
    attn_buf_free(&b);
}

/* ---- whole files, read back by DuckDB ---- */

typedef struct {
    char *dir;
    char db[1024];
    sqlite3 *lite;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    f->dir = test_tmpdir();
    snprintf(f->db, sizeof(f->db), "%s/src.sqlite", f->dir);
    assert_int_equal(sqlite3_open(f->db, &f->lite), SQLITE_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    attn_error err;
    sqlite3_close(f->lite);
    attn_fs_remove_tree(f->dir, &err);
    free(f->dir);
    free(f);
    return 0;
}

/* Run compare.py; returns its exit status (77: DuckDB missing). */
static int duck_compare(fixture *f, const char *lite_sql, const char *duck_sql)
{
    char cmd[8192], script[1024];
    const char *root = getenv("ATTN_ROOT");
    snprintf(script, sizeof(script), "%s/tests/duckdb/compare.py", root ? root : ".");
    snprintf(cmd, sizeof(cmd), "python3 '%s' '%s' \"%s\" \"%s\"", script, f->db, lite_sql, duck_sql);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static void exec_sql(fixture *f, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(f->lite, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        fail_msg("sqlite: %s", msg);
}

static const char *const NAMES[] = {"ascii", "été ñandú", "日本語のパス/ファイル.rs", "", "emoji 🚀",
                                    "quote's", "a\\b"};

static void test_write_mixed(void **state)
{
    fixture *f = *state;
    const attn_pq_col cols[] = {{"id", ATTN_PQ_INT64, 0}, {"ts", ATTN_PQ_TIMESTAMP, 1},
                                {"name", ATTN_PQ_STRING, 1}, {"score", ATTN_PQ_DOUBLE, 1},
                                {"flag", ATTN_PQ_BOOL, 1}};
    attn_pq_opts o;
    attn_pq_writer *w;
    attn_error err;
    char path[1024];
    sqlite3_stmt *st;
    int64_t rows = 0;

    attn_pq_opts_default(&o);
    o.rg_rows = 1000;
    o.page_bytes = 2048;
    snprintf(path, sizeof(path), "%s/mixed.parquet", f->dir);
    assert_int_equal(attn_pq_open(path, cols, 5, &o, &w, &err), 0);
    exec_sql(f, "CREATE TABLE t(id INTEGER, ts INTEGER, name TEXT, score REAL, flag INTEGER)");
    exec_sql(f, "BEGIN");
    assert_int_equal(sqlite3_prepare_v2(f->lite, "INSERT INTO t VALUES (?,?,?,?,?)", -1, &st, NULL), 0);
    for (int64_t i = 0; i < 5500; i++) {
        int64_t ts = (1700000000 + i * 3600) * 1000000LL + (i % 7);
        const char *name = NAMES[i % 7];
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        attn_pq_i64(w, 0, i - 100);
        sqlite3_bind_int64(st, 1, i - 100);
        if (i % 5 == 0) {
            attn_pq_null(w, 1);
        } else {
            attn_pq_i64(w, 1, ts);
            sqlite3_bind_int64(st, 2, ts);
        }
        if (i % 11 == 0) {
            attn_pq_null(w, 2);
        } else {
            attn_pq_str(w, 2, name, strlen(name));
            sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
        }
        if (i % 3 == 0) {
            attn_pq_null(w, 3);
        } else {
            attn_pq_f64(w, 3, (double)i / 8.0 - 3.25);
            sqlite3_bind_double(st, 4, (double)i / 8.0 - 3.25);
        }
        if (i % 13 == 0) {
            attn_pq_null(w, 4);
        } else {
            attn_pq_bool(w, 4, i % 2);
            sqlite3_bind_int(st, 5, (int)(i % 2));
        }
        assert_int_equal(attn_pq_end_row(w, &err), 0);
        assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    }
    sqlite3_finalize(st);
    exec_sql(f, "COMMIT");
    assert_int_equal(attn_pq_row_groups(w), 5);
    assert_int_equal(attn_pq_close(w, &rows, &err), 0);
    assert_int_equal(rows, 5500);

    char duck[2048];
    snprintf(duck, sizeof(duck),
             "SELECT id, epoch_us(ts), name, score, flag::INT FROM read_parquet('%s') ORDER BY id", path);
    int rc = duck_compare(f, "SELECT id, ts, name, score, flag FROM t ORDER BY id", duck);
    if (rc == 77)
        skip();
    assert_int_equal(rc, 0);
    /* the footer: six row groups' statistics and the logical types as DuckDB sees them */
    snprintf(duck, sizeof(duck),
             "SELECT count(DISTINCT row_group_id), min(TRY_CAST(stats_min_value AS BIGINT)) FILTER (WHERE path_in_schema='id'),"
             " max(TRY_CAST(stats_max_value AS BIGINT)) FILTER (WHERE path_in_schema='id'),"
             " sum(stats_null_count) FILTER (WHERE path_in_schema='name'),"
             " max(compression) FROM parquet_metadata('%s')", path);
    assert_int_equal(duck_compare(f, "SELECT 6, '-100', '5399', (SELECT count(*) FROM t WHERE name IS NULL), 'ZSTD'",
                                  duck), 0);
    snprintf(duck, sizeof(duck),
             "SELECT string_agg(column_name || ':' || column_type, ',') FROM"
             " (DESCRIBE SELECT * FROM read_parquet('%s'))", path);
    assert_int_equal(duck_compare(f, "SELECT 'id:BIGINT,ts:TIMESTAMP WITH TIME ZONE,name:VARCHAR,"
                                     "score:DOUBLE,flag:BOOLEAN'", duck), 0);
}

/* 30,000 distinct paths against a 16 KiB dictionary: the first pages are
 * dictionary-encoded, the rest PLAIN, in every row group; values survive. */
static void test_dictionary_overflow(void **state)
{
    fixture *f = *state;
    const attn_pq_col cols[] = {{"k", ATTN_PQ_INT64, 0}, {"path", ATTN_PQ_STRING, 0},
                                {"repeated", ATTN_PQ_STRING, 1}};
    attn_pq_opts o;
    attn_pq_writer *w;
    attn_error err;
    char path[512], duck[2048], s[128];
    sqlite3_stmt *st;

    attn_pq_opts_default(&o);
    o.dict_bytes = 16 << 10;
    o.rg_rows = 12000;
    snprintf(path, sizeof(path), "%s/dict.parquet", f->dir);
    assert_int_equal(attn_pq_open(path, cols, 3, &o, &w, &err), 0);
    exec_sql(f, "CREATE TABLE d(k INTEGER, path TEXT, repeated TEXT)");
    exec_sql(f, "BEGIN");
    sqlite3_prepare_v2(f->lite, "INSERT INTO d VALUES (?,?,?)", -1, &st, NULL);
    for (int i = 0; i < 30000; i++) {
        const char *rep = NAMES[(i / 50) % 7];
        snprintf(s, sizeof(s), "src/módulo_%05d/file_%d.rs", i * 7919 % 30011, i);
        attn_pq_i64(w, 0, i);
        attn_pq_str(w, 1, s, strlen(s));
        if (i % 97 == 0)
            attn_pq_null(w, 2);
        else
            attn_pq_str(w, 2, rep, strlen(rep));
        assert_int_equal(attn_pq_end_row(w, &err), 0);
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        sqlite3_bind_int(st, 1, i);
        sqlite3_bind_text(st, 2, s, -1, SQLITE_TRANSIENT);
        if (i % 97)
            sqlite3_bind_text(st, 3, rep, -1, SQLITE_STATIC);
        sqlite3_step(st);
    }
    sqlite3_finalize(st);
    exec_sql(f, "COMMIT");
    assert_true(attn_pq_dict_fell_back(w, 1));
    assert_false(attn_pq_dict_fell_back(w, 2));
    assert_int_equal(attn_pq_close(w, NULL, &err), 0);
    snprintf(duck, sizeof(duck), "SELECT k, path, repeated FROM read_parquet('%s') ORDER BY k", path);
    int rc = duck_compare(f, "SELECT k, path, repeated FROM d ORDER BY k", duck);
    if (rc == 77)
        skip();
    assert_int_equal(rc, 0);
    snprintf(duck, sizeof(duck),
             "SELECT count(*) FROM parquet_metadata('%s') WHERE path_in_schema = 'path'"
             " AND encodings LIKE '%%PLAIN_DICTIONARY%%' AND dictionary_page_offset IS NOT NULL", path);
    assert_int_equal(duck_compare(f, "SELECT 3", duck), 0);
}

static void test_empty_and_all_null(void **state)
{
    fixture *f = *state;
    const attn_pq_col cols[] = {{"a", ATTN_PQ_STRING, 1}, {"t", ATTN_PQ_TIMESTAMP, 1}};
    attn_pq_writer *w;
    attn_error err;
    char path[512], duck[2048];
    int64_t rows = -1;

    snprintf(path, sizeof(path), "%s/empty.parquet", f->dir);
    assert_int_equal(attn_pq_open(path, cols, 2, NULL, &w, &err), 0);
    assert_int_equal(attn_pq_close(w, &rows, &err), 0);
    assert_int_equal(rows, 0);
    snprintf(duck, sizeof(duck), "SELECT count(*), count(a), count(t) FROM read_parquet('%s')", path);
    int rc = duck_compare(f, "SELECT 0, 0, 0", duck);
    if (rc == 77)
        skip();
    assert_int_equal(rc, 0);

    snprintf(path, sizeof(path), "%s/nulls.parquet", f->dir);
    assert_int_equal(attn_pq_open(path, cols, 2, NULL, &w, &err), 0);
    for (int i = 0; i < 100; i++) {
        attn_pq_null(w, 0);
        attn_pq_null(w, 1);
        assert_int_equal(attn_pq_end_row(w, &err), 0);
    }
    assert_int_equal(attn_pq_close(w, NULL, &err), 0);
    snprintf(duck, sizeof(duck), "SELECT count(*), count(a), count(t) FROM read_parquet('%s')", path);
    assert_int_equal(duck_compare(f, "SELECT 100, 0, 0", duck), 0);
}

static void test_bad_rows(void **state)
{
    fixture *f = *state;
    const attn_pq_col cols[] = {{"a", ATTN_PQ_INT64, 0}, {"b", ATTN_PQ_STRING, 1}};
    attn_pq_writer *w;
    attn_error err;
    char path[1024];
    struct stat sb;

    snprintf(path, sizeof(path), "%s/bad.parquet", f->dir);
    /* a NULL in a required column */
    assert_int_equal(attn_pq_open(path, cols, 2, NULL, &w, &err), 0);
    attn_pq_null(w, 0);
    attn_pq_null(w, 1);
    assert_int_equal(attn_pq_end_row(w, &err), ATTN_EINVAL);
    assert_non_null(strstr(err.msg, "column 'a'"));
    assert_int_equal(attn_pq_close(w, NULL, &err), ATTN_EINVAL);
    assert_int_not_equal(stat(path, &sb), 0); /* no partial file */
    /* a missing value, then a type mismatch */
    assert_int_equal(attn_pq_open(path, cols, 2, NULL, &w, &err), 0);
    attn_pq_i64(w, 0, 1);
    assert_int_equal(attn_pq_end_row(w, &err), ATTN_EINVAL);
    assert_non_null(strstr(err.msg, "no value for column 'b'"));
    attn_pq_abort(w);
    assert_int_not_equal(stat(path, &sb), 0);
    assert_int_equal(attn_pq_open(path, cols, 2, NULL, &w, &err), 0);
    attn_pq_str(w, 0, "x", 1);
    attn_pq_str(w, 1, "x", 1);
    assert_int_equal(attn_pq_end_row(w, &err), ATTN_EINVAL);
    assert_non_null(strstr(err.msg, "wrong type"));
    attn_pq_abort(w);
    /* an unwritable place */
    assert_int_equal(attn_pq_open("/nonexistent-dir/x.parquet", cols, 2, NULL, &w, &err), ATTN_EIO);
    assert_null(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_varint_zigzag),
        cmocka_unit_test(test_compact_protocol),
        cmocka_unit_test(test_rle_spec_examples),
        cmocka_unit_test(test_rle_roundtrip),
        cmocka_unit_test(test_plain),
        cmocka_unit_test_setup_teardown(test_write_mixed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dictionary_overflow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_and_all_null, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_rows, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
