#!/usr/bin/env python3
"""deliveries.py - GitHub webhook deliveries for attn serve's tests and bench.

  derive BUNDLE OUT      webhook deliveries carrying the objects of an attn
                         bundle (the objects the fake API serves): per PR, in
                         time order, pull_request opened (then closed when it
                         is closed), pull_request_review submitted,
                         pull_request_review_comment created, issue_comment
                         created. OUT: JSON list of {event, delivery, body}.
  examples DIR OUT       GitHub's example payloads (@octokit/webhooks-examples
                         api.github.com/index.json) of the events attn handles.
  send URL SECRET FILE [--shuffle SEED] [--bad-signature] [--repeat N] [--conns C]
                         POST each delivery with X-Hub-Signature-256 (HMAC
                         SHA-256 of the exact body), X-GitHub-Event and
                         X-GitHub-Delivery; prints "status count" lines and
                         the rate. Loopback only; bounded by the file's size.
"""
import hashlib, hmac, json, random, sys, threading, time, urllib.request, urllib.error


def iso_key(o, *keys):
    for k in keys:
        if o.get(k):
            return o[k]
    return ""


def derive(bundle_path, out_path):
    b = json.load(open(bundle_path))
    repo = b["repo"]
    pulls = {p["number"]: p for p in b.get("pulls", [])}
    issues = {i["number"]: i for i in b.get("issues", [])}
    items = []  # (time, seq, event, body)
    seq = 0
    def add(t, event, body):
        nonlocal seq
        seq += 1
        items.append((t, seq, event, body))
    for n, p in sorted(pulls.items()):
        add(p["created_at"], "pull_request", {"action": "opened", "number": n, "pull_request": p,
                                              "repository": repo})
        for r in b.get("reviews", {}).get(str(n), []):
            rv = dict(r)
            rv["state"] = (rv.get("state") or "").lower()
            add(iso_key(r, "submitted_at"), "pull_request_review",
                {"action": "submitted", "review": rv, "pull_request": p, "repository": repo})
    for c in b.get("review_comments", []):
        n = int(c["pull_request_url"].rstrip("/").split("/")[-1])
        if n in pulls:
            add(c["created_at"], "pull_request_review_comment",
                {"action": "created", "comment": c, "pull_request": pulls[n], "repository": repo})
    for c in b.get("issue_comments", []):
        n = int(c["issue_url"].rstrip("/").split("/")[-1])
        if n in pulls and n in issues:
            add(c["created_at"], "issue_comment",
                {"action": "created", "comment": c, "issue": issues[n], "repository": repo})
    items.sort(key=lambda x: (x[0], x[1]))
    out = [{"event": e, "delivery": "d-%06d" % i, "body": json.dumps(body, sort_keys=True)}
           for i, (_, _, e, body) in enumerate(items)]
    json.dump(out, open(out_path, "w"))
    print(len(out))


def examples(root, out_path):
    idx = json.load(open(root + "/api.github.com/index.json"))
    out = []
    for ev in idx:
        name = ev.get("name")
        if name not in ("pull_request", "pull_request_review", "pull_request_review_comment",
                        "issue_comment", "ping"):
            continue
        for i, ex in enumerate(ev.get("examples", [])):
            out.append({"event": name, "action": ex.get("action"),
                        "delivery": "ex-%s-%d" % (name.replace("_", "-"), i),
                        "body": json.dumps(ex, sort_keys=True)})
    json.dump(out, open(out_path, "w"))
    print(len(out))


def send(url, secret, path, shuffle=None, bad=False, repeat=1, conns=1):
    ds = json.load(open(path))
    if shuffle is not None:
        random.Random(shuffle).shuffle(ds)
    counts = {}
    lock = threading.Lock()

    def post(d):
        body = d["body"].encode()
        sig = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        if bad:
            sig = ("0" if sig[0] != "0" else "1") + sig[1:]
        req = urllib.request.Request(url + "/webhook", data=body, method="POST", headers={
            "Content-Type": "application/json", "X-GitHub-Event": d["event"],
            "X-GitHub-Delivery": d["delivery"], "X-Hub-Signature-256": "sha256=" + sig})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                st = r.status
                r.read()
        except urllib.error.HTTPError as e:
            st = e.code
            e.read()
        with lock:
            counts[st] = counts.get(st, 0) + 1

    # conns > 1: deliveries t, t + conns, ... from thread t, all at once, as
    # GitHub sends a busy repository's events (the server batches them).
    def worker(t):
        for i in range(t, len(ds), conns):
            post(ds[i])

    t0 = time.time()
    for _ in range(repeat):
        threads = [threading.Thread(target=worker, args=(t,)) for t in range(conns)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
    dt = time.time() - t0
    for k in sorted(counts):
        print(k, counts[k])
    n = sum(counts.values())
    print("rate %.0f/s" % (n / dt if dt > 0 else 0), file=sys.stderr)


if __name__ == "__main__":
    a = sys.argv[1:]
    if a[:1] == ["derive"]:
        derive(a[1], a[2])
    elif a[:1] == ["examples"]:
        examples(a[1], a[2])
    elif a[:1] == ["send"]:
        opt = a[4:]
        shuffle = int(opt[opt.index("--shuffle") + 1]) if "--shuffle" in opt else None
        repeat = int(opt[opt.index("--repeat") + 1]) if "--repeat" in opt else 1
        conns = int(opt[opt.index("--conns") + 1]) if "--conns" in opt else 1
        send(a[1], a[2], a[3], shuffle, "--bad-signature" in opt, repeat, conns)
    else:
        sys.exit(__doc__)
