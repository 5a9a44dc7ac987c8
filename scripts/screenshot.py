#!/usr/bin/env python3
"""Signs in to a Device Manager with headless Chromium and saves a device's page as a PNG.

    python3 scripts/screenshot.py URL PASSWORD DEVICE OUT.png [--period SECONDS]

Drives Debian's chromedriver over the W3C WebDriver protocol (JSON over HTTP) with the
standard library alone. Chromium runs as root here, so it needs --no-sandbox
(../shared/RECIPES.md). Waits for the device's Store table and for every chart to be
drawn before the picture is taken. Exits 1 with a line on stderr when something is not
there within the time limit.
"""
import base64
import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Driver:
    def __init__(self):
        self.port = free_port()
        self.proc = subprocess.Popen(["/usr/bin/chromedriver", f"--port={self.port}"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 30
        while True:
            try:
                self.call("GET", "/status")
                break
            except (urllib.error.URLError, ConnectionError):
                if time.time() > deadline:
                    raise SystemExit("screenshot: chromedriver did not start")
                time.sleep(0.1)
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--window-size=1280,900", "--lang=en-US"]}}}}
        self.session = self.call("POST", "/session", caps)["sessionId"]

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=120) as reply:
            return json.loads(reply.read()).get("value")

    def command(self, method, path, body=None):
        return self.call(method, f"/session/{self.session}{path}", body)

    def script(self, code):
        return self.command("POST", "/execute/sync", {"script": code, "args": []})

    def wait_until(self, code, what, limit=30):
        deadline = time.time() + limit
        while not self.script(code):
            if time.time() > deadline:
                raise SystemExit(f"screenshot: {what} did not happen within {limit} s")
            time.sleep(0.1)

    def element(self, css):
        found = self.command("POST", "/element", {"using": "css selector", "value": css})
        return next(iter(found.values()))

    def close(self):
        try:
            self.command("DELETE", "")
        finally:
            self.proc.terminate()
            self.proc.wait(timeout=30)


def main():
    args = sys.argv[1:]
    period = None
    if "--period" in args:
        i = args.index("--period")
        period = args[i + 1]
        del args[i:i + 2]
    if len(args) != 4:
        raise SystemExit(__doc__.strip().splitlines()[2].strip())
    url, password, device, out = args
    url = url.rstrip("/")
    driver = Driver()
    try:
        driver.command("POST", "/url", {"url": url + "/login"})
        driver.wait_until("return !!document.getElementById('password');", "the login page")
        driver.command("POST", f"/element/{driver.element('#password')}/value", {"text": password})
        driver.command("POST", f"/element/{driver.element('#login-button')}/click", {})
        driver.wait_until("return location.pathname === '/' && !!document.querySelector('tr[data-device]');",
                          "signing in (is the password right?)")
        driver.command("POST", "/url", {"url": f"{url}/#/device/{device}"})
        driver.wait_until("return !!document.querySelector('#store-table tr[data-key]');", "the device's Store")
        if period:
            driver.script("document.querySelectorAll('canvas[data-metric]').forEach((c) => delete c.dataset.drawn);"
                          f"const s = document.getElementById('period'); s.value = '{period}';"
                          "s.dispatchEvent(new Event('change')); return true;")
        driver.wait_until("const c = [...document.querySelectorAll('canvas[data-metric]')];"
                          "return c.length > 0 && c.every((x) => Number(x.dataset.drawn) >= 1);",
                          "the metric charts")
        time.sleep(0.5)  # Chart.js animates the first drawing; the picture is taken after it
        with open(out, "wb") as f:
            f.write(base64.b64decode(driver.command("GET", "/screenshot")))
    finally:
        driver.close()


if __name__ == "__main__":
    main()
