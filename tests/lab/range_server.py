"""An HTTP file server for the model staging tests: honours and logs Range requests, misbehaves on demand.

GET /<mode>/<name> serves the file <root>/<name>. Modes: ``ok``; ``drop-once`` (the first request for a
name sends half the file, then closes the connection); ``corrupt-once`` (the first whole-file answer has bytes
flipped); ``always-drop`` (every answer breaks off at half). Every request is logged as one JSON line to the
log file: path, Range header, status, bytes sent, time. Run: range_server.py ROOT LOG PORT (binds 0.0.0.0).
"""

from __future__ import annotations

import json
import os
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RANGE_RE = re.compile(r"^bytes=(\d+)-$")


def make_server(root: str, log_path: str, port: int = 0, host: str = "0.0.0.0") -> ThreadingHTTPServer:
    seen: dict = {}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # the JSON log is the record
            pass

        def log(self, status, sent):
            with lock, open(log_path, "a", encoding="utf-8") as handle:
                handle.write(json.dumps({"path": self.path, "range": self.headers.get("Range"),
                                         "status": status, "bytes": sent, "t": time.time()}) + "\n")

        def do_GET(self):  # http.server's name
            parts = self.path.strip("/").split("/", 1)
            mode, name = [*parts, ""][:2]
            path = os.path.join(root, name)
            if mode not in ("ok", "drop-once", "corrupt-once", "always-drop") or not os.path.isfile(path):
                self.log(404, 0)  # before answering: a client reading the log after the answer sees it
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            with lock:
                count = seen[self.path] = seen.get(self.path, 0) + 1
            with open(path, "rb") as handle:
                data = handle.read()
            start = 0
            match = RANGE_RE.match(self.headers.get("Range") or "")
            if match:
                start = int(match.group(1))
                if start >= len(data):
                    self.log(416, 0)
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(data)}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            else:
                self.send_response(200)
            body = data[start:]
            if mode == "corrupt-once" and count == 1:
                body = bytes(b ^ 0xFF for b in body[:64]) + body[64:]
            send = body
            drop = mode == "always-drop" or (mode == "drop-once" and count == 1)
            if drop:  # up to the middle of the file (or half of what is left past it), then it hangs up
                send = body[:len(data) // 2 - start] if start < len(data) // 2 else body[:len(body) // 2]
            self.log(206 if match else 200, len(send))
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Accept-Ranges", "bytes")
            self.end_headers()
            self.wfile.write(send)
            self.wfile.flush()
            if drop:
                self.close_connection = True
                self.connection.shutdown(2)

    return ThreadingHTTPServer((host, port), Handler)


def main(argv):
    root, log_path, port = argv[1], argv[2], int(argv[3])
    server = make_server(root, log_path, port)
    print(f"serving {root} on port {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv)
