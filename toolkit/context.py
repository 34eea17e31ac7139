"""One object per test (as the e2e framework's Framework): the cluster, the test's own
namespace, kubectl recording into its evidence, the timeouts; and its named steps.

    with t.step("kubectl create -f server.yaml"):
        ...

A step is a stretch of the tutorial's sequence. Its commands, outputs and timings are
filed under it (the evidence and the Allure report show the test as its steps). Actions
can be tied to a step by name (the declared way for a fault to strike):

- before it, with the step's inputs, which the action may change;
- after it succeeded;
- when it failed: collectors, which add what the cluster shows to the evidence before the
  test's cleanup runs (in reverse order of registration, as chainsaw's catch/finally).

A step name is unique within a test, and so is an action's name on a step.
"""

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import allure
from kubernetes import client

from tutorial_conformance.toolkit.commands import Completed
from tutorial_conformance.toolkit.diagnosis import Diagnose
from tutorial_conformance.toolkit.evidence import Evidence
from tutorial_conformance.toolkit.kubectl import Kubectl
from tutorial_conformance.toolkit.manifests import manifest
from tutorial_conformance.toolkit.printed import (
    Block,
    Rule,
    compare,
    namespace_rule,
    without_header,
)
from tutorial_conformance.toolkit.timeouts import TIMEOUTS, Timeouts

WHEN = ("before", "after", "failed")


@dataclass
class Step:
    name: str
    inputs: dict[str, Any]  # what the step works on; a `before` action may change them
    started: float = field(default_factory=time.monotonic)
    seconds: float | None = None


Action = Callable[[Step], None]


@dataclass
class Hook:
    when: str
    step: str
    what: str  # the action's name, said in the evidence when it runs
    action: Action
    fired: bool = False


class StepError(RuntimeError):
    """A step used twice in one test, or an action registered twice on a step."""


class TestContext:
    __test__ = False  # not a test class, for pytest's collection

    def __init__(self, cluster: Any, namespace: str, kubectl: Kubectl, evidence: Evidence,
                 name: str = "", timeouts: Timeouts = TIMEOUTS) -> None:
        self.cluster = cluster  # toolkit.cluster.Cluster
        self.namespace = namespace
        self.kubectl = kubectl
        self.evidence = evidence
        self.name = name  # the test's name
        self.timeouts = timeouts
        self.hooks: list[Hook] = []
        self.steps: list[Step] = []
        self._open: list[Step] = []
        self._cleanups: list[tuple[str, Callable[[], None]]] = []
        self.collectors: list[tuple[str, Callable[[], None]]] = []

    # -- the cluster --------------------------------------------------------------------
    @property
    def api(self) -> client.ApiClient:
        return self.cluster.api

    @property
    def core(self) -> client.CoreV1Api:
        return client.CoreV1Api(self.cluster.api)

    @property
    def apps(self) -> client.AppsV1Api:
        return client.AppsV1Api(self.cluster.api)

    @property
    def custom(self) -> client.CustomObjectsApi:
        return client.CustomObjectsApi(self.cluster.api)

    @property
    def diagnose(self) -> Diagnose:
        return Diagnose(self.cluster.api)

    def exec(self, pod: str, *command: str, container: str | None = None, check: bool = True,
             namespace: str | None = None, timeout: float | None = None) -> str:
        """A command in a pod of the test's namespace (toolkit/kubectl.py `exec`)."""
        return self.kubectl.exec(namespace or self.namespace, pod, *command,
                                 container=container, check=check, timeout=timeout).stdout

    def compare(self, first: int, last: int, today: str | Sequence[str], *rules: Rule,
                why: dict[int, str] | None = None) -> Block:
        """Lines first..last of the tutorial against today's output, whole (toolkit/printed.py),
        the test's namespace read as `default`; kept in the evidence."""
        return compare(first, last, today, (*rules, namespace_rule(self.namespace)), why,
                       self.evidence)

    def create_as_printed(self, relative: str, first: int, last: int, name: str
                          ) -> Completed[str]:
        """`kubectl create -f NAME` of the file as printed (manifests/RELATIVE), once it is
        shown to be the tutorial's lines first..last, whole."""
        path = manifest(relative)
        block = self.compare(first, last, Path(path).read_text(encoding="utf-8"))
        assert block.same, f"the file applied as printed is not lines {first}-{last}: " \
                           f"{block.render()}"
        with self.step(f"kubectl create -f {name} (as printed)"):
            return self.kubectl.run("create", "-n", self.namespace, "-f", path, check=False)

    def compare_reconstruction(self, first: int, last: int, relative: str, what: str) -> Block:
        """The suite's reconstruction (manifests/RELATIVE) beside the printed lines, each
        line's difference explained as `what` was restored."""
        text = without_header(Path(manifest(relative)).read_text(encoding="utf-8"))
        return self.compare(first, last, text, why=dict.fromkeys(range(first, last + 1), what))

    # -- steps ----------------------------------------------------------------------------
    @property
    def current(self) -> Step | None:
        return self._open[-1] if self._open else None

    @contextmanager
    def step(self, name: str, **inputs: Any) -> Iterator[Step]:
        if any(s.name == name for s in self.steps):
            raise StepError(f"step {name!r} twice in {self.name}: name each step once")
        step = Step(name, dict(inputs))
        self.steps.append(step)
        outer = self.evidence.step
        with allure.step(name):
            self._open.append(step)
            self.evidence.step = name
            try:
                self._fire("before", step)
                yield step
                step.seconds = time.monotonic() - step.started
                self._fire("after", step)
            except BaseException as exc:
                step.seconds = time.monotonic() - step.started
                self._failed(step, exc)
                raise
            finally:
                self._open.pop()
                self.evidence.step = outer

    def _failed(self, step: Step, exc: BaseException) -> None:
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            return
        if hasattr(exc, "add_note"):
            exc.add_note(f"(in step {step.name!r} of {self.name}, after {step.seconds:.0f} s)")
        self._fire("failed", step)
        for what, collect in self.collectors:
            try:
                collect()
            except Exception as err:  # noqa: BLE001 - a collector never hides the failure
                self.evidence.add(f"collector {what} failed", f"{type(err).__name__}: {err}")

    # -- actions tied to steps --------------------------------------------------------------
    def on(self, when: str, step: str, what: str, action: Action) -> None:
        """Runs `action(step)` once: before the step, after it succeeded, or when it failed."""
        if when not in WHEN:
            raise StepError(f"no such moment {when!r}: one of {WHEN}")
        if any(h.when == when and h.step == step and h.what == what for h in self.hooks):
            raise StepError(f"{what!r} is already registered {when} step {step!r}")
        self.hooks.append(Hook(when, step, what, action))

    def _fire(self, when: str, step: Step) -> None:
        for hook in self.hooks:
            if hook.when == when and hook.step == step.name and not hook.fired:
                hook.fired = True
                self.evidence.add(f"{when} step: {hook.what}", f"{hook.what} ({when} "
                                  f"{step.name!r})")
                hook.action(step)

    def unfired(self) -> list[str]:
        return [f"{h.what} ({h.when} step {h.step!r})" for h in self.hooks if not h.fired]

    # -- cleanup and collectors --------------------------------------------------------------
    def defer(self, what: str, undo: Callable[[], None]) -> None:
        """`undo` at the test's end, in reverse order of registration (its fixture runs them)."""
        self._cleanups.append((what, undo))

    def collect_on_failure(self, what: str, collect: Callable[[], None]) -> None:
        self.collectors.append((what, collect))

    def cleanup(self) -> list[str]:
        """Runs the deferred undos, newest first; returns what failed, in one line each."""
        failed = []
        while self._cleanups:
            what, undo = self._cleanups.pop()
            try:
                undo()
            except Exception as exc:  # noqa: BLE001 - every undo runs; failures reported
                failed.append(f"{what}: {type(exc).__name__}: {exc}")
        return failed
