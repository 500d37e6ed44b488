#!/usr/bin/python3
"""A webhook receiver for tests: an HTTP server on 127.0.0.1.

Records every request (method, path, headers, body, the status it was
answered with) as one JSON line in --record, and prints the port it
listens on as the first line of stdout. --fail-first N answers the first
N requests with --fail-status (503 by default, with Retry-After when
--retry-after is given); --delay-ms holds every answer back, so a test can
kill the sender while a POST is in flight.

    webhook_server.py --record /tmp/hooks.jsonl --fail-first 2
"""
import argparse
import http.server
import json
import sys
import threading
import time


class Recorder:
    def __init__(self, path, fail_first, fail_status, retry_after,
                 delay_ms):
        self.path = path
        self.fail_first = fail_first
        self.fail_status = fail_status
        self.retry_after = retry_after
        self.delay_ms = delay_ms
        self.count = 0
        self.lock = threading.Lock()

    def take(self, handler, body):
        """Numbers the request, records it, returns the status to send."""
        with self.lock:
            self.count += 1
            n = self.count
            status = self.fail_status if n <= self.fail_first else 200
            entry = {"n": n, "method": handler.command, "path": handler.path,
                     "headers": dict(handler.headers.items()),
                     "body": body.decode("utf-8", "replace"),
                     "status": status, "time": time.time()}
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(json.dumps(entry, ensure_ascii=False) + "\n")
        return status


def make_handler(rec):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # no 40 ms delayed-ACK stalls

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            status = rec.take(self, body)
            if rec.delay_ms:
                time.sleep(rec.delay_ms / 1000.0)
            payload = b'{"ok":true}' if status == 200 else b'{"ok":false}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            if status != 200 and rec.retry_after is not None:
                self.send_header("Retry-After", str(rec.retry_after))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, fmt, *args):
            pass

    return Handler


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--record", required=True,
                    help="JSON-lines file of the requests received")
    ap.add_argument("--fail-first", type=int, default=0,
                    help="answer the first N requests with --fail-status")
    ap.add_argument("--fail-status", type=int, default=503)
    ap.add_argument("--retry-after", type=int, default=None,
                    help="Retry-After seconds sent with failures")
    ap.add_argument("--delay-ms", type=int, default=0,
                    help="wait this long before each answer")
    args = ap.parse_args()

    rec = Recorder(args.record, args.fail_first, args.fail_status,
                   args.retry_after, args.delay_ms)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             make_handler(rec))
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
