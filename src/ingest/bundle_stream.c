/*
 * bundle_stream.c - `attn load` of a bundle file read as a stream (see
 * bundle.h), so memory stays flat whatever the bundle size.
 *
 * Pass 1 reads the file once with a small tokenizer over the top-level
 * object. The big members (the lists, and the reviews/files maps) are walked
 * element by element: each element is parsed by jansson alone (so its syntax
 * errors are jansson's, with the file's line and column), checked, and then
 * only its place is kept: (section, index, issue number, id, byte offset,
 * length) goes to a spool, a private temporary SQLite file. The other
 * members (format, repo, generator, codeowners...) are small and kept parsed
 * as the "head". A malformed bundle is thus refused before the store is
 * opened, as when the whole file was parsed at once.
 *
 * Pass 2 replays the order of bundle.c exactly (catalogue, groups by
 * ascending number, unplaced objects), reading each element back from the
 * file by its offset, so the store gets the same rows with the same ids:
 * keys and sections may come in any order in the file. Only one group's
 * objects are in memory at a time.
 *
 * Must never: accept what the whole-file parse (JSON_REJECT_DUPLICATES)
 * refused, report a bundle's faults in another order than bundle.c does, or
 * normalize anything in another order than bundle.c does.
 */
#include "ingest/bundle_stream.h"
#include "ingest/bundle_internal.h"
#include "ingest/normalize_internal.h"
#include "util/alloc.h"
#include "util/json.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Sections, in the order bundle.c checks their types (the first seven), then
 * the catalogue lists. */
enum {
    S_PULLS, S_ISSUES, S_EVENTS, S_RCOMMENTS, S_ICOMMENTS, S_REVIEWS, S_FILES,
    S_USERS, S_TEAMS, S_LABELS, S_MILESTONES, S_COUNT
};
static const char *const SEC_NAME[S_COUNT] = {
    "pulls", "issues", "issue_events", "review_comments", "issue_comments", "reviews",
    "files", "users", "teams", "labels", "milestones"};
#define IS_MAP(sec) ((sec) == S_REVIEWS || (sec) == S_FILES)

enum { SEC_ABSENT, SEC_OK, SEC_BAD_TYPE };

/* The spool. el: one row per list element or map member; mk: the map keys
 * seen (a repeated key is an error, as for jansson). */
static const char SQL_SPOOL_SCHEMA[] =
    "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA temp_store=FILE;"
    "PRAGMA cache_size=-8192;"
    "CREATE TABLE el (sec INTEGER NOT NULL, seq INTEGER NOT NULL, num INTEGER,"
    " id INTEGER, off INTEGER NOT NULL, len INTEGER NOT NULL, arr INTEGER NOT NULL);"
    "CREATE TABLE mk (sec INTEGER NOT NULL, key TEXT NOT NULL, PRIMARY KEY (sec, key))"
    " WITHOUT ROWID;"
    "BEGIN;";
static const char SQL_SPOOL_EL[] =
    "INSERT INTO el (sec, seq, num, id, off, len, arr) VALUES (?1,?2,?3,?4,?5,?6,?7)";
static const char SQL_SPOOL_MK[] = "INSERT OR IGNORE INTO mk (sec, key) VALUES (?1, ?2)";
static const char SQL_SPOOL_INDEX[] =
    "COMMIT; CREATE INDEX el_num ON el (num, sec, seq);";
static const char SQL_DUP_IDS[] =
    "SELECT seq, id, num FROM el WHERE sec = ?1 AND id IS NOT NULL ORDER BY id, seq";
static const char SQL_DUP_NUMBER[] =
    "SELECT num FROM el WHERE sec IN (0, 1) GROUP BY num, sec HAVING count(*) > 1"
    " ORDER BY num LIMIT 1";
static const char SQL_BAD_MAP_VALUE[] =
    "SELECT m.num, m.sec FROM el m WHERE m.sec IN (5, 6) AND m.arr = 0 AND EXISTS"
    " (SELECT 1 FROM el g WHERE g.num = m.num AND g.sec IN (0, 1)) ORDER BY m.num, m.sec"
    " LIMIT 1";
static const char SQL_SECTION[] = "SELECT off, len FROM el WHERE sec = ?1 ORDER BY rowid";
static const char SQL_GROUPS[] =
    "SELECT num, sec, off, len FROM el WHERE num > 0 AND sec < 7 ORDER BY num, sec, seq";
static const char SQL_UNPLACED_EVENTS[] =
    "SELECT off, len FROM el e WHERE sec = 2 AND NOT EXISTS"
    " (SELECT 1 FROM el g WHERE g.num = e.num AND g.sec IN (0, 1)) ORDER BY rowid";
static const char SQL_UNPLACED_COMMENTS[] =
    "SELECT count(*) FROM el e WHERE sec IN (3, 4) AND NOT EXISTS"
    " (SELECT 1 FROM el g WHERE g.num = e.num AND g.sec IN (0, 1))";

struct attn_bundle_stream {
    char *what;                  /* the path (or name) errors start with */
    int fd;                      /* the file, or -1 for a memory bundle */
    const unsigned char *mem;
    size_t memlen;
    json_t *head;                /* every member that is not a section */
    sqlite3 *spool;
    sqlite3_stmt *ins_el, *ins_mk;
    int state[S_COUNT];
    size_t count[S_COUNT];
    int has_item_err[2];         /* the first check_item failure of pulls, issues */
    attn_error item_err[2];
    char *el;                    /* pass 2: one element's text */
    size_t el_cap;
};

/* ---- reading -------------------------------------------------------------
 * A buffered reader that counts lines and columns the way jansson does
 * (columns in UTF-8 characters), and can capture the bytes of a value. */

#ifndef RD_CHUNK               /* tests may shrink it to cross many buffer ends */
#define RD_CHUNK (1 << 20)
#endif

typedef struct {
    attn_bundle_stream *b;
    const unsigned char *buf;
    unsigned char *own;          /* the file's window */
    size_t n, pos;
    int64_t off;                 /* file offset of buf[pos] */
    int line, col;
    int capturing;
    size_t cap_from;             /* buf index where the pending capture starts */
    attn_buf cap;
    int io_errno;
} rd;

static void rd_flush_capture(rd *r, size_t upto)
{
    if (r->capturing && upto > r->cap_from)
        attn_buf_put(&r->cap, r->buf + r->cap_from, upto - r->cap_from);
    r->cap_from = upto;
}

static int rd_fill(rd *r)
{
    ssize_t got;
    if (r->b->fd < 0)
        return 0;
    rd_flush_capture(r, r->n);
    do
        got = read(r->b->fd, r->own, RD_CHUNK);
    while (got < 0 && errno == EINTR);
    if (got < 0)
        r->io_errno = errno;
    if (got <= 0)
        return 0;
    r->n = (size_t)got;
    r->pos = r->cap_from = 0;
    return 1;
}

static inline int rd_peek(rd *r)
{
    if (r->pos == r->n && !rd_fill(r))
        return -1;
    return r->buf[r->pos];
}

static inline int rd_get(rd *r)
{
    int c = rd_peek(r);
    if (c < 0)
        return c;
    r->pos++;
    r->off++;
    if (c == '\n') {
        r->line++;
        r->col = 0;
    } else if ((c & 0xC0) != 0x80) {
        r->col++;
    }
    return c;
}

static void rd_skip_ws(rd *r)
{
    int c;
    while ((c = rd_peek(r)) == ' ' || c == '\t' || c == '\n' || c == '\r')
        rd_get(r);
}

static int rd_fail(rd *r, attn_error *err, const char *msg)
{
    if (r->io_errno)
        return attn_error_set(err, ATTN_EIO, "reading %s: %s", r->b->what,
                              strerror(r->io_errno));
    return attn_error_set(err, ATTN_EINVAL, "%s:%d:%d: %s", r->b->what, r->line, r->col, msg);
}

static void rd_capture_begin(rd *r)
{
    attn_buf_clear(&r->cap);
    r->capturing = 1;
    r->cap_from = r->pos;
}

static void rd_capture_end(rd *r)
{
    rd_flush_capture(r, r->pos);
    r->capturing = 0;
}

/* Over a string token (the reader is at its opening quote). */
static int scan_string(rd *r, attn_error *err)
{
    int c;
    rd_get(r);
    while ((c = rd_get(r)) != '"') {
        if (c < 0)
            return rd_fail(r, err, "premature end of input");
        if (c == '\\' && rd_get(r) < 0)
            return rd_fail(r, err, "premature end of input");
    }
    return 0;
}

/* jansson's JSON_PARSER_MAX_DEPTH: a value nested deeper inside the bundle
 * is refused, as the whole-file parse refused it. */
#define MAX_DEPTH 2048

/* Over one value at nesting `base` (1 for a member of the bundle, 2 for an
 * element of one of its lists or maps), found by its brackets only: jansson
 * then parses the bytes and is the one judge of their syntax. */
static int scan_value(rd *r, int base, attn_error *err)
{
    int c = rd_peek(r), depth = 0;
    if (c == '"')
        return scan_string(r, err);
    if (c != '{' && c != '[') {
        while ((c = rd_peek(r)) >= 0 && !strchr(" \t\r\n,]}:", c))
            rd_get(r);
        return 0;
    }
    do {
        if ((c = rd_peek(r)) < 0)
            return rd_fail(r, err, "premature end of input");
        if (c == '"') {
            if (scan_string(r, err))
                return -1;
            continue;
        }
        rd_get(r);
        if ((c == '{' || c == '[') && ++depth + base > MAX_DEPTH)
            return rd_fail(r, err, "maximum parsing depth reached");
        else if (c == '}' || c == ']')
            depth--;
    } while (depth > 0);
    return 0;
}

/* The value at the reader, parsed by jansson; errors name the file's line
 * and column (jansson counts from the value's first byte). */
static int read_value(rd *r, int base, json_t **out, int64_t *off, size_t *len,
                      attn_error *err)
{
    int line0 = r->line, col0 = r->col;
    json_error_t je;
    *off = r->off;
    rd_capture_begin(r);
    if (scan_value(r, base, err)) {
        r->capturing = 0;
        return ATTN_EINVAL;
    }
    rd_capture_end(r);
    *len = r->cap.len;
    *out = json_loadb(r->cap.ptr ? r->cap.ptr : "", r->cap.len,
                      JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    if (!*out)
        return attn_error_set(err, ATTN_EINVAL, "%s:%d:%d: %s", r->b->what,
                              line0 + je.line - 1, je.line <= 1 ? col0 + je.column : je.column,
                              je.text);
    return 0;
}

/* A member name (the reader is at '"'), decoded by jansson; *key_col is the
 * column just after it (where jansson reports a repeated key). */
static int read_key(rd *r, char **key, int *key_col, attn_error *err)
{
    json_t *v;
    int64_t off;
    size_t len;
    int rc;
    *key = NULL;
    *key_col = 0;
    if (rd_peek(r) != '"')
        return rd_fail(r, err, "string or '}' expected");
    if ((rc = read_value(r, 0, &v, &off, &len, err)))
        return rc;
    if (!json_is_string(v)) {
        json_decref(v);
        return rd_fail(r, err, "string or '}' expected");
    }
    *key = attn_xstrdup(json_string_value(v));
    *key_col = r->col;
    json_decref(v);
    rd_skip_ws(r);
    if (rd_get(r) != ':') {
        free(*key);
        *key = NULL;
        return rd_fail(r, err, "':' expected");
    }
    rd_skip_ws(r);
    return 0;
}

static int duplicate_key(rd *r, const char *key, int line, int col, attn_error *err)
{
    return attn_error_set(err, ATTN_EINVAL, "%s:%d:%d: duplicate object key near '\"%s\"'",
                          r->b->what, line, col, key);
}

/* ---- pass 1: spooling ------------------------------------------------------ */

static int spool_error(attn_bundle_stream *b, attn_error *err)
{
    return attn_error_set(err, ATTN_EDB, "spooling %s: %s", b->what, sqlite3_errmsg(b->spool));
}

static int spool_row(attn_bundle_stream *b, int sec, size_t seq, int64_t num, const json_t *id,
                     int64_t off, size_t len, int arr, attn_error *err)
{
    sqlite3_stmt *st = b->ins_el;
    sqlite3_bind_int(st, 1, sec);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)seq);
    if (num == ATTN_NULL_I64)
        sqlite3_bind_null(st, 3);
    else
        sqlite3_bind_int64(st, 3, num);
    if (json_is_integer(id))
        sqlite3_bind_int64(st, 4, json_integer_value(id));
    else
        sqlite3_bind_null(st, 4);
    sqlite3_bind_int64(st, 5, off);
    sqlite3_bind_int64(st, 6, (sqlite3_int64)len);
    sqlite3_bind_int(st, 7, arr);
    if (sqlite3_step(st) != SQLITE_DONE) {
        sqlite3_reset(st);
        return spool_error(b, err);
    }
    sqlite3_reset(st);
    return 0;
}

/* One list element: its issue number (what bundle.c groups by) and, for
 * pulls and issues, the checks bundle.c makes before touching the store. */
static int spool_element(attn_bundle_stream *b, int sec, size_t i, const json_t *v,
                         int64_t off, size_t len, attn_error *err)
{
    int64_t num = ATTN_NULL_I64;
    const json_t *id = NULL;
    if (sec == S_PULLS || sec == S_ISSUES) {
        attn_error e;
        if (attn_bundle_check_item(v, SEC_NAME[sec], i, &num, &e)) {
            if (!b->has_item_err[sec])
                b->item_err[sec] = e, b->has_item_err[sec] = 1;
            num = ATTN_NULL_I64;
        }
        id = json_object_get(v, "id");
    } else if (sec == S_EVENTS) {
        num = attn_bundle_event_number(v);
    } else if (sec == S_RCOMMENTS) {
        num = attn_norm_url_number(attn_json_str(v, "pull_request_url"));
    } else if (sec == S_ICOMMENTS) {
        num = attn_norm_url_number(attn_json_str(v, "issue_url"));
    }
    return spool_row(b, sec, i, num, id, off, len, 0, err);
}

static int scan_list(rd *r, int sec, attn_error *err)
{
    attn_bundle_stream *b = r->b;
    int64_t off;
    size_t len, i = 0;
    json_t *v;
    int c, rc;
    rd_get(r);
    rd_skip_ws(r);
    if (rd_peek(r) == ']') {
        rd_get(r);
        return 0;
    }
    for (;; i++) {
        rd_skip_ws(r);
        if ((rc = read_value(r, 2, &v, &off, &len, err)))
            return rc;
        rc = spool_element(b, sec, i, v, off, len, err);
        json_decref(v);
        if (rc)
            return rc;
        b->count[sec]++;
        rd_skip_ws(r);
        if ((c = rd_get(r)) == ']')
            return 0;
        if (c != ',')
            return rd_fail(r, err, "',' or ']' expected");
    }
}

/* A map keyed by issue number: only keys spelled as bundle.c looks them up
 * ("%lld" of the number) can ever be used; every key is checked for repeats. */
static int spool_member(rd *r, int sec, size_t i, const char *key, int key_line, int key_col,
                        attn_error *err)
{
    attn_bundle_stream *b = r->b;
    json_t *v;
    int64_t off, num = ATTN_NULL_I64;
    size_t len;
    char canon[32];
    int rc;
    sqlite3_bind_int(b->ins_mk, 1, sec);
    sqlite3_bind_text(b->ins_mk, 2, key, -1, SQLITE_TRANSIENT);
    rc = sqlite3_step(b->ins_mk);
    sqlite3_reset(b->ins_mk);
    if (rc != SQLITE_DONE)
        return spool_error(b, err);
    if (!sqlite3_changes(b->spool))
        return duplicate_key(r, key, key_line, key_col, err);
    if ((rc = read_value(r, 2, &v, &off, &len, err)))
        return rc;
    num = strtoll(key, NULL, 10);
    snprintf(canon, sizeof(canon), "%lld", (long long)num);
    rc = strcmp(canon, key) ? 0
                            : spool_row(b, sec, i, num, NULL, off, len, json_is_array(v), err);
    json_decref(v);
    return rc;
}

static int scan_map(rd *r, int sec, attn_error *err)
{
    char *key;
    size_t i = 0;
    int c, rc;
    rd_get(r);
    rd_skip_ws(r);
    if (rd_peek(r) == '}') {
        rd_get(r);
        return 0;
    }
    for (;; i++) {
        rd_skip_ws(r);
        int key_line = r->line, key_col;
        if ((rc = read_key(r, &key, &key_col, err)))
            return rc;
        rc = spool_member(r, sec, i, key, key_line, key_col, err);
        free(key);
        if (rc)
            return rc;
        r->b->count[sec]++;
        rd_skip_ws(r);
        if ((c = rd_get(r)) == '}')
            return 0;
        if (c != ',')
            return rd_fail(r, err, "',' or '}' expected");
    }
}

static int section_of(const char *key)
{
    for (int i = 0; i < S_COUNT; i++)
        if (!strcmp(key, SEC_NAME[i]))
            return i;
    return -1;
}

/* One member of the top-level object (the reader is at its value). */
static int scan_member(rd *r, const char *key, attn_error *err)
{
    attn_bundle_stream *b = r->b;
    int sec = section_of(key), c = rd_peek(r), rc;
    int64_t off;
    size_t len;
    json_t *v;
    if (sec >= 0 && !IS_MAP(sec) && c == '[') {
        b->state[sec] = SEC_OK;
        return scan_list(r, sec, err);
    }
    if (sec >= 0 && IS_MAP(sec) && c == '{') {
        b->state[sec] = SEC_OK;
        return scan_map(r, sec, err);
    }
    if ((rc = read_value(r, 1, &v, &off, &len, err)))
        return rc;
    if (sec >= 0) {
        /* null is an absent list; any other value is reported as bundle.c does */
        b->state[sec] = json_is_null(v) ? SEC_ABSENT : SEC_BAD_TYPE;
        json_decref(v);
        return 0;
    }
    json_object_set_new(b->head, key, v);
    return 0;
}

static int scan_bundle(rd *r, attn_error *err)
{
    json_t *seen = json_object();
    char *key = NULL;
    int c, rc = 0;
    rd_get(r);   /* '{' */
    rd_skip_ws(r);
    if (rd_peek(r) == '}') {
        rd_get(r);
        goto end;
    }
    for (;;) {
        rd_skip_ws(r);
        int key_line = r->line, key_col;
        if ((rc = read_key(r, &key, &key_col, err)))
            goto out;
        if (json_object_get(seen, key)) {
            rc = duplicate_key(r, key, key_line, key_col, err);
            goto out;
        }
        json_object_set_new(seen, key, json_null());
        if ((rc = scan_member(r, key, err)))
            goto out;
        free(key);
        key = NULL;
        rd_skip_ws(r);
        if ((c = rd_get(r)) == '}')
            break;
        if (c != ',') {
            rc = rd_fail(r, err, "',' or '}' expected");
            goto out;
        }
    }
end:
    rd_skip_ws(r);
    if ((c = rd_peek(r)) >= 0) {
        /* jansson names the first byte of what follows */
        char msg[64];
        rd_get(r);
        snprintf(msg, sizeof(msg), c > ' ' && c < 127 ? "end of file expected near '%c'"
                                                      : "end of file expected",
                 c);
        rc = rd_fail(r, err, msg);
    } else if (r->io_errno) {
        rc = rd_fail(r, err, "");
    }
out:
    free(key);
    json_decref(seen);
    return rc;
}

static int spool_open(attn_bundle_stream *b, attn_error *err)
{
    /* "" is a private temporary file SQLite deletes on close; its cache is
     * bounded, so the spool costs disk, not memory. */
    if (sqlite3_open_v2("", &b->spool, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
            SQLITE_OK ||
        sqlite3_exec(b->spool, SQL_SPOOL_SCHEMA, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(b->spool, SQL_SPOOL_EL, -1, &b->ins_el, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(b->spool, SQL_SPOOL_MK, -1, &b->ins_mk, NULL) != SQLITE_OK)
        return spool_error(b, err);
    return 0;
}

/* A file that does not start with '{' is no bundle: parse it whole, so the
 * message is jansson's (or "a bundle is a JSON object"), as before. */
static int not_an_object(attn_bundle_stream *b, attn_error *err)
{
    json_t *v = NULL;
    json_error_t je;
    int rc;
    if (b->fd >= 0) {
        if ((rc = attn_json_load_file(b->what, &v, err)))
            return rc;
    } else if (!(v = json_loadb((const char *)b->mem, b->memlen, JSON_REJECT_DUPLICATES, &je))) {
        return attn_error_set(err, ATTN_EINVAL, "%s:%d:%d: %s", b->what, je.line, je.column,
                              je.text);
    }
    rc = attn_bundle_check(v, b->what, NULL, err);
    json_decref(v);
    return rc ? rc : attn_error_set(err, ATTN_EINVAL, "%s: a bundle is a JSON object", b->what);
}

static int stream_scan(attn_bundle_stream *b, const char *repo, attn_error *err)
{
    rd r;
    int rc;
    memset(&r, 0, sizeof(r));
    r.b = b;
    r.line = 1;
    if (b->fd >= 0) {
        r.own = attn_xmalloc(RD_CHUNK);
        r.buf = r.own;
    } else {
        r.buf = b->mem;
        r.n = b->memlen;
    }
    b->head = json_object();
    rd_skip_ws(&r);
    if (rd_peek(&r) != '{') {
        rc = r.io_errno ? rd_fail(&r, err, "") : not_an_object(b, err);
    } else if (!(rc = spool_open(b, err)) && !(rc = scan_bundle(&r, err))) {
        if (sqlite3_exec(b->spool, SQL_SPOOL_INDEX, NULL, NULL, NULL) != SQLITE_OK)
            rc = spool_error(b, err);
        else
            rc = attn_bundle_check(b->head, b->what, repo, err);
    }
    free(r.own);
    attn_buf_free(&r.cap);
    return rc;
}

static int stream_open(attn_bundle_stream *b, const char *repo, attn_bundle_stream **out,
                       attn_error *err)
{
    int rc = stream_scan(b, repo, err);
    if (rc) {
        attn_bundle_stream_free(b);
        return rc;
    }
    *out = b;
    return 0;
}

int attn_bundle_stream_open(const char *path, const char *repo, attn_bundle_stream **out,
                            attn_error *err)
{
    attn_bundle_stream *b;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    *out = NULL;
    if (fd < 0)
        return attn_error_set(err, ATTN_EIO, "cannot open %s: %s", path, strerror(errno));
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    b = attn_xcalloc(1, sizeof(*b));
    b->what = attn_xstrdup(path);
    b->fd = fd;
    return stream_open(b, repo, out, err);
}

int attn_bundle_stream_open_mem(const void *data, size_t len, const char *what,
                                attn_bundle_stream **out, attn_error *err)
{
    attn_bundle_stream *b = attn_xcalloc(1, sizeof(*b));
    *out = NULL;
    b->what = attn_xstrdup(what);
    b->fd = -1;
    b->mem = data;
    b->memlen = len;
    return stream_open(b, NULL, out, err);
}

void attn_bundle_stream_free(attn_bundle_stream *b)
{
    if (!b)
        return;
    if (b->fd >= 0)
        close(b->fd);
    sqlite3_finalize(b->ins_el);
    sqlite3_finalize(b->ins_mk);
    sqlite3_close(b->spool);
    json_decref(b->head);
    free(b->el);
    free(b->what);
    free(b);
}

const json_t *attn_bundle_stream_head(const attn_bundle_stream *b)
{
    return b->head;
}

size_t attn_bundle_stream_prs(const attn_bundle_stream *b)
{
    return b->count[S_PULLS];
}

/* ---- pass 2: checks, then the load ---------------------------------------- */

/* Element text back from the file (or memory), parsed. */
static int load_element(attn_bundle_stream *b, int64_t off, size_t len, json_t **out,
                        attn_error *err)
{
    json_error_t je;
    const char *text;
    if (b->fd < 0) {
        text = (const char *)b->mem + off;
    } else {
        size_t got = 0;
        if (len > b->el_cap) {
            b->el_cap = len;
            b->el = attn_xrealloc(b->el, len);
        }
        while (got < len) {
            ssize_t n = pread(b->fd, b->el + got, len - got, off + (int64_t)got);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                return attn_error_set(err, ATTN_EIO, "re-reading %s: %s", b->what,
                                      n < 0 ? strerror(errno) : "the file shrank");
            got += (size_t)n;
        }
        text = b->el;
    }
    if (!(*out = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je)))
        return attn_error_set(err, ATTN_EINVAL, "%s changed while it was loaded: %s", b->what,
                              je.text);
    return 0;
}

static int prepare(attn_bundle_stream *b, const char *sql, sqlite3_stmt **st, attn_error *err)
{
    if (sqlite3_prepare_v2(b->spool, sql, -1, st, NULL) != SQLITE_OK)
        return spool_error(b, err);
    return 0;
}

/* Two entries of one list with the same id (the first pair in id order). */
static int check_unique_ids(attn_bundle_stream *b, int sec, attn_error *err)
{
    sqlite3_stmt *st;
    int64_t prev_id = 0, prev_seq = -1, prev_num = 0;
    int rc = 0, step;
    if ((rc = prepare(b, SQL_DUP_IDS, &st, err)))
        return rc;
    sqlite3_bind_int(st, 1, sec);
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t seq = sqlite3_column_int64(st, 0), id = sqlite3_column_int64(st, 1);
        int64_t num = sqlite3_column_int64(st, 2);
        if (prev_seq >= 0 && id == prev_id)
            rc = attn_error_set(err, ATTN_EINVAL,
                                "bundle: %s[%lld] and %s[%lld] have the same id %lld (#%lld and "
                                "#%lld)",
                                SEC_NAME[sec], (long long)prev_seq, SEC_NAME[sec],
                                (long long)seq, (long long)id, (long long)prev_num,
                                (long long)num);
        prev_id = id, prev_seq = seq, prev_num = num;
    }
    if (!rc && step != SQLITE_DONE)
        rc = spool_error(b, err);
    sqlite3_finalize(st);
    return rc;
}

/* A one-row query's two integers; *found = 0 when it has no row. */
static int query_row(attn_bundle_stream *b, const char *sql, int64_t *x, int64_t *y,
                     int *found, attn_error *err)
{
    sqlite3_stmt *st;
    int rc, step;
    if ((rc = prepare(b, sql, &st, err)))
        return rc;
    step = sqlite3_step(st);
    *found = step == SQLITE_ROW;
    if (*found) {
        *x = sqlite3_column_int64(st, 0);
        if (y)
            *y = sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    return step == SQLITE_ROW || step == SQLITE_DONE ? 0 : spool_error(b, err);
}

/* bundle.c's build_groups checks, in its order. */
static int check_groups(attn_bundle_stream *b, attn_error *err)
{
    int64_t num = 0, sec = 0;
    int found, rc;
    for (int s = 0; s <= S_FILES; s++)
        if (b->state[s] == SEC_BAD_TYPE)
            return attn_error_set(err, ATTN_EINVAL,
                                  IS_MAP(s) ? "bundle: '%s' is not an object keyed by number"
                                            : "bundle: '%s' is not a list",
                                  SEC_NAME[s]);
    for (int s = S_PULLS; s <= S_ISSUES; s++)
        if (b->has_item_err[s]) {
            *err = b->item_err[s];
            return ATTN_EINVAL;
        }
    if ((rc = check_unique_ids(b, S_PULLS, err)) || (rc = check_unique_ids(b, S_ISSUES, err)))
        return rc;
    if ((rc = query_row(b, SQL_DUP_NUMBER, &num, NULL, &found, err)))
        return rc;
    if (found)
        return attn_error_set(err, ATTN_EINVAL, "bundle: number %lld appears twice",
                              (long long)num);
    if ((rc = query_row(b, SQL_BAD_MAP_VALUE, &num, &sec, &found, err)))
        return rc;
    if (found)
        return attn_error_set(err, ATTN_EINVAL, "bundle: %s[\"%lld\"] is not a list",
                              SEC_NAME[sec], (long long)num);
    return 0;
}

typedef int (*element_fn)(attn_norm_ctx *ctx, const json_t *v, size_t i, attn_error *err);

static int each_element(attn_bundle_stream *b, attn_norm_ctx *ctx, const char *sql, int sec,
                        element_fn fn, attn_error *err)
{
    sqlite3_stmt *st;
    size_t i = 0;
    int rc, step;
    if ((rc = prepare(b, sql, &st, err)))
        return rc;
    if (sec >= 0)
        sqlite3_bind_int(st, 1, sec);
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *v;
        if (!(rc = load_element(b, sqlite3_column_int64(st, 0),
                                (size_t)sqlite3_column_int64(st, 1), &v, err))) {
            rc = fn(ctx, v, i++, err);
            json_decref(v);
        }
    }
    if (!rc && step != SQLITE_DONE)
        rc = spool_error(b, err);
    sqlite3_finalize(st);
    return rc;
}

static int user_fn(attn_norm_ctx *ctx, const json_t *v, size_t i, attn_error *err)
{
    return attn_normalize_user(ctx, v, NULL, err) ? attn_error_wrap(err, "bundle users[%zu]", i)
                                                   : 0;
}

static int team_fn(attn_norm_ctx *ctx, const json_t *v, size_t i, attn_error *err)
{
    return attn_normalize_team(ctx, v, err) ? attn_error_wrap(err, "bundle teams[%zu]", i) : 0;
}

static int label_fn(attn_norm_ctx *ctx, const json_t *v, size_t i, attn_error *err)
{
    return attn_normalize_label(ctx, v, err) ? attn_error_wrap(err, "bundle labels[%zu]", i)
                                              : 0;
}

static int milestone_fn(attn_norm_ctx *ctx, const json_t *v, size_t i, attn_error *err)
{
    return attn_normalize_milestone(ctx, v, err)
               ? attn_error_wrap(err, "bundle milestones[%zu]", i)
               : 0;
}

static int unplaced_event_fn(attn_norm_ctx *ctx, const json_t *v, size_t i, attn_error *err)
{
    (void)i;
    return attn_normalize_issue_event(ctx, v, err);
}

/* bundle.c's apply_catalogue, list by list from the spool. */
static int apply_catalogue(attn_bundle_stream *b, attn_norm_ctx *ctx, attn_error *err)
{
    static const element_fn fns[] = {user_fn, team_fn, label_fn, milestone_fn};
    int rc;
    if ((rc = attn_normalize_repo(ctx, json_object_get(b->head, "repo"), err)))
        return rc;
    for (int s = S_USERS; s <= S_MILESTONES; s++) {
        if (b->state[s] == SEC_BAD_TYPE)
            return attn_error_set(err, ATTN_EINVAL, "bundle: '%s' is not a list", SEC_NAME[s]);
        if ((rc = each_element(b, ctx, SQL_SECTION, s, fns[s - S_USERS], err)))
            return rc;
    }
    return 0;
}

static void group_clear(attn_bundle_group *g)
{
    json_decref((json_t *)g->pr);
    json_decref((json_t *)g->issue);
    json_decref((json_t *)g->reviews);
    json_decref((json_t *)g->files);
    json_decref(g->events);
    json_decref(g->review_comments);
    json_decref(g->issue_comments);
    memset(g, 0, sizeof(*g));
}

static void group_add(attn_bundle_group *g, int sec, json_t *v)
{
    json_t **arr = sec == S_EVENTS ? &g->events
                   : sec == S_RCOMMENTS ? &g->review_comments : &g->issue_comments;
    switch (sec) {
    case S_PULLS: g->pr = v; return;
    case S_ISSUES: g->issue = v; return;
    case S_REVIEWS: g->reviews = v; return;
    case S_FILES: g->files = v; return;
    }
    if (!*arr)
        *arr = json_array();
    json_array_append_new(*arr, v);
}

/* The groups in ascending number order, each assembled from its rows (the
 * spool's index hands them over sorted by number, then section, then list
 * position: bundle order within a list, as bundle.c appends). A number with
 * no PR and no issue is no group: its objects are unplaced (below). */
static int apply_groups(attn_bundle_stream *b, attn_norm_ctx *ctx, attn_error *err)
{
    attn_bundle_group g;
    sqlite3_stmt *st;
    int rc, step;
    memset(&g, 0, sizeof(g));
    if ((rc = prepare(b, SQL_GROUPS, &st, err)))
        return rc;
    g.number = ATTN_NULL_I64;
    while (!rc) {
        int64_t num = 0;
        step = sqlite3_step(st);
        if (step == SQLITE_ROW)
            num = sqlite3_column_int64(st, 0);
        if (g.number != ATTN_NULL_I64 && (step != SQLITE_ROW || num != g.number)) {
            if (g.pr || g.issue)
                rc = attn_bundle_apply_group(ctx, &g, err);
            group_clear(&g);
            g.number = ATTN_NULL_I64;
        }
        if (rc || step != SQLITE_ROW)
            break;
        int sec = sqlite3_column_int(st, 1);
        /* Rows of a number with no PR or issue come first only if they sort
         * before sections 0/1, which they cannot: skip loading them. */
        if (g.number == ATTN_NULL_I64 && sec > S_ISSUES)
            continue;
        json_t *v;
        g.number = num;
        if (!(rc = load_element(b, sqlite3_column_int64(st, 2),
                                (size_t)sqlite3_column_int64(st, 3), &v, err)))
            group_add(&g, sec, v);
    }
    if (!rc && step != SQLITE_DONE)
        rc = spool_error(b, err);
    group_clear(&g);
    sqlite3_finalize(st);
    return rc;
}

/* bundle.c's count_unplaced: events of unknown numbers go through the
 * normalizer (which counts them as skipped); comments are counted. */
static int apply_unplaced(attn_bundle_stream *b, attn_norm_ctx *ctx, attn_error *err)
{
    int64_t n = 0;
    int found, rc;
    if ((rc = each_element(b, ctx, SQL_UNPLACED_EVENTS, -1, unplaced_event_fn, err)) ||
        (rc = query_row(b, SQL_UNPLACED_COMMENTS, &n, NULL, &found, err)))
        return rc;
    ctx->stats.skipped += n;
    return 0;
}

static int stream_body(attn_norm_ctx *ctx, void *arg, attn_error *err)
{
    attn_bundle_stream *b = arg;
    int rc;
    if ((rc = apply_catalogue(b, ctx, err)) || (rc = apply_groups(b, ctx, err)))
        return rc;
    return apply_unplaced(b, ctx, err);
}

int attn_bundle_stream_apply(attn_store *s, attn_bundle_stream *b, attn_bundle_stats *stats,
                             attn_error *err)
{
    attn_norm_ctx ctx;
    int64_t repo_id = ATTN_NULL_I64;
    int rc;

    memset(stats, 0, sizeof(*stats));
    if ((rc = attn_bundle_check(b->head, "bundle", NULL, err)) ||
        (rc = norm_req_i64(json_object_get(b->head, "repo"), "id", "bundle repo", &repo_id,
                           err)) ||
        (rc = check_groups(b, err)))
        return rc;
    attn_norm_ctx_init(&ctx, s, repo_id, err);
    ctx.observed_at = attn_bundle_observed_at(b->head);
    /* Memory must not grow with the bundle (store.h). */
    attn_store_load_settings(s);
    rc = attn_bundle_load_tx(s, &ctx, stream_body, b, stats, err);
    stats->repo_id = repo_id;
    stats->norm = ctx.stats;
    attn_norm_ctx_free(&ctx);
    return rc;
}
