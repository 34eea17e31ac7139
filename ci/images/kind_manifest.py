"""Print a manifest constant of kind's node-image build, with its image constants swapped.

kind keeps its default manifests as Go raw strings joined with image constants, e.g.
``image: ` + storageHelperImage + ` ``. Usage:
    kind_manifest.py GO_FILE CONSTANT NAME=VALUE...
"""

import re
import sys


def extract(source: str, constant: str, values: dict[str, str]) -> str:
    match = re.search(rf"const {constant} = `((?:[^`]|` \+ \w+ \+ `)*)`", source)
    if match is None:
        raise SystemExit(f"kind_manifest: no raw-string constant {constant}")
    body = match.group(1)

    def substitute(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in values:
            raise SystemExit(f"kind_manifest: no value given for {name}")
        return values[name]

    return re.sub(r"` \+ (\w+) \+ `", substitute, body)


def main() -> None:
    path, constant, *pairs = sys.argv[1:]
    values = dict(pair.split("=", 1) for pair in pairs)
    with open(path, encoding="utf-8") as f:
        sys.stdout.write(extract(f.read(), constant, values))


if __name__ == "__main__":
    main()
