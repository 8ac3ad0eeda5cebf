"""Browser tests of the gateway's CORS policy and response compression in headless Chromium
(Debian chromium + chromium-driver, PyPI selenium).

Starts the built `portico` binary on a temporary config, a JSON upstream on 127.0.0.1, and two
small page servers on 127.0.0.1 with ports of their own: the "allowed" page origin, which the
config lists in `cors: origins`, and an "other" page origin, which it does not. Pages of those
origins call the gateway (a third origin) with fetch(); the upstream records what reaches it.
Everything is stopped by PID (the Popen handle) or by shutting down its server. Screenshots and
the gateway's log go to $PORTICO_ARTIFACTS (default /tmp/portico-artifacts), outside the repository.

Run: python3 Tests/Edge/cors_browser_test.py  (after `swift build --product portico`)
"""
import gzip
import http.server
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request
import uuid

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BINARY = os.path.join(ROOT, ".build", "debug", "portico")
sys.path.insert(0, os.path.join(ROOT, "Tests", "Support"))
from gateway_process import wait_until_ready  # noqa: E402
ARTIFACTS = os.environ.get("PORTICO_ARTIFACTS", "/tmp/portico-artifacts")
KEY = "browser-key-0123456789abcdef"


def serve(handler):
    """A threading HTTP server on 127.0.0.1 with a port of its own, already serving."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class Upstream(http.server.BaseHTTPRequestHandler):
    """Answers every request with a JSON list of items (well over a few hundred bytes), `X-Total: 3`,
    and a CORS field of its own that the gateway must replace. Records what reached it."""

    protocol_version = "HTTP/1.1"
    seen = []
    lock = threading.Lock()

    def answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        items = [{"id": i, "name": f"Item {i}", "description": f"A rather long description of item number {i}, " * 4} for i in (1, 2, 3)]
        data = json.dumps({"method": self.command, "path": self.path, "received": body, "items": items}).encode()
        with self.lock:
            self.seen.append({"method": self.command, "path": self.path, "headers": dict(self.headers.items()), "body": body, "sent": data})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Total", "3")
        self.send_header("Access-Control-Allow-Origin", "*")  # The gateway's config alone decides.
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = answer

    def log_message(self, *args):
        pass


PAGE = b"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>CORS test page</title></head>
<body><h1>CORS test page</h1><pre id="out" style="white-space: pre-wrap; word-break: break-all">waiting</pre></body></html>
"""


class Page(http.server.BaseHTTPRequestHandler):
    """Serves the one HTML page the browser runs its fetches from."""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(PAGE)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, *args):
        pass


# Runs one fetch in the page and hands back what the script could see. arguments: url, options.
FETCH = """
const [url, options, done] = arguments;
const out = document.getElementById("out");
fetch(url, Object.assign({cache: "no-store"}, options)).then(async (response) => {
    const text = await response.text();
    const result = {outcome: "response", status: response.status, total: response.headers.get("X-Total"),
        contentType: response.headers.get("Content-Type"), text: text};
    out.textContent = JSON.stringify(result, null, 2);
    done(result);
}).catch((error) => {
    const result = {outcome: "error", name: error.name, message: String(error.message)};
    out.textContent = JSON.stringify(result, null, 2);
    done(result);
});
"""


class CORSBrowserTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        os.makedirs(ARTIFACTS, exist_ok=True)
        cls.folder = tempfile.mkdtemp(prefix="portico-cors-")
        cls.upstream = serve(Upstream)
        cls.allowed_page = serve(Page)
        cls.other_page = serve(Page)
        cls.allowed_origin = f"http://127.0.0.1:{cls.allowed_page.server_address[1]}"
        cls.other_origin = f"http://127.0.0.1:{cls.other_page.server_address[1]}"
        config = f"""
listen: 127.0.0.1:0
store: {{sqlite: {cls.folder}/portico.sqlite}}
server: {{access-log: false}}
auth:
  key: {{type: api-key, query: api_key}}  # the header X-API-Key, or (asked for here) ?api_key=
consumers:
  - {{name: app, keys: [{KEY}]}}
upstreams:
  backend: {{targets: [{{url: "http://127.0.0.1:{cls.upstream.server_address[1]}"}}]}}
apis:
  - name: shop
    base-path: /shop
    upstream: backend
    auth: key
    cors: {{origins: ["{cls.allowed_origin}"], methods: [GET, POST, PUT], headers: [Content-Type, X-API-Key], expose-headers: [X-Total], credentials: false, max-age: 10m}}
    compress: {{types: [application/json], min-size: 0}}
    routes:
      - {{path: /items, methods: [GET, POST, PUT]}}
"""
        config_file = os.path.join(cls.folder, "gateway.yaml")
        with open(config_file, "w") as f:
            f.write(config)
        cls.log = open(os.path.join(ARTIFACTS, "portico-cors.log"), "w")
        cls.gateway = subprocess.Popen([BINARY, "serve", "--config", config_file], stdout=cls.log, stderr=subprocess.STDOUT)
        try:
            cls.port = wait_until_ready(cls.gateway, cls.log.name, ready_path="/healthz", timeout=20)["gateway"]
            cls.base = f"http://127.0.0.1:{cls.port}"
            cls.items = cls.base + "/shop/items"
            options = webdriver.ChromeOptions()
            for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1000,700"):
                options.add_argument(argument)
            options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
            # The Network events let the test see the headers Chromium itself received.
            options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
            cls.driver = webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=options)
            cls.driver.set_page_load_timeout(30)
            cls.driver.set_script_timeout(30)
        except BaseException:
            cls.stop_servers()
            raise

    @classmethod
    def stop_servers(cls):
        if cls.gateway.poll() is None:
            cls.gateway.send_signal(signal.SIGTERM)
            try:
                cls.gateway.wait(timeout=15)
            except subprocess.TimeoutExpired:
                cls.gateway.kill()
                cls.gateway.wait(timeout=15)
        for server in (cls.upstream, cls.allowed_page, cls.other_page):
            server.shutdown()
            server.server_close()
        cls.log.close()
        shutil.rmtree(cls.folder, ignore_errors=True)

    @classmethod
    def tearDownClass(cls):
        try:
            cls.driver.quit()
        finally:
            cls.stop_servers()

    # Helpers.

    def shot(self, name):
        self.driver.save_screenshot(os.path.join(ARTIFACTS, "cors-" + name + ".png"))

    def open_page(self, origin):
        self.driver.get(origin + "/")
        self.assertEqual(self.driver.execute_script("return location.origin"), origin)
        self.driver.get_log("performance")  # Start the Network events afresh.

    def fetch(self, url, options):
        return self.driver.execute_async_script(FETCH, url, options)

    def seen(self, **match):
        with Upstream.lock:
            return [r for r in Upstream.seen if all(r.get(k) == v for k, v in match.items())]

    def network(self):
        """Chromium's Network events since the last call, by request id: method, url, and the
        status and headers (lower-cased names) of the response received."""
        requests = {}
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            params = message.get("params", {})
            if message.get("method") == "Network.requestWillBeSent":
                request = requests.setdefault(params["requestId"], {})
                request.update(method=params["request"]["method"], url=params["request"]["url"], type=params.get("type"))
            elif message.get("method") == "Network.responseReceived":
                request = requests.setdefault(params["requestId"], {})
                response = params["response"]
                request.update(status=response["status"], headers={k.lower(): v for k, v in response["headers"].items()})
                request.setdefault("url", response["url"])
        return requests

    def raw(self, method, path, headers, body=None):
        """A request by urllib, which neither adds Accept-Encoding nor decodes: the bytes as sent."""
        request = urllib.request.Request(self.base + path, method=method, data=body, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=20) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read()

    def put_options(self, body, key=KEY):
        headers = {"Content-Type": "application/json"}
        if key:
            headers["X-API-Key"] = key
        return {"method": "PUT", "headers": headers, "body": json.dumps(body)}

    # Tests.

    def test_1_allowed_origin_put_preflight_and_gzip(self):
        self.open_page(self.allowed_origin)
        marker = uuid.uuid4().hex
        body = {"name": "Lamp", "marker": marker}
        result = self.fetch(self.items, self.put_options(body))
        self.shot("allowed-put")
        self.assertEqual(result["outcome"], "response", result)
        self.assertEqual(result["status"], 200, result)
        self.assertEqual(result["total"], "3", "the exposed X-Total is readable by the page")
        self.assertTrue(result["contentType"].startswith("application/json"), result)

        # The upstream saw this PUT (with the page's body) and never an OPTIONS: the gateway
        # answered the preflight itself.
        puts = [r for r in self.seen(method="PUT") if marker in r["body"]]
        self.assertEqual(len(puts), 1, "the upstream saw the PUT once")
        self.assertEqual(json.loads(puts[0]["body"]), body)
        self.assertTrue(puts[0]["path"].endswith("/items"), puts[0]["path"])
        self.assertEqual(self.seen(method="OPTIONS"), [])
        sent = json.loads(puts[0]["sent"])
        self.assertGreater(len(puts[0]["sent"]), 500)

        # The browser decoded what came gzipped: the JSON the page parsed is what the upstream sent.
        self.assertEqual(json.loads(result["text"]), sent)

        # What Chromium itself received: a preflight answered 204 by the gateway, then the PUT
        # with Content-Encoding: gzip and the CORS fields.
        events = [e for e in self.network().values() if e.get("url") == self.items]
        preflights = [e for e in events if e.get("method") == "OPTIONS"]
        actual = [e for e in events if e.get("method") == "PUT" and "status" in e]
        self.assertEqual(len(actual), 1, events)
        self.assertEqual(actual[0]["status"], 200)
        self.assertEqual(actual[0]["headers"].get("content-encoding"), "gzip", actual[0]["headers"])
        self.assertEqual(actual[0]["headers"].get("access-control-allow-origin"), self.allowed_origin)
        self.assertIn("X-Total", actual[0]["headers"].get("access-control-expose-headers", ""))
        self.assertIn("origin", [v.strip().lower() for v in actual[0]["headers"].get("vary", "").replace("\n", ",").split(",")])
        # This browser has not called the gateway before, so nothing is in its preflight cache.
        self.assertEqual([p.get("status") for p in preflights], [204], events)
        self.assertEqual(preflights[0]["headers"].get("access-control-allow-origin"), self.allowed_origin)
        self.assertEqual(preflights[0]["headers"].get("access-control-max-age"), "600")

        # On the wire, by urllib: gzip when asked for, and the bytes inflate to the upstream's JSON.
        marker = uuid.uuid4().hex
        status, headers, data = self.raw("PUT", "/shop/items", {
            "Origin": self.allowed_origin, "Accept-Encoding": "gzip", "Content-Type": "application/json", "X-API-Key": KEY,
        }, json.dumps({"marker": marker}).encode())
        self.assertEqual(status, 200)
        self.assertEqual(headers.get("Content-Encoding"), "gzip")
        self.assertEqual(headers.get("Access-Control-Allow-Origin"), self.allowed_origin)
        self.assertIn("Origin", ", ".join(headers.get_all("Vary") or []))
        self.assertEqual(headers.get("X-Total"), "3")
        self.assertEqual(data[:2], b"\x1f\x8b", "a gzip member")
        sent = [r for r in self.seen(method="PUT") if marker in r["body"]][0]["sent"]
        self.assertEqual(json.loads(gzip.decompress(data)), json.loads(sent))
        self.assertLess(len(data), len(sent))

        # The preflight, by urllib: 204 from the gateway with the configured fields, and the
        # upstream is not called.
        before = len(self.seen())
        status, headers, data = self.raw("OPTIONS", "/shop/items", {
            "Origin": self.allowed_origin, "Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "content-type,x-api-key",
        })
        self.assertEqual((status, data), (204, b""))
        self.assertEqual(headers.get("Access-Control-Allow-Origin"), self.allowed_origin)
        self.assertEqual({m.strip() for m in headers.get("Access-Control-Allow-Methods", "").split(",")}, {"GET", "POST", "PUT"})
        self.assertEqual({h.strip().lower() for h in headers.get("Access-Control-Allow-Headers", "").split(",")}, {"content-type", "x-api-key"})
        self.assertEqual(headers.get("Access-Control-Max-Age"), "600")
        self.assertEqual(len(self.seen()), before)

    def test_2_allowed_origin_without_key_reads_401(self):
        self.open_page(self.allowed_origin)
        before = len(self.seen())
        # A simple GET (no preflight) and a PUT (preflighted) without the key: both refused by the
        # gateway with 401, and the page can read the status because the error carries CORS fields.
        result = self.fetch(self.items, {"method": "GET"})
        self.assertEqual(result["outcome"], "response", result)
        self.assertEqual(result["status"], 401, result)
        result = self.fetch(self.items, self.put_options({"name": "no key"}, key=None))
        self.shot("allowed-no-key")
        self.assertEqual(result["outcome"], "response", result)
        self.assertEqual(result["status"], 401, result)
        self.assertEqual(len(self.seen()), before, "the upstream is not called without a key")
        # The same by urllib: the 401 carries Access-Control-Allow-Origin and Vary: Origin.
        status, headers, _ = self.raw("GET", "/shop/items", {"Origin": self.allowed_origin})
        self.assertEqual(status, 401)
        self.assertEqual(headers.get("Access-Control-Allow-Origin"), self.allowed_origin)
        self.assertIn("Origin", ", ".join(headers.get_all("Vary") or []))

    def test_3_other_origin_is_blocked(self):
        self.open_page(self.other_origin)
        marker = uuid.uuid4().hex
        result = self.fetch(self.items, self.put_options({"name": "Lamp", "marker": marker}))
        self.shot("other-put")
        self.assertEqual(result["outcome"], "error", result)
        self.assertEqual(result["name"], "TypeError", result)
        self.assertEqual([r for r in self.seen() if marker in r["body"]], [], "the upstream never saw the blocked PUT")
        self.assertEqual(self.seen(method="OPTIONS"), [])

        # A simple GET with the key in the query goes out without a preflight and reaches the
        # upstream, whose own `Access-Control-Allow-Origin: *` the gateway drops: the page still
        # cannot read the answer.
        marker = uuid.uuid4().hex
        result = self.fetch(f"{self.items}?api_key={KEY}&m={marker}", {"method": "GET"})
        self.assertEqual(result["outcome"], "error", result)
        self.assertEqual(result["name"], "TypeError", result)
        self.assertEqual(len([r for r in self.seen(method="GET") if marker in r["path"]]), 1)

        # By urllib: neither the preflight nor an answer to the other origin carries CORS fields.
        status, headers, _ = self.raw("OPTIONS", "/shop/items", {"Origin": self.other_origin, "Access-Control-Request-Method": "PUT"})
        self.assertEqual(status, 204)
        self.assertEqual([k for k in headers.keys() if k.lower().startswith("access-control-")], [])
        status, headers, _ = self.raw("GET", "/shop/items", {"Origin": self.other_origin, "X-API-Key": KEY})
        self.assertEqual(status, 200)
        self.assertEqual([k for k in headers.keys() if k.lower().startswith("access-control-")], [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
