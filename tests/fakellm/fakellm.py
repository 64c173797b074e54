#!/usr/bin/env python3
"""fakellm - a fake OpenAI-compatible chat-completions server for attn's llm_rerank tests.

Python 3 standard library only. Binds 127.0.0.1 and never opens an outgoing connection.

POST /v1/chat/completions answers deterministically: it finds the input JSON of attn's
prompt (the object starting '{"candidates":' in the last user message) and ranks the
candidates in reverse base order ("reason": "fake: base rank N"; in base order when the prompt
says "keep the base order"), with usage
prompt_tokens = len(request content) // 4 and completion_tokens = len(answer) // 4.

Modes (--mode for every request, --rule PR=MODE for one PR number, or POST /_fake/mode
{"mode": M, "rules": {"PR": M}} at run time):
  ok            the answer above
  slow          the answer after --delay-ms (also applied in every mode when set)
  malformed     message content that is not JSON
  badbody       a response body that is not JSON at all
  schema        content {"ranking": "nope"}
  hallucinate   the ranking plus a login that was not a candidate ("ghost-reviewer")
  429           429 with Retry-After: 1 on a key's first try, then ok
  5xx           503 on a key's first two tries, then ok
  500           always 500
  timeout       sleeps --timeout-sleep seconds (default 5) before answering
  400           always 400 (not retried by the client)
GET /_fake/stats: {"requests": N, "by_status": {...}, "by_pr": {...}}.
"""
import argparse
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOST = "127.0.0.1"


class State:
    def __init__(self, args):
        self.mode = args.mode
        self.rules = {}
        for r in args.rule or []:
            pr, m = r.split("=", 1)
            self.rules[pr] = m
        self.delay = args.delay_ms / 1000.0
        self.timeout_sleep = args.timeout_sleep
        self.lock = threading.Lock()
        self.tries = {}
        self.requests = 0
        self.by_status = {}
        self.by_pr = {}


def find_input(messages):
    for m in reversed(messages or []):
        c = m.get("content") if isinstance(m, dict) else None
        if isinstance(c, str) and m.get("role") == "user":
            i = c.rfind('{"candidates":')
            if i >= 0:
                obj, _ = json.JSONDecoder().raw_decode(c[i:])
                return obj, c
    return None, ""


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, the body waits for
    # the client's delayed ACK of the headers (40 ms on Linux) on every reused
    # keep-alive connection, so --delay-ms 200 answered in ~245 ms.
    disable_nagle_algorithm = True

    def log_message(self, fmt, *a):
        pass

    def send(self, status, body, headers=None):
        data = body if isinstance(body, bytes) else body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
        st = self.server.state
        with st.lock:
            st.by_status[str(status)] = st.by_status.get(str(status), 0) + 1

    def do_GET(self):
        st = self.server.state
        if self.path == "/_fake/stats":
            with st.lock:
                body = json.dumps({"requests": st.requests, "by_status": st.by_status,
                                   "by_pr": st.by_pr}, sort_keys=True)
            self.send(200, body)
        else:
            self.send(404, '{"error": "not found"}')

    def do_POST(self):
        st = self.server.state
        t0 = time.monotonic()
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n)
        if self.path == "/_fake/mode":
            req = json.loads(raw or b"{}")
            with st.lock:
                st.mode = req.get("mode", st.mode)
                st.rules = {str(k): v for k, v in (req.get("rules") or {}).items()}
                st.tries = {}
            self.send(200, '{"ok": true}')
            return
        if not self.path.endswith("/chat/completions"):
            self.send(404, '{"error": {"message": "unknown path"}}')
            return
        try:
            req = json.loads(raw)
            inp, content = find_input(req.get("messages"))
        except (ValueError, AttributeError):
            self.send(400, '{"error": {"message": "bad request JSON"}}')
            return
        if not inp:
            self.send(400, '{"error": {"message": "no candidates in the prompt"}}')
            return
        pr = str(inp.get("pull_request", {}).get("number"))
        key = raw
        with st.lock:
            st.requests += 1
            st.by_pr[pr] = st.by_pr.get(pr, 0) + 1
            tries = st.tries[key] = st.tries.get(key, 0) + 1
            mode = st.rules.get(pr, st.mode)
        if st.delay:
            # The answer leaves --delay-ms after the request arrived, parsing included.
            time.sleep(max(0.0, st.delay - (time.monotonic() - t0)))
        if mode == "timeout":
            time.sleep(st.timeout_sleep)
        if mode == "429" and tries == 1:
            self.send(429, '{"error": {"message": "rate limited"}}', {"Retry-After": "1"})
            return
        if (mode == "5xx" and tries <= 2) or mode == "500":
            self.send(503 if mode == "5xx" else 500, '{"error": {"message": "overloaded"}}')
            return
        if mode == "400":
            self.send(400, '{"error": {"message": "bad request"}}')
            return
        if mode == "badbody":
            self.send(200, "<html>oops</html>")
            return
        cands = inp.get("candidates", [])
        # A prompt that says "keep the base order" gets it (so prompt versions differ).
        order = cands if "keep the base order" in content else list(reversed(cands))
        ranking = [{"login": c["login"], "reason": "fake: base rank %d" % c.get("base_rank", 0)}
                   for c in order]
        if mode == "hallucinate":
            ranking.insert(1, {"login": "ghost-reviewer", "reason": "made up"})
        answer = json.dumps({"ranking": ranking}, sort_keys=True)
        if mode == "malformed":
            answer = "Sure! Here is the ranking: " + answer[:20]
        elif mode == "schema":
            answer = '{"ranking": "nope"}'
        body = {"id": "fake-1", "object": "chat.completion", "model": req.get("model"),
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": answer}}],
                "usage": {"prompt_tokens": len(content) // 4,
                          "completion_tokens": len(answer) // 4,
                          "total_tokens": len(content) // 4 + len(answer) // 4}}
        self.send(200, json.dumps(body, sort_keys=True))


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


def main():
    p = argparse.ArgumentParser(description="fake OpenAI-compatible chat server (loopback only)")
    p.add_argument("--port", type=int, default=0, help="port (0: any free port)")
    p.add_argument("--port-file", help="write the port here (atomically) once listening")
    p.add_argument("--mode", default="ok", help="answer mode for every request (see above)")
    p.add_argument("--rule", action="append", help="PR=MODE: a mode for one PR number")
    p.add_argument("--delay-ms", type=float, default=0.0,
                   help="answer this long after the request arrived (parsing included)")
    p.add_argument("--timeout-sleep", type=float, default=5.0, help="sleep of mode timeout (s)")
    p.add_argument("--max-lifetime", type=float, default=600.0, help="exit after this many s")
    args = p.parse_args()
    srv = Server((HOST, args.port), Handler)
    srv.state = State(args)
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(str(srv.server_address[1]))
        os.replace(tmp, args.port_file)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    deadline = time.monotonic() + args.max_lifetime
    try:
        while time.monotonic() < deadline and t.is_alive():
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    print("fakellm: exiting", file=sys.stderr, flush=True)
    srv.shutdown()


if __name__ == "__main__":
    main()
