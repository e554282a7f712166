"""Headless Chromium driven through the DevTools protocol over a pipe (--remote-debugging-pipe):
no port is opened, nothing leaves the machine. Enough of the protocol to load a page, run
JavaScript in it, move the mouse and take a screenshot."""
import base64
import json
import os
import shutil
import subprocess
import time


def find_chromium():
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


class Browser:
    """One headless browser with one page; a context manager that closes it."""

    def __init__(self, profile, width=1400, height=1000, chromium=None, offline=False):
        chromium = chromium or find_chromium()
        if chromium is None:
            raise FileNotFoundError("chromium is not installed")
        to_browser, self._in = os.pipe()     # the browser reads commands on its fd 3
        self._out, from_browser = os.pipe()  # and writes answers on its fd 4

        def pipes_at_3_and_4():
            os.dup2(to_browser, 3)
            os.dup2(from_browser, 4)

        # offline: every request for another machine goes to a port nothing listens on.
        network = ["--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>"] if offline else []
        self.process = subprocess.Popen(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
             "--remote-debugging-pipe", f"--user-data-dir={profile}", f"--window-size={width},{height}",
             *network, "about:blank"],
            pass_fds=(3, 4, to_browser, from_browser), preexec_fn=pipes_at_3_and_4,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_browser)
        os.close(from_browser)
        self._buffer, self._next, self.session = b"", 0, None
        self.width, self.height = width, height
        target = self.call("Target.createTarget", browser=True, url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", browser=True, targetId=target, flatten=True)["sessionId"]
        self.call("Page.enable")
        self.call("Runtime.enable")
        self.errors = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        try:
            self.call("Browser.close", browser=True)
        except (OSError, RuntimeError):
            pass
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._in)
        os.close(self._out)

    def _message(self):
        while b"\0" not in self._buffer:
            chunk = os.read(self._out, 1 << 16)
            if not chunk:
                raise RuntimeError("the browser closed the pipe")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def call(self, method, browser=False, **params):
        """Sends one command and returns its result; events that arrive meanwhile are looked at for errors."""
        self._next += 1
        message = {"id": self._next, "method": method, "params": params}
        if self.session and not browser:
            message["sessionId"] = self.session
        os.write(self._in, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._message()
            if reply.get("id") == self._next:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error'].get('message')}")
                return reply.get("result", {})
            if reply.get("method") == "Runtime.exceptionThrown":
                self.errors.append(reply["params"]["exceptionDetails"].get("exception", {}).get("description", "?"))

    def open(self, url):
        self.call("Page.navigate", url=url)

    def js(self, expression):
        """The value of a JavaScript expression (promises awaited)."""
        result = self.call("Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression[:80]}: {result['exceptionDetails'].get('text')} "
                               f"{result['exceptionDetails'].get('exception', {}).get('description', '')}")
        return result["result"].get("value")

    def wait_for(self, expression, timeout=60):
        """Waits until a JavaScript expression is truthy; returns its value."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            value = self.js(expression)
            if value:
                return value
            time.sleep(0.1)
        raise TimeoutError(f"not true within {timeout} s: {expression}")

    def mouse_move(self, x, y):
        self.call("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y)

    def click(self, x, y):
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)

    def click_element(self, expression):
        """Clicks the middle of the element a JavaScript expression names (scrolled into view first)."""
        box = self.js(f"(function () {{ var e = {expression}; e.scrollIntoView({{block: 'center'}});"
                      " var r = e.getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; })()")
        self.click(*box)

    def screenshot(self, path):
        data = self.call("Page.captureScreenshot", format="png")["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))
