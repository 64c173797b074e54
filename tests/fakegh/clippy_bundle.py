#!/usr/bin/env python3
"""clippy_bundle.py - the rust-lang/rust-clippy review history as a GitHub bundle.

    python3 tests/fakegh/clippy_bundle.py --data DIR --out FILE

Reads DIR/prs.jsonl.gz, users.json and repo.json (the development data set of
../shared/data/rust-clippy, see its README.md) and writes one
`attn.github_bundle.v1` file (docs/bundle.md) that the fake GitHub API
(tests/fakegh/fakegh.py) can serve. Python 3 standard library only.

The GitHub view follows the data set's README ("A GitHub API view of this
data"): per merged PR
  - pulls[]           state closed, merged_at = closed_at = updated_at = the
                      merge time, merged_by = bors, draft false, no review
                      requests, labels or assignees (not in git);
  - issues[]          the PR's issue entry, with a "pull_request" key;
  - reviews["N"]      one APPROVED review per reviewer (r=) at approved_at,
                      on the head sha;
  - issue_comments[]  "@bors r+" by each reviewer at approved_at;
  - issue_events[]    "merged" (actor bors, commit_id = merge sha) and
                      "closed" (actor bors) at merged_at;
  - files["N"]        the PR's files as /pulls/N/files returns them.
Nothing else (review comments, labels, teams, milestones, CODEOWNERS) exists
in git, so those lists are empty.

Ids. Users and the repository keep the data set's stable synthetic ids. Every
other id is derived from the PR number N, in disjoint ranges (N < 1,000,000
and at most 999 reviewers per PR, far above the data):
  pull          1,000,000,000 + N
  issue         2,000,000,000 + N
  review        3,000,000,000 + N*1000 + k     (k = reviewer index)
  issue comment 4,000,000,000 + N*1000 + k
  issue event   6,000,000,000 + N*1000 + k     (k 0 = merged, 1 = closed)
node_ids are GitHub-style: a type prefix plus base64 of "kind:id" (users and
the repository keep the node_id of the data set).

Approximate values (the data set has no source for them): author_association
(CONTRIBUTOR for authors, MEMBER for reviewers), repository counters, and the
head repository of a fork PR (null, as GitHub returns it for a deleted fork;
a same-repository branch gets the base repository).

Output is deterministic: sorted keys, compact separators, lists ordered as
docs/bundle.md says (pulls and issues by number; comments and events by
created_at then id; review and file lists in reviewer / data set order).
PRs with a missing required field are skipped and counted on stderr.
"""
import argparse
import base64
import gzip
import json
import os
import sys

API = "https://api.github.com"
WEB = "https://github.com"

PULL_BASE = 1_000_000_000
ISSUE_BASE = 2_000_000_000
REVIEW_BASE = 3_000_000_000
COMMENT_BASE = 4_000_000_000
EVENT_BASE = 6_000_000_000

REQUIRED = ("number", "title", "user", "head_ref", "head_sha", "base_ref", "base_sha",
            "created_at", "merged_at", "merge_commit_sha", "reviewers", "files")


def node_id(prefix, kind, ident):
    return prefix + base64.b64encode(("%s:%d" % (kind, ident)).encode()).decode()


def simple_user(u):
    return {
        "avatar_url": "https://avatars.githubusercontent.com/u/%d?v=4" % u["id"],
        "html_url": "%s/%s" % (WEB, u["login"]),
        "id": u["id"],
        "login": u["login"],
        "node_id": u["node_id"],
        "site_admin": False,
        "type": u["type"],
    }


def repo_objects(meta):
    full = meta["full_name"]
    owner = meta["owner"]
    owner_user = {
        "avatar_url": "https://avatars.githubusercontent.com/u/%d?v=4" % owner["id"],
        "html_url": "%s/%s" % (WEB, owner["login"]),
        "id": owner["id"],
        "login": owner["login"],
        "node_id": base64.b64encode(("012:Organization%d" % owner["id"]).encode()).decode(),
        "site_admin": False,
        "type": owner.get("type", "Organization"),
    }
    u = "%s/repos/%s" % (API, full)
    repo = {
        "archived": False, "clone_url": "%s/%s.git" % (WEB, full),
        "collaborators_url": u + "/collaborators{/collaborator}",
        "comments_url": u + "/comments{/number}", "commits_url": u + "/commits{/sha}",
        "contents_url": u + "/contents/{+path}", "created_at": meta["created_at"],
        "default_branch": meta["default_branch"],
        "description": "A bunch of lints to catch common mistakes and improve your Rust code.",
        "disabled": False, "events_url": u + "/events", "fork": False, "forks": 0,
        "forks_count": 0, "full_name": full, "git_url": "git://github.com/%s.git" % full,
        "has_discussions": False, "has_issues": True, "has_pages": False,
        "has_projects": False, "has_wiki": False, "homepage": None,
        "html_url": "%s/%s" % (WEB, full), "id": meta["id"],
        "issue_comment_url": u + "/issues/comments{/number}",
        "issue_events_url": u + "/issues/events{/number}", "issues_url": u + "/issues{/number}",
        "labels_url": u + "/labels{/name}", "language": "Rust", "license": None,
        "milestones_url": u + "/milestones{/number}", "name": meta["name"],
        "node_id": meta["node_id"], "open_issues": 0, "open_issues_count": 0,
        "owner": owner_user, "private": False, "pulls_url": u + "/pulls{/number}",
        "pushed_at": meta["pushed_at"], "size": 0, "ssh_url": "git@github.com:%s.git" % full,
        "stargazers_count": 0, "teams_url": u + "/teams", "topics": [],
        "updated_at": meta["pushed_at"], "url": u, "visibility": "public", "watchers": 0,
        "watchers_count": 0,
    }
    mini = {k: repo[k] for k in ("default_branch", "fork", "full_name", "html_url", "id", "name",
                                 "node_id", "private", "url")}
    return repo, mini, owner_user


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True, help="the rust-clippy data directory")
    ap.add_argument("--out", required=True, help="bundle file to write")
    ap.add_argument("--limit", type=int, default=0, help="keep only the first N PRs (by number)")
    a = ap.parse_args()

    with open(os.path.join(a.data, "users.json")) as f:
        users_list = json.load(f)
    with open(os.path.join(a.data, "repo.json")) as f:
        meta = json.load(f)
    by_login = {u["login"]: u for u in users_list}
    repo, mini_repo, owner_user = repo_objects(meta)
    full = meta["full_name"]
    owner_login = meta["owner"]["login"]
    U = "%s/repos/%s" % (API, full)
    H = "%s/%s" % (WEB, full)
    bors = by_login.get("bors")

    prs = []
    with gzip.open(os.path.join(a.data, "prs.jsonl.gz"), "rt", encoding="utf-8") as f:
        for line in f:
            if line.strip():
                prs.append(json.loads(line))
    prs.sort(key=lambda p: p.get("number", 0))
    if a.limit > 0:
        prs = prs[:a.limit]

    skipped = {}
    counts = {"prs": 0, "reviews": 0, "issue_comments": 0, "issue_events": 0, "files": 0,
              "renames": 0, "prs_without_reviewers": 0, "null_bodies": 0}
    used_users = set()
    pulls, issues, comments, events = [], [], [], []
    reviews, files = {}, {}
    seen_numbers = set()

    def skip(why):
        skipped[why] = skipped.get(why, 0) + 1

    for p in prs:
        miss = [k for k in REQUIRED if p.get(k) is None]
        if miss:
            skip("missing " + ",".join(miss))
            continue
        n = p["number"]
        if n in seen_numbers:
            skip("duplicate number")
            continue
        if p["user"] not in by_login:
            skip("author not in users.json")
            continue
        if any(r not in by_login for r in p["reviewers"]):
            skip("reviewer not in users.json")
            continue
        if bors is None:
            skip("no bors user")
            continue
        seen_numbers.add(n)
        counts["prs"] += 1
        author = simple_user(by_login[p["user"]])
        used_users.add(p["user"])
        used_users.add("bors")
        merged = p["merged_at"]
        approved = p.get("approved_at") or merged
        body = p.get("body")
        if body is None:
            counts["null_bodies"] += 1
        label = p.get("head_label") or "%s:%s" % (p["user"], p["head_ref"])
        head_owner = label.split(":", 1)[0]
        if head_owner == owner_login:
            head_repo, head_user = mini_repo, owner_user
        else:
            head_repo = None
            head_user = simple_user(by_login[head_owner]) if head_owner in by_login else author
        pull_id, issue_id = PULL_BASE + n, ISSUE_BASE + n
        pulls.append({
            "active_lock_reason": None, "assignee": None, "assignees": [],
            "author_association": "CONTRIBUTOR", "auto_merge": None,
            "base": {"label": "%s:%s" % (owner_login, p["base_ref"]), "ref": p["base_ref"],
                     "repo": mini_repo, "sha": p["base_sha"], "user": owner_user},
            "body": body, "closed_at": merged,
            "comments_url": "%s/issues/%d/comments" % (U, n),
            "commits_url": "%s/pulls/%d/commits" % (U, n), "created_at": p["created_at"],
            "diff_url": "%s/pull/%d.diff" % (H, n), "draft": False,
            "head": {"label": label, "ref": p["head_ref"], "repo": head_repo,
                     "sha": p["head_sha"], "user": head_user},
            "html_url": "%s/pull/%d" % (H, n), "id": pull_id,
            "issue_url": "%s/issues/%d" % (U, n), "labels": [], "locked": False,
            "merge_commit_sha": p["merge_commit_sha"], "merged_at": merged,
            "merged_by": simple_user(bors), "milestone": None,
            "node_id": node_id("PR_", "pr", pull_id), "number": n,
            "patch_url": "%s/pull/%d.patch" % (H, n), "requested_reviewers": [],
            "requested_teams": [],
            "review_comment_url": "%s/pulls/comments{/number}" % U,
            "review_comments_url": "%s/pulls/%d/comments" % (U, n), "state": "closed",
            "statuses_url": "%s/statuses/%s" % (U, p["head_sha"]), "title": p["title"],
            "updated_at": merged, "url": "%s/pulls/%d" % (U, n), "user": author,
        })
        issues.append({
            "active_lock_reason": None, "assignee": None, "assignees": [],
            "author_association": "CONTRIBUTOR", "body": body, "closed_at": merged,
            "comments": len(p["reviewers"]),
            "comments_url": "%s/issues/%d/comments" % (U, n), "created_at": p["created_at"],
            "draft": False, "events_url": "%s/issues/%d/events" % (U, n),
            "html_url": "%s/pull/%d" % (H, n), "id": issue_id, "labels": [],
            "labels_url": "%s/issues/%d/labels{/name}" % (U, n), "locked": False,
            "milestone": None, "node_id": node_id("PR_I_", "issue", issue_id), "number": n,
            "performed_via_github_app": None,
            "pull_request": {"diff_url": "%s/pull/%d.diff" % (H, n),
                             "html_url": "%s/pull/%d" % (H, n), "merged_at": merged,
                             "patch_url": "%s/pull/%d.patch" % (H, n),
                             "url": "%s/pulls/%d" % (U, n)},
            "repository_url": U, "state": "closed", "state_reason": None,
            "timeline_url": "%s/issues/%d/timeline" % (U, n), "title": p["title"],
            "updated_at": merged, "url": "%s/issues/%d" % (U, n), "user": author,
        })
        issue_ref = {"id": issue_id, "node_id": node_id("PR_I_", "issue", issue_id), "number": n,
                     "pull_request": {"url": "%s/pulls/%d" % (U, n)}, "state": "closed",
                     "title": p["title"], "url": "%s/issues/%d" % (U, n)}
        if not p["reviewers"]:
            counts["prs_without_reviewers"] += 1
        rl = []
        for k, login in enumerate(p["reviewers"]):
            used_users.add(login)
            ru = simple_user(by_login[login])
            rid, cid = REVIEW_BASE + n * 1000 + k, COMMENT_BASE + n * 1000 + k
            rl.append({
                "author_association": "MEMBER", "body": "", "commit_id": p["head_sha"],
                "html_url": "%s/pull/%d#pullrequestreview-%d" % (H, n, rid), "id": rid,
                "node_id": node_id("PRR_", "review", rid),
                "pull_request_url": "%s/pulls/%d" % (U, n), "state": "APPROVED",
                "submitted_at": approved, "user": ru,
            })
            comments.append({
                "author_association": "MEMBER", "body": "@bors r+", "created_at": approved,
                "html_url": "%s/pull/%d#issuecomment-%d" % (H, n, cid), "id": cid,
                "issue_url": "%s/issues/%d" % (U, n),
                "node_id": node_id("IC_", "issue_comment", cid),
                "performed_via_github_app": None, "updated_at": approved,
                "url": "%s/issues/comments/%d" % (U, cid), "user": ru,
            })
        reviews[str(n)] = rl
        counts["reviews"] += len(rl)
        counts["issue_comments"] += len(rl)
        for k, (ev, prefix, sha) in enumerate((("merged", "ME_", p["merge_commit_sha"]),
                                               ("closed", "CE_", None))):
            eid = EVENT_BASE + n * 1000 + k
            events.append({
                "actor": simple_user(bors), "commit_id": sha,
                "commit_url": ("%s/commits/%s" % (U, sha)) if sha else None,
                "created_at": merged, "event": ev, "id": eid, "issue": issue_ref,
                "node_id": node_id(prefix, "event", eid), "performed_via_github_app": None,
                "url": "%s/issues/events/%d" % (U, eid),
            })
            counts["issue_events"] += 1
        fl = []
        for fobj in p["files"]:
            if fobj.get("filename") is None:
                skip("file without filename (file dropped)")
                continue
            path = fobj["filename"]
            o = {
                "additions": fobj.get("additions", 0), "changes": fobj.get("changes", 0),
                "deletions": fobj.get("deletions", 0), "filename": path,
                "blob_url": "%s/blob/%s/%s" % (H, p["head_sha"], path),
                "contents_url": "%s/contents/%s?ref=%s" % (U, path, p["head_sha"]),
                "raw_url": "%s/raw/%s/%s" % (H, p["head_sha"], path),
                "sha": fobj.get("sha"), "status": fobj.get("status", "modified"),
            }
            if fobj.get("previous_filename") is not None:
                o["previous_filename"] = fobj["previous_filename"]
                counts["renames"] += 1
            fl.append(o)
        files[str(n)] = fl
        counts["files"] += len(fl)

    comments.sort(key=lambda c: (c["created_at"], c["id"]))
    events.sort(key=lambda e: (e["created_at"], e["id"]))
    users = [simple_user(u) for u in sorted(users_list, key=lambda u: u["id"])]
    bundle = {
        "format": "attn.github_bundle.v1",
        "generator": {"name": "tests/fakegh/clippy_bundle.py",
                      "source": "../shared/data/rust-clippy (bors merge commits)",
                      "prs": counts["prs"],
                      "ids": "pull 1e9+N, issue 2e9+N, review 3e9+N*1000+k, "
                             "issue comment 4e9+N*1000+k, issue event 6e9+N*1000+k"},
        "repo": repo, "users": users, "teams": [], "labels": [], "milestones": [],
        "pulls": pulls, "issues": issues, "issue_comments": comments, "review_comments": [],
        "issue_events": events, "reviews": reviews, "files": files,
    }
    tmp = a.out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(bundle, f, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    os.replace(tmp, a.out)
    sys.stderr.write("clippy_bundle: %d PRs, %d users, %d reviews, %d issue comments, "
                     "%d issue events, %d files (%d renames), %d PRs without reviewers, "
                     "%d null bodies; skipped %d%s\n"
                     % (counts["prs"], len(users), counts["reviews"], counts["issue_comments"],
                        counts["issue_events"], counts["files"], counts["renames"],
                        counts["prs_without_reviewers"], counts["null_bodies"],
                        sum(v for k, v in skipped.items() if not k.startswith("file ")),
                        "".join(" [%s: %d]" % kv for kv in sorted(skipped.items()))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
