"""Pages as a reviewer sees them: rendered by Debian's headless Chromium.

A directory is served on 127.0.0.1; a harness page opens each page in turn in a frame of
the window's size, waits (bounded) until the text it expects is rendered, and posts what
the reviewer would read back to the server. An image of the harness is held until then,
so Chromium takes its screenshot of the last page only when that page is rendered.
"""

import functools
import json
import secrets
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tutorial_conformance.toolkit.commands import CommandTimeout, run

PAGE_TIMEOUT_S = 20  # how long one page may take to show what is expected

HARNESS = """<!DOCTYPE html><html><head><meta charset="utf-8"><style>
body { margin: 0 } iframe { border: 0; width: 100vw; height: 100vh; display: block }
</style></head><body><iframe id="frame"></iframe>
<img src="/__hold__?token=TOKEN" alt="" style="display:none">
<script>
const pages = PAGES;
const frame = document.getElementById("frame");
const normal = (s) => s.replace(/\\s+/g, " ").toLowerCase();
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
async function visit(page) {
  frame.src = page.url;
  const started = Date.now();
  let text = "";
  while (true) {
    await pause(100);
    const doc = frame.contentDocument;
    text = doc && doc.body ? normal(doc.body.innerText) : "";
    const complete = page.expect.every((s) => text.includes(s));
    if (complete || Date.now() - started > TIMEOUT) {
      const rows = {};
      for (const row of doc ? doc.querySelectorAll("tr[id]") : []) {
        rows[row.id] = Array.from(row.cells, (c) => normal(c.innerText));
      }
      return {text, complete, rows};
    }
  }
}
(async () => {
  const seen = {};
  for (const page of pages) seen[page.key] = await visit(page);
  await fetch("/__results__?token=TOKEN", {method: "POST", body: JSON.stringify(seen)});
})();
</script></body></html>"""


def normal(text: str) -> str:
    """Text as the harness compares it: whitespace collapsed, lower case."""
    return " ".join(text.split()).lower()


@dataclass(frozen=True)
class Page:
    key: str
    url: str  # relative to the served directory
    expect: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Seen:
    text: str
    complete: bool  # everything expected was rendered within PAGE_TIMEOUT_S
    rows: dict[str, list[str]]  # table rows with an id: the text of each cell


def chromium() -> str | None:
    return shutil.which("chromium")


class _Server(ThreadingHTTPServer):
    harness: bytes
    token: str
    timeout_s: float
    results: bytes | None = None
    done: threading.Event


class _Handler(SimpleHTTPRequestHandler):
    server: _Server

    def log_message(self, *args: object) -> None:  # keep the test output clean
        pass

    def _send(self, body: bytes, kind: str, status: int = 200) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path == f"/__harness__.html?token={self.server.token}":
            self._send(self.server.harness, "text/html; charset=utf-8")
        elif self.path == f"/__hold__?token={self.server.token}":
            self.server.done.wait(self.server.timeout_s)
            self._send(b"", "image/gif", 204)
        else:
            super().do_GET()

    def do_POST(self) -> None:
        if self.path != f"/__results__?token={self.server.token}":
            self._send(b"", "text/plain", 404)
            return
        self.server.results = self.rfile.read(int(self.headers["Content-Length"]))
        self._send(b"", "text/plain", 204)
        self.server.done.set()


def render(root: Path, pages: list[Page], screenshot: Path) -> dict[str, Seen]:
    """Opens each page of `root` in Chromium; the screenshot shows the last one."""
    binary = chromium()
    if binary is None:
        raise RuntimeError("chromium is not installed (bash ci/install-browser.sh)")
    token = secrets.token_hex(8)
    handler = functools.partial(_Handler, directory=str(root))
    server = _Server(("127.0.0.1", 0), handler)
    server.token, server.done = token, threading.Event()
    server.timeout_s = 60 + PAGE_TIMEOUT_S * len(pages)  # the bound of the whole run
    spec = [{"key": p.key, "url": p.url, "expect": [normal(e) for e in p.expect]} for p in pages]
    server.harness = (  # the pages last: their text is anybody's
        HARNESS.replace("TOKEN", token).replace("TIMEOUT", str(PAGE_TIMEOUT_S * 1000))
        .replace("PAGES", json.dumps(spec).replace("</", "<\\/")).encode()
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    try:
        with tempfile.TemporaryDirectory() as profile:
            proc = run(
                [binary, "--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-dev-shm-usage",
                 "--no-first-run", "--hide-scrollbars", f"--user-data-dir={profile}",
                 "--window-size=1400,1000", f"--screenshot={screenshot}",
                 f"http://127.0.0.1:{server.server_port}/__harness__.html?token={token}"],
                timeout=server.timeout_s + 30, check=False,
            )
    except CommandTimeout:
        raise RuntimeError(f"chromium did not finish within {server.timeout_s + 30} s") from None
    finally:
        server.done.set()
        server.shutdown()
        server.server_close()
    if server.results is None:
        tail = "\n".join(proc.stderr.strip().splitlines()[-5:])
        raise RuntimeError(f"chromium exited {proc.returncode} before the pages were read:\n{tail}")
    seen = json.loads(server.results)
    return {key: Seen(v["text"], v["complete"], v["rows"]) for key, v in seen.items()}
