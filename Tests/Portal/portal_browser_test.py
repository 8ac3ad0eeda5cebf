"""Browser tests of the developer portal in headless Chromium (Debian chromium + chromium-driver, PyPI selenium).

Starts the built `portico` binary on a temporary config (a real SQLite file, a real upstream on
127.0.0.1), drives the portal through Selenium, and stops everything by PID. Screenshots go to
$PORTICO_ARTIFACTS (default /tmp/portico-artifacts), outside the repository.

Run: python3 Tests/Portal/portal_browser_test.py  (after `swift build --product portico`)
"""
import gzip
import http.cookiejar
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
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "Tests", "Support"))
from gateway_process import wait_until_ready  # noqa: E402
BINARY = os.path.join(ROOT, ".build", "debug", "portico")
ARTIFACTS = os.environ.get("PORTICO_ARTIFACTS", "/tmp/portico-artifacts")


def read(path, mode="r"):
    with open(path, mode) as f:
        return f.read()


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


class Upstream(http.server.BaseHTTPRequestHandler):
    """Answers every request with JSON describing it."""

    def answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        data = json.dumps({"method": self.command, "path": self.path, "body": body, "id": 7, "name": "Rex"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = answer

    def log_message(self, *args):
        pass


PETS_SPEC = """
openapi: 3.1.0
info:
  title: Pets
  version: "1.0"
  description: |
    Pets **you** own. See [the guide](https://example.com/guide).

    <script>window.injected = true</script><img src=x onerror="window.injected = true">
    <p>Each pet has a <code>petId</code>.</p> <a href="javascript:window.injected=true">a trap</a> <a href="java&#9;script:window.injected=true">another</a>
tags:
  - {name: pets, description: Everything about pets}
paths:
  /pets/{petId}:
    get:
      operationId: getPet
      summary: Find a pet by id
      tags: [pets]
      parameters:
        - {name: petId, in: path, required: true, schema: {type: integer}, example: 7}
        - {name: ownerName, in: query, description: Only pets of this owner, schema: {type: string}}
      responses:
        "200":
          description: The pet
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Pet"}
  /pets:
    post:
      operationId: createPet
      summary: Add a pet
      tags: [pets]
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: "#/components/schemas/NewPet"}
      responses:
        "201": {description: Created}
components:
  schemas:
    NewPet:
      type: object
      required: [name]
      properties:
        name: {type: string, example: Rex}
        kind: {oneOf: [{$ref: "#/components/schemas/Dog"}, {$ref: "#/components/schemas/Cat"}]}
    Pet:
      allOf:
        - $ref: "#/components/schemas/NewPet"
        - type: object
          required: [id]
          properties:
            id: {type: integer, format: int64}
            parent: {$ref: "#/components/schemas/Pet"}
    Dog: {type: object, properties: {barks: {type: boolean}}}
    Cat: {type: object, properties: {purrs: {type: boolean}}}
"""


def big_spec(operations):
    paths = {}
    for i in range(operations // 2):
        paths[f"/things{i}/{{id}}"] = {
            method: {
                "operationId": f"{method}Thing{i}",
                "summary": f"{method} thing number {i}",
                "tags": [f"group{i % 20}"],
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}}},
            }
            for method in ("get", "put")
        }
    return json.dumps({
        "openapi": "3.0.3",
        "info": {"title": "Big", "version": "1"},
        "paths": paths,
        "components": {"schemas": {"Thing": {"type": "object", "properties": {f"field{i}": {"type": "string"} for i in range(30)}}}},
    })


class PortalBrowserTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        os.makedirs(ARTIFACTS, exist_ok=True)
        cls.folder = tempfile.mkdtemp(prefix="portico-portal-")
        cls.upstream = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
        threading.Thread(target=cls.upstream.serve_forever, daemon=True).start()
        with open(os.path.join(cls.folder, "pets.yaml"), "w") as f:
            f.write(PETS_SPEC)
        with open(os.path.join(cls.folder, "big.json"), "w") as f:
            f.write(big_spec(500))
        # The 4 MB, 420-operation, 1,000-schema document of the benchmarks.
        subprocess.run([sys.executable, os.path.join(ROOT, "bench", "gen-openapi.py"), os.path.join(cls.folder, "large")],
                       check=True, stdout=subprocess.DEVNULL)
        config = f"""
listen: 127.0.0.1:0
admin: {{listen: 127.0.0.1:0, token: admin-token-0123456789abcdef012345}}
store: {{sqlite: {cls.folder}/portico.sqlite}}
auth:
  keys: {{type: api-key, header: X-API-Key}}
plans:
  free: {{rate: 50/s, quota: 1000/day}}
portal:
  path: /portal
  title: Browser Test APIs
  signup: open
  plan: free
upstreams:
  pets: {{targets: [{{url: "http://127.0.0.1:{cls.upstream.server_address[1]}"}}]}}
apis:
  - name: pets
    version: v1
    base-path: /pets-api
    upstream: pets
    openapi: pets.yaml
    auth: [keys]
  - name: big
    base-path: /big
    upstream: pets
    openapi: big.json
  - name: large
    base-path: /large
    upstream: mock
    openapi: large/large.yaml
"""
        with open(os.path.join(cls.folder, "gateway.yaml"), "w") as f:
            f.write(config)
        cls.log = open(os.path.join(ARTIFACTS, "portico.log"), "w")
        cls.gateway = subprocess.Popen([BINARY, "serve", "--config", os.path.join(cls.folder, "gateway.yaml")], stdout=cls.log, stderr=subprocess.STDOUT)
        ports = wait_until_ready(cls.gateway, cls.log.name, listeners=("gateway", "admin"))
        cls.port, cls.admin_port = ports["gateway"], ports["admin"]
        cls.base = f"http://127.0.0.1:{cls.port}"
        options = webdriver.ChromeOptions()
        for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,900"):
            options.add_argument(argument)
        options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
        cls.driver = webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=options)
        cls.wait = WebDriverWait(cls.driver, 10)

    @classmethod
    def tearDownClass(cls):
        try:
            cls.driver.quit()
        finally:
            cls.gateway.send_signal(signal.SIGTERM)
            try:
                cls.gateway.wait(timeout=15)
            except subprocess.TimeoutExpired:
                cls.gateway.kill()
            cls.upstream.shutdown()
            cls.log.close()
            shutil.rmtree(cls.folder, ignore_errors=True)

    def shot(self, name):
        self.driver.save_screenshot(os.path.join(ARTIFACTS, name + ".png"))

    def view(self, name):
        self.wait.until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-view") == name)

    def text(self, css):
        return self.driver.find_element(By.CSS_SELECTOR, css).text

    def test_1_catalog(self):
        self.driver.get(self.base + "/portal/")
        self.wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "section.cards article")))
        titles = [e.text for e in self.driver.find_elements(By.CSS_SELECTOR, "section.cards article h2")]
        self.assertEqual(titles, ["Pets", "Big", "Large API"])
        self.assertIn("Browser Test APIs", self.driver.title)
        # Landmarks and labels.
        for selector in ("header[role=banner]", "main#main", "nav[aria-label=Portal]", "form[role=search]", "label[for=search]"):
            self.assertTrue(self.driver.find_elements(By.CSS_SELECTOR, selector), selector)
        self.shot("catalog")

    def test_2_deep_link_and_safe_markdown(self):
        self.driver.get(self.base + "/portal/#/apis/pets/v1/operations/getPet")
        self.view("operation")
        self.assertEqual(self.text("main h1"), "Find a pet by id")
        self.assertEqual(self.driver.find_element(By.CSS_SELECTOR, "#sidebar a[aria-current=page]").get_attribute("data-op"), "getPet")
        main = self.text("main")
        self.assertIn("/pets-api/pets/{petId}", main)
        self.assertIn("an API key in the X-API-Key header", main)
        self.assertIn("parent", main)  # Pet = allOf(NewPet, {id, parent}); parent is recursive
        self.assertIn("recursive", main)
        self.assertIn("all of NewPet", main)
        # The schema page by deep link: oneOf shown as options.
        self.driver.get(self.base + "/portal/#/apis/pets/v1/schemas/NewPet")
        self.view("schema")
        self.assertIn("exactly one of", self.text("main"))
        # The API's description: Markdown rendered, its HTML shown as text and never run.
        self.driver.get(self.base + "/portal/#/apis/pets/v1")
        self.view("index")
        main = self.driver.find_element(By.ID, "main")
        self.assertEqual(main.find_element(By.CSS_SELECTOR, "strong").text, "you")
        # Inline HTML passes the allow-list: <p> and <code> render, script and handlers do not.
        self.assertEqual(len(main.find_elements(By.XPATH, ".//p/code[text()='petId']")), 1)
        self.assertNotIn("<p>", main.text)
        self.assertNotIn("<script>", main.text)
        self.assertEqual(len(main.find_elements(By.CSS_SELECTOR, "script, [onerror]")), 0)
        traps = [a.get_attribute("href") for a in main.find_elements(By.XPATH, ".//a[contains(., 'trap') or contains(., 'another')]")]
        self.assertEqual(traps, [None, None])
        self.assertIsNone(self.driver.execute_script("return window.injected"))
        self.shot("operation-index")

    def test_3_search(self):
        self.driver.get(self.base + "/portal/#/")
        self.wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "section.cards article")))
        self.driver.find_element(By.TAG_NAME, "body").send_keys("/")
        search = self.driver.switch_to.active_element
        self.assertEqual(search.get_attribute("id"), "search")
        search.send_keys("ownerName")
        self.wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#search-results a"))
        first = self.driver.find_element(By.CSS_SELECTOR, "#search-results a")
        self.assertIn("ownerName", first.text)
        self.shot("search")
        search.send_keys(Keys.ARROW_DOWN, Keys.ENTER)
        self.view("operation")
        self.assertEqual(self.text("main h1"), "Find a pet by id")
        # Schemas are found too.
        self.driver.find_element(By.TAG_NAME, "body").send_keys("/")
        search = self.driver.switch_to.active_element
        search.send_keys("NewPet")
        self.wait.until(lambda d: "schema" in d.find_element(By.CSS_SELECTOR, "#search-results").text)

    def test_4_signup_app_key_try_it_and_usage(self):
        driver = self.driver
        driver.get(self.base + "/portal/#/signup")
        self.wait.until(EC.presence_of_element_located((By.ID, "email")))
        driver.find_element(By.ID, "email").send_keys("dev+browser@example.com")
        driver.find_element(By.ID, "password").send_keys("correct horse battery")
        driver.find_element(By.ID, "account-submit").click()
        self.wait.until(EC.presence_of_element_located((By.ID, "app-form")))
        session = [c for c in driver.get_cookies() if c["name"] == "portico_session"][0]
        self.assertTrue(session["httpOnly"])
        self.assertEqual(session["sameSite"], "Strict")
        self.assertIsNone(driver.execute_script("return document.cookie.match(/portico_session/)"))
        driver.find_element(By.ID, "app-name").send_keys("My app")
        driver.find_element(By.ID, "app-description").send_keys("Tries things")
        driver.find_element(By.ID, "app-create").click()
        self.wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "button[data-new-key]"))).click()
        key = self.wait.until(EC.presence_of_element_located((By.ID, "new-key"))).text
        self.assertTrue(key.startswith("ptk_"), key)
        self.shot("key-created")
        # Shown once: the list afterwards holds the prefix only.
        driver.get(self.base + "/portal/#/dashboard")
        driver.get(self.base + "/portal/#/apps")
        self.wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "button[data-rotate]")))
        self.assertNotIn(key, driver.page_source)
        self.assertIn(key[:12], driver.page_source)
        # Leaving the dashboard before its answers arrive (held back here for 600 ms): they must
        # not paint over the page that replaced it.
        driver.execute_script("""
            window.realFetch = window.fetch;
            window.fetch = (url, options) => String(url).includes("/api/me/")
                ? new Promise((resolve) => setTimeout(resolve, 600)).then(() => window.realFetch(url, options))
                : window.realFetch(url, options);
            location.hash = "#/dashboard";""")
        self.wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "#main h1").text == "Your usage")
        driver.execute_script("location.hash = '#/apps';")
        self.wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "button[data-rotate]")))
        time.sleep(1)
        self.assertEqual(driver.find_element(By.CSS_SELECTOR, "#main h1").text, "Apps & keys")
        self.assertTrue(driver.find_elements(By.CSS_SELECTOR, "button[data-rotate]"))
        driver.execute_script("window.fetch = window.realFetch;")

        # Try it, with the key the portal filled in.
        driver.get(self.base + "/portal/#/apis/pets/v1/operations/getPet")
        self.view("operation")
        self.assertEqual(driver.find_element(By.ID, "try-key").get_attribute("value"), key)
        sample = self.text("#sample")
        self.assertIn("curl -i -X GET", sample)
        self.assertIn("/pets-api/pets/7", sample)
        for tab, needle in (("JavaScript", "await fetch("), ("Python", "requests.request("), ("Swift", "URLSession.shared")):
            driver.find_element(By.CSS_SELECTOR, f".tabs [data-lang={tab}]").click()
            self.assertIn(needle, self.text("#sample"))
            self.assertIn(key, self.text("#sample"))
        driver.find_element(By.ID, "try-send").click()
        status = self.wait.until(EC.presence_of_element_located((By.ID, "try-status")))
        self.assertTrue(status.text.startswith("200"), status.text)
        headers = {row.find_elements(By.TAG_NAME, "td")[0].text.lower(): row.find_elements(By.TAG_NAME, "td")[1].text
                   for row in driver.find_elements(By.CSS_SELECTOR, "#try-headers tr")}
        self.assertIn("ratelimit", headers)
        self.assertIn("x-request-id", headers)
        self.assertIn('"/pets/7"', self.text("#try-body-out"))
        request_id = headers["x-request-id"]
        self.shot("try-it")

        # The dashboard shows that call (the call log writes every 100 ms).
        deadline = time.time() + 10
        while True:
            driver.get(self.base + "/portal/#/apps")
            driver.get(self.base + "/portal/#/dashboard")
            try:
                self.wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#dash .kpis")))
                if request_id in self.text("#dash"):
                    break
            except Exception:
                pass
            if time.time() > deadline:
                self.fail("the try-it call never showed in the dashboard")
            time.sleep(0.5)
        self.assertTrue(driver.find_elements(By.CSS_SELECTOR, "#dash svg.chart path.line"))
        self.assertIn("free", self.text("#dash"))
        self.assertIn("/ 1000", self.text("#quota"))
        self.shot("dashboard")
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": "dark"}]})
        self.shot("dashboard-dark")
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})

    def test_5_large_spec_first_render(self):
        self.driver.get("about:blank")
        self.driver.get(self.base + "/portal/#/apis/big/-")
        self.view("index")
        rendered = self.driver.execute_script("return window.porticoFirstRender")
        rows = len(self.driver.find_elements(By.CSS_SELECTOR, "main table tr"))
        self.assertEqual(rows, 500)
        print(f"\n500-operation spec: first render {rendered:.0f} ms after navigation start", file=sys.stderr)
        self.assertLess(rendered, 1000)
        self.shot("large-spec")

    def test_5b_largest_operation_renders_fast(self):
        # The generated document's largest operation: a response of 1,000 schemas, one property each.
        self.driver.get(self.base + "/portal/#/apis/large/-")
        self.view("index")
        times = []
        for attempt in range(3):
            self.driver.execute_script("location.hash = '#/apis/large/-'")
            self.wait.until(lambda d: d.execute_script("return (window.porticoLastRender || {}).hash") == "#/apis/large/-")
            self.driver.execute_script("location.hash = '#/apis/large/-/operations/getResource0'")
            self.wait.until(lambda d: d.execute_script("return (window.porticoLastRender || {}).hash") == "#/apis/large/-/operations/getResource0")
            times.append(self.driver.execute_script("return window.porticoLastRender.ms"))
        shown = len(self.driver.find_elements(By.CSS_SELECTOR, "main details.ref"))
        print(f"\nlargest operation (1,000 schemas): rendered in {', '.join(f'{t:.0f}' for t in times)} ms", file=sys.stderr)
        self.assertLess(min(times), 500)
        # Schemas are sent once, by name, and drawn when opened; long lists show their start.
        self.assertGreater(shown, 10)
        self.assertLessEqual(len(self.driver.find_elements(By.CSS_SELECTOR, "main ul.schema > li")), 200)
        more = self.driver.find_element(By.CSS_SELECTOR, "main button.more")
        self.assertIn("950 more properties", more.text)
        first = self.driver.find_element(By.CSS_SELECTOR, "main details.ref")
        first.find_element(By.TAG_NAME, "summary").click()
        self.wait.until(lambda d: first.find_elements(By.CSS_SELECTOR, ".ref-body ul.schema li"))
        self.assertIn("currency", first.text)
        # Titles: the summary, else a readable method and path; tags group the sidebar.
        self.assertEqual(self.text("main h1"), "Get resource0 by id")
        self.shot("largest-operation")

    def test_6_budget_csrf_and_approval(self):
        # The pages' JavaScript and CSS, gzipped, stay within 60 KB.
        folder = os.path.join(ROOT, "Sources", "PorticoDevPortal", "Pages")
        size = sum(len(gzip.compress(read(os.path.join(folder, name), "rb"), 9))
                   for name in os.listdir(folder) if name.endswith((".js", ".css")))
        print(f"\nportal JavaScript and CSS: {size} bytes gzipped", file=sys.stderr)
        self.assertLessEqual(size, 60 * 1024)

        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

        def call(method, path, body=None, csrf=None, origin=None, admin=False):
            base = f"http://127.0.0.1:{self.admin_port}" if admin else self.base + "/portal/api/"
            request = urllib.request.Request(base + path, method=method, data=None if body is None else json.dumps(body).encode())
            request.add_header("Content-Type", "application/json")
            if csrf:
                request.add_header("X-CSRF-Token", csrf)
            if origin:
                request.add_header("Origin", origin)
            if admin:
                request.add_header("Authorization", "Bearer admin-token-0123456789abcdef012345")
            try:
                with opener.open(request) as response:
                    return response.status, json.loads(response.read() or b"null")
            except urllib.error.HTTPError as error:
                return error.code, json.loads(error.read() or b"null")

        anonymous = call("GET", "session")[1]
        credentials = {"email": "approval@example.com", "password": "long enough pw"}
        # No token, a wrong one, and another site's Origin are all refused; nothing is created.
        self.assertEqual(call("POST", "signup", credentials)[0], 403)
        self.assertEqual(call("POST", "signup", credentials, csrf="x" * 43)[0], 403)
        self.assertEqual(call("POST", "signup", credentials, csrf=anonymous["csrf"], origin="http://evil.example")[0], 403)
        self.assertEqual(call("POST", "signin", credentials, csrf=anonymous["csrf"])[0], 403)  # no such account
        status, accepted = call("POST", "signup", credentials, csrf=anonymous["csrf"])
        self.assertEqual(status, 202)
        # A second sign-up with the same email (and another password) answers exactly the same,
        # and does not touch the account: its password stays the first one.
        again = call("POST", "signup", {"email": credentials["email"], "password": "another password"}, csrf=anonymous["csrf"])
        self.assertEqual(again, (202, accepted))
        self.assertEqual(call("POST", "signin", {"email": credentials["email"], "password": "another password"}, csrf=anonymous["csrf"])[0], 403)
        status, session = call("POST", "signin", credentials, csrf=anonymous["csrf"])
        self.assertEqual(status, 200)
        # Signed in, the session's own token is needed; the anonymous one no longer works.
        self.assertEqual(call("POST", "apps", {"name": "a"}, csrf=anonymous["csrf"])[0], 403)

        # Turn on approval with a reload; a new app then waits for the operator.
        config_file = os.path.join(self.folder, "gateway.yaml")
        text = read(config_file)
        write(config_file, text.replace("signup: open", "signup: approval"))
        self.assertEqual(call("POST", "/admin/reload", admin=True)[0], 200)
        status, app = call("POST", "apps", {"name": "needs approval"}, csrf=session["csrf"])
        self.assertEqual((status, app["status"]), (201, "pending"))
        self.assertEqual(call("POST", f"apps/{app['id']}/keys", csrf=session["csrf"])[0], 409)
        pending = call("GET", "/admin/apps?status=pending", admin=True)[1]["apps"]
        self.assertEqual([a["id"] for a in pending], [app["id"]])
        self.assertEqual(call("POST", f"/admin/apps/{app['id']}/approve", admin=True)[1]["status"], "active")
        status, key = call("POST", f"apps/{app['id']}/keys", csrf=session["csrf"])
        self.assertEqual(status, 201)

        def pets(with_key):
            try:
                with urllib.request.urlopen(urllib.request.Request(self.base + "/pets-api/pets/1", headers={"X-API-Key": with_key})) as r:
                    return r.status
            except urllib.error.HTTPError as error:
                return error.code

        self.assertEqual(pets(key["key"]), 200)
        # Rotation: the new key works at once; revoking the app refuses its keys.
        status, rotated = call("POST", f"apps/{app['id']}/keys/{key['id']}/rotate", {"grace": "0s"}, csrf=session["csrf"])
        self.assertEqual(status, 201)
        self.assertEqual(pets(rotated["key"]), 200)
        self.assertEqual(call("POST", f"/admin/apps/{app['id']}/revoke", admin=True)[1]["status"], "revoked")
        self.assertEqual(pets(rotated["key"]), 401)
        # Signing out ends the session on the server.
        self.assertEqual(call("POST", "signout", csrf=session["csrf"])[0], 200)
        self.assertEqual(call("GET", "apps")[0], 403)
        write(config_file, text)
        self.assertEqual(call("POST", "/admin/reload", admin=True)[0], 200)


if __name__ == "__main__":
    unittest.main(verbosity=2)
