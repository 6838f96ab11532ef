#!/usr/bin/env python3
"""A small HTTP(S) server for the network tests of trustfs.

httpsd.py --dir DIR --port-file FILE [--cert CHAIN.pem --key KEY.pem]

Listens on 127.0.0.1 on a port the kernel picks (written to --port-file once
it listens), HTTPS when --cert/--key are given (CHAIN.pem: the server's
certificate, then the intermediates it presents).  Paths:

  /files/NAME             DIR/NAME; Content-Type from DIR/NAME.type if that
                          exists, else application/octet-stream
  /slow/NAME              DIR/NAME, its headers at once, then one byte every
                          2 seconds (a stalled body)
  /big?bytes=N            N bytes of zeros, no Content-Length (a body too
                          large for a limit the server did not announce)
  /status/CODE            an empty answer with that HTTP status
  /redirect?to=URL        302 to URL
  /.well-known/est/cacerts  DIR/cacerts.b64 as application/pkcs7-mime
                          (RFC 7030 4.1.3), Content-Transfer-Encoding: base64
  /log                    the paths requested so far, one a line

Stops on SIGTERM.  Test use only: no keys are committed; tests make them.
"""
import argparse
import os
import signal
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOG = []
LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    server_version = "httpsd/1"

    def log_message(self, fmt, *args):  # quiet: the test prints what matters
        pass

    def answer(self, code, body=b"", ctype="text/plain", extra=None,
               length=True):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        if length:
            self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if body:
            self.wfile.write(body)

    def file(self, name):
        d = self.server.dir
        path = os.path.realpath(os.path.join(d, name))
        if not path.startswith(os.path.realpath(d) + os.sep) or \
                not os.path.isfile(path):
            return None, None
        ctype = "application/octet-stream"
        if os.path.isfile(path + ".type"):
            with open(path + ".type") as f:
                ctype = f.read().strip()
        with open(path, "rb") as f:
            return f.read(), ctype

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(u.query)
        with LOCK:
            LOG.append(u.path)
        try:
            self.route(u, q)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def route(self, u, q):
        p = u.path
        if p == "/log":
            with LOCK:
                body = "".join(x + "\n" for x in LOG).encode()
            return self.answer(200, body)
        if p.startswith("/files/"):
            body, ctype = self.file(p[len("/files/"):])
            if body is None:
                return self.answer(404, b"not found\n")
            return self.answer(200, body, ctype)
        if p.startswith("/slow/"):
            body, ctype = self.file(p[len("/slow/"):])
            if body is None:
                return self.answer(404, b"not found\n")
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            for i in range(len(body)):
                self.wfile.write(body[i:i + 1])
                self.wfile.flush()
                time.sleep(2)
            return None
        if p == "/big":
            n = int(q.get("bytes", ["0"])[0])
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.end_headers()
            chunk = b"\0" * 65536
            while n > 0:
                self.wfile.write(chunk[:min(n, len(chunk))])
                n -= len(chunk)
            return None
        if p.startswith("/status/"):
            return self.answer(int(p[len("/status/"):]), b"status page\n",
                               "text/html")
        if p == "/redirect":
            return self.answer(302, b"", extra={"Location": q["to"][0]})
        if p.endswith("/.well-known/est/cacerts"):
            body, _ = self.file("cacerts.b64")
            if body is None:
                return self.answer(404, b"no cacerts\n")
            return self.answer(200, body, "application/pkcs7-mime",
                               {"Content-Transfer-Encoding": "base64"})
        return self.answer(404, b"not found\n", "text/html")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    a = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.dir = a.dir
    if a.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.cert, a.key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, a.port_file)
    try:
        srv.serve_forever()
    except SystemExit:
        pass


if __name__ == "__main__":
    main()
