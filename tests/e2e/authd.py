#!/usr/bin/env python3
"""A small auth_http server, like the scripts nginx users run.

It records every request's headers (one JSON object per line) and answers
by a plain policy: a known user with the right password goes to --backend;
a user listed in --aliases is sent on as another user with the password
given there (Auth-User/Auth-Pass); anything else is refused with Auth-Wait
--wait. --mode slow|malformed|wait-once misbehaves on purpose.
"""
import argparse
import http.server
import json
import os
import socketserver
import sys
import threading
import time
import urllib.parse


def parse_args():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int)
    ap.add_argument("--unix")
    ap.add_argument("--record", required=True)
    ap.add_argument("--users", required=True, help="JSON file: user -> password")
    ap.add_argument("--aliases", help="JSON file: user -> [real user, password]")
    ap.add_argument("--backend", required=True, help="host:port")
    ap.add_argument("--wait", type=int, default=0)
    ap.add_argument("--mode", default="normal")
    return ap.parse_args()


ARGS = parse_args()
LOCK = threading.Lock()
SEEN_WAIT = set()


def load(path):
    if not path:
        return {}
    with open(path) as f:
        return json.load(f)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *args):
        pass

    def do_GET(self):
        headers = {k: v for k, v in self.headers.items()}
        headers["_path"] = self.path
        with LOCK:
            with open(ARGS.record, "a") as f:
                f.write(json.dumps(headers) + "\n")
        if ARGS.mode == "slow":
            time.sleep(10)
        if ARGS.mode == "malformed":
            self.wfile.write(b"this is not http\r\n\r\n")
            return
        user = urllib.parse.unquote(headers.get("Auth-User", ""))
        password = urllib.parse.unquote(headers.get("Auth-Pass", ""))
        users, aliases = load(ARGS.users), load(ARGS.aliases)
        host, port = ARGS.backend.rsplit(":", 1)
        reply = {}
        if ARGS.mode == "wait-once" and user not in SEEN_WAIT:
            SEEN_WAIT.add(user)
            reply = {"Auth-Status": "WAIT", "Auth-Wait": "1"}
        elif user in aliases:
            real, real_pass = aliases[user]
            reply = {"Auth-Status": "OK", "Auth-Server": host, "Auth-Port": port,
                     "Auth-User": real, "Auth-Pass": real_pass}
        elif users.get(user) == password:
            reply = {"Auth-Status": "OK", "Auth-Server": host, "Auth-Port": port}
        else:
            reply = {"Auth-Status": "Invalid login or password"}
            if ARGS.wait:
                reply["Auth-Wait"] = str(ARGS.wait)
        self.send_response(200)
        for k, v in reply.items():
            self.send_header(k, v)
        self.end_headers()


class TCPServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def main():
    if ARGS.unix:
        if os.path.exists(ARGS.unix):
            os.unlink(ARGS.unix)
        server = UnixServer(ARGS.unix, Handler)
    else:
        server = TCPServer(("127.0.0.1", ARGS.port), Handler)
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
