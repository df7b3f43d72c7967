"""A notifications 3.0 endpoint written by hand from Khipu's description, as
a shop outside Go writes one: Python's standard library only, no khipu-go.

It verifies x-khipu-signature = "t=<ms>,s=<base64 HMAC-SHA256 of t + '.' +
body>" under KHIPU_SECRET on the raw body, refuses a t more than 72 hours
from now, reads the JSON, and answers 200 "ok" or 400 with the reason. It
prints the port it listens on, then one JSON line per notification it
accepted, for the test to read.
"""

import base64
import hashlib
import hmac
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

SECRET = os.environ["KHIPU_SECRET"].encode()
TOLERANCE_MS = 72 * 3600 * 1000


def verify(header, body):
    """Returns None for a genuine notification, else why it is refused."""
    fields = {}
    for part in header.split(","):
        key, sep, value = part.partition("=")
        if not sep:
            return "malformed signature header"
        fields[key.strip()] = value.strip()
    t, s = fields.get("t", ""), fields.get("s", "")
    if not t.isdigit() or not s:
        return "malformed signature header"
    mac = hmac.new(SECRET, t.encode() + b"." + body, hashlib.sha256).digest()
    if not hmac.compare_digest(base64.b64encode(mac).decode(), s):
        return "signature mismatch"
    if abs(time.time() * 1000 - int(t)) > TOLERANCE_MS:
        return "stale notification"
    return None


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        problem = verify(self.headers.get("x-khipu-signature", ""), body)
        if problem is None:
            n = json.loads(body)
            if not isinstance(n.get("receiver_id"), int) or not isinstance(n.get("amount"), str):
                problem = "receiver_id must be a number and amount a string"
        if problem is not None:
            self.answer(400, problem)
            return
        print(json.dumps({k: n.get(k) for k in ("payment_id", "receiver_id", "amount", "currency", "transaction_id", "subject")}), flush=True)
        self.answer(200, "ok")

    def answer(self, status, text):
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(text.encode())))
        self.end_headers()
        self.wfile.write(text.encode())

    def log_message(self, *args):
        pass


server = HTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
try:
    server.serve_forever()
except KeyboardInterrupt:
    sys.exit(0)
