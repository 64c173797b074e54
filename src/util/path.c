/*
 * path.c - name and path validation (see path.h).
 */
#include "util/path.h"

#include <stdio.h>
#include <string.h>

static int name_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '-';
}

/* Length of a valid component at s ending at stop char, or -1. */
static int component(const char *s, char stop, size_t max)
{
    size_t n = 0;
    while (s[n] && s[n] != stop) {
        if (!name_char(s[n]))
            return -1;
        n++;
    }
    if (n == 0 || n > max || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
        return -1;
    return (int)n;
}

int attn_path_parse_repo(const char *repo, char owner[ATTN_NAME_MAX + 1],
                         char name[ATTN_NAME_MAX + 1], attn_error *err)
{
    int a, b;
    if (!repo)
        return attn_error_set(err, ATTN_EINVAL, "missing --repo OWNER/NAME");
    a = component(repo, '/', ATTN_NAME_MAX);
    if (a < 0 || repo[a] != '/' || (b = component(repo + a + 1, '\0', ATTN_NAME_MAX)) < 0)
        return attn_error_set(err, ATTN_EINVAL,
            "invalid repository '%s': expected OWNER/NAME using only letters, digits, '.', '_' and '-'",
            repo);
    memcpy(owner, repo, (size_t)a);
    owner[a] = '\0';
    memcpy(name, repo + a + 1, (size_t)b + 1);
    return 0;
}

int attn_path_check_id(const char *id, const char *what, attn_error *err)
{
    if (!id || component(id, '\0', 128) < 0)
        return attn_error_set(err, ATTN_EINVAL,
            "invalid %s '%s': use 1-128 letters, digits, '.', '_' or '-' (not '.' or '..')",
            what, id ? id : "");
    return 0;
}

int attn_path_check_relative(const char *path, attn_error *err)
{
    const char *seg = path;
    if (!path || !*path || *path == '/')
        return attn_error_set(err, ATTN_EINVAL, "unsafe path '%s': must be relative and non-empty",
                              path ? path : "");
    if (strchr(path, '\\'))
        return attn_error_set(err, ATTN_EINVAL, "unsafe path '%s': backslash not allowed", path);
    for (;;) {
        const char *end = strchr(seg, '/');
        size_t n = end ? (size_t)(end - seg) : strlen(seg);
        if (n == 0 || (n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
            return attn_error_set(err, ATTN_EINVAL,
                                  "unsafe path '%s': empty, '.' or '..' segment", path);
        if (!end)
            break;
        seg = end + 1;
    }
    return 0;
}

int attn_path_repo_dir(const char *data_dir, const char *repo, char *out, size_t cap,
                       attn_error *err)
{
    char owner[ATTN_NAME_MAX + 1], name[ATTN_NAME_MAX + 1];
    int rc = attn_path_parse_repo(repo, owner, name, err);
    if (rc)
        return rc;
    if (!data_dir || !*data_dir)   /* "" would make the store /github/... */
        return attn_error_set(err, ATTN_EINVAL,
                              "the data directory is empty; give --data-dir DIR (or "
                              "ATTN_DATA_DIR), e.g. ./data");
    if ((size_t)snprintf(out, cap, "%s/github/%s/%s", data_dir, owner, name) >= cap)
        return attn_error_set(err, ATTN_EINVAL, "data directory path '%s' is too long", data_dir);
    return 0;
}
