"""The fault plugin proper (registered by faults/plugin.py for --inject-fault): selects the
claim's tests, applies the claim's fault around each once its fixtures are up, restores
the cluster before they are torn down, and gives the verdict: detected when every test
it targets FAILED, the fault struck as planned, and the cluster was healthy afterwards."""

import json
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from faults.catalogue import EXEMPT, FAULTS
from faults.context import FaultContext, FaultError, first_line
from faults.health import wait_healthy
from faults.registry import Fault
from fixtures.claims import claims_of
from toolkit.catalogue import load_catalogue
from toolkit.cluster import Cluster
from toolkit.evidence import Evidence

HEALTHY_WITHIN = 300  # seconds a cluster may take to be whole again after a restore


@dataclass
class TestResult:
    nodeid: str
    outcome: str = "not run"  # the call's outcome: passed, failed, skipped
    setup: str = "passed"
    teardown: str = "passed"
    message: str = ""  # first line of the failure (or skip reason)
    problems: list[str] = field(default_factory=list)  # why a failure proves nothing
    seconds: float = 0.0
    log: list[str] = field(default_factory=list)  # what the fault did, when

    @property
    def detected(self) -> bool:
        return (self.setup == "passed" and self.outcome == "failed"
                and self.teardown == "passed" and not self.problems)


class FaultPlugin:
    def __init__(self, config: pytest.Config, claim: str) -> None:
        catalogue = load_catalogue()
        if claim not in catalogue.claims:
            raise pytest.UsageError(f"--inject-fault: no claim {claim} in suites/claims.yaml")
        if claim in EXEMPT:
            raise pytest.UsageError(f"--inject-fault: claim {claim} has no fault: {EXEMPT[claim]}")
        if claim not in FAULTS:
            why = "untestable" if not catalogue.claims[claim].testable else "none registered"
            raise pytest.UsageError(f"--inject-fault: claim {claim} has no fault ({why})")
        self.config = config
        self.fault: Fault = FAULTS[claim]
        self.report_path = config.getoption("fault_report")
        self.results: dict[str, TestResult] = {}
        self.untargeted: list[str] = []
        self.active: dict[str, tuple[ExitStack, FaultContext]] = {}
        self.started: dict[str, float] = {}

    # -- which tests -----------------------------------------------------------------
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]
                                      ) -> None:
        claim, tests = self.fault.claim, self.fault.tests
        of_claim = [i for i in items if claim in claims_of(i)]
        selected = [i for i in of_claim
                    if tests is None or getattr(i, "originalname", i.name) in tests]
        self.untargeted = [i.nodeid for i in of_claim if i not in selected]
        if not selected:
            raise pytest.UsageError(f"--inject-fault={claim}: none of the collected tests "
                                    "checks this claim")
        config.hook.pytest_deselected(items=[i for i in items if i not in selected])
        items[:] = selected
        self.results = {i.nodeid: TestResult(i.nodeid) for i in selected}

    # -- around each test --------------------------------------------------------------
    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> Iterator[None]:
        self.started[item.nodeid] = time.monotonic()
        result = yield  # the test's fixtures are up: now break the cluster
        cluster = item.funcargs.get("cluster")  # type: ignore[attr-defined]
        if not isinstance(cluster, Cluster):
            # pytest has no public way to set up a fixture from a hook.
            cluster = item._request.getfixturevalue("cluster")  # type: ignore[attr-defined]  # noqa: SLF001
        stack = ExitStack()
        ctx = FaultContext(item, cluster, stack)
        self.active[item.nodeid] = (stack, ctx)
        ctx.note(f"injecting: {self.fault.summary}")
        stack.enter_context(self.fault.inject(ctx))
        ctx.note("injected; the test starts")
        return result

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_teardown(self, item: pytest.Item) -> Iterator[None]:
        error: BaseException | None = None
        stack, ctx = self.active.pop(item.nodeid, (None, None))
        if stack is not None and ctx is not None:
            ctx.note("the test is over: restoring the cluster")
            try:
                stack.close()
                wait_healthy(ctx.api, ctx.kind_name, HEALTHY_WITHIN)
                ctx.note("restored: the cluster is healthy")
            except BaseException as exc:  # noqa: BLE001 - reported after the fixtures' teardown
                ctx.note(f"NOT restored: {type(exc).__name__}: {exc}")
                error = exc
            self._record_fault_log(item, ctx)
        result = yield
        if error is not None:
            raise error
        return result

    def _record_fault_log(self, item: pytest.Item, ctx: FaultContext) -> None:
        result = self.results.get(item.nodeid)
        if result is not None:
            unfired = ctx.unfired()
            if unfired and result.outcome == "failed":
                result.problems.append(f"the fault never struck: {'; '.join(unfired)}")
            result.problems += [f"the fault went wrong: {e}" for e in ctx.errors]
        evidence = item.funcargs.get("evidence")  # type: ignore[attr-defined]
        log = "\n".join(ctx.log)
        if isinstance(evidence, Evidence):
            evidence.add(f"injected fault ({self.fault.claim})", log)
        if result is not None:
            result.log = list(ctx.log)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]
                                  ) -> Iterator[None]:
        report = yield
        result = self.results.get(item.nodeid)
        if result is None:
            return report
        message = first_line(getattr(getattr(report.longrepr, "reprcrash", None), "message", "")
                             or str(report.longrepr or ""))
        if report.when == "setup" and not report.passed:
            result.setup = report.outcome
            result.outcome = "skipped" if report.skipped else "error"
            result.message = message
            if report.failed:
                result.problems.append(f"set-up failed: {message}")
        elif report.when == "call":
            result.outcome = report.outcome
            result.message = message
            excinfo = call.excinfo
            if excinfo is not None and excinfo.errisinstance(FaultError):
                result.problems.append(f"failed by the fault's own error: {message}")
        elif report.when == "teardown":
            result.teardown = report.outcome
            if report.failed:
                result.problems.append(f"the cluster was not restored: {message}")
            result.seconds = time.monotonic() - self.started.get(item.nodeid, time.monotonic())
        return report

    # -- the verdict -------------------------------------------------------------------
    def verdict(self) -> dict:
        results = list(self.results.values())
        counted = [r for r in results if r.outcome != "skipped"]
        detected = bool(counted) and all(r.detected for r in counted)
        return {
            "claim": self.fault.claim,
            "fault": self.fault.summary,
            "detected": detected,
            "tests": [vars(r) | {"detected": r.detected} for r in results],
            "untargeted": {"tests": self.untargeted, "reason": self.fault.untargeted}
            if self.untargeted else None,
        }

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.report_path:
            path = Path(self.report_path)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(self.verdict(), indent=2))

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if all(r.outcome == "not run" for r in self.results.values()):
            return  # --collect-only, or interrupted before any test
        verdict = self.verdict()
        tr = terminalreporter
        tr.section("injected fault")
        tr.write_line(f"claim: {verdict['claim']}")
        tr.write_line(f"fault: {verdict['fault']}")
        for test in verdict["tests"]:
            mark = "detected" if test["detected"] else "NOT detected"
            tr.write_line(f"  {test['outcome'].upper():8} {mark:12} {test['nodeid']} "
                          f"({test['seconds']:.0f} s)")
            if test["message"]:
                tr.write_line(f"      {test['message'][:300]}")
            for problem in test["problems"]:
                tr.write_line(f"      ! {problem[:300]}")
            for entry in test["log"]:
                for line in entry.splitlines():
                    tr.write_line(f"      | {line}")
        if verdict["untargeted"]:
            tr.write_line(f"  not targeted: {', '.join(verdict['untargeted']['tests'])}: "
                          f"{verdict['untargeted']['reason']}")
        tr.write_line("DETECTED: every targeted test failed under the fault"
                      if verdict["detected"] else "NOT DETECTED")
