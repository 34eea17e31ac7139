"""What a fault gets: the test's context (toolkit/context.py), through which it reaches the
cluster and ties its strike to one of the test's steps by name; an undo stack; and its own
log, which goes into the test's evidence. Everything it does is logged."""

import difflib
import shlex
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from kubernetes import client

from tutorial_conformance.toolkit.cluster import api_client
from tutorial_conformance.toolkit.commands import CommandError, docker, node_exec
from tutorial_conformance.toolkit.context import Step, TestContext
from tutorial_conformance.toolkit.manifests import manifest, overridden
from tutorial_conformance.toolkit.timeouts import TIMEOUTS


class FaultError(Exception):
    """The fault could not be applied or undone: whatever the test did proves nothing.

    Deliberately not an AssertionError, so that it never passes for a detection."""


class FaultContext:
    def __init__(self, t: TestContext, stack: ExitStack) -> None:
        if t.cluster.kind_name is None:
            raise FaultError("faults are injected into kind clusters only (their node containers)")
        self.t = t
        self.cluster = t.cluster
        self.kind_name: str = t.cluster.kind_name
        self.stack = stack  # undo steps, run in reverse order after the test
        self.log: list[str] = []
        self.errors: list[str] = []
        self.strikes: list[str] = []  # "before STEP" / "after STEP" of this fault's actions
        self._started = time.monotonic()
        self._tmp: Path | None = None

    # -- the cluster (its clients are the test context's) -----------------------------
    def __getattr__(self, name: str) -> Any:
        if name in ("api", "core", "apps", "namespace"):
            return getattr(self.t, name)
        raise AttributeError(name)

    @property
    def control_plane(self) -> str:
        return f"{self.kind_name}-control-plane"

    @property
    def workers(self) -> list[str]:
        nodes = self.core.list_node().items
        return sorted(n.metadata.name for n in nodes
                      if "node-role.kubernetes.io/control-plane" not in n.metadata.labels)

    @property
    def nodes(self) -> list[str]:
        return sorted(n.metadata.name for n in self.core.list_node().items)

    def pod(self, name: str) -> client.V1Pod:
        return self.core.read_namespaced_pod(name, self.namespace)

    def new_api(self) -> client.ApiClient:
        """An API client of its own, for a background thread."""
        return api_client(Path(self.cluster.kubeconfig))

    # -- doing and logging ---------------------------------------------------------
    def note(self, message: str) -> None:
        self.log.append(f"[{time.monotonic() - self._started:6.1f}s] {message}")

    def kubectl(self, *args: str, stdin: str | None = None, check: bool = True,
                timeout: float | None = None) -> str:
        """The fault's own kubectl (not the test's: it records nothing in its evidence)."""
        proc = self.cluster.kubectl.run(*args, stdin=stdin, check=False, timeout=timeout)
        self.note(f"$ kubectl {shlex.join(args)} -> exit {proc.returncode}"
                  + (f": {proc.stderr.strip()[:300]}" if proc.returncode else ""))
        if check and proc.returncode != 0:
            raise FaultError(f"kubectl {shlex.join(args)}: {proc.stderr.strip()}")
        return proc.stdout

    def pod_exec(self, pod: str, *command: str, container: str | None = None,
                 check: bool = False) -> str:
        """A command in one of the test's pods, as the fault's own (kubectl exec)."""
        proc = self.cluster.kubectl.exec(self.namespace, pod, *command, container=container,
                                         check=False)
        self.note(f"$ kubectl exec {pod} -- {shlex.join(command)} -> exit {proc.returncode}")
        if check and proc.returncode != 0:
            raise FaultError(f"kubectl exec {pod} -- {shlex.join(command)}: "
                             f"{(proc.stderr or proc.stdout).strip()}")
        return proc.stdout

    def docker(self, *args: str, stdin: str | None = None, check: bool = True,
               timeout: float | None = None) -> str:
        """`docker ARGS` on the host."""
        try:
            return docker(*args, stdin=stdin, check=check, timeout=timeout, log=self.note)
        except CommandError as err:
            raise FaultError(str(err)) from None

    def node(self, node: str, *cmd: str, stdin: str | None = None, check: bool = True) -> str:
        """A command inside a kind node's container."""
        try:
            return node_exec(node, *cmd, stdin=stdin, check=check, log=self.note)
        except CommandError as err:
            raise FaultError(str(err)) from None

    # -- striking at a step of the test ---------------------------------------------
    def before(self, step: str, what: str, action: Callable[[Step], None]) -> None:
        """Runs `action(step)` once, when the test's step `step` starts (its inputs may be
        changed: the step works on them)."""
        self._on("before", step, what, action)

    def after(self, step: str, what: str, action: Callable[[Step], None]) -> None:
        """Runs `action(step)` once, just after the test's step `step` succeeded."""
        self._on("after", step, what, action)

    def _on(self, when: str, step: str, what: str, action: Callable[[Step], None]) -> None:
        def strike(at: Step) -> None:
            self.note(f"strikes {when} the step {step!r}: {what}")
            try:
                action(at)
            except Exception as exc:
                self.errors.append(f"{what}: {type(exc).__name__}: {exc}")
                raise FaultError(f"the fault failed to strike ({what}): {exc}") from exc

        self.strikes.append(f"{what} ({when} step {step!r})")
        self.t.on(when, step, what, strike)

    def unfired(self) -> list[str]:
        """This fault's actions whose step the test never reached."""
        return [s for s in self.t.unfired() if s in self.strikes]

    @contextmanager
    def watching(self, what: str, loop: Callable[[threading.Event], None]) -> Iterator[None]:
        """Runs `loop(stop)` in a thread while the block runs; its errors void the demo."""
        stop = threading.Event()

        def run() -> None:
            try:
                loop(stop)
            except Exception as exc:  # noqa: BLE001 - reported, the demo is void
                self.errors.append(f"{what}: {type(exc).__name__}: {exc}")

        thread = threading.Thread(target=run, name=what, daemon=True)
        thread.start()
        self.note(f"watching: {what}")
        try:
            yield
        finally:
            stop.set()
            thread.join(timeout=TIMEOUTS.exec)

    # -- the test's inputs ---------------------------------------------------------
    def override_manifest(self, relative: str, text: str, what: str) -> None:
        """manifest(relative) gives a file with `text` instead while the fault is on
        (toolkit.manifests.overridden: every module that reads the manifest sees it)."""
        if self._tmp is None:
            self._tmp = Path(tempfile.mkdtemp(prefix="tutorial-suite-fault-"))
            self.stack.callback(shutil.rmtree, self._tmp, True)
        path = self._tmp / relative.replace("/", "__")
        path.write_text(text)
        before = Path(manifest(relative)).read_text().splitlines()
        diff = "\n".join(difflib.unified_diff(before, text.splitlines(), relative,
                                              f"{relative} (faulted)", lineterm="", n=1))
        self.note(f"{what}:\n{diff}")
        self.stack.enter_context(overridden(relative, str(path)))


def first_line(lines: Sequence[str] | str) -> str:
    text = lines if isinstance(lines, str) else "\n".join(lines)
    return next((line.strip() for line in text.splitlines() if line.strip()), "")
