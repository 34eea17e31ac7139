"""Helpers of ci/fault-demo.sh: which claims to demonstrate, and ci/FAULTS.md from the
results of their runs.

    python ci/fault_table.py claims                    # the testable claims with a fault
    python ci/fault_table.py check RESULTS_DIR CLAIM...  # exit 0 iff each was detected
    python ci/fault_table.py table RESULTS_DIR OUT.md COMMAND

The table holds every claim's latest result in RESULTS_DIR (a run of some claims only
updates theirs), with the time it was run.
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tutorial_conformance.faults import load  # noqa: E402 - after the path is set
from tutorial_conformance.toolkit.catalogue import load_catalogue  # noqa: E402


def claims_with_faults() -> list[str]:
    faults = load()
    return [c.id for c in load_catalogue().claims.values() if c.testable and c.id in faults]


def cell(text: str, limit: int = 220) -> str:
    text = " ".join(str(text).split())
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return text.replace("|", "\\|")


def outcome(claim: str, results: Path) -> dict:
    """What ci/fault-demo.sh recorded for a claim (the plugin's verdict and the run's)."""
    verdict_file, run_file = results / f"{claim}.json", results / f"{claim}.run.json"
    run = json.loads(run_file.read_text()) if run_file.exists() else {}
    if not verdict_file.exists():
        fault = load().get(claim)
        return {"claim": claim, "fault": fault.summary if fault else "(none)", "detected": False,
                "tests": [], "run": run,
                "missing": "no result (not run, or pytest stopped before the end; "
                f"see {results / (claim + '.log')})"}
    return json.loads(verdict_file.read_text()) | {"run": run}


def detected(found: dict) -> bool:
    return bool(found["detected"]) and found["run"].get("restored") == "yes"


def previous_rows(out: Path) -> dict[str, tuple[list[str], bool, list[bool]]]:
    """claim -> its rows in the table as it stands, whether it was detected there, and for
    each failed test whether its first line named the cause: kept for the claims this
    results directory has no run of (a machine that ran only some claims)."""
    found: dict[str, tuple[list[str], bool, list[bool]]] = {}
    if not out.is_file():
        return found
    current = None
    for line in out.read_text().splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) != 10 or not line.startswith("| "):
            current = None if not line.startswith("|") else current
            continue
        if cells[0].startswith("`") and cells[0].endswith("`"):
            current = cells[0].strip("`")
            found[current] = ([], cells[4] == "**yes**", [])
        if current is None:
            continue
        found[current][0].append(line)
        if cells[6] in ("yes", "**no**"):
            found[current][2].append(cells[6] == "yes")
    return found


def table(results: Path, out: Path, command: str) -> None:
    catalogue = load_catalogue()
    claims = claims_with_faults()
    kept = previous_rows(out)
    rows = []
    count, naming, firsts = 0, 0, 0
    for claim in claims:
        if not (results / f"{claim}.json").exists() and claim in kept:
            lines, was_detected, named_causes = kept[claim]
            rows += lines
            count += was_detected
            naming += sum(named_causes)
            firsts += len(named_causes)
            continue
        found = outcome(claim, results)
        count += detected(found)
        named_firsts = [t for t in found["tests"] if t.get("names_cause") is not None]
        naming += sum(bool(t["names_cause"]) for t in named_firsts)
        firsts += len(named_firsts)
        run = found["run"]
        restored = run.get("restored", "?")
        tests = found["tests"] or [{"nodeid": "-", "outcome": "not run", "message":
                                    found.get("missing", ""), "problems": []}]
        for index, test in enumerate(tests):
            name = test["nodeid"].split("::")[-1]
            message = test["message"] + "".join(f" [{p}]" for p in test["problems"])
            first = index == 0
            named = {True: "yes", False: "**no**", None: "-"}[test.get("names_cause")]
            how = found.get("declared") or "Python"
            how += f", {found['strikes']}" if found.get("strikes") else ""
            rows.append("| " + " | ".join([
                f"`{claim}`" if first else "",
                (cell(found["fault"], 400) + f" ({cell(how, 200)})") if first else "",
                f"`{cell(name, 120)}`",
                test["outcome"].upper(),
                ("**yes**" if detected(found) else "**NO**") if first else "",
                cell(message),
                named,
                f"{run.get('seconds', '?')} s" if first else "",
                run.get("date", "") if first else "",
                restored if first else "",
            ]) + " |")
        if found.get("untargeted"):
            names = ", ".join(f"`{t.split('::')[-1]}`" for t in found["untargeted"]["tests"])
            rows.append(f"| | | {names} | not targeted | | {cell(found['untargeted']['reason'])}"
                        " | | | | |")
    untestable = [f"| `{c.id}` | {cell(c.reason or '', 400)} |"
                  for c in catalogue.claims.values() if not c.testable]
    text = "\n".join([
        "# Fault injection: every testable claim's tests fail when the claim is false",
        "",
        "Generated by `bash ci/fault-demo.sh`: on a kind cluster of its own (`faults`), each "
        "claim's tests run with the claim's fault applied (`faults/catalogue.yaml`: a standard "
        "action, as data, or a Python fault), once the test's fixtures are up or at the step "
        "of the test it names; the fault is undone and the cluster checked healthy "
        "(`faults/health.py`) before the next. A claim is detected when every test it targets "
        "FAILED (a skip is no detection), the fault struck as planned, and the cluster was "
        "restored.",
        "",
        f"Result: **{count} of {len(claims)}** claims detected. The failure's first line "
        f"names the fault's cause (one of its `cause:` words in faults/catalogue.yaml) in "
        f"**{naming} of {firsts}** failed tests. A claim not run again keeps its row (its "
        "run column says when it ran).",
        "",
        "Command (per claim):",
        "",
        "```bash",
        command,
        "```",
        "",
        "| claim | fault (how) | test | outcome | detected | first line of the failure | names "
        "the cause | time | run | restored |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        *rows,
        "",
        "Time is the wall time of the claim's pytest run: cluster check, the test's own set-up "
        "and waits, the fault and its undoing.",
        "",
        "## Claims not testable (no test, so no fault)",
        "",
        "| claim | reason |",
        "| --- | --- |",
        *untestable,
        "",
    ])
    out.write_text(text)


def main(argv: list[str]) -> int:
    if argv[:1] == ["claims"]:
        print("\n".join(claims_with_faults()))
        return 0
    if argv[:1] == ["check"] and len(argv) >= 3:
        results = Path(argv[1])
        missed = [c for c in argv[2:] if not detected(outcome(c, results))]
        for claim in missed:
            print(f"NOT detected: {claim}", file=sys.stderr)
        # A detection whose first line does not name the cause is a message to mend.
        unnamed = [(c, t["nodeid"]) for c in argv[2:] for t in outcome(c, results)["tests"]
                   if t.get("names_cause") is False]
        for claim, test in unnamed:
            print(f"first line names no cause (faults/catalogue.yaml `cause:`): {claim} "
                  f"{test}", file=sys.stderr)
        return 1 if missed or unnamed else 0
    if argv[:1] == ["table"] and len(argv) == 4:
        table(Path(argv[1]), Path(argv[2]), argv[3])
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
