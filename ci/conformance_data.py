"""suites/conformance.yaml: the entries of Kubernetes' conformance list that the catalogue
names as a claim's basis, copied from the release's own file.

    python ci/conformance_data.py [VERSION] [--check]

VERSION (default: ci/images/versions.env's KUBERNETES_VERSION) is a tag of
k8s.io/kubernetes; its module comes from the Go module proxy of this machine's Go
settings (GOPROXY), and its test/conformance/testdata/conformance.yaml is read. A testname
the catalogue names that the file lacks is an error (one line, exit 1). --check exits 1
when suites/conformance.yaml is not what this would write from the same release.
"""

import argparse
import hashlib
import json
import re
import sys
import tempfile
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tutorial_conformance.toolkit.catalogue import (  # noqa: E402 - after the path is set
    CONFORMANCE,
    load_catalogue,
)
from tutorial_conformance.toolkit.commands import CommandError, run  # noqa: E402
from tutorial_conformance.toolkit.timeouts import TIMEOUTS  # noqa: E402

LIST = "test/conformance/testdata/conformance.yaml"
FIELDS = ("testname", "codename", "release", "file")


def default_version() -> str:
    text = (REPO / "ci" / "images" / "versions.env").read_text(encoding="utf-8")
    match = re.search(r'^KUBERNETES_VERSION="\$\{KUBERNETES_VERSION:-(v[^}]+)\}"', text, re.M)
    if not match:
        raise SystemExit("conformance_data: ci/images/versions.env names no KUBERNETES_VERSION")
    return match.group(1)


def release_list(version: str) -> bytes:
    with tempfile.TemporaryDirectory() as work:
        try:
            out = run(["go", "mod", "download", "-json", f"k8s.io/kubernetes@{version}"],
                      cwd=work, timeout=TIMEOUTS.kind_create, check=False)
        except (CommandError, FileNotFoundError) as err:
            raise SystemExit(f"conformance_data: go mod download: {err}") from None
    info = json.loads(out.stdout or "{}")
    if info.get("Error") or not info.get("Dir"):
        raise SystemExit(f"conformance_data: k8s.io/kubernetes@{version} is not served: "
                         f"{info.get('Error') or out.stderr.strip()}")
    return (Path(info["Dir"]) / LIST).read_bytes()


def render(version: str, data: bytes) -> str:
    by_name = {e["testname"]: e for e in yaml.safe_load(data)}
    named: list[str] = []
    for claim in load_catalogue().claims.values():
        if claim.basis and claim.basis.kind == "conformance":
            named += [r for r in claim.basis.refs if r not in named]
    missing = [n for n in named if n not in by_name]
    if missing:
        raise SystemExit(f"conformance_data: {LIST} of {version} has no test named "
                         f"{', '.join(map(repr, missing))}")
    digest = hashlib.sha256(data).hexdigest()
    header = (
        "# The entries of Kubernetes' conformance list that suites/claims.yaml names as a\n"
        f"# claim's basis, copied from {LIST}\n"
        f"# of k8s.io/kubernetes@{version} (the {version} tag, from the Go module proxy).\n"
        "# Written by ci/conformance_data.py; tests/test_basis.py fails on a testname a\n"
        "# claim names that is not here.\n")
    body = {"source": {"module": "k8s.io/kubernetes", "version": version, "path": LIST,
                       "sha256": digest},
            "tests": [{k: by_name[n][k] for k in FIELDS} for n in named]}
    return header + yaml.safe_dump(body, sort_keys=False, width=100, allow_unicode=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("version", nargs="?", help="a k8s.io/kubernetes tag (v1.37.2)")
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    version = args.version or default_version()
    if not re.fullmatch(r"v\d+\.\d+\.\d+(-[0-9A-Za-z.]+)?", version):
        print(f"conformance_data: {version!r} is not a version (v1.37.2)", file=sys.stderr)
        return 2
    text = render(version, release_list(version))
    if args.check:
        if CONFORMANCE.read_text(encoding="utf-8") != text:
            print(f"conformance_data: {CONFORMANCE} is not current: run "
                  f"python ci/conformance_data.py {version}", file=sys.stderr)
            return 1
        return 0
    CONFORMANCE.write_text(text, encoding="utf-8")
    print(f"{CONFORMANCE}: {text.count('- testname:')} tests from k8s.io/kubernetes@{version}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
