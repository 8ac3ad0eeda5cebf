"""The admin API against its own OpenAPI document, by schemathesis.

Starts the built `portico serve` with an admin listener, then lets schemathesis generate requests
for every operation of /admin/openapi.json: valid ones (which must be accepted), invalid ones
(which must get 400, 405, 406, 415 or 422), and sequences that follow the document's resources.
Every check is on (`--checks all`): no 5xx, documented statuses and content types, answers that
match their schemas, invalid data refused, valid data accepted, 405 for undocumented methods.
A fixed seed keeps a run reproducible; PORTICO_CONTRACT_EXAMPLES sets how many examples per
operation (default 25). Run by `make test` after the Swift tests.
"""
import os
import subprocess
import sys
import tempfile
import unittest

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
    routes:
      - {{path: /items}}
"""


class AdminContractTests(unittest.TestCase):
    def test_every_operation_answers_as_its_document_says(self):
        os.makedirs(ARTIFACTS, exist_ok=True)
        folder = tempfile.mkdtemp(prefix="portico-contract-")
        config_file = os.path.join(folder, "gateway.yaml")
        with open(config_file, "w") as f:
            f.write(CONFIG.format(token=TOKEN, folder=folder))
        log_path = os.path.join(ARTIFACTS, "portico-contract.log")
        with open(log_path, "w") as log:
            gateway = subprocess.Popen([BINARY, "serve", "--config", config_file], stdout=log, stderr=subprocess.STDOUT)
            try:
                admin = wait_until_ready(gateway, log_path, listeners=("gateway", "admin"))["admin"]
                base = f"http://127.0.0.1:{admin}"
                run = subprocess.run(
                    ["schemathesis", "run", base + "/admin/openapi.json", "--url", base,
                     "-H", f"Authorization: Bearer {TOKEN}", "--checks", "all",
                     "--max-examples", os.environ.get("PORTICO_CONTRACT_EXAMPLES", "25"), "--seed", "20261203",
                     "--no-color", "--report", "junit", "--report-dir", ARTIFACTS],
                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600, cwd=folder)
                summary = run.stdout[run.stdout.find("SUMMARY"):] if "SUMMARY" in run.stdout else run.stdout[-3000:]
                print("\n" + summary, file=sys.stderr)
                self.assertEqual(run.returncode, 0, run.stdout[-20000:])
                self.assertIsNone(gateway.poll(), "portico exited during the run; see " + log_path)
            finally:
                gateway.terminate()
                gateway.wait(timeout=30)


if __name__ == "__main__":
    unittest.main(verbosity=2)
