#!/usr/bin/env python3
"""fakegh - a fake GitHub REST API (v3) serving one attn bundle, for ingestion tests.

Python 3 standard library only. Binds 127.0.0.1 and never opens an outgoing connection.
See tests/fakegh/README.md for every option, the fault knobs and the control endpoints.
"""
import argparse
import base64
import email.utils
import hashlib
import json
import math
import os
import random
import re
import signal
import sys
import threading
import time
import urllib.parse
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DOC_ROOT = "https://docs.github.com/rest"
DOC_RATE = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
FILES_CAP = 3000        # GitHub lists at most 3000 files of a pull request
PER_PAGE_DEFAULT = 30
PER_PAGE_MAX = 100
HOST = "127.0.0.1"      # the only address this server ever binds


class BundleError(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# Time helpers

_TS_CACHE = {}


def ts(value):
    """ISO 8601 string (GitHub style, 'Z' or offset) -> epoch seconds (float), None if absent."""
    if not isinstance(value, str) or not value:
        return None
    got = _TS_CACHE.get(value)
    if got is None:
        s = value.strip()
        if s.endswith("Z") or s.endswith("z"):
            s = s[:-1] + "+00:00"
        dt = datetime.fromisoformat(s)
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=timezone.utc)
        got = dt.timestamp()
        if len(_TS_CACHE) < 1_000_000:
            _TS_CACHE[value] = got
    return got


def http_date(epoch):
    return email.utils.formatdate(int(epoch), usegmt=True)


def parse_http_date(value):
    try:
        dt = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


def item_time(obj):
    """The 'last modified' time of one API object (epoch) or None."""
    if not isinstance(obj, dict):
        return None
    for key in ("updated_at", "submitted_at", "created_at"):
        t = ts(obj.get(key)) if obj.get(key) else None
        if t is not None:
            return t
    commit = obj.get("commit")
    if isinstance(commit, dict):
        for who in ("committer", "author"):
            d = commit.get(who)
            if isinstance(d, dict) and d.get("date"):
                return ts(d["date"])
    return None


def dumps(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def number_from_url(url):
    if not isinstance(url, str):
        return None
    m = re.search(r"/(\d+)/?$", url)
    return int(m.group(1)) if m else None


# ---------------------------------------------------------------------------------------------
# The bundle, indexed for serving. Immutable once built; a swap replaces the whole object.

class Bundle:
    def __init__(self, path, codeowners_path):
        self.path = path
        try:
            with open(path, "rb") as fh:
                data = json.loads(fh.read().decode("utf-8"))
        except (OSError, ValueError) as e:
            raise BundleError(f"cannot read bundle {path}: {e}") from e
        if not isinstance(data, dict) or not isinstance(data.get("repo"), dict):
            raise BundleError(f"bundle {path}: not an object with a 'repo'")
        fmt = data.get("format")
        if fmt != "attn.github_bundle.v1":
            raise BundleError(f"bundle {path}: unknown format {fmt!r}")

        def lst(key):
            v = data.get(key) or []
            if not isinstance(v, list):
                raise BundleError(f"bundle {path}: '{key}' is not a list")
            return v

        def per_number(key):
            v = data.get(key) or {}
            if not isinstance(v, dict):
                raise BundleError(f"bundle {path}: '{key}' is not an object")
            out = {}
            for k, items in v.items():
                try:
                    out[int(k)] = list(items or [])
                except (TypeError, ValueError) as e:
                    raise BundleError(f"bundle {path}: '{key}' has bad key {k!r}") from e
            return out

        try:
            self.repo = data["repo"]
            full = self.repo.get("full_name") or ""
            owner = (self.repo.get("owner") or {}).get("login") or full.split("/")[0]
            name = self.repo.get("name") or full.split("/")[-1]
            self.owner, self.name = owner, name
            self.repo_id = self.repo.get("id")
            self.pulls = lst("pulls")
            self.pulls_by_number = {p["number"]: p for p in self.pulls}
            self.issues = lst("issues")
            self.issues_by_number = {i["number"]: i for i in self.issues}
            self.issue_comments = lst("issue_comments")
            self.review_comments = lst("review_comments")
            self.issue_events = lst("issue_events")
            self.labels = lst("labels")
            self.milestones = lst("milestones")
            self.commits = lst("commits")
            self.teams = lst("teams")
            self.reviews = per_number("reviews")
            self.files = per_number("files")
            co = data.get("codeowners") or {}
            if not isinstance(co, dict):
                raise BundleError(f"bundle {path}: 'codeowners' is not an object")
            # sha -> {path: text}; a plain string sits at the default CODEOWNERS path.
            self.contents = {}
            for sha, v in co.items():
                if isinstance(v, str):
                    self.contents[sha] = {codeowners_path: v}
                elif isinstance(v, dict):
                    self.contents[sha] = {str(p): str(t) for p, t in v.items()}
                else:
                    raise BundleError(f"bundle {path}: codeowners[{sha!r}] is not text")
            self.contents_default_sha = list(co)[-1] if co else None

            # Derived orders and indices.
            self.events_newest_first = sorted(
                self.issue_events, key=lambda e: (ts(e.get("created_at")) or 0, e.get("id") or 0),
                reverse=True)
            self.events_by_number = {}
            for e in sorted(self.issue_events,
                            key=lambda e: (ts(e.get("created_at")) or 0, e.get("id") or 0)):
                n = (e.get("issue") or {}).get("number")
                self.events_by_number.setdefault(n, []).append(e)
            self.comments_by_number = {}
            for c in self.issue_comments:
                self.comments_by_number.setdefault(number_from_url(c.get("issue_url")),
                                                   []).append(c)
            self.review_comments_by_number = {}
            for c in self.review_comments:
                self.review_comments_by_number.setdefault(
                    number_from_url(c.get("pull_request_url")), []).append(c)
            self.teams_by_slug = {t.get("slug"): t for t in self.teams}
            times = [item_time(o) for o in (self.pulls + self.issues + self.issue_comments
                                             + self.review_comments + self.issue_events)]
            times.append(item_time(self.repo))
            times = [t for t in times if t is not None]
            self.bundle_time = max(times) if times else 0.0
        except (KeyError, TypeError, AttributeError, ValueError) as e:
            raise BundleError(f"bundle {path}: malformed ({e.__class__.__name__}: {e})") from e

    def matches_repo(self, owner, name):
        return owner.lower() == self.owner.lower() and name.lower() == self.name.lower()


# ---------------------------------------------------------------------------------------------
# Shared mutable state: budget, stats, the current bundle.

class State:
    def __init__(self, args, bundle):
        self.args = args
        self.lock = threading.Lock()
        self.bundle = bundle
        self.port = None
        self.start = time.time()
        self.limit = args.rate_limit
        self.reset_at = int(math.ceil(self.start + args.reset_seconds))
        self.remaining = self.limit if args.exhaust_after is None else \
            max(0, min(self.limit, args.exhaust_after))
        self.seq = 0               # API requests seen (index used by the fault injectors)
        self.log_fh = open(args.log, "a", encoding="utf-8") if args.log else None
        self.reset_stats()

    def reset_stats(self):
        self.stats = {"requests": 0, "counted": 0, "not_modified": 0, "unauthorized": 0,
                      "rate_limited": 0, "by_path_kind": {}, "by_status": {},
                      "faults_injected": {"5xx": 0, "secondary": 0, "truncated": 0, "slow": 0,
                                          "malformed": 0, "empty_page": 0}}

    def roll_window(self, now):
        """Refills the budget when the reset time has passed (call with the lock held)."""
        if now >= self.reset_at:
            self.remaining = self.limit
            self.reset_at = int(math.ceil(now + self.args.reset_seconds))

    def rate_headers(self):
        return [("X-RateLimit-Limit", str(self.limit)),
                ("X-RateLimit-Remaining", str(self.remaining)),
                ("X-RateLimit-Reset", str(self.reset_at)),
                ("X-RateLimit-Used", str(self.limit - self.remaining)),
                ("X-RateLimit-Resource", "core")]

    def log(self, line):
        if self.log_fh:
            with self.lock:
                self.log_fh.write(line + "\n")
                self.log_fh.flush()


# ---------------------------------------------------------------------------------------------
# Routing: path -> (kind, producer). A producer returns (status, payload, paginate?, cap).

class ApiError(Exception):
    def __init__(self, status, message, errors=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors


def not_found():
    return ApiError(404, "Not Found")


def q1(query, key, default=None):
    v = query.get(key)
    return v[-1] if v else default


def parse_since(query):
    s = q1(query, "since")
    if s is None or s == "":
        return None
    try:
        return ts(s)
    except ValueError:
        raise ApiError(422, "Validation Failed",
                       [{"resource": "Search", "field": "since", "code": "invalid"}])


def sort_items(items, query, keys, default_sort, default_dir_for):
    """Sorts a copy of items. keys: sort name -> key function. default_dir_for(sort) -> dir."""
    sort = q1(query, "sort", default_sort)
    if sort not in keys:
        sort = default_sort
    direction = q1(query, "direction") or default_dir_for(sort)
    if direction not in ("asc", "desc"):
        direction = default_dir_for(sort)
    if sort is None:
        return list(items)
    key = keys[sort]
    return sorted(items, key=key, reverse=(direction == "desc"))


def by_time(field, tie="number"):
    return lambda o: (ts(o.get(field)) or 0, o.get(tie) or 0)


def state_filter(items, query, default="open"):
    state = q1(query, "state", default)
    if state == "all":
        return list(items)
    if state not in ("open", "closed"):
        state = default
    return [o for o in items if o.get("state") == state]


def route(b, parts, query):
    """parts: path segments after /repos/{o}/{r} (already matched). Returns (kind, producer)."""
    n = len(parts)

    def num(s):
        if not s.isdigit():
            raise not_found()
        return int(s)

    if n == 0:
        return "repo", lambda: (b.repo, False, None)
    head = parts[0]
    if head == "pulls":
        if n == 1:
            def pulls():
                items = state_filter(b.pulls, query)
                base = q1(query, "base")
                if base:
                    items = [p for p in items if (p.get("base") or {}).get("ref") == base]
                keys = {"created": by_time("created_at"), "updated": by_time("updated_at"),
                        "popularity": by_time("created_at"),
                        "long-running": by_time("created_at")}
                return sort_items(items, query, keys, "created",
                                  lambda s: "desc" if s in (None, "created") else "asc"), True, None
            return "pulls", pulls
        if n == 2 and parts[1] == "comments":
            return "review_comments", lambda: (
                comment_list(b.review_comments, query), True, None)
        number = num(parts[1])
        if n == 2:
            def pull():
                p = b.pulls_by_number.get(number)
                if p is None:
                    raise not_found()
                return p, False, None
            return "pull", pull
        if n == 3 and parts[2] in ("reviews", "files", "comments"):
            kind = {"reviews": "reviews", "files": "files",
                    "comments": "pull_review_comments"}[parts[2]]

            def sub():
                if number not in b.pulls_by_number:
                    raise not_found()
                if parts[2] == "reviews":
                    return list(b.reviews.get(number, [])), True, None
                if parts[2] == "files":
                    return list(b.files.get(number, [])), True, FILES_CAP
                return comment_list(b.review_comments_by_number.get(number, []), query), True, None
            return kind, sub
        raise not_found()
    if head == "issues":
        if n == 1:
            def issues():
                items = state_filter(b.issues, query)
                since = parse_since(query)
                if since is not None:
                    items = [i for i in items if (ts(i.get("updated_at")) or 0) >= since]
                labels = q1(query, "labels")
                if labels:
                    want = {s.strip() for s in labels.split(",") if s.strip()}
                    items = [i for i in items
                             if want <= {lab.get("name") for lab in i.get("labels") or []}]
                keys = {"created": by_time("created_at"), "updated": by_time("updated_at"),
                        "comments": lambda i: (i.get("comments") or 0, i.get("number") or 0)}
                return sort_items(items, query, keys, "created", lambda s: "desc"), True, None
            return "issues", issues
        if n == 2 and parts[1] == "comments":
            return "issue_comments", lambda: (
                comment_list(b.issue_comments, query), True, None)
        if n == 2 and parts[1] == "events":
            return "issue_events", lambda: (list(b.events_newest_first), True, None)
        number = num(parts[1])
        if n == 2:
            def issue():
                i = b.issues_by_number.get(number)
                if i is None:
                    raise not_found()
                return i, False, None
            return "issue", issue
        if n == 3 and parts[2] in ("events", "comments"):
            def sub():
                if number not in b.issues_by_number:
                    raise not_found()
                if parts[2] == "events":
                    return list(b.events_by_number.get(number, [])), True, None
                return comment_list(b.comments_by_number.get(number, []), query), True, None
            kind = ("issue_events_for_issue" if parts[2] == "events"
                    else "issue_comments_for_issue")
            return kind, sub
        raise not_found()
    if head == "labels" and n == 1:
        return "labels", lambda: (list(b.labels), True, None)
    if head == "milestones" and n == 1:
        def milestones():
            items = state_filter(b.milestones, query)
            keys = {"due_on": lambda m: (ts(m.get("due_on")) is None, ts(m.get("due_on")) or 0,
                                         m.get("number") or 0),
                    "completeness": lambda m: (
                        (m.get("closed_issues") or 0) /
                        max(1, (m.get("open_issues") or 0) + (m.get("closed_issues") or 0)),
                        m.get("number") or 0)}
            return sort_items(items, query, keys, "due_on", lambda s: "asc"), True, None
        return "milestones", milestones
    if head == "commits" and n == 1:
        def commits():
            def cdate(c):
                return item_time(c) or 0
            items = sorted(b.commits, key=cdate, reverse=True)
            since = parse_since(query)
            if since is not None:
                items = [c for c in items if cdate(c) >= since]
            until = q1(query, "until")
            if until:
                try:
                    u = ts(until)
                except ValueError:
                    raise ApiError(422, "Validation Failed")
                items = [c for c in items if cdate(c) <= u]
            return items, True, None
        return "commits", commits
    if head == "contents" and n >= 2:
        return "contents", lambda: (contents(b, parts[1:], query), False, None)
    raise not_found()


def comment_list(items, query):
    since = parse_since(query)
    if since is not None:
        items = [c for c in items if (ts(c.get("updated_at")) or 0) >= since]
    keys = {"created": by_time("created_at", "id"), "updated": by_time("updated_at", "id")}
    if q1(query, "sort") in keys:
        return sort_items(items, query, keys, None, lambda s: "asc")
    return sorted(items, key=lambda c: c.get("id") or 0)


def contents(b, segs, query):
    if any(s in ("", ".", "..") or "\\" in s or "\x00" in s for s in segs):
        raise not_found()
    path = "/".join(segs)
    ref = q1(query, "ref")
    if not ref or ref == b.repo.get("default_branch"):
        ref = b.contents_default_sha
    files = b.contents.get(ref) if ref else None
    if not files or path not in files:
        raise not_found()
    raw = files[path].encode("utf-8")
    blob_sha = hashlib.sha1(b"blob %d\0" % len(raw) + raw).hexdigest()
    enc = base64.b64encode(raw).decode("ascii")
    enc = "\n".join(enc[i:i + 60] for i in range(0, len(enc), 60)) + "\n"  # as GitHub wraps
    api = f"https://api.github.com/repos/{b.owner}/{b.name}"
    html = f"https://github.com/{b.owner}/{b.name}"
    return {"type": "file", "encoding": "base64", "size": len(raw),
            "name": segs[-1], "path": path, "content": enc, "sha": blob_sha,
            "url": f"{api}/contents/{path}?ref={ref}",
            "git_url": f"{api}/git/blobs/{blob_sha}",
            "html_url": f"{html}/blob/{ref}/{path}",
            "download_url": f"https://raw.githubusercontent.com/{b.owner}/{b.name}/{ref}/{path}",
            "_links": {"self": f"{api}/contents/{path}?ref={ref}",
                       "git": f"{api}/git/blobs/{blob_sha}",
                       "html": f"{html}/blob/{ref}/{path}"}}


def org_route(b, org, parts):
    if org.lower() != b.owner.lower():
        raise not_found()
    if parts == ["teams"]:
        return "teams", lambda: ([{k: v for k, v in t.items() if k != "members"}
                                  for t in b.teams], True, None)
    if len(parts) == 3 and parts[0] == "teams" and parts[2] == "members":
        def members():
            t = b.teams_by_slug.get(parts[1])
            if t is None:
                raise not_found()
            return list(t.get("members") or []), True, None
        return "team_members", members
    if len(parts) == 2 and parts[0] == "teams":
        def team():
            t = b.teams_by_slug.get(parts[1])
            if t is None:
                raise not_found()
            return {k: v for k, v in t.items() if k != "members"}, False, None
        return "team", team
    raise not_found()


def resolve(b, path, query):
    """Returns (kind, producer) for an API path or raises ApiError(404)."""
    segs = [urllib.parse.unquote(s) for s in path.split("/")[1:]]
    if segs and segs[-1] == "":
        segs = segs[:-1]
    if len(segs) >= 3 and segs[0] == "repos":
        if not b.matches_repo(segs[1], segs[2]):
            raise not_found()
        return route(b, segs[3:], query)
    if len(segs) >= 2 and segs[0] == "repositories":
        if str(b.repo_id) != segs[1]:
            raise not_found()
        return route(b, segs[2:], query)
    if len(segs) >= 3 and segs[0] == "orgs":
        return org_route(b, segs[1], segs[2:])
    raise not_found()


def paginate(items, query, cap):
    if cap is not None:
        items = items[:cap]
    try:
        per_page = int(q1(query, "per_page", PER_PAGE_DEFAULT))
    except ValueError:
        per_page = PER_PAGE_DEFAULT
    if per_page < 1:
        per_page = PER_PAGE_DEFAULT
    per_page = min(per_page, PER_PAGE_MAX)
    try:
        page = int(q1(query, "page", 1))
    except ValueError:
        page = 1
    page = max(page, 1)
    last = max(1, (len(items) + per_page - 1) // per_page)
    return items[(page - 1) * per_page: page * per_page], page, last


def link_header(base_url, raw_query, page, last):
    """GitHub's Link header: rel prev, next, last, first (only those that apply)."""
    pairs = [(k, v) for k, v in urllib.parse.parse_qsl(raw_query, keep_blank_values=True)
             if k != "page"]

    def url(p):
        return base_url + "?" + urllib.parse.urlencode(pairs + [("page", str(p))], safe=":,")

    rels = []
    if page > 1:
        rels.append((url(min(page - 1, last)), "prev"))
    if page < last:
        rels.append((url(page + 1), "next"))
        rels.append((url(last), "last"))
    if page > 1:
        rels.append((url(1), "first"))
    return ", ".join(f'<{u}>; rel="{r}"' for u, r in rels) or None


# ---------------------------------------------------------------------------------------------
# HTTP

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle's algorithm on,
    # the body waits for the client's delayed ACK (~40 ms per request).
    disable_nagle_algorithm = True

    def version_string(self):
        return "fakegh/1"

    def log_message(self, fmt, *args):  # silence http.server's stderr logging
        pass

    # -- helpers ----------------------------------------------------------------------------
    @property
    def st(self):
        return self.server.state

    def send(self, status, body=b"", headers=(), content_length=None, partial=None):
        self.send_response(status)
        if status != 304:
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length",
                             str(len(body) if content_length is None else content_length))
        self.send_header("X-GitHub-Media-Type", "github.v3; format=json")
        self.send_header("X-GitHub-Api-Version-Selected", "2022-11-28")
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if status == 304 or self.command == "HEAD":
            return
        try:
            if partial is not None:
                self.wfile.write(body[:partial])
                self.wfile.flush()
                self.close_connection = True
            else:
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def error_body(self, status, message, errors=None):
        body = {"message": message, "documentation_url": DOC_ROOT, "status": str(status)}
        if errors:
            body["errors"] = errors
        return dumps(body)

    def read_body(self):
        try:
            n = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            n = 0
        return self.rfile.read(n) if n > 0 else b""

    # -- verbs ------------------------------------------------------------------------------
    def do_GET(self):
        self.dispatch()

    def do_HEAD(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    def do_PUT(self):
        self.dispatch()

    def do_PATCH(self):
        self.dispatch()

    def do_DELETE(self):
        self.dispatch()

    def dispatch(self):
        split = urllib.parse.urlsplit(self.path)
        path, raw_query = split.path, split.query
        if path.startswith("/_fake/"):
            return self.control(path)
        try:
            status, remaining, note = self.api(path, raw_query)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
            return
        except Exception as e:  # a bug here or a bundle object of the wrong shape
            import traceback
            traceback.print_exc(file=sys.stderr)
            status, remaining, note = 500, None, f"internal:{e.__class__.__name__}"
            try:
                self.send(500, dumps({"message": f"fakegh internal error: {e}",
                                      "documentation_url": DOC_ROOT}))
            except OSError:
                self.close_connection = True
        self.st.log(f"{datetime.now(timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%fZ')} "
                    f"{self.command} {self.path} {status} remaining={remaining}"
                    + (f" fault={note}" if note else ""))

    # -- control endpoints ------------------------------------------------------------------
    def control(self, path):
        st = self.st
        body = self.read_body() if self.command in ("POST", "PUT", "PATCH") else b""
        status, out = 200, None
        if path == "/_fake/stats" and self.command == "GET":
            with st.lock:
                out = json.loads(json.dumps(st.stats))
                out["remaining"] = st.remaining
                out["limit"] = st.limit
                out["reset"] = st.reset_at
                out["bundle"] = st.bundle.path
                out["seq"] = st.seq
        elif path == "/_fake/reset-stats" and self.command == "POST":
            with st.lock:
                st.reset_stats()
            out = {"ok": True}
        elif path == "/_fake/bundle" and self.command == "POST":
            try:
                req = json.loads(body.decode("utf-8") or "{}")
                new = Bundle(str(req["path"]), st.args.codeowners_path)
            except (ValueError, KeyError, TypeError, BundleError) as e:
                status, out = 400, {"message": f"bundle swap failed: {e}"}
            else:
                with st.lock:
                    st.bundle = new
                out = {"ok": True, "bundle": new.path}
        elif path == "/_fake/budget" and self.command == "POST":
            try:
                req = json.loads(body.decode("utf-8") or "{}")
                with st.lock:
                    if "reset_seconds" in req:
                        st.reset_at = int(math.ceil(time.time() + float(req["reset_seconds"])))
                    if "remaining" in req:
                        st.remaining = max(0, min(st.limit, int(req["remaining"])))
                    out = {"ok": True, "remaining": st.remaining, "reset": st.reset_at}
            except (ValueError, TypeError) as e:
                status, out = 400, {"message": f"bad budget request: {e}"}
        elif path == "/_fake/shutdown" and self.command == "POST":
            out = {"ok": True}
            self.server.stop_event.set()
        else:
            status, out = 404, {"message": "Not Found"}
        self.send(status, dumps(out))
        st.log(f"{datetime.now(timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%fZ')} "
               f"{self.command} {self.path} {status} control")

    # -- the API ----------------------------------------------------------------------------
    def api(self, path, raw_query):
        st, args = self.st, self.st.args
        query = urllib.parse.parse_qs(raw_query, keep_blank_values=True)
        with st.lock:
            st.stats["requests"] += 1
            bundle = st.bundle

        def bump(status, kind=None):
            with st.lock:
                key = str(status)
                st.stats["by_status"][key] = st.stats["by_status"].get(key, 0) + 1
                if kind:
                    st.stats["by_path_kind"][kind] = st.stats["by_path_kind"].get(kind, 0) + 1

        # Authentication (not counted against the budget).
        if args.token is not None:
            auth = self.headers.get("Authorization") or ""
            scheme, _, cred = auth.strip().partition(" ")
            if scheme.lower() not in ("bearer", "token") or cred.strip() != args.token:
                with st.lock:
                    st.stats["unauthorized"] += 1
                    hdrs = st.rate_headers()
                    rem = st.remaining
                bump(401)
                self.send(401, self.error_body(401, "Bad credentials"), hdrs)
                return 401, rem, None

        if path.rstrip("/") == "/rate_limit":
            with st.lock:
                st.roll_window(time.time())
                core = {"limit": st.limit, "remaining": st.remaining, "reset": st.reset_at,
                        "used": st.limit - st.remaining, "resource": "core"}
                hdrs = st.rate_headers()
                rem = st.remaining
            bump(200, "rate_limit")
            self.send(200, dumps({"resources": {"core": core}, "rate": core}), hdrs)
            return 200, rem, None

        # Primary rate limit.
        with st.lock:
            st.roll_window(time.time())
            st.seq += 1
            seq = st.seq
            if st.remaining <= 0:
                st.stats["rate_limited"] += 1
                hdrs = st.rate_headers()
                exhausted = True
            else:
                exhausted = False
        if exhausted:
            bump(403)
            who = "user ID 1" if args.token is not None else HOST
            msg = (f"API rate limit exceeded for {who}. If you reach out to GitHub Support "
                   f"for help, please include the request ID FAKE:{seq:08X}.")
            self.send(403, dumps({"message": msg, "documentation_url": DOC_RATE}), hdrs)
            return 403, 0, "primary"

        # Per-request dice: a pure function of (seed, request index), drawn in a fixed order.
        rng = random.Random(f"{args.seed}/{seq}")
        u_fail, u_status, u_slow, u_trunc, u_empty = (rng.random() for _ in range(5))
        kind = "unknown"
        try:
            kind, producer = resolve(bundle, path, query)
            if self.command not in ("GET", "HEAD"):
                raise not_found()
        except ApiError as e:
            api_err = e
        else:
            api_err = None

        if args.slow_rate and u_slow < args.slow_rate:
            with st.lock:
                st.stats["faults_injected"]["slow"] += 1
            time.sleep(args.slow_seconds)

        def counted_headers(extra=()):
            with st.lock:
                st.roll_window(time.time())
                if st.remaining > 0:
                    st.remaining -= 1
                st.stats["counted"] += 1
                return st.rate_headers() + list(extra), st.remaining

        def req_id():
            return ("X-GitHub-Request-Id", f"FAKE:{args.seed}:{seq:08X}")

        # Injected faults that replace the response.
        if args.secondary_every and seq % args.secondary_every == 0:
            hdrs, rem = counted_headers([("Retry-After", str(args.retry_after)), req_id()])
            with st.lock:
                st.stats["faults_injected"]["secondary"] += 1
            bump(args.secondary_status, kind)
            msg = ("You have exceeded a secondary rate limit. Please wait a few minutes before "
                   f"you try again. If you reach out to GitHub Support for help, please include "
                   f"the request ID FAKE:{seq:08X}.")
            self.send(args.secondary_status, dumps({"message": msg, "documentation_url": DOC_RATE}),
                      hdrs)
            return args.secondary_status, rem, "secondary"
        if args.fail_rate and u_fail < args.fail_rate:
            status = (500, 502, 503)[min(2, int(u_status * 3))]
            hdrs, rem = counted_headers([req_id()])
            with st.lock:
                st.stats["faults_injected"]["5xx"] += 1
            bump(status, kind)
            msg = {500: "Server Error", 502: "Server Error", 503: "Service Unavailable"}[status]
            self.send(status, dumps({"message": msg, "documentation_url": DOC_ROOT,
                                     "status": str(status)}), hdrs)
            return status, rem, f"{status}"

        if api_err is not None:
            hdrs, rem = counted_headers([req_id()])
            bump(api_err.status, kind)
            self.send(api_err.status, self.error_body(api_err.status, api_err.message,
                                                      api_err.errors), hdrs)
            return api_err.status, rem, None

        try:
            payload, is_list, cap = producer()
        except ApiError as e:
            hdrs, rem = counted_headers([req_id()])
            bump(e.status, kind)
            self.send(e.status, self.error_body(e.status, e.message, e.errors), hdrs)
            return e.status, rem, None

        extra = [req_id()]
        note = None
        if is_list:
            page_items, page, last = paginate(payload, query, cap)
            base_url = f"http://{HOST}:{st.port}{path}"
            link = link_header(base_url, raw_query, page, last)
            if link:
                extra.append(("Link", link))
            if args.empty_page_rate and u_empty < args.empty_page_rate and page < last:
                page_items = []
                note = "empty_page"
            body = dumps(page_items)
            times = [t for t in (item_time(o) for o in page_items) if t is not None]
        else:
            body = dumps(payload)
            t = item_time(payload)
            times = [t] if t is not None else []
        last_mod = max(times) if times else bundle.bundle_time
        etag = '"' + hashlib.sha256(body).hexdigest()[:40] + '"'
        extra += [("ETag", etag), ("Last-Modified", http_date(last_mod)),
                  ("Cache-Control", "private, max-age=60, s-maxage=60"),
                  ("Vary", "Accept, Authorization, Cookie, X-GitHub-OTP")]

        # Conditional request: a 304 costs nothing.
        if self.not_modified(etag, last_mod):
            with st.lock:
                st.stats["not_modified"] += 1
                hdrs = st.rate_headers()
                rem = st.remaining
            bump(304, kind)
            self.send(304, b"", hdrs + extra)
            return 304, rem, None

        hdrs, rem = counted_headers(extra)
        bump(200, kind)
        if note == "empty_page":
            with st.lock:
                st.stats["faults_injected"]["empty_page"] += 1
        if any(path.startswith(p) for p in args.malformed or ()):
            with st.lock:
                st.stats["faults_injected"]["malformed"] += 1
            bad = b'{"message": "this is not json' + body[:20] + b'\x00,,]'
            self.send(200, bad, [h for h in hdrs if h[0] != "ETag"])
            return 200, rem, "malformed"
        if args.truncate_rate and u_trunc < args.truncate_rate and len(body) >= 2:
            with st.lock:
                st.stats["faults_injected"]["truncated"] += 1
            cut = len(body) // 2
            if args.truncate_mode == "short-read":
                self.send(200, body, hdrs, partial=cut)
            else:
                self.send(200, body[:cut], hdrs)
            return 200, rem, f"truncated-{args.truncate_mode}"
        self.send(200, body, hdrs)
        return 200, rem, note

    def not_modified(self, etag, last_mod):
        inm = self.headers.get("If-None-Match")
        if inm is not None:
            tags = [t.strip() for t in inm.split(",")]
            for t in tags:
                if t == "*" or (t[2:] if t.startswith("W/") else t) == etag:
                    return True
            return False
        ims = self.headers.get("If-Modified-Since")
        if ims is not None:
            t = parse_http_date(ims)
            return t is not None and int(last_mod) <= t
        return False


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


# ---------------------------------------------------------------------------------------------

def parse_args(argv):
    p = argparse.ArgumentParser(prog="fakegh.py",
                                description="Fake GitHub REST API serving an attn bundle.")
    p.add_argument("--bundle", required=True, help="bundle JSON file (docs/bundle.md)")
    p.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0 = pick)")
    p.add_argument("--port-file", help="write the port here (atomically) once listening")
    p.add_argument("--token", help="require 'Authorization: Bearer|token TOKEN'")
    p.add_argument("--rate-limit", type=int, default=5000, help="budget per window")
    p.add_argument("--reset-seconds", type=float, default=3600.0, help="window length")
    p.add_argument("--exhaust-after", type=int, help="first window has only N requests")
    p.add_argument("--seed", type=int, default=0, help="seed of the fault dice")
    p.add_argument("--fail-rate", type=float, default=0.0, help="share of 500/502/503")
    p.add_argument("--secondary-every", type=int, default=0,
                   help="every Nth API request gets a secondary rate limit response")
    p.add_argument("--secondary-status", type=int, choices=(403, 429), default=403)
    p.add_argument("--retry-after", type=int, default=1, help="Retry-After of secondary limits")
    p.add_argument("--truncate-rate", type=float, default=0.0, help="share of cut 200 bodies")
    p.add_argument("--truncate-mode", choices=("short-read", "bad-json"), default="short-read")
    p.add_argument("--slow-rate", type=float, default=0.0, help="share of delayed responses")
    p.add_argument("--slow-seconds", type=float, default=1.0, help="delay of slow responses")
    p.add_argument("--empty-page-rate", type=float, default=0.0,
                   help="share of non-last list pages returned empty (Link kept)")
    p.add_argument("--malformed", action="append", metavar="PATHPREFIX",
                   help="paths starting with this return invalid JSON, 200 (repeatable)")
    p.add_argument("--codeowners-path", default=".github/CODEOWNERS",
                   help="contents path serving the bundle's codeowners text")
    p.add_argument("--log", help="append one line per request to this file")
    p.add_argument("--max-lifetime", type=float, default=600.0,
                   help="exit by itself after this many seconds (0 = never)")
    args = p.parse_args(argv)
    for name in ("fail_rate", "truncate_rate", "slow_rate", "empty_page_rate"):
        v = getattr(args, name)
        if not 0.0 <= v <= 1.0:
            p.error(f"--{name.replace('_', '-')} must be within [0, 1]")
    if args.rate_limit < 1 or args.reset_seconds <= 0 or args.secondary_every < 0:
        p.error("--rate-limit must be >= 1, --reset-seconds > 0, --secondary-every >= 0")
    if args.exhaust_after is not None and args.exhaust_after < 0:
        p.error("--exhaust-after must be >= 0")
    if not 0 <= args.port <= 65535:
        p.error("--port must be within 0..65535")
    return args


def write_port_file(path, port):
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "w", encoding="ascii") as fh:
        fh.write(f"{port}\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        bundle = Bundle(args.bundle, args.codeowners_path)
    except BundleError as e:
        print(f"fakegh: {e}", file=sys.stderr)
        return 2
    try:
        state = State(args, bundle)
    except OSError as e:
        print(f"fakegh: cannot open log {args.log}: {e}", file=sys.stderr)
        return 2
    try:
        server = Server((HOST, args.port), Handler)
    except OSError as e:
        print(f"fakegh: cannot listen on {HOST}:{args.port}: {e}", file=sys.stderr)
        return 2
    server.state = state
    server.stop_event = threading.Event()
    state.port = server.server_address[1]

    def on_signal(signum, frame):
        server.stop_event.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              daemon=True)
    thread.start()
    if args.port_file:
        try:
            write_port_file(args.port_file, state.port)
        except OSError as e:
            print(f"fakegh: cannot write port file {args.port_file}: {e}", file=sys.stderr)
            server.shutdown()
            server.server_close()
            return 2
    print(f"listening on {HOST}:{state.port}", file=sys.stderr, flush=True)
    deadline = time.monotonic() + args.max_lifetime if args.max_lifetime > 0 else None
    while not server.stop_event.is_set():
        wait = 0.2 if deadline is None else max(0.0, min(0.2, deadline - time.monotonic()))
        server.stop_event.wait(wait)
        if deadline is not None and time.monotonic() >= deadline:
            print("fakegh: max lifetime reached, exiting", file=sys.stderr, flush=True)
            break
    server.shutdown()
    server.server_close()
    if state.log_fh:
        state.log_fh.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
