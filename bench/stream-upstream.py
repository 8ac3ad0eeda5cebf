#!/usr/bin/env python3
"""A bulk upstream for bench/streaming.sh: GET /download/N streams N bytes, POST /upload counts the body."""
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CHUNK = b"x" * (256 * 1024)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        total = int(self.path.rsplit("/", 1)[-1])
        self.send_response(200)
        self.send_header("Content-Length", str(total))
        self.end_headers()
        while total > 0:
            piece = CHUNK[: min(total, len(CHUNK))]
            self.wfile.write(piece)
            total -= len(piece)

    def do_POST(self):
        seen = 0
        if "chunked" in self.headers.get("Transfer-Encoding", ""):
            while True:
                size = int(self.rfile.readline().strip(), 16)
                if size == 0:
                    self.rfile.readline()
                    break
                remaining = size
                while remaining:
                    got = self.rfile.read(min(remaining, 1 << 20))
                    remaining -= len(got)
                    seen += len(got)
                self.rfile.readline()
        else:
            remaining = int(self.headers.get("Content-Length", "0"))
            while remaining:
                got = self.rfile.read(min(remaining, 1 << 20))
                if not got:
                    break
                remaining -= len(got)
                seen += len(got)
        body = ('{"bytes":%d}' % seen).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
