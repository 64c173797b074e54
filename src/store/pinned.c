/*
 * pinned.c - the pinned-file store (see pinned.h for the layout and rules).
 *
 * Write order, so a crash at any instant leaves either the old state or the
 * new one: blobs (atomic writes), then the per-sha paths (a hard link made
 * under a temporary name and renamed over the target), then the legacy
 * CODEOWNERS copy, then the manifest (atomic). Readers trust only the
 * manifest, and check every file they return against its blob sha.
 */
#include "store/pinned.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/path.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *const attn_pinned_codeowners_paths[ATTN_PINNED_N_CODEOWNERS] = {
    ".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"};

#define MANIFEST ".pin.json"
#define PINNED_PATH_MAX 1024

/* snprintf into out, or ATTN_EINVAL when it does not fit. */
static int fmt_path(char *out, size_t cap, attn_error *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fmt_path(char *out, size_t cap, attn_error *err, const char *fmt, ...)
{
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(out, cap, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= cap)
        return attn_error_set(err, ATTN_EINVAL, "path under '%.200s' is too long", out);
    return 0;
}

/* "owner/name" from DATA/github/<owner>/<name>, for the hints in messages. */
static void repo_hint(const char *repo_dir, char *out, size_t cap)
{
    size_t n = strlen(repo_dir);
    const char *p;
    int slashes = 0;
    while (n > 1 && repo_dir[n - 1] == '/')
        n--;
    for (p = repo_dir + n; p > repo_dir; p--)
        if (p[-1] == '/' && ++slashes == 2)
            break;
    snprintf(out, cap, "%.*s", (int)(repo_dir + n - p), p);
    if (!strchr(out, '/'))
        snprintf(out, cap, "O/R");
}

int attn_pinned_check_sha(const char *sha, attn_error *err)
{
    size_t i;
    for (i = 0; sha && sha[i]; i++)
        if (!((sha[i] >= '0' && sha[i] <= '9') || (sha[i] >= 'a' && sha[i] <= 'f')))
            break;
    if (!sha || i != 40 || sha[i])
        return attn_error_set(err, ATTN_EINVAL,
                              "invalid base sha '%.80s': expected 40 lowercase hex digits",
                              sha ? sha : "");
    return 0;
}

int attn_pinned_check_path(const char *path, attn_error *err)
{
    int rc;
    if ((rc = attn_path_check_relative(path, err)))
        return rc;
    if (strlen(path) > PINNED_PATH_MAX)
        return attn_error_set(err, ATTN_EINVAL, "pinned path '%.80s...' is longer than %d bytes",
                              path, PINNED_PATH_MAX);
    for (const char *p = path; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return attn_error_set(err, ATTN_EINVAL,
                                  "unsafe path '%.200s': control characters are not allowed",
                                  path);
    /* The manifest lives beside the pinned files. */
    if (!strcmp(path, MANIFEST))
        return attn_error_set(err, ATTN_EINVAL, "path '%s' is reserved for the pin manifest",
                              path);
    return 0;
}

static int check_source(const char *source, attn_error *err)
{
    size_t i;
    for (i = 0; source && source[i]; i++)
        if (!((source[i] >= 'a' && source[i] <= 'z') || source[i] == '_'))
            break;
    if (!source || i == 0 || i > 32 || source[i])
        return attn_error_set(err, ATTN_EINVAL, "invalid pin source '%.40s': use [a-z_]+",
                              source ? source : "");
    return 0;
}

int attn_pinned_blob_sha(const void *data, size_t len, char hex[41])
{
    static const char digits[] = "0123456789abcdef";
    char head[40];
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    int hl = snprintf(head, sizeof(head), "blob %zu", len) + 1; /* the NUL is hashed too */
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) == 1 &&
             EVP_DigestUpdate(ctx, head, (size_t)hl) == 1 &&
             (len == 0 || EVP_DigestUpdate(ctx, data, len) == 1) &&
             EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen == 20;
    EVP_MD_CTX_free(ctx);
    if (!ok)
        return -1;
    for (unsigned i = 0; i < 20; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    hex[40] = '\0';
    return 0;
}

/* ---- manifest ------------------------------------------------------------------- */

static int damaged(const char *path, const char *why, attn_error *err)
{
    return attn_error_set(err, ATTN_ECORRUPT,
                          "pin manifest %s is damaged (%s); delete its directory and rerun "
                          "`attn pin`",
                          path, why);
}

int attn_pinned_manifest(const char *repo_dir, const char *base_sha, json_t **out,
                         attn_error *err)
{
    char path[4300], hint[256];
    const json_t *files, *v;
    const char *k, *sha;
    json_t *m = NULL;
    int rc;

    *out = NULL;
    if ((rc = attn_pinned_check_sha(base_sha, err)) ||
        (rc = fmt_path(path, sizeof(path), err, "%s/repo_artifacts/%s/%s", repo_dir, base_sha,
                       MANIFEST)))
        return rc;
    if (!attn_fs_exists(path)) {
        repo_hint(repo_dir, hint, sizeof(hint));
        return attn_error_set(err, ATTN_ENOTFOUND,
                              "nothing is pinned at base sha %s for %s; run `attn pin --repo %s`",
                              base_sha, hint, hint);
    }
    if ((rc = attn_json_load_file(path, &m, err)))
        return damaged(path, err->msg, err);
    sha = attn_json_str(m, "base_sha");
    files = json_object_get(m, "files");
    if (!sha || strcmp(sha, base_sha) || !json_is_object(files)) {
        json_decref(m);
        return damaged(path, "base_sha or files missing or wrong", err);
    }
    json_object_foreach((json_t *)files, k, v) {
        attn_error e;
        if (attn_pinned_check_path(k, &e) ||
            !(json_is_null(v) || (json_is_string(v) &&
                                  !attn_pinned_check_sha(json_string_value(v), &e)))) {
            json_decref(m);
            return damaged(path, "a files entry is not a safe path with a blob sha or null",
                           err);
        }
    }
    *out = m;
    return 0;
}

int attn_pinned_has(const char *repo_dir, const char *base_sha)
{
    char path[4300];
    if (attn_pinned_check_sha(base_sha, NULL) ||
        fmt_path(path, sizeof(path), NULL, "%s/repo_artifacts/%s/%s", repo_dir, base_sha,
                 MANIFEST))
        return 0;
    return attn_fs_exists(path);
}

/* ---- reading -------------------------------------------------------------------- */

/* The file of blob at repo_artifacts/<sha>/<path> (or its blob, if the
 * per-sha link is gone), checked against the blob sha. */
static int read_pinned(const char *repo_dir, const char *base_sha, const char *path,
                       const char *blob, char **text, size_t *len, attn_error *err)
{
    attn_buf b = ATTN_BUF_INIT;
    char file[4300], got[41];
    int rc;

    if ((rc = fmt_path(file, sizeof(file), err, "%s/repo_artifacts/%s/%s", repo_dir, base_sha,
                       path)))
        return rc;
    rc = attn_fs_read_file(file, &b, err);
    if (rc == ATTN_ENOTFOUND) {
        attn_buf_clear(&b);
        if ((rc = fmt_path(file, sizeof(file), err, "%s/repo_artifacts/.blobs/%s", repo_dir,
                           blob)))
            return rc;
        rc = attn_fs_read_file(file, &b, err);
        if (rc == ATTN_ENOTFOUND)
            rc = attn_error_set(err, ATTN_ECORRUPT,
                                "pinned file '%s' at %s is missing from %s/repo_artifacts; "
                                "delete repo_artifacts/%s and rerun `attn pin`",
                                path, base_sha, repo_dir, base_sha);
    }
    if (rc) {
        attn_buf_free(&b);
        return rc;
    }
    if (attn_pinned_blob_sha(b.ptr, b.len, got) || strcmp(got, blob)) {
        attn_buf_free(&b);
        return attn_error_set(err, ATTN_ECORRUPT,
                              "pinned file %s does not match its blob sha %s (edited?); delete "
                              "repo_artifacts/%s and rerun `attn pin`",
                              file, blob, base_sha);
    }
    *len = b.len;
    *text = attn_buf_detach(&b);
    return 0;
}

int attn_pinned_read(const char *repo_dir, const char *base_sha, const char *path, char **text,
                     size_t *len, attn_error *err)
{
    json_t *m = NULL;
    const json_t *v;
    char hint[256];
    int rc;

    *text = NULL;
    *len = 0;
    if ((rc = attn_pinned_check_path(path, err)) ||
        (rc = attn_pinned_manifest(repo_dir, base_sha, &m, err)))
        return rc;
    v = json_object_get(json_object_get(m, "files"), path);
    if (!v) {
        repo_hint(repo_dir, hint, sizeof(hint));
        rc = attn_error_set(err, ATTN_ENOTFOUND,
                            "'%s' was not pinned at base sha %s; run `attn pin --repo %s "
                            "--path '%s'`",
                            path, base_sha, hint, path);
    } else if (json_is_null(v)) {
        rc = 1;
    } else {
        rc = read_pinned(repo_dir, base_sha, path, json_string_value(v), text, len, err);
    }
    json_decref(m);
    return rc;
}

static int set_which(char *which, size_t cap, const char *path, attn_error *err)
{
    if (!which || !cap)
        return 0;
    if ((size_t)snprintf(which, cap, "%s", path) >= cap)
        return attn_error_set(err, ATTN_EINVAL, "buffer for the CODEOWNERS path is too small");
    return 0;
}

int attn_pinned_codeowners(const char *repo_dir, const char *base_sha, char **text, size_t *len,
                           char *which, size_t which_cap, attn_error *err)
{
    json_t *m = NULL;
    const json_t *files;
    int rc;

    *text = NULL;
    *len = 0;
    if ((rc = set_which(which, which_cap, "", err)))
        return rc;
    rc = attn_pinned_manifest(repo_dir, base_sha, &m, err);
    if (rc == ATTN_ENOTFOUND) {
        /* The legacy location, for stores written before manifests existed. */
        char legacy[4300], rel[128];
        attn_buf b = ATTN_BUF_INIT;
        attn_error e;
        snprintf(rel, sizeof(rel), "codeowners/%s/CODEOWNERS", base_sha);
        if (fmt_path(legacy, sizeof(legacy), &e, "%s/%s", repo_dir, rel) ||
            !attn_fs_exists(legacy))
            return rc;
        if ((rc = attn_fs_read_file(legacy, &b, err)) ||
            (rc = set_which(which, which_cap, rel, err))) {
            attn_buf_free(&b);
            return rc;
        }
        *len = b.len;
        *text = attn_buf_detach(&b);
        return 0;
    }
    if (rc)
        return rc;
    files = json_object_get(m, "files");
    rc = 1;
    /* A candidate never looked for counts as absent: `attn pin` always
     * records every higher-precedence candidate before a lower one. */
    for (int i = 0; i < ATTN_PINNED_N_CODEOWNERS && rc == 1; i++) {
        const char *p = attn_pinned_codeowners_paths[i];
        const json_t *v = json_object_get(files, p);
        if (!json_is_string(v))
            continue;
        if (!(rc = read_pinned(repo_dir, base_sha, p, json_string_value(v), text, len, err)) &&
            (rc = set_which(which, which_cap, p, err))) {
            free(*text);
            *text = NULL;
            *len = 0;
        }
    }
    json_decref(m);
    return rc;
}

/* ---- writing -------------------------------------------------------------------- */

/* Make target a hard link to blob_path, atomically (link under a temporary
 * name, rename over target); copy content (or the blob) where links fail. */
static int place(const char *blob_path, const char *target, const char *content, size_t len,
                 attn_error *err)
{
    struct stat sb, st;
    char dir[4300], tmp[4400];
    const char *slash = strrchr(target, '/');
    attn_buf b = ATTN_BUF_INIT;
    int fd, rc;

    if (stat(blob_path, &sb) == 0 && stat(target, &st) == 0 && sb.st_dev == st.st_dev &&
        sb.st_ino == st.st_ino)
        return 0;
    if (!slash || (size_t)(slash - target) >= sizeof(dir))
        return attn_error_set(err, ATTN_EINVAL, "path '%.200s' is too long", target);
    memcpy(dir, target, (size_t)(slash - target));
    dir[slash - target] = '\0';
    if ((rc = attn_fs_mkdirs(dir, err)) ||
        (rc = fmt_path(tmp, sizeof(tmp), err, "%s.tmp.XXXXXX", target)))
        return rc;
    /* mkstemp reserves a unique name; link() needs it free again. */
    if ((fd = mkstemp(tmp)) < 0)
        return attn_error_set(err, ATTN_EIO, "cannot create a temporary name beside '%s': %s",
                              target, strerror(errno));
    close(fd);
    unlink(tmp);
    if (link(blob_path, tmp) == 0) {
        if (rename(tmp, target) < 0) {
            int e = errno;
            unlink(tmp);
            return attn_error_set(err, ATTN_EIO, "cannot rename into '%s': %s", target,
                                  strerror(e));
        }
        /* rename() between two names of one file does nothing at all. */
        if (lstat(tmp, &st) == 0)
            unlink(tmp);
        return 0;
    }
    /* No hard links here (EPERM, EMLINK, ...): store a copy instead. */
    if (!content) {
        if ((rc = attn_fs_read_file(blob_path, &b, err)))
            return rc;
        content = b.ptr ? b.ptr : "";
        len = b.len;
    }
    rc = attn_fs_write_atomic(target, content, len, err);
    attn_buf_free(&b);
    return rc;
}

static int ensure_blob(const char *path, const char *content, size_t len, attn_error *err)
{
    struct stat st;
    /* Content-addressed: a complete blob of that name is that content. */
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && (size_t)st.st_size == len)
        return 0;
    return attn_fs_write_atomic(path, content, len, err);
}

/* Remove a regular file left where the manifest now says "absent". */
static int drop_file(const char *path, attn_error *err)
{
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) && unlink(path) < 0 && errno != ENOENT)
        return attn_error_set(err, ATTN_EIO, "cannot remove '%s': %s", path, strerror(errno));
    return 0;
}

/* Two present files where one would be a directory of the other. */
static int check_nesting(const json_t *files, attn_error *err)
{
    const char *a, *b;
    const json_t *va, *vb;
    json_object_foreach((json_t *)files, a, va) {
        size_t n = strlen(a);
        if (json_is_null(va))
            continue;
        json_object_foreach((json_t *)files, b, vb) {
            if (!json_is_null(vb) && !strncmp(a, b, n) && b[n] == '/')
                return attn_error_set(err, ATTN_EINVAL,
                                      "pinned paths '%s' and '%s' cannot both be files", a, b);
        }
    }
    return 0;
}

int attn_pinned_write(const char *repo_dir, const char *base_sha, const char *source,
                      const attn_pinned_file *files, size_t n, attn_error *err)
{
    json_t *old = NULL, *merged = NULL, *man = NULL;
    attn_buf text = ATTN_BUF_INIT;
    char (*blobs)[41] = NULL;
    char path[4300], blob_path[4300];
    const char *cpath = NULL;
    int rc;

    if ((rc = attn_pinned_check_sha(base_sha, err)) || (rc = check_source(source, err)))
        return rc;
    if (n == 0)
        return attn_error_set(err, ATTN_EINVAL, "nothing to pin at %s: no files given", base_sha);
    for (size_t i = 0; i < n; i++) {
        if ((rc = attn_pinned_check_path(files[i].path, err)))
            return rc;
        /* the manifest is JSON, keyed by path */
        if (!attn_utf8_valid(files[i].path))
            return attn_error_set(err, ATTN_EINVAL, "path '%.200s' is not valid UTF-8",
                                  files[i].path);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(files[i].path, files[j].path))
                return attn_error_set(err, ATTN_EINVAL, "path '%s' is given twice for %s",
                                      files[i].path, base_sha);
    }
    rc = attn_pinned_manifest(repo_dir, base_sha, &old, err);
    if (rc && rc != ATTN_ENOTFOUND)
        return rc;
    attn_error_clear(err);
    blobs = attn_xcalloc(n, sizeof(*blobs));
    merged = attn_xcheck(old ? json_deep_copy(json_object_get(old, "files")) : json_object());
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_null();
        if (files[i].content) {
            if (attn_pinned_blob_sha(files[i].content, files[i].len, blobs[i])) {
                rc = attn_error_set(err, ATTN_EIO, "libcrypto failed to hash '%s'",
                                    files[i].path);
                goto out;
            }
            v = attn_xcheck(json_string(blobs[i]));
        }
        attn_xcheck_rc(json_object_set_new(merged, files[i].path, v));
    }
    if ((rc = check_nesting(merged, err)))
        goto out;

    /* Blobs and per-sha paths first; the manifest last. */
    for (size_t i = 0; i < n; i++) {
        if ((rc = fmt_path(path, sizeof(path), err, "%s/repo_artifacts/%s/%s", repo_dir,
                           base_sha, files[i].path)))
            goto out;
        if (!files[i].content) {
            if ((rc = drop_file(path, err)))
                goto out;
            continue;
        }
        if ((rc = fmt_path(blob_path, sizeof(blob_path), err, "%s/repo_artifacts/.blobs/%s",
                           repo_dir, blobs[i])) ||
            (rc = ensure_blob(blob_path, files[i].content, files[i].len, err)) ||
            (rc = place(blob_path, path, files[i].content, files[i].len, err)))
            goto out;
    }
    for (int i = 0; i < ATTN_PINNED_N_CODEOWNERS && !cpath; i++)
        if (json_is_string(json_object_get(merged, attn_pinned_codeowners_paths[i])))
            cpath = attn_pinned_codeowners_paths[i];
    if ((rc = fmt_path(path, sizeof(path), err, "%s/codeowners/%s/CODEOWNERS", repo_dir,
                       base_sha)))
        goto out;
    if (cpath) {
        const char *content = NULL;
        size_t len = 0;
        for (size_t i = 0; i < n; i++)
            if (!strcmp(files[i].path, cpath)) {
                content = files[i].content;
                len = files[i].len;
            }
        if ((rc = fmt_path(blob_path, sizeof(blob_path), err, "%s/repo_artifacts/.blobs/%s",
                           repo_dir, json_string_value(json_object_get(merged, cpath)))) ||
            (rc = place(blob_path, path, content, len, err)))
            goto out;
    } else if ((rc = drop_file(path, err))) {
        goto out;
    }

    /* base_sha and source were checked above, cpath is one of the paths */
    man = attn_xcheck(json_pack("{s:s, s:o, s:O, s:s, s:s}", "base_sha", base_sha,
                                "codeowners_path", cpath ? json_string(cpath) : json_null(),
                                "files", merged, "format", ATTN_PINNED_FORMAT, "source", source));
    if ((rc = attn_json_canonical(man, &text, err)))
        goto out;
    attn_buf_putc(&text, '\n');
    if ((rc = fmt_path(path, sizeof(path), err, "%s/repo_artifacts/%s/%s", repo_dir, base_sha,
                       MANIFEST)))
        goto out;
    rc = attn_fs_write_atomic(path, text.ptr, text.len, err);

out:
    attn_buf_free(&text);
    json_decref(man);
    json_decref(merged);
    json_decref(old);
    free(blobs);
    return rc;
}
