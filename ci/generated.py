"""The command line of a script that writes a generated file of the repository: write it,
or with --check exit 1 when the file is not what the script would write."""

import argparse
import inspect
import sys
from collections.abc import Callable
from pathlib import Path


def generated_main(doc: str, default: Path, render: Callable[[], str],
                   argv: list[str] | None = None) -> int:
    script = Path(inspect.getfile(render)).name  # the generating script, however it is run
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, default=default)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.is_file() else ""
        if current != text:
            print(f"{script}: {args.output} is stale: run python ci/{script}", file=sys.stderr)
            return 1
        return 0
    args.output.write_text(text, encoding="utf-8")
    print(f"{script}: wrote {args.output}")
    return 0
