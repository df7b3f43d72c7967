#!/usr/bin/env python3
"""A Python shop's test against cmd/khiputest, with the standard library only.

It starts khiputest, creates a payment with API v3 and notifications 3.0 to a
notify_url of its own, pays it through the control API, receives the
notification and verifies its x-khipu-signature by hand with the account's
secret; then does the same with API v2 and notifications 1.3 (a signed v2
request, a notification_token, the payment looked up by it).

    python3 test_shop.py [path/to/khiputest]

The program is the first argument, or the khiputest on PATH
(go install github.com/khipu-go/khipu/cmd/khiputest@latest).
"""

import base64
import hashlib
import hmac
import http.server
import json
import queue
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request

RECEIVER_ID = "12345"
SECRET = "python-test-secret"  # the account's "Llave secreta": signs v2 requests and notifications 3.0
API_KEY = "python-test-api-key"
TIMEOUT = 30  # seconds, for every wait


def start_khiputest(binary):
    """Starts the program on a free port and returns it and what it printed."""
    proc = subprocess.Popen(
        [binary, "-addr", "127.0.0.1:0", "-receiver-id", RECEIVER_ID, "-secret", SECRET, "-api-key", API_KEY],
        stdout=subprocess.PIPE, text=True)
    banner = {}
    for line in proc.stdout:  # "name: value" lines, control_url the last
        name, _, value = line.strip().partition(": ")
        banner[name] = value
        if name == "control_url":
            return proc, banner
    raise SystemExit("khiputest exited before printing its URLs")


def call(method, url, body=None, headers=None):
    """Sends a request and returns the status and the decoded JSON answer."""
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:
            return resp.status, json.load(resp)
    except urllib.error.HTTPError as err:
        return err.code, json.load(err)


def khipu_encode(s):
    """RFC 3986 percent-encoding, as Khipu's v2 signature uses it."""
    return urllib.parse.quote(s, safe="")


def sign_v2(method, url, params):
    """The Authorization header of a v2 request: HMAC-SHA256 of
    METHOD&encode(url)&encode(k)=encode(v)... (keys sorted), in hex."""
    to_sign = method + "&" + khipu_encode(url)
    for key in sorted(params):
        to_sign += "&" + khipu_encode(key) + "=" + khipu_encode(params[key])
    digest = hmac.new(SECRET.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
    return RECEIVER_ID + ":" + digest


def verify_notification3(header, raw_body):
    """Verifies x-khipu-signature: t=<ms>,s=<base64 HMAC-SHA256 of t + "." + raw body>."""
    parts = dict(p.split("=", 1) for p in header.split(","))
    expected = base64.b64encode(
        hmac.new(SECRET.encode(), parts["t"].encode() + b"." + raw_body, hashlib.sha256).digest()).decode()
    if not hmac.compare_digest(expected, parts["s"]):
        raise AssertionError("the notification's signature does not verify")


class Shop(http.server.BaseHTTPRequestHandler):
    """The shop's notify_url: keeps what it receives and answers 200."""
    received = queue.Queue()

    def do_POST(self):
        raw = self.rfile.read(int(self.headers["Content-Length"]))
        Shop.received.put((self.headers, raw))  # its headers, by any case
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def check(condition, what):
    if not condition:
        raise AssertionError(what)
    print("ok:", what)


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else "khiputest"
    proc, banner = start_khiputest(binary)
    shop = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Shop)
    threading.Thread(target=shop.serve_forever, daemon=True).start()
    notify_url = "http://127.0.0.1:%d/khipu/notify" % shop.server_address[1]
    v3, v2, control = banner["api_v3_url"], banner["api_v2_url"], banner["control_url"]
    try:
        # API v3, notifications 3.0.
        order = {"amount": 1000, "currency": "CLP", "subject": "Order 1001", "transaction_id": "order-1001",
                 "notify_url": notify_url, "notify_api_version": "3.0"}
        status, created = call("POST", v3 + "/v3/payments", json.dumps(order).encode(),
                               {"x-api-key": API_KEY, "Content-Type": "application/json"})
        check(status == 200, "v3: payment %s created" % created.get("payment_id"))
        status, paid = call("POST", control + "payments/%s/pay" % created["payment_id"])
        check(status == 200 and paid["notify_status"] == 200, "v3: paid through the control API, the shop answered 200")
        headers, raw = Shop.received.get(timeout=TIMEOUT)
        verify_notification3(headers["x-khipu-signature"], raw)
        print("ok: v3: the notification's signature verifies with the secret")
        notification = json.loads(raw)
        check(notification["payment_id"] == created["payment_id"] and notification["transaction_id"] == "order-1001"
              and notification["amount"] == "1000.0000" and notification["currency"] == "CLP",
              "v3: the notification is the order's payment")

        # API v2, notifications 1.3.
        params = {"subject": "Order 1002", "currency": "CLP", "amount": "2000", "transaction_id": "order-1002",
                  "notify_url": notify_url, "notify_api_version": "1.3"}
        status, created = call("POST", v2 + "/payments", urllib.parse.urlencode(params).encode(), {
            "Authorization": sign_v2("POST", v2 + "/payments", params),
            "Content-Type": "application/x-www-form-urlencoded"})
        check(status == 200, "v2: payment %s created" % created.get("payment_id"))
        status, paid = call("POST", control + "payments/%s/pay" % created["payment_id"])
        check(status == 200 and paid["notify_status"] == 200, "v2: paid through the control API, the shop answered 200")
        headers, raw = Shop.received.get(timeout=TIMEOUT)
        form = urllib.parse.parse_qs(raw.decode())
        check(form["api_version"] == ["1.3"], "v2: a notification 1.3")
        query = {"notification_token": form["notification_token"][0]}
        status, payment = call("GET", v2 + "/payments?" + urllib.parse.urlencode(query),
                               headers={"Authorization": sign_v2("GET", v2 + "/payments", query)})
        check(status == 200 and payment["payment_id"] == created["payment_id"] and payment["status"] == "done"
              and str(payment["receiver_id"]) == RECEIVER_ID and payment["transaction_id"] == "order-1002",
              "v2: the token names the order's payment, done, of this account")
    finally:
        shop.shutdown()
        proc.terminate()
        proc.wait(timeout=TIMEOUT)


if __name__ == "__main__":
    main()
