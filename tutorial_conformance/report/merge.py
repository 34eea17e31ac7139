"""Merges the shards of one run (`--tutorial-shard=I/N`, each with its own cluster and
reports directory) into one run's results, from which the reports are made as from any
run (`tutorial-conformance merge`):

    tutorial-conformance merge --reports-dir reports reports/shards/1 reports/shards/2 ...

writes into the reports directory claims-results.json, junit.xml and allure-results/, as
one run would have. A claim takes, over the shards that ran its tests, the rule of one
run: failed over differs over passed over skipped. A shard that is missing is named, and
the claims no given shard ran are `not run` (never passed); the merge then exits 1 once
the merged results are written.
"""

import json
import shutil
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RESULTS = "claims-results.json"
JUNIT = "junit.xml"
ALLURE = "allure-results"
PRECEDENCE = ("failed", "differs", "passed", "skipped")  # as one run's status (claims.py)
CREATION = "tutorial.cluster-creation"


class MergeError(Exception):
    """Shards that cannot be merged: one line."""


@dataclass(frozen=True)
class Shard:
    directory: Path
    index: int
    of: int
    results: dict[str, Any]


def load_shard(directory: Path) -> Shard:
    path = directory / RESULTS
    try:
        results = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MergeError(f"{path}: no such file (a shard's --tutorial-reports-dir has it)"
                         ) from None
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise MergeError(f"{path}: not readable JSON ({err})") from None
    shard = results.get("shard") if isinstance(results, dict) else None
    if not isinstance(shard, dict) or not {"index", "of"} <= shard.keys():
        raise MergeError(f"{path}: not a shard's results (no `shard`: the run had no "
                         "--tutorial-shard)")
    if not isinstance(results.get("claims"), list):
        raise MergeError(f"{path}: not a claims-results.json (no list of claims)")
    return Shard(directory, int(shard["index"]), int(shard["of"]), results)


def check(shards: list[Shard]) -> list[int]:
    """The indexes missing; a MergeError for shards of different runs."""
    if not shards:
        raise MergeError("no shard given")
    counts = {s.of for s in shards}
    if len(counts) > 1:
        raise MergeError("shards of different splits: " + ", ".join(
            f"{s.directory} is {s.index}/{s.of}" for s in shards))
    versions = {s.results.get("kubernetes") for s in shards}
    if len(versions) > 1:
        raise MergeError(f"shards of different Kubernetes versions: {sorted(map(str, versions))}")
    seen: dict[int, Path] = {}
    for s in shards:
        if s.index in seen:
            raise MergeError(f"shard {s.index}/{s.of} given twice: {seen[s.index]} and "
                             f"{s.directory}")
        seen[s.index] = s.directory
    return [i for i in range(1, shards[0].of + 1) if i not in seen]


def merge_claim(entries: list[dict[str, Any]], missing: str | None) -> dict[str, Any]:
    ran = [e for e in entries if e["status"] not in ("not run", "untestable")]
    merged = dict(ran[0] if ran else entries[0])
    tests: dict[str, str] = {}
    for entry in entries:
        for test in entry.get("tests") or []:
            if tests.get(test["nodeid"], "not run") == "not run":
                tests[test["nodeid"]] = test["outcome"]
    blocks: dict[str, dict[str, Any]] = {}
    for entry in ran:
        for block in entry.get("blocks") or []:
            known = blocks.get(str(block["lines"]))
            if known is None or (known.get("same") and not block.get("same")):
                blocks[str(block["lines"])] = block
    merged["tests"] = [{"nodeid": n, "outcome": o} for n, o in tests.items()]
    merged["blocks"] = list(blocks.values())
    if merged["status"] == "untestable":
        return merged
    status = next((s for s in PRECEDENCE if any(e["status"] == s for e in ran)), "not run")
    unrun = [n for n, o in tests.items() if o == "not run"]
    if missing and unrun and status != "failed":  # never passed on a part of its tests
        merged.update(status="not run", reason=f"{missing}: {', '.join(unrun)}")
        return merged
    if not ran:
        merged.update(status="not run", reason=None)
        return merged
    reasons = dict.fromkeys(e["reason"] for e in ran if e["status"] == status and e.get("reason"))
    merged.update(status=status, reason="; ".join(reasons) or None)
    return merged


def merge_results(shards: list[Shard], missing: list[int]) -> dict[str, Any]:
    of = shards[0].of
    gone = (f"not run in the shards given (shard(s) {', '.join(f'{i}/{of}' for i in missing)}"
            " missing)") if missing else None
    first = min(shards, key=lambda s: s.index).results
    order = [c["id"] for c in first["claims"]]
    by_claim: dict[str, list[dict[str, Any]]] = {}
    for shard in sorted(shards, key=lambda s: s.index):
        for claim in shard.results["claims"]:
            by_claim.setdefault(claim["id"], []).append(claim)
    order += [i for i in by_claim if i not in order]
    return {
        "kubernetes": first.get("kubernetes"),
        "timestamp": max(str(s.results.get("timestamp") or "") for s in shards),
        "environment": first.get("environment") or {},
        "sections": first.get("sections") or {},
        "claims": [merge_claim(by_claim[i], gone) for i in order],
        "shards": {"of": of, "merged": sorted(s.index for s in shards), "missing": missing},
    }


def merge_junit(shards: list[Shard]) -> ET.ElementTree | None:
    """One test suite of every shard's test cases, counts summed, properties kept (each
    shard's cluster creation named with its shard)."""
    suites = []
    for shard in sorted(shards, key=lambda s: s.index):
        path = shard.directory / JUNIT
        if not path.is_file():
            continue
        try:
            root = ET.parse(path).getroot()
        except ET.ParseError as err:
            raise MergeError(f"{path}: not readable XML ({err})") from None
        suites += [(shard, s) for s in ([root] if root.tag == "testsuite" else root)]
    if not suites:
        return None
    merged = ET.Element("testsuite", name="pytest")
    properties = ET.SubElement(merged, "properties")
    totals = dict.fromkeys(("errors", "failures", "skipped", "tests"), 0)
    time, stamps = 0.0, []
    for shard, suite in suites:
        for key in totals:
            totals[key] += int(suite.get(key, 0))
        time += float(suite.get("time", 0))
        stamps.append(suite.get("timestamp", ""))
        merged.set("hostname", merged.get("hostname") or suite.get("hostname", ""))
        for prop in suite.iter("property"):
            name = prop.get("name", "")
            if name == CREATION:
                name = f"{CREATION} (shard {shard.index}/{shard.of})"
            ET.SubElement(properties, "property", name=name, value=prop.get("value", ""))
        for case in suite.findall("testcase"):
            merged.append(case)
    merged.attrib.update({k: str(v) for k, v in totals.items()})
    merged.set("time", f"{time:.3f}")
    merged.set("timestamp", min(s for s in stamps if s) if any(stamps) else "")
    root = ET.Element("testsuites", name="pytest tests")
    root.append(merged)
    return ET.ElementTree(root)


def merge(shard_dirs: list[Path], out: Path) -> list[int]:
    """Writes the merged run into `out`; returns the missing shards' indexes."""
    shards = [load_shard(d) for d in shard_dirs]
    missing = check(shards)
    out.mkdir(parents=True, exist_ok=True)
    results = merge_results(shards, missing)
    (out / RESULTS).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    junit = merge_junit(shards)
    if junit is not None:
        junit.write(out / JUNIT, encoding="utf-8", xml_declaration=True)
    allure = out / ALLURE
    shutil.rmtree(allure, ignore_errors=True)
    allure.mkdir()
    for shard in shards:  # result files are named by uuid: no two shards share a name
        source = shard.directory / ALLURE
        for path in sorted(source.glob("*")) if source.is_dir() else []:
            if path.is_file() and not (allure / path.name).exists():
                shutil.copy2(path, allure / path.name)
    return missing
