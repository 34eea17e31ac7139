"""The extractor that reads kind's default storage manifest out of kind's Go source."""

import importlib.util
from pathlib import Path

spec = importlib.util.spec_from_file_location(
    "kind_manifest", Path(__file__).parent.parent / "ci" / "images" / "kind_manifest.py"
)
kind_manifest = importlib.util.module_from_spec(spec)
spec.loader.exec_module(kind_manifest)

GO_SOURCE = '''package nodeimage

const helper = "docker.io/kindest/helper:v1"

const manifest = `
image: ` + helper + `
args: [` + helper + `]
`
'''


def test_constants_joined_into_the_raw_string_are_substituted():
    out = kind_manifest.extract(GO_SOURCE, "manifest", {"helper": "tutorial-suite/helper:1"})
    assert out == "\nimage: tutorial-suite/helper:1\nargs: [tutorial-suite/helper:1]\n"


def test_an_unknown_constant_is_an_error():
    try:
        kind_manifest.extract(GO_SOURCE, "nope", {})
    except SystemExit as exc:
        assert "no raw-string constant nope" in str(exc)
    else:
        raise AssertionError("extract accepted a missing constant")


def test_a_constant_without_a_value_is_an_error():
    try:
        kind_manifest.extract(GO_SOURCE, "manifest", {})
    except SystemExit as exc:
        assert "no value given for helper" in str(exc)
    else:
        raise AssertionError("extract left an image constant unresolved")
