#!/usr/bin/env python3
"""A small auth_http server, like the scripts nginx users run.

It records every request's headers (one JSON object per line) and answers
by a plain policy: a known user with the right password goes to --backend
(one per protocol: "pop3=127.0.0.1:110"; a bare address serves the rest);
APOP and CRAM-MD5 digests are checked against the salt and answered with
the cleartext Auth-Pass; smtp_auth none (Auth-Method none) is let through
unless the recipient starts with "reject", which gets Auth-Error-Code;
EXTERNAL is let in when the certificate verified and its CN names a known
user (Auth-User, if given, must be that user); --subject USER=DN lets USER
in only with a verified certificate of that Auth-SSL-Subject;
a user listed in --aliases is sent on as another user with the password
given there (Auth-User/Auth-Pass); anything else is refused with Auth-Wait
--wait. --mode slow|malformed|nul-held|huge|wait-once|no-status|quoting|no-pass misbehaves;
--mode oauth-pass answers an OAuth login with the user's password.

OAuth: the bearer token "tok-USER" is valid for USER, any other is not.
POST /introspect (token=...) answers as an OAuth 2.0 introspection
endpoint (RFC 7662) does, for Dovecot's oauth2 passdb; it plays the
identity provider, which is outside what postern talks to.
on purpose.
"""
import argparse
import hashlib
import hmac
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
    ap.add_argument("--backend", required=True, action="append",
                    help="[protocol=]host:port")
    ap.add_argument("--wait", type=int, default=0)
    ap.add_argument("--mode", default="normal")
    ap.add_argument("--backend-tls", help="Auth-Backend-TLS for every OK")
    ap.add_argument("--imap-deny", action="append", default=[],
                    help="USER=NAMES: Auth-IMAP-Deny for that user's OK")
    ap.add_argument("--subject", action="append", default=[],
                    help="USER=DN: USER is let in only with a verified client "
                         "certificate whose Auth-SSL-Subject is DN, as the "
                         "scripts that match the subject do")
    return ap.parse_args()


ARGS = parse_args()
LOCK = threading.Lock()
SEEN_WAIT = set()


def load(path):
    if not path:
        return {}
    with open(path) as f:
        return json.load(f)


def backend_for(protocol):
    default = None
    for b in ARGS.backend:
        if "=" in b:
            proto, addr = b.split("=", 1)
            if proto == protocol:
                return addr.rsplit(":", 1)
        else:
            default = b
    return default.rsplit(":", 1)


def proves(method, salt, proof, password):
    """Does the client's proof match the password?"""
    if method == "apop":
        return hashlib.md5((salt + password).encode()).hexdigest() == proof
    if method == "cram-md5":
        return hmac.new(password.encode(), salt.encode(),
                        hashlib.md5).hexdigest() == proof
    return proof == password


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
        if ARGS.mode == "huge":
            self.wfile.write(b"HTTP/1.0 200 OK\r\nX-Filler: " + b"x" * 100000 +
                             b"\r\n\r\n")
            return
        if ARGS.mode == "malformed":
            self.wfile.write(b"this is not http\r\n\r\n")
            return
        if ARGS.mode == "nul-held":
            # A whole answer with a NUL in it, the connection kept open.
            self.wfile.write(b"HTTP/1.0 200 OK\r\nAuth-Status: O\x00K\r\n\r\n")
            self.wfile.flush()
            time.sleep(10)
            return
        user = urllib.parse.unquote(headers.get("Auth-User", ""))
        password = urllib.parse.unquote(headers.get("Auth-Pass", ""))
        users, aliases = load(ARGS.users), load(ARGS.aliases)
        host, port = backend_for(headers.get("Auth-Protocol", ""))
        method = headers.get("Auth-Method", "")
        salt = headers.get("Auth-Salt", "")
        reply = {}
        if method == "external":
            subject = urllib.parse.unquote(headers.get("Auth-SSL-Subject", ""))
            cn = ([p[3:] for p in subject.split(",") if p.startswith("CN=")] or [""])[0]
            if headers.get("Auth-SSL-Verify") == "SUCCESS" and cn in users \
                    and user in ("", cn):
                reply = {"Auth-Status": "OK", "Auth-Server": host, "Auth-Port": port,
                         "Auth-User": cn, "Auth-Pass": users[cn]}
            else:
                reply = {"Auth-Status": "Certificate not accepted"}
        elif method in ("xoauth2", "oauthbearer"):
            if password == "tok-" + user and user in users:
                reply = {"Auth-Status": "OK", "Auth-Server": host, "Auth-Port": port}
                if ARGS.mode == "oauth-pass":
                    reply["Auth-Pass"] = users[user]
            else:
                reply = {"Auth-Status": "Invalid token",
                         "Auth-Error-SASL": OAUTH_ERROR}
        elif method == "none":
            if "<reject" in headers.get("Auth-SMTP-To", ""):
                reply = {"Auth-Status": "Recipient refused by policy",
                         "Auth-Error-Code": "550 5.7.1"}
            else:
                reply = {"Auth-Status": "OK", "Auth-Server": host, "Auth-Port": port}
        elif ARGS.mode == "wait-once" and user not in SEEN_WAIT:
            SEEN_WAIT.add(user)
            reply = {"Auth-Status": "WAIT", "Auth-Wait": "1"}
        elif user in aliases:
            real, real_pass = aliases[user]
            reply = {"Auth-Status": "OK", "Auth-Server": host, "Auth-Port": port,
                     "Auth-User": real, "Auth-Pass": real_pass}
        elif user in users and proves(method, salt, password, users[user]):
            reply = {"Auth-Status": "OK", "Auth-Server": host, "Auth-Port": port}
            # no-pass: nginx needs the password for a salted method only
            # to log in at the backend itself.
            if salt and ARGS.mode != "no-pass":
                reply["Auth-Pass"] = users[user]
        else:
            reply = {"Auth-Status": "Invalid login or password"}
            if ARGS.wait:
                reply["Auth-Wait"] = str(ARGS.wait)
        if ARGS.mode == "quoting" and reply.get("Auth-Status") != "OK":
            reply["Auth-Status"] = 'No" result=ok user="root'
        if ARGS.mode == "no-status":
            # A broken script that names a backend but says nothing of
            # the password: nginx would let the client in.
            reply.pop("Auth-Status", None)
            reply.update({"Auth-Server": host, "Auth-Port": port})
        for spec in ARGS.subject:
            who, dn = spec.split("=", 1)
            subject = urllib.parse.unquote(headers.get("Auth-SSL-Subject", ""))
            if who == user and reply.get("Auth-Status") == "OK" and (
                    headers.get("Auth-SSL-Verify") != "SUCCESS" or subject != dn):
                reply = {"Auth-Status": "Certificate not accepted"}
        for spec in ARGS.imap_deny:
            who, names = spec.split("=", 1)
            if who == user and reply.get("Auth-Status") == "OK":
                reply["Auth-IMAP-Deny"] = names
        if ARGS.backend_tls and reply.get("Auth-Status") == "OK":
            reply["Auth-Backend-TLS"] = ARGS.backend_tls
        self.send_response(200)
        for k, v in reply.items():
            self.send_header(k, v)
        self.end_headers()


OAUTH_ERROR = '{"status":"invalid_token","scope":"mail"}'


def introspect(handler):
    length = int(handler.headers.get("Content-Length", "0"))
    form = urllib.parse.parse_qs(handler.rfile.read(length).decode())
    token = (form.get("token") or [""])[0]
    user = token[4:] if token.startswith("tok-") else ""
    with LOCK:
        with open(ARGS.record, "a") as f:
            f.write(json.dumps({"_path": "/introspect", "token": token}) + "\n")
    body = json.dumps({"active": True, "username": user} if user in load(ARGS.users)
                      else {"active": False}).encode()
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


Handler.do_POST = introspect


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
