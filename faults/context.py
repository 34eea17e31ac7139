"""What a fault gets: the cluster, the test it wraps, and ways to strike at the moment the
claim is at stake (hooks on the test's own kubectl commands, background watchers, the
manifests the test reads). Everything it does is logged for the test's report."""

import difflib
import shlex
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from kubernetes import client

from toolkit.cluster import Cluster, api_client
from toolkit.commands import CommandError, docker, node_exec
from toolkit.kubectl import Kubectl
from toolkit.manifests import manifest, overridden


class FaultError(Exception):
    """The fault could not be applied or undone: whatever the test did proves nothing.

    Deliberately not an AssertionError, so that it never passes for a detection."""


Match = Callable[[tuple[str, ...]], bool]


def command(*words: str) -> Match:
    """Matches a kubectl command whose arguments contain `words` in this order ("*end"
    matches an argument ending with "end")."""

    def same(arg: str, word: str) -> bool:
        return arg.endswith(word[1:]) if word.startswith("*") else arg == word

    def match(args: tuple[str, ...]) -> bool:
        rest = iter(args)
        return all(any(same(arg, word) for arg in rest) for word in words)

    match.__doc__ = " ".join(words)
    return match


@dataclass
class Hook:
    when: str  # "before" or "after" the matching command
    match: Match
    what: str
    action: Callable[[tuple[str, ...]], None]
    fired: bool = False


class FaultContext:
    def __init__(self, item: pytest.Item, cluster: Cluster, stack: ExitStack) -> None:
        if cluster.kind_name is None:
            raise FaultError("faults are injected into kind clusters only (their node containers)")
        self.item = item
        self.cluster = cluster
        self.kind_name = cluster.kind_name
        self.stack = stack  # undo steps, run in reverse order after the test
        # For faults that change the section VI workflow's own steps (its Workflow object).
        self.monkeypatch = pytest.MonkeyPatch()
        stack.callback(self.monkeypatch.undo)
        self.log: list[str] = []
        self.errors: list[str] = []
        self.hooks: list[Hook] = []
        self._started = time.monotonic()
        self._kubectl_hooked = False
        self._tmp: Path | None = None

    # -- the cluster ---------------------------------------------------------------
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

    @property
    def namespace(self) -> str:
        namespace = self.item.funcargs.get("namespace")  # type: ignore[attr-defined]
        if not namespace:
            raise FaultError(f"{self.item.nodeid} has no namespace of its own to fault")
        return namespace

    def new_api(self) -> client.ApiClient:
        """An API client of its own, for a background thread."""
        return api_client(Path(self.cluster.kubeconfig))

    # -- doing and logging ---------------------------------------------------------
    def note(self, message: str) -> None:
        self.log.append(f"[{time.monotonic() - self._started:6.1f}s] {message}")

    def kubectl(self, *args: str, stdin: str | None = None, check: bool = True,
                timeout: float = 120) -> str:
        proc = self.cluster.kubectl.run(*args, stdin=stdin, check=False, timeout=timeout)
        self.note(f"$ kubectl {shlex.join(args)} -> exit {proc.returncode}"
                  + (f": {proc.stderr.strip()[:300]}" if proc.returncode else ""))
        if check and proc.returncode != 0:
            raise FaultError(f"kubectl {shlex.join(args)}: {proc.stderr.strip()}")
        return proc.stdout

    def docker(self, *args: str, stdin: str | None = None, check: bool = True,
               timeout: float = 120) -> str:
        """`docker ARGS` on the host, e.g. `exec NODE CMD` inside a kind node."""
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

    # -- striking at the right moment ----------------------------------------------
    def before(self, match: Match, what: str, action: Callable[[tuple[str, ...]], None]) -> None:
        """Runs `action` once, just before the test's first kubectl command that matches."""
        self._hook(Hook("before", match, what, action))

    def after(self, match: Match, what: str, action: Callable[[tuple[str, ...]], None]) -> None:
        """Runs `action` once, just after the test's first matching kubectl command
        returns (successfully)."""
        self._hook(Hook("after", match, what, action))

    def _hook(self, hook: Hook) -> None:
        self.hooks.append(hook)
        if self._kubectl_hooked:
            return
        kubectl = self.item.funcargs.get("kubectl")  # type: ignore[attr-defined]
        if not isinstance(kubectl, Kubectl):
            raise FaultError(f"{self.item.nodeid} runs no kubectl for the fault to strike at")
        observer = Strikes(self)  # one of Kubectl's declared observers
        kubectl.observers.append(observer)
        self.stack.callback(kubectl.observers.remove, observer)
        self._kubectl_hooked = True

    def _fire(self, when: str, args: tuple[str, ...]) -> None:
        for hook in self.hooks:
            if hook.when != when or hook.fired or not hook.match(args):
                continue
            hook.fired = True
            self.note(f"strikes {when} the test's `kubectl {shlex.join(args)}`: {hook.what}")
            try:
                hook.action(args)
            except Exception as exc:
                self.errors.append(f"{hook.what}: {type(exc).__name__}: {exc}")
                raise FaultError(f"the fault failed to strike ({hook.what}): {exc}") from exc

    def unfired(self) -> list[str]:
        return [f"{h.what} ({h.when} `kubectl {h.match.__doc__}`)"
                for h in self.hooks if not h.fired]

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
            thread.join(timeout=60)

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


@dataclass(frozen=True)
class Strikes:
    """Fires a fault's hooks around the test's kubectl commands (a Kubectl observer)."""

    ctx: FaultContext

    def before(self, args: tuple[str, ...]) -> None:
        self.ctx._fire("before", args)  # noqa: SLF001 - the context's own observer

    def after(self, args: tuple[str, ...]) -> None:
        self.ctx._fire("after", args)  # noqa: SLF001


def first_line(lines: Sequence[str] | str) -> str:
    text = lines if isinstance(lines, str) else "\n".join(lines)
    return next((line.strip() for line in text.splitlines() if line.strip()), "")
