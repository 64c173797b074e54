/*
 * ghrepo.c - gh's conventions for which repository, host and token a
 * command uses: --repo in any of gh's forms, else $GH_REPO, else the GitHub
 * remote of the git repository in the current directory; $GITHUB_API_URL /
 * $GH_HOST for GitHub Enterprise; the token from $GITHUB_TOKEN, $GH_TOKEN,
 * then `gh auth token`.
 *
 * Never prints a token and never writes anywhere; the only process it runs
 * is `gh auth token` (no shell), and only when gh is on PATH. Reads
 * .git/config itself (a few lines; libgit2's config walk leaks under
 * LeakSanitizer here).
 */
#include "cmd/cmd.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* The host a remote must name to count as GitHub: $GH_HOST or github.com. */
static const char *gh_host(void)
{
    const char *h = getenv("GH_HOST");
    return h && *h ? h : "github.com";
}

/* "OWNER/NAME[.git][/]" at p into out. */
static int owner_name(const char *p, char *out, size_t cap)
{
    size_t n = strlen(p);
    while (n && p[n - 1] == '/')
        n--;
    if (n > 4 && !strncmp(p + n - 4, ".git", 4))
        n -= 4;
    if (n >= cap)
        return -1;
    memcpy(out, p, n);
    out[n] = 0;
    /* exactly one slash, both parts non-empty */
    const char *s = strchr(out, '/');
    return s && s != out && s[1] && !strchr(s + 1, '/') ? 0 : -1;
}

/* The OWNER/NAME of a URL on host (any host when host is NULL); -1 if not. */
static int from_url(const char *url, const char *host, char *out, size_t cap)
{
    const char *p = url, *h;
    size_t hl;
    if (!strncmp(p, "git@", 4)) { /* git@HOST:O/R.git */
        h = p + 4;
        hl = strcspn(h, ":");
        if (!h[hl])
            return -1;
        p = h + hl + 1;
    } else {
        const char *scheme = strstr(p, "://");
        h = scheme ? scheme + 3 : p;
        if (strchr(h, '@') && strchr(h, '@') < strchr(h, '/'))
            h = strchr(h, '@') + 1; /* ssh://git@HOST/..., https://user@HOST/... */
        hl = strcspn(h, "/:");
        if (h[hl] == ':') /* a port */
            hl += strcspn(h + hl, "/");
        if (!h[hl])
            return -1;
        p = h + hl + 1;
    }
    if (host) {
        size_t want = strlen(host);
        int www = hl == want + 4 && !strncmp(h, "www.", 4) && !strncasecmp(h + 4, host, want);
        if (!www && (hl != want || strncasecmp(h, host, want)))
            return -1;
    }
    return owner_name(p, out, cap);
}

int attn_cli_repo_normalize(const char *arg, char *out, size_t cap, attn_error *err)
{
    int slashes = 0;
    for (const char *p = arg; *p; p++)
        slashes += *p == '/';
    /* O/R as given (the store's path rules validate it later) */
    if (!strstr(arg, "://") && strncmp(arg, "git@", 4) && slashes <= 1) {
        if (strlen(arg) >= cap)
            return attn_error_set(err, ATTN_EINVAL, "repository name '%.40s...' is too long", arg);
        snprintf(out, cap, "%s", arg);
        return 0;
    }
    if (from_url(arg, NULL, out, cap))
        return attn_error_set(err, ATTN_EINVAL,
                              "'%s' is not a repository: give OWNER/NAME, "
                              "https://github.com/OWNER/NAME or git@github.com:OWNER/NAME.git",
                              arg);
    return 0;
}

/* dst = a + b, or -1 when it does not fit (no truncation). */
static int join(char *dst, size_t cap, const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la + lb + 1 > cap)
        return -1;
    memmove(dst, a, la);
    memcpy(dst + la, b, lb + 1);
    return 0;
}

/* The config file of the git repository containing the current directory:
 * walk up to .git; a worktree's .git file names its gitdir, whose
 * "commondir" holds the shared config. 0 and path filled, or -1. */
static int git_config_path(char *path, size_t cap)
{
    char dir[4096], buf[4400], git[4200];
    struct stat st;
    if (!getcwd(dir, sizeof(dir)))
        return -1;
    for (;;) {
        snprintf(git, sizeof(git), "%s/.git", dir);
        if (!stat(git, &st))
            break;
        char *slash = strrchr(dir, '/');
        if (!slash || slash == dir)
            return -1;
        *slash = 0;
    }
    if (S_ISREG(st.st_mode)) { /* "gitdir: PATH" (a worktree or submodule) */
        FILE *f = fopen(git, "r");
        char *g = f && fgets(buf, sizeof(buf), f) ? buf : NULL;
        if (f)
            fclose(f);
        if (!g || strncmp(g, "gitdir: ", 8))
            return -1;
        g += 8;
        g[strcspn(g, "\r\n")] = 0;
        if (*g == '/' ? join(git, sizeof(git), g, "") : join(git, sizeof(git), dir, "/") ||
                                                              join(git + strlen(git),
                                                                   sizeof(git) - strlen(git), g, ""))
            return -1;
        if (join(buf, sizeof(buf), git, "/commondir"))
            return -1;
        if ((f = fopen(buf, "r"))) {
            char common[2048];
            if (fgets(common, sizeof(common), f)) {
                common[strcspn(common, "\r\n")] = 0;
                size_t l = strlen(git);
                if (*common == '/' ? join(git, sizeof(git), common, "")
                                   : join(git + l, sizeof(git) - l, "/", common)) {
                    fclose(f);
                    return -1;
                }
            }
            fclose(f);
        }
    }
    return join(path, cap, git, "/config");
}

/* gh's remote order: upstream, github, origin, then the rest. */
static int remote_rank(const char *name)
{
    return !strcmp(name, "upstream") ? 0 : !strcmp(name, "github") ? 1
           : !strcmp(name, "origin") ? 2 : 3;
}

/* The best-ranked GitHub remote of .git/config ([remote "NAME"] url = ...). */
static int from_git_remote(char *out, size_t cap)
{
    char path[4300], line[4096], name[256] = "", cand[256];
    int best = 4, in_remote = 0;
    FILE *f;
    if (git_config_path(path, sizeof(path)) || !(f = fopen(path, "r")))
        return -1;
    while (fgets(line, sizeof(line), f)) {
        char *p = line + strspn(line, " \t");
        p[strcspn(p, "\r\n")] = 0;
        if (*p == '[') {
            in_remote = sscanf(p, "[remote \"%255[^\"]\"]", name) == 1;
            continue;
        }
        if (!in_remote || strncmp(p, "url", 3) || !strchr(p, '='))
            continue;
        p = strchr(p, '=') + 1;
        p += strspn(p, " \t");
        if (remote_rank(name) < best && !from_url(p, gh_host(), cand, sizeof(cand))) {
            best = remote_rank(name);
            snprintf(out, cap, "%s", cand);
        }
    }
    fclose(f);
    return best < 4 ? 0 : -1;
}

int attn_cli_repo_default(char *out, size_t cap, const char **source, attn_error *err)
{
    const char *env = getenv("GH_REPO");
    if (env && *env) {
        *source = "GH_REPO";
        return attn_cli_repo_normalize(env, out, cap, err) ? attn_error_wrap(err, "$GH_REPO") : 0;
    }
    if (!from_git_remote(out, cap)) {
        *source = "git remote";
        return 0;
    }
    return attn_error_set(err, ATTN_ENOTFOUND, "no repository: give --repo OWNER/NAME");
}

const char *attn_cli_api_url_default(char *buf, size_t cap)
{
    const char *url = getenv("GITHUB_API_URL"), *host = getenv("GH_HOST");
    if (url && *url)
        return url;
    if (host && *host && strcasecmp(host, "github.com")) {
        snprintf(buf, cap, "https://%s/api/v3", host);
        return buf;
    }
    return NULL;
}

/* Is prog an executable file in a directory of $PATH? */
static int on_path(const char *prog)
{
    const char *path = getenv("PATH");
    char full[4096];
    while (path && *path) {
        size_t n = strcspn(path, ":");
        snprintf(full, sizeof(full), "%.*s/%s", (int)n, n ? path : ".", prog);
        if (!access(full, X_OK))
            return 1;
        path += n + (path[n] == ':');
    }
    return 0;
}

/* The first line `gh auth token [--hostname H]` prints, or NULL. */
static char *gh_auth_token(void)
{
    int fd[2], status;
    char buf[512];
    size_t len = 0;
    ssize_t r;
    pid_t pid;
    const char *host = getenv("GH_HOST");
    if (!on_path("gh") || pipe(fd))
        return NULL;
    fflush(NULL);
    if ((pid = fork()) < 0) {
        close(fd[0]), close(fd[1]);
        return NULL;
    }
    if (!pid) {
        dup2(fd[1], 1);
        close(fd[0]), close(fd[1]);
        if (!freopen("/dev/null", "w", stderr))
            _exit(127);
        if (host && *host)
            execlp("gh", "gh", "auth", "token", "--hostname", host, (char *)NULL);
        else
            execlp("gh", "gh", "auth", "token", (char *)NULL);
        _exit(127);
    }
    close(fd[1]);
    while (len < sizeof(buf) - 1 && (r = read(fd[0], buf + len, sizeof(buf) - 1 - len)) > 0)
        len += (size_t)r;
    close(fd[0]);
    buf[len] = 0;
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
        return NULL;
    buf[strcspn(buf, "\r\n")] = 0;
    return *buf ? strdup(buf) : NULL;
}

char *attn_cli_token(const char *token_env, int named, const char **source)
{
    static const char *const VARS[] = {"GITHUB_TOKEN", "GH_TOKEN"};
    const char *v;
    char *t;
    if (named) {
        v = getenv(token_env);
        *source = token_env;
        return v && *v ? strdup(v) : NULL;
    }
    for (size_t i = 0; i < 2; i++)
        if ((v = getenv(VARS[i])) && *v) {
            *source = VARS[i];
            return strdup(v);
        }
    if ((t = gh_auth_token()))
        *source = "gh auth token";
    return t;
}
