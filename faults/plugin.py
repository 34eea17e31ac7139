"""The fault plugin (registered for --tutorial-inject-fault=CLAIM_ID by the suite's plugin):
selects the claim's tests; gets each test's context when it is made (the suite's hook
pytest_tutorial_context); applies the claim's fault once the test's fixtures are up (a
fault that strikes at a step ties its action to that step through the context); restores
the cluster before the fixtures are torn down; and gives the verdict: detected when every
test it targets FAILED, the fault struck as planned, and the cluster was healthy after.

    pytest --tutorial-inject-fault=arch-node-components [--tutorial-fault-report=out.json]
"""

import json
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tutorial_conformance.faults import load
from tutorial_conformance.faults.context import FaultContext, FaultError, first_line
from tutorial_conformance.faults.health import wait_healthy
from tutorial_conformance.faults.registry import Fault
from tutorial_conformance.fixtures.claims import claims_of
from tutorial_conformance.toolkit.catalogue import Catalogue
from tutorial_conformance.toolkit.context import TestContext
from tutorial_conformance.toolkit.timeouts import TIMEOUTS


@dataclass
class TestResult:
    nodeid: str
    outcome: str = "not run"  # the call's outcome: passed, failed, skipped
    setup: str = "passed"
    teardown: str = "passed"
    message: str = ""  # first line of the failure (or skip reason)
    names_cause: bool | None = None  # whether it holds one of the fault's `cause` words
    problems: list[str] = field(default_factory=list)  # why a failure proves nothing
    seconds: float = 0.0
    log: list[str] = field(default_factory=list)  # what the fault did, when

    @property
    def detected(self) -> bool:
        return (self.setup == "passed" and self.outcome == "failed"
                and self.teardown == "passed" and not self.problems)


class FaultPlugin:
    def __init__(self, config: pytest.Config, claim: str, catalogue: Catalogue) -> None:
        flag = "--tutorial-inject-fault"
        if claim not in catalogue.claims:
            raise ValueError(f"{flag}: no claim {claim} in suites/claims.yaml")
        faults = load()
        if claim not in faults:
            why = "untestable" if not catalogue.claims[claim].testable else "none declared"
            raise ValueError(f"{flag}: claim {claim} has no fault ({why})")
        self.config = config
        self.fault: Fault = faults[claim]
        self.report_path = config.getoption("fault_report")
        self.results: dict[str, TestResult] = {}
        self.untargeted: list[str] = []
        self.contexts: dict[str, TestContext] = {}
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
            raise pytest.UsageError(f"--tutorial-inject-fault={claim}: none of the collected "
                                    "tests checks this claim")
        config.hook.pytest_deselected(items=[i for i in items if i not in selected])
        items[:] = selected
        self.results = {i.nodeid: TestResult(i.nodeid) for i in selected}

    # -- around each test --------------------------------------------------------------
    def pytest_tutorial_context(self, context: TestContext, item: pytest.Item) -> None:
        if item.nodeid in self.results:
            self.contexts[item.nodeid] = context

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> Iterator[None]:
        self.started[item.nodeid] = time.monotonic()
        result = yield  # the test's fixtures are up: now break the cluster
        t = self.contexts.get(item.nodeid)
        if t is None:
            raise FaultError(f"{item.nodeid} has no test context (the `t` fixture) to fault")
        stack = ExitStack()
        ctx = FaultContext(t, stack)
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
                wait_healthy(ctx.api, ctx.kind_name, TIMEOUTS.cluster_ready)
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
        ctx.t.evidence.add(f"injected fault ({self.fault.claim})", "\n".join(ctx.log))
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
            if report.failed and self.fault.cause:
                result.names_cause = any(word in message for word in self.fault.cause)
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
            "declared": self.fault.declared,
            "strikes": self.fault.step,
            "cause": list(self.fault.cause),
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
