"""Shards: the split (stable, every test exactly once, a module whose tests share a set-up
and the operator group kept whole, other tests split one by one) and the merge of their
results (one run's rule, a missing shard never passed)."""

import json
from pathlib import Path

import pytest

from tests.test_junit_schema import assert_valid
from tutorial_conformance.cli import main as cli
from tutorial_conformance.fixtures.shards import (
    DURATIONS,
    parse,
    reuses_setup,
    shard_unit,
    split,
    unit_of,
)
from tutorial_conformance.plugin import suites_dir
from tutorial_conformance.report.merge import MergeError, load_shard, merge, merge_results

MODULES = (("a", 3), ("b", 2), ("operator", 2), ("operator_workflow", 4), ("c", 1))
SUITE = [f"suites/test_{m}.py::test_{i}" for m, n in MODULES for i in range(n)]
TIMES = {n: (50.0 if "workflow" in n else 10.0) for n in SUITE}


def test_a_bad_shard_is_one_line():
    for bad in ("0/3", "4/3", "3", "a/b", "1/0"):
        with pytest.raises(ValueError, match="not I/N"):
            parse(bad)
    assert parse(" 2 / 3 ").label == "2/3"


def test_every_test_is_in_exactly_one_shard_and_modules_stay_whole():
    for shards in (1, 2, 3, 4):
        groups = split(SUITE, TIMES, shards)
        assert len(groups) == shards
        placed = [n for ids, _ in groups for n in ids]
        assert sorted(placed) == sorted(SUITE)
        for ids, _ in groups:
            units = {unit_of(n) for n in ids}
            assert all(unit_of(n) in units for n in ids)
            others = [n for other, _ in groups if other is not ids for n in other]
            assert not units & {unit_of(n) for n in others}
    assert {unit_of(f"suites/test_{m}.py::x") for m in ("operator", "operator_workflow")} == {
        "operator"}


def test_only_a_shared_set_up_or_a_group_keeps_a_module_whole():
    reusing = {n for n in SUITE if "/test_a.py" in n}

    def unit(nodeid: str) -> str:
        return shard_unit(nodeid, nodeid in reusing)

    assert {unit(n) for n in reusing} == {"suites/test_a.py"}
    b_tests = [n for n in SUITE if "/test_b.py" in n]
    assert [unit(n) for n in b_tests] == b_tests
    assert {unit(n) for n in SUITE if "operator" in n} == {"operator"}
    groups = split(SUITE, TIMES, 4, unit)
    assert sorted(n for ids, _ in groups for n in ids) == sorted(SUITE)
    where = {n: i for i, (ids, _) in enumerate(groups) for n in ids}
    assert len({where[n] for n in reusing}) == 1
    assert len({where[n] for n in SUITE if "operator" in n}) == 1
    # the operator group (220 s) and test_a (30 s) whole; the three single tests of 10 s
    # fill the two shards left
    assert sorted(seconds for _, seconds in groups) == [10.0, 20.0, 30.0, 220.0]


class _Def:
    def __init__(self, scope: str) -> None:
        self.scope = scope


class _Info:
    def __init__(self, **scopes: str) -> None:
        self.name2fixturedefs = {name: [_Def(scope)] for name, scope in scopes.items()}


class _Item:
    def __init__(self, info: _Info | None) -> None:
        if info is not None:
            self._fixtureinfo = info


def test_a_fixture_of_module_scope_is_a_shared_set_up_a_session_one_is_not():
    assert reuses_setup(_Item(_Info(t="function", cluster="session", topology="module")))
    assert not reuses_setup(_Item(_Info(t="function", cluster="session",
                                        tmp_path_factory="session")))
    assert reuses_setup(_Item(None))  # no fixture information: the module stays whole


def test_the_split_is_stable_and_balanced_by_duration():
    first = split(SUITE, TIMES, 3)
    assert first == split(list(SUITE), dict(TIMES), 3)
    # the operator group (2 x 10 + 4 x 50 s) alone; the rest (60 s) in two shards
    estimates = sorted(seconds for _, seconds in first)
    assert estimates[-1] == 220.0
    assert sum(estimates) == sum(TIMES.values())


def test_a_test_without_a_duration_counts_as_the_mean():
    groups = split([*SUITE, "suites/test_new.py::test_0"], TIMES, 2)
    assert sum(s for _, s in groups) == pytest.approx(sum(TIMES.values()) * (1 + 1 / len(SUITE)))


def test_the_checked_in_durations_name_tests_of_the_suite():
    durations = json.loads((suites_dir() / DURATIONS).read_text())
    modules = {p.name for p in suites_dir().glob("test_*.py")}
    assert durations and all(Path(n.split("::")[0]).name in modules for n in durations)


def claim(cid: str, status: str, tests: dict[str, str], reason: str | None = None) -> dict:
    return {"id": cid, "section": "I", "text": cid, "status": status, "reason": reason,
            "tests": [{"nodeid": n, "outcome": o} for n, o in tests.items()], "blocks": []}


def shard_dir(base: Path, index: int, of: int, claims: list[dict]) -> Path:
    directory = base / str(index)
    (directory / "allure-results").mkdir(parents=True)
    (directory / "allure-results" / f"{index}-result.json").write_text("{}")
    (directory / "claims-results.json").write_text(json.dumps({
        "kubernetes": "v1.37.2", "timestamp": f"2026-12-02T0{index}:00:00+00:00",
        "environment": {}, "sections": {"I": "One"}, "claims": claims,
        "shard": {"index": index, "of": of}}))
    (directory / "junit.xml").write_text(
        '<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests">'
        f'<testsuite name="pytest" errors="0" failures="{index - 1}" skipped="0" tests="1" '
        f'time="1.5" timestamp="2026-12-02T0{index}:00:00" hostname="h"><properties>'
        f'<property name="tutorial.cluster-creation" value="6{index}.0"/></properties>'
        f'<testcase classname="suites.test_{index}" name="test_{index}" time="1.5"/>'
        "</testsuite></testsuites>")
    return directory


def three_shards(tmp_path: Path) -> list[Path]:
    return [
        shard_dir(tmp_path, 1, 3, [claim("c-pass", "passed", {"t1": "passed", "t2": "not run"}),
                                   claim("c-fail", "passed", {"t3": "passed", "t4": "not run"}),
                                   claim("c-skip", "skipped", {"t5": "skipped"}, "no IPVS"),
                                   claim("c-later", "not run", {"t6": "not run"}),
                                   claim("c-none", "untestable", {}, "needs a cloud")]),
        shard_dir(tmp_path, 2, 3, [claim("c-pass", "passed", {"t1": "not run", "t2": "passed"}),
                                   claim("c-fail", "failed", {"t3": "not run", "t4": "failed"}),
                                   claim("c-skip", "not run", {"t5": "not run"}),
                                   claim("c-later", "not run", {"t6": "not run"}),
                                   claim("c-none", "untestable", {}, "needs a cloud")]),
        shard_dir(tmp_path, 3, 3, [claim("c-pass", "not run", {"t1": "not run", "t2": "not run"}),
                                   claim("c-fail", "not run", {"t3": "not run", "t4": "not run"}),
                                   claim("c-skip", "not run", {"t5": "not run"}),
                                   claim("c-later", "passed", {"t6": "passed"}),
                                   claim("c-none", "untestable", {}, "needs a cloud")]),
    ]


def states(results: dict) -> dict[str, str]:
    return {c["id"]: c["status"] for c in results["claims"]}


def test_merged_claims_take_one_runs_rule_over_the_shards(tmp_path: Path):
    dirs = three_shards(tmp_path)
    out = tmp_path / "merged"
    assert merge(dirs, out) == []
    results = json.loads((out / "claims-results.json").read_text())
    assert states(results) == {"c-pass": "passed", "c-fail": "failed", "c-skip": "skipped",
                               "c-later": "passed", "c-none": "untestable"}
    passed = next(c for c in results["claims"] if c["id"] == "c-pass")
    assert passed["tests"] == [{"nodeid": "t1", "outcome": "passed"},
                               {"nodeid": "t2", "outcome": "passed"}]
    assert results["shards"] == {"of": 3, "merged": [1, 2, 3], "missing": []}
    assert sorted(p.name for p in (out / "allure-results").iterdir()) == [
        "1-result.json", "2-result.json", "3-result.json"]
    tree = assert_valid(out / "junit.xml")
    suite = tree.getroot()[0]
    assert (suite.get("tests"), suite.get("failures"), suite.get("time")) == ("3", "3", "4.500")
    assert [p.get("name") for p in suite.iter("property")] == [
        f"tutorial.cluster-creation (shard {i}/3)" for i in (1, 2, 3)]


def test_a_missing_shard_is_named_and_its_claims_are_not_run(tmp_path: Path):
    dirs = three_shards(tmp_path)
    shards = [load_shard(d) for d in dirs[:2]]
    results = merge_results(shards, [3])
    assert states(results)["c-later"] == "not run"
    later = next(c for c in results["claims"] if c["id"] == "c-later")
    assert "shard(s) 3/3 missing" in later["reason"]
    assert states(results)["c-pass"] == "passed"  # all its tests ran in the shards given
    assert results["shards"]["missing"] == [3]


def test_shards_of_different_runs_do_not_merge(tmp_path: Path):
    one = shard_dir(tmp_path / "x", 1, 2, [])
    other = shard_dir(tmp_path / "y", 1, 3, [])
    with pytest.raises(MergeError, match="different splits"):
        merge([one, other], tmp_path / "out")
    with pytest.raises(MergeError, match="given twice"):
        merge([one, one], tmp_path / "out")
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "claims-results.json").write_text('{"claims": []}')
    with pytest.raises(MergeError, match="no --tutorial-shard"):
        load_shard(tmp_path / "plain")


def test_merge_on_bad_input_says_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    assert cli(["merge"]) == 4
    assert cli(["merge", "--reports-dir", str(tmp_path / "out"), str(tmp_path / "none")]) == 4
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "no such file" in err[1]
