"""Portico's own APIs against their OpenAPI documents, by schemathesis.

Starts the built `portico serve` with an admin listener and a portal, then lets schemathesis
generate requests for every operation of each document: valid ones (which must be accepted),
invalid ones (which must get 400, 405, 406, 415 or 422), and sequences that follow the
document's resources. Every check is on (`--checks all`): no 5xx, documented statuses and
content types, answers that match their schemas, invalid data refused, valid data accepted, 405
for undocumented methods.

- The admin API (`/admin/openapi.json`), with the admin token.
- The portal API (`/portal/api/openapi.json`), as a signed-in developer: the test signs up and
  signs in first and hands schemathesis the session cookie and its CSRF token, so the account,
  app and key operations run past the sign-in check. Sign-out, which ends that session, runs
  last on its own.

A fixed seed keeps a run reproducible; PORTICO_CONTRACT_EXAMPLES sets how many examples per
operation (default 25). Run by `make test` after the Swift tests.
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BINARY = os.path.join(ROOT, ".build", "debug", "portico")
ARTIFACTS = os.environ.get("PORTICO_ARTIFACTS", "/tmp/portico-artifacts")
sys.path.insert(0, os.path.join(ROOT, "Tests", "Support"))
from gateway_process import wait_until_ready  # noqa: E402

TOKEN = "contract-admin-token-0123456789abcdef"
CONFIG = """
listen: 127.0.0.1:0
admin: {{listen: 127.0.0.1:0, token: {token}}}
store: {{sqlite: {folder}/portico.sqlite}}
server: {{access-log: false}}
auth:
  keys: {{type: api-key, header: X-API-Key}}
plans:
  free: {{rate: 50/s, quota: 1000/day}}
consumers:
  - {{name: declared-app, keys: [declared-key-0123456789abcdef], plan: free}}
portal: {{path: /portal, signup: open, plan: free}}
upstreams:
  backend: {{targets: [{{url: "http://127.0.0.1:9"}}, {{url: "http://127.0.0.1:10"}}]}}
apis:
  - name: shop
    base-path: /shop
    upstream: backend
    auth: keys
    openapi: {folder}/shop.yaml
"""
SHOP = """
openapi: 3.1.0
info: {title: Shop, version: '2'}
paths:
  /items/{id}:
    get:
      operationId: getItem
      summary: One item.
      tags: [items]
      parameters:
        - {name: id, in: path, required: true, schema: {type: integer, minimum: 1}}
      responses:
        '200':
          description: The item.
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Item'}
components:
  schemas:
    Item:
      type: object
      properties:
        id: {type: integer}
        tags: {type: array, items: {$ref: '#/components/schemas/Item'}}
"""


class Gateway:
    """The built binary on port 0 in a temporary folder, its log in the artifacts folder."""

    def __init__(self, test):
        os.makedirs(ARTIFACTS, exist_ok=True)
        self.folder = tempfile.mkdtemp(prefix="portico-contract-")
        with open(os.path.join(self.folder, "shop.yaml"), "w") as f:
            f.write(SHOP)
        config_file = os.path.join(self.folder, "gateway.yaml")
        with open(config_file, "w") as f:
            f.write(CONFIG.format(token=TOKEN, folder=self.folder))
        self.log_path = os.path.join(ARTIFACTS, f"portico-contract-{test}.log")
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [BINARY, "serve", "--config", config_file], stdout=self.log, stderr=subprocess.STDOUT)
        self.ports = wait_until_ready(self.process, self.log_path, listeners=("gateway", "admin"))

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)
        self.log.close()


class APIContractTests(unittest.TestCase):
    def schemathesis(self, gateway, document, base, headers, *extra, config=None):
        """Runs schemathesis over one document; fails the test on any failure it reports. `config`
        is the text of a schemathesis.toml (credentials for the document's security schemes)."""
        arguments = ["schemathesis"]
        if config is not None:
            path = os.path.join(gateway.folder, "schemathesis.toml")
            with open(path, "w") as f:
                f.write(config)
            arguments += ["--config-file", path]
        arguments += ["run", document, "--url", base, "--checks", "all",
                     "--max-examples", os.environ.get("PORTICO_CONTRACT_EXAMPLES", "25"), "--seed", "20261203",
                     "--no-color", "--report", "junit", "--report-dir", ARTIFACTS]
        for header in headers:
            arguments += ["-H", header]
        run = subprocess.run(arguments + list(extra), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             timeout=600, cwd=gateway.folder)
        summary = run.stdout[run.stdout.find("SUMMARY"):] if "SUMMARY" in run.stdout else run.stdout[-3000:]
        print("\n" + summary, file=sys.stderr)
        self.assertEqual(run.returncode, 0, run.stdout[-20000:])
        self.assertIsNone(gateway.process.poll(), "portico exited during the run; see " + gateway.log_path)

    def test_admin_api_answers_as_its_document_says(self):
        gateway = Gateway("admin")
        try:
            base = f"http://127.0.0.1:{gateway.ports['admin']}"
            self.schemathesis(gateway, base + "/admin/openapi.json", base, [f"Authorization: Bearer {TOKEN}"])
        finally:
            gateway.stop()

    def test_portal_api_answers_as_its_document_says(self):
        gateway = Gateway("portal")
        try:
            api = f"http://127.0.0.1:{gateway.ports['gateway']}/portal/api"
            session, csrf = self.sign_in(api)
            # The document the portal serves names its own path as the server.
            with urllib.request.urlopen(api + "/openapi.json", timeout=10) as response:
                self.assertEqual(json.load(response)["servers"], [{"url": "/portal/api"}])
            # The session goes as the document's cookie scheme, so schemathesis also tries each
            # operation without it; the CSRF token is a header every POST declares.
            config = f'[auth.openapi.session]\napi_key = "{session}"\n'
            headers = [f"X-CSRF-Token: {csrf}"]
            document = api + "/openapi.json"
            self.schemathesis(gateway, document, api, headers, "--exclude-operation-id", "signOut", config=config)
            self.schemathesis(gateway, document, api, headers, "--include-operation-id", "signOut", config=config)
        finally:
            gateway.stop()

    def sign_in(self, api):
        """Signs up and in as a developer; the session cookie's value and the session's CSRF token."""
        with urllib.request.urlopen(api + "/session", timeout=10) as response:
            anonymous = json.load(response)["csrf"]
            csrf_cookie = response.headers["Set-Cookie"].split(";")[0]
        credentials = json.dumps({"email": "contract@example.com", "password": "contract-password"}).encode()
        headers = {"Content-Type": "application/json", "X-CSRF-Token": anonymous, "Cookie": csrf_cookie}
        for step, status in (("signup", 202), ("signin", 200)):
            request = urllib.request.Request(api + "/" + step, data=credentials, headers=headers, method="POST")
            with urllib.request.urlopen(request, timeout=30) as response:
                self.assertEqual(response.status, status)
                if step == "signin":
                    session = json.load(response)
                    cookie = response.headers["Set-Cookie"].split(";")[0]
        self.assertTrue(session["signed_in"])
        self.assertTrue(cookie.startswith("portico_session="), cookie)
        return cookie.split("=", 1)[1], session["csrf"]


if __name__ == "__main__":
    unittest.main(verbosity=2)
