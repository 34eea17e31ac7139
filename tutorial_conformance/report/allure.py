"""The Allure report of a run: Allure 3 (npm `allure`, pinned), installed on first use into
$SUITE_CACHE/npm with the machine's npm (and its registry settings), makes one
self-contained index.html that opens from file://, with the cluster's versions."""

import json
import shutil
from pathlib import Path

from tutorial_conformance.toolkit.commands import CommandError, run
from tutorial_conformance.toolkit.timeouts import TIMEOUTS
from tutorial_conformance.toolkit.toolchain import SUITE_CACHE

ALLURE_VERSION = "3.18.0"
CONFIG = Path(__file__).with_name("allurerc.mjs")
NAME = "Introduction to Kubernetes: conformance"


class ReportError(Exception):
    """The report cannot be made (one line saying why)."""


def allure_binary() -> Path:
    """Allure, installed into $SUITE_CACHE/npm where it is not there at its pinned version."""
    npm_dir = SUITE_CACHE / "npm"
    binary = npm_dir / "node_modules" / ".bin" / "allure"
    package = npm_dir / "node_modules" / "allure" / "package.json"
    if package.is_file() and json.loads(package.read_text())["version"] == ALLURE_VERSION:
        return binary
    if shutil.which("node") is None or shutil.which("npm") is None:
        raise ReportError("Node.js and npm are needed for the Allure report "
                          "(apt-get install nodejs npm)")
    npm_dir.mkdir(parents=True, exist_ok=True)
    print(f"[report] installing allure@{ALLURE_VERSION} into {npm_dir}", flush=True)
    try:
        run(["flock", str(npm_dir / ".lock"), "npm", "install", "--prefix", str(npm_dir),
             "--no-audit", "--no-fund", "--loglevel=error", f"allure@{ALLURE_VERSION}"],
            timeout=TIMEOUTS.kind_create)
    except CommandError as err:
        raise ReportError(f"npm could not install allure@{ALLURE_VERSION}: {err}") from None
    return binary


def generate(results: Path, html: Path) -> Path:
    """HTML of `results` (allure-results) into `html`; its index.html."""
    if not any(results.glob("*-result.json")):
        raise ReportError(f"no test results in {results} (run the suite with "
                          f"--alluredir={results} first)")
    if html.is_dir() and not (html / "index.html").is_file() and any(html.iterdir()):
        raise ReportError(f"{html} holds files but no report: refusing to replace it")
    name = NAME
    properties = results / "environment.properties"
    if properties.is_file():
        for line in properties.read_text().splitlines():
            if line.startswith("kubernetes.server="):
                name += f", Kubernetes {line.split('=', 1)[1]}"
    shutil.rmtree(html, ignore_errors=True)
    try:
        run([str(allure_binary()), "generate", "--config", str(CONFIG), "--report-name", name,
             "--output", str(html), str(results)], timeout=TIMEOUTS.kind_create)
    except CommandError as err:
        raise ReportError(f"allure could not generate the report from {results}: {err}") from None
    index = html / "index.html"
    if not index.is_file() or not index.stat().st_size:
        raise ReportError(f"allure wrote no {index}")
    return index
