#!/usr/bin/env python3
"""Writes tiny_bundle.json (attn.github_bundle.v1, see docs/bundle.md) next to itself.

A hand-built, deterministic fixture for the fake GitHub API (tests/fakegh): repository
acme/widgets with 3 PRs (#1 merged, #2 open and once a draft, #3 closed unmerged), one plain
issue (#4), reviews, issue and review comments, issue events, files and a CODEOWNERS at the
base sha. Re-run after editing; the output is byte-stable.
"""
import json
import os

API = "https://api.github.com"
OWNER, NAME = "acme", "widgets"
REPO_URL = f"{API}/repos/{OWNER}/{NAME}"
HTML = f"https://github.com/{OWNER}/{NAME}"
BASE_SHA = "1111111111111111111111111111111111111111"
BASE_SHA_OLD = "0000000000000000000000000000000000000abc"


def user(login, uid, kind="User"):
    return {"login": login, "id": uid, "node_id": f"U_{uid}",
            "avatar_url": f"https://avatars.githubusercontent.com/u/{uid}?v=4",
            "gravatar_id": "", "url": f"{API}/users/{login}",
            "html_url": f"https://github.com/{login}", "type": kind, "site_admin": False}


ACME = user("acme", 9000, "Organization")
ALICE, BOB = user("alice", 101), user("bob", 102)
CAROL, DAVE = user("carol", 103), user("dave", 104)
BOT = user("dependabot[bot]", 49699333, "Bot")

TEAM_CORE = {"id": 501, "node_id": "T_501", "slug": "core", "name": "Core",
             "description": "Core maintainers", "privacy": "closed", "permission": "push",
             "url": f"{API}/organizations/9000/team/501",
             "html_url": "https://github.com/orgs/acme/teams/core", "parent": None}
TEAM_DOCS = {"id": 502, "node_id": "T_502", "slug": "docs", "name": "Docs",
             "description": "Documentation", "privacy": "closed", "permission": "pull",
             "url": f"{API}/organizations/9000/team/502",
             "html_url": "https://github.com/orgs/acme/teams/docs", "parent": None}

LABEL_BUG = {"id": 701, "node_id": "L_701", "url": f"{REPO_URL}/labels/bug", "name": "bug",
             "color": "d73a4a", "default": True, "description": "Something isn't working"}
LABEL_ENH = {"id": 702, "node_id": "L_702", "url": f"{REPO_URL}/labels/enhancement",
             "name": "enhancement", "color": "a2eeef", "default": True,
             "description": "New feature or request"}
LABEL_DOCS = {"id": 703, "node_id": "L_703", "url": f"{REPO_URL}/labels/docs", "name": "docs",
              "color": "0075ca", "default": False, "description": None}

MS_1 = {"url": f"{REPO_URL}/milestones/1", "html_url": f"{HTML}/milestone/1", "id": 801,
        "node_id": "M_801", "number": 1, "title": "v1.0", "description": "First release",
        "creator": ALICE, "open_issues": 1, "closed_issues": 2, "state": "open",
        "created_at": "2024-01-01T09:00:00Z", "updated_at": "2024-01-12T10:00:00Z",
        "due_on": "2024-02-01T00:00:00Z", "closed_at": None}
MS_0 = {"url": f"{REPO_URL}/milestones/2", "html_url": f"{HTML}/milestone/2", "id": 802,
        "node_id": "M_802", "number": 2, "title": "v0.9", "description": None,
        "creator": ALICE, "open_issues": 0, "closed_issues": 0, "state": "closed",
        "created_at": "2023-12-01T09:00:00Z", "updated_at": "2023-12-20T09:00:00Z",
        "due_on": None, "closed_at": "2023-12-20T09:00:00Z"}

REPO = {"id": 4242, "node_id": "R_4242", "name": NAME, "full_name": f"{OWNER}/{NAME}",
        "private": False, "owner": ACME, "html_url": HTML, "description": "Widgets for everyone",
        "fork": False, "url": REPO_URL, "created_at": "2023-11-01T08:00:00Z",
        "updated_at": "2024-01-15T12:00:00Z", "pushed_at": "2024-01-15T11:00:00Z",
        "default_branch": "main", "archived": False, "disabled": False, "visibility": "public",
        "open_issues_count": 2, "language": "C", "topics": []}


def branch(ref, sha, who=OWNER):
    return {"label": f"{who}:{ref}", "ref": ref, "sha": sha,
            "user": ACME, "repo": {"id": REPO["id"], "full_name": REPO["full_name"]}}


def pull(n, pid, author, title, body, state, draft, created, updated, closed, merged,
         head_ref, head_sha, labels, assignees, reviewers, teams, milestone, assoc):
    return {
        "url": f"{REPO_URL}/pulls/{n}", "id": pid, "node_id": f"PR_{pid}",
        "html_url": f"{HTML}/pull/{n}", "diff_url": f"{HTML}/pull/{n}.diff",
        "issue_url": f"{REPO_URL}/issues/{n}", "number": n, "state": state, "locked": False,
        "title": title, "user": author, "body": body, "labels": labels,
        "milestone": milestone, "active_lock_reason": None,
        "created_at": created, "updated_at": updated, "closed_at": closed, "merged_at": merged,
        "merge_commit_sha": ("9" * 39 + str(n)) if merged else None,
        "assignee": assignees[0] if assignees else None, "assignees": assignees,
        "requested_reviewers": reviewers, "requested_teams": teams,
        "head": branch(head_ref, head_sha), "base": branch("main", BASE_SHA),
        "author_association": assoc, "auto_merge": None, "draft": draft,
    }


def issue_of(pr, iid, comments):
    n = pr["number"]
    return {
        "url": f"{REPO_URL}/issues/{n}", "repository_url": REPO_URL,
        "comments_url": f"{REPO_URL}/issues/{n}/comments",
        "events_url": f"{REPO_URL}/issues/{n}/events", "html_url": f"{HTML}/pull/{n}",
        "id": iid, "node_id": f"I_{iid}", "number": n, "title": pr["title"], "user": pr["user"],
        "labels": pr["labels"], "state": pr["state"], "locked": False,
        "assignee": pr["assignee"], "assignees": pr["assignees"], "milestone": pr["milestone"],
        "comments": comments, "created_at": pr["created_at"], "updated_at": pr["updated_at"],
        "closed_at": pr["closed_at"], "author_association": pr["author_association"],
        "active_lock_reason": None, "draft": pr["draft"],
        "pull_request": {"url": pr["url"], "html_url": pr["html_url"],
                         "diff_url": pr["diff_url"], "patch_url": f"{pr['html_url']}.patch",
                         "merged_at": pr["merged_at"]},
        "body": pr["body"], "state_reason": ("completed" if pr["state"] == "closed" else None),
    }


PR1 = pull(1, 3001, ALICE, "Add widget frobnicator", "Adds the frobnicator.\n\nFixes #4",
           "closed", False, "2024-01-02T10:00:00Z", "2024-01-05T16:30:00Z",
           "2024-01-05T16:00:00Z", "2024-01-05T16:00:00Z", "feature/frob",
           "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1", [LABEL_ENH], [ALICE], [], [], MS_1,
           "MEMBER")
PR2 = pull(2, 3002, BOB, "Fix crash on empty widget list", "Handle the empty list.",
           "open", False, "2024-01-06T09:00:00Z", "2024-01-12T10:00:00Z", None, None,
           "fix/empty", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb2", [LABEL_BUG], [],
           [CAROL], [TEAM_CORE], MS_1, "CONTRIBUTOR")
PR3 = pull(3, 3003, BOT, "Bump libfoo from 1.2 to 1.3", "Bumps libfoo.", "closed", False,
           "2024-01-07T03:00:00Z", "2024-01-09T08:00:00Z", "2024-01-09T08:00:00Z", None,
           "dependabot/libfoo-1.3", "ccccccccccccccccccccccccccccccccccccccc3", [], [], [], [],
           None, "NONE")
PR1["base"]["sha"] = BASE_SHA_OLD  # PR 1 branched off an older main

ISSUE4 = {
    "url": f"{REPO_URL}/issues/4", "repository_url": REPO_URL,
    "comments_url": f"{REPO_URL}/issues/4/comments", "events_url": f"{REPO_URL}/issues/4/events",
    "html_url": f"{HTML}/issues/4", "id": 4004, "node_id": "I_4004", "number": 4,
    "title": "Frobnicator missing", "user": DAVE, "labels": [LABEL_ENH], "state": "closed",
    "locked": False, "assignee": None, "assignees": [], "milestone": None, "comments": 1,
    "created_at": "2024-01-01T12:00:00Z", "updated_at": "2024-01-05T16:00:05Z",
    "closed_at": "2024-01-05T16:00:05Z", "author_association": "NONE",
    "active_lock_reason": None, "body": "We need a frobnicator.", "state_reason": "completed",
}


def issue_comment(cid, n, who, body, created, updated=None):
    return {"url": f"{REPO_URL}/issues/comments/{cid}",
            "html_url": f"{HTML}/pull/{n}#issuecomment-{cid}",
            "issue_url": f"{REPO_URL}/issues/{n}", "id": cid, "node_id": f"IC_{cid}",
            "user": who, "created_at": created, "updated_at": updated or created,
            "author_association": "MEMBER", "body": body}


def review_comment(cid, n, review_id, who, path, line, body, created, commit, reply_to=None,
                   updated=None):
    c = {"url": f"{REPO_URL}/pulls/comments/{cid}", "pull_request_review_id": review_id,
         "id": cid, "node_id": f"RC_{cid}", "diff_hunk": "@@ -1,3 +1,4 @@", "path": path,
         "commit_id": commit, "original_commit_id": commit, "user": who, "body": body,
         "created_at": created, "updated_at": updated or created,
         "html_url": f"{HTML}/pull/{n}#discussion_r{cid}",
         "pull_request_url": f"{REPO_URL}/pulls/{n}", "author_association": "MEMBER",
         "line": line, "original_line": line, "side": "RIGHT", "subject_type": "line"}
    if reply_to:
        c["in_reply_to_id"] = reply_to
    return c


def review(rid, n, who, state, body, submitted, commit):
    return {"id": rid, "node_id": f"PRR_{rid}", "user": who, "body": body, "state": state,
            "html_url": f"{HTML}/pull/{n}#pullrequestreview-{rid}",
            "pull_request_url": f"{REPO_URL}/pulls/{n}", "submitted_at": submitted,
            "commit_id": commit, "author_association": "MEMBER"}


def event(eid, n, issue_id, kind, actor, created, **extra):
    e = {"id": eid, "node_id": f"E_{eid}", "url": f"{REPO_URL}/issues/events/{eid}",
         "actor": actor, "event": kind, "commit_id": None, "commit_url": None,
         "created_at": created, "performed_via_github_app": None,
         "issue": {"id": issue_id, "number": n, "url": f"{REPO_URL}/issues/{n}",
                   "title": {1: PR1, 2: PR2, 3: PR3}.get(n, ISSUE4)["title"],
                   "state": {1: PR1, 2: PR2, 3: PR3}.get(n, ISSUE4)["state"]}}
    if n in (1, 2, 3):
        e["issue"]["pull_request"] = {"url": f"{REPO_URL}/pulls/{n}"}
    e.update(extra)
    return e


def file_(name, status, add, dele, sha):
    f = {"sha": sha, "filename": name, "status": status, "additions": add, "deletions": dele,
         "changes": add + dele,
         "blob_url": f"{HTML}/blob/{sha}/{name}", "raw_url": f"{HTML}/raw/{sha}/{name}",
         "contents_url": f"{REPO_URL}/contents/{name}?ref={sha}", "patch": "@@ -1 +1 @@"}
    if status == "renamed":
        f["previous_filename"] = "src/old_" + name.rsplit("/", 1)[-1]
    return f


def main():
    h1, h2, h3 = PR1["head"]["sha"], PR2["head"]["sha"], PR3["head"]["sha"]
    issue_comments = [
        issue_comment(9101, 4, ALICE, "On it.", "2024-01-01T13:00:00Z"),
        issue_comment(9102, 1, BOB, "Looks useful.", "2024-01-03T09:00:00Z",
                      "2024-01-03T09:05:00Z"),
        issue_comment(9103, 2, CAROL, "Can you add a test?", "2024-01-08T11:00:00Z"),
        issue_comment(9104, 3, DAVE, "Superseded by #5.", "2024-01-09T07:59:00Z"),
        issue_comment(9105, 2, BOB, "Test added.", "2024-01-11T15:00:00Z",
                      "2024-01-12T09:00:00Z"),
    ]
    review_comments = [
        review_comment(9201, 1, 7001, BOB, "src/frob.c", 10, "Null check?",
                       "2024-01-03T10:00:00Z", h1),
        review_comment(9202, 1, 7002, ALICE, "src/frob.c", 10, "Added.", "2024-01-04T08:00:00Z", h1,
                       reply_to=9201),
        review_comment(9203, 2, 7003, CAROL, "src/list.c", 42, "Off by one.",
                       "2024-01-08T11:30:00Z", h2,
                       updated="2024-01-10T08:00:00Z"),
    ]
    reviews = {
        "1": [review(7001, 1, BOB, "CHANGES_REQUESTED", "A few nits.", "2024-01-03T10:00:00Z",
                     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa0"),
              review(7002, 1, ALICE, "COMMENTED", "", "2024-01-04T08:00:00Z", h1),
              review(7004, 1, BOB, "APPROVED", "LGTM", "2024-01-05T15:00:00Z", h1)],
        "2": [review(7003, 2, CAROL, "COMMENTED", "See inline.", "2024-01-08T11:30:00Z", h2)],
        "3": [],
    }
    P1, P2, P3, I4 = 5001, 5002, 5003, 4004
    events = [
        event(8001, 4, I4, "labeled", DAVE, "2024-01-01T12:00:10Z",
              label={"name": "enhancement", "color": "a2eeef"}),
        event(8002, 1, P1, "labeled", ALICE, "2024-01-02T10:00:05Z",
              label={"name": "enhancement", "color": "a2eeef"}),
        event(8003, 1, P1, "assigned", ALICE, "2024-01-02T10:00:06Z", assignee=ALICE,
              assigner=ALICE),
        event(8004, 1, P1, "review_requested", ALICE, "2024-01-02T10:01:00Z",
              review_requester=ALICE, requested_reviewer=BOB),
        event(8005, 1, P1, "milestoned", ALICE, "2024-01-02T10:02:00Z",
              milestone={"title": "v1.0"}),
        event(8006, 1, P1, "head_ref_force_pushed", ALICE, "2024-01-04T07:30:00Z"),
        event(8007, 1, P1, "renamed", ALICE, "2024-01-04T07:31:00Z",
              rename={"from": "Add frobnicator", "to": "Add widget frobnicator"}),
        event(8008, 1, P1, "merged", BOB, "2024-01-05T16:00:00Z", commit_id="9" * 39 + "1",
              commit_url=f"{REPO_URL}/commits/{'9' * 39}1"),
        event(8009, 1, P1, "closed", BOB, "2024-01-05T16:00:00Z", commit_id="9" * 39 + "1",
              commit_url=f"{REPO_URL}/commits/{'9' * 39}1", state_reason=None),
        event(8010, 4, I4, "closed", BOB, "2024-01-05T16:00:05Z", commit_id="9" * 39 + "1",
              commit_url=f"{REPO_URL}/commits/{'9' * 39}1", state_reason="completed"),
        event(8011, 2, P2, "convert_to_draft", BOB, "2024-01-06T09:00:30Z"),
        event(8012, 2, P2, "labeled", BOB, "2024-01-06T09:01:00Z",
              label={"name": "bug", "color": "d73a4a"}),
        event(8013, 3, P3, "labeled", BOT, "2024-01-07T03:00:01Z",
              label={"name": "docs", "color": "0075ca"}),
        event(8014, 2, P2, "ready_for_review", BOB, "2024-01-07T10:00:00Z"),
        event(8015, 2, P2, "review_requested", BOB, "2024-01-07T10:00:01Z",
              review_requester=BOB, requested_team=TEAM_CORE),
        event(8016, 2, P2, "review_requested", BOB, "2024-01-07T10:00:02Z",
              review_requester=BOB, requested_reviewer=CAROL),
        event(8017, 2, P2, "milestoned", BOB, "2024-01-07T10:00:03Z",
              milestone={"title": "v1.0"}),
        event(8018, 3, P3, "unlabeled", ALICE, "2024-01-08T09:00:00Z",
              label={"name": "docs", "color": "0075ca"}),
        event(8019, 3, P3, "closed", ALICE, "2024-01-09T08:00:00Z", state_reason=None),
        event(8020, 2, P2, "mentioned", CAROL, "2024-01-11T15:00:00Z"),
        event(8021, 2, P2, "subscribed", CAROL, "2024-01-11T15:00:00Z"),
    ]
    files = {
        "1": [file_("src/frob.c", "added", 120, 0, h1), file_("src/frob.h", "added", 14, 0, h1),
              file_("docs/frob.md", "added", 30, 0, h1)],
        "2": [file_("src/list.c", "modified", 5, 2, h2),
              file_("tests/list_test.c", "modified", 20, 0, h2)],
        "3": [file_("deps/libfoo.lock", "modified", 1, 1, h3),
              file_("deps/foo.c", "renamed", 0, 0, h3)],
    }
    p1_issue = issue_of(PR1, P1, 1)
    p2_issue = issue_of(PR2, P2, 2)
    p3_issue = issue_of(PR3, P3, 1)
    teams = [dict(TEAM_CORE, members=[ALICE, BOB]), dict(TEAM_DOCS, members=[DAVE])]
    bundle = {
        "format": "attn.github_bundle.v1",
        "generator": {"name": "tests/data/fakegh/make_tiny_bundle.py", "seed": 0, "prs": 3},
        "repo": REPO,
        "users": [ACME, ALICE, BOB, CAROL, DAVE, BOT],
        "teams": teams,
        "labels": [LABEL_BUG, LABEL_ENH, LABEL_DOCS],
        "milestones": [MS_1, MS_0],
        "pulls": [PR1, PR2, PR3],
        "issues": [p1_issue, p2_issue, p3_issue, ISSUE4],
        "issue_comments": issue_comments,
        "review_comments": review_comments,
        "issue_events": events,
        "reviews": reviews,
        "files": files,
        "codeowners": {
            BASE_SHA_OLD: "* @acme/core\n",
            BASE_SHA: "# Owners\n* @acme/core\n/docs/ @acme/docs @dave\n/src/list.c @carol\n",
        },
    }
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tiny_bundle.json")
    tmp = out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(bundle, fh, indent=1, sort_keys=False, ensure_ascii=False)
        fh.write("\n")
    os.replace(tmp, out)


if __name__ == "__main__":
    main()
