"""How a fault is declared. Each testable claim has one, in faults/catalogue.yaml: either
one standard action, as data (faults/standard.py), or a Python fault (`@fault(claim)` in
the faults module beside the claim's suite module). A Python fault is a generator that
breaks the cluster, yields while the test runs and restores it in its `finally`; or, given
`before=`/`after=` a step of the claim's tests, a function `strike(ctx, step)` run at that
step (its undo goes on ctx.stack)."""

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from tutorial_conformance.toolkit.catalogue import Catalogue, load_catalogue

if TYPE_CHECKING:
    from tutorial_conformance.faults.context import FaultContext
    from tutorial_conformance.toolkit.context import Step

Inject = Callable[["FaultContext"], AbstractContextManager[None]]
DECLARED = Path(__file__).with_name("catalogue.yaml")
WHEN = ("before", "after")
KNOWN = {"cause", "tests", "untargeted", "python", *WHEN}


@dataclass(frozen=True)
class Fault:
    claim: str
    inject: Inject
    tests: tuple[str, ...] | None = None  # the claim's tests it targets; None: all of them
    untargeted: str | None = None  # why the claim's other tests are left out
    cause: tuple[str, ...] = ()  # words the first line of the failure names the cause by
    declared: str | None = None  # the standard action, for a fault declared as data
    step: str | None = None  # "before STEP" / "after STEP", where it strikes
    function: Callable[..., Any] | None = None  # a Python fault's own code

    @property
    def summary(self) -> str:
        """What is broken, in one line: the claim's `fault:` in suites/claims.yaml, where
        the description is kept (once)."""
        return catalogue().claims[self.claim].fault or "(not described in claims.yaml)"


@cache
def catalogue() -> Catalogue:
    return load_catalogue()


@cache
def entries() -> dict[str, dict[str, Any]]:
    """faults/catalogue.yaml: claim id -> its entry."""
    return yaml.safe_load(DECLARED.read_text(encoding="utf-8")) or {}


FAULTS: dict[str, Fault] = {}


def register(fault: Fault) -> None:
    if fault.claim in FAULTS:
        raise ValueError(f"claim {fault.claim} has two faults")
    FAULTS[fault.claim] = fault


def at_step(when: str, step: str, what: str, strike: Callable[["FaultContext", "Step"], None]
            ) -> Inject:
    """A fault that is one action at a step of the test."""

    @contextmanager
    def inject(ctx: "FaultContext") -> Iterator[None]:
        tie = ctx.before if when == "before" else ctx.after
        tie(step, what, lambda s: strike(ctx, s))
        yield

    return inject


def fault(claim: str, *, before: str | None = None, after: str | None = None
          ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Registers a Python fault of `claim` (a generator, or with before=/after= a strike;
    its first docstring line says what it does). Which tests it targets, and why not the
    others, come from faults/catalogue.yaml."""

    def decorate(function: Callable[..., Any]) -> Callable[..., Any]:
        entry = entries().get(claim) or {}
        common = (tuple(entry["tests"]) if "tests" in entry else None, entry.get("untargeted"),
                  tuple(entry.get("cause") or ()))
        if before or after:
            when, step = ("before", before) if before else ("after", after)
            what = (function.__doc__ or function.__name__).strip().splitlines()[0]
            inject = at_step(when, str(step), what, function)
            register(Fault(claim, inject, *common, step=f"{when} {step}", function=function))
        else:
            register(Fault(claim, contextmanager(function), *common, function=function))
        return function

    return decorate


def declare_all() -> None:
    """The faults faults/catalogue.yaml declares as one standard action each."""
    from tutorial_conformance.faults import standard

    for claim, entry in entries().items():
        actions = set(entry) - KNOWN
        if "python" in entry:
            if actions:
                raise ValueError(f"faults/catalogue.yaml: {claim}: a Python fault and "
                                 f"{sorted(actions)}")
            continue  # registered by its module
        if len(actions) != 1:
            raise ValueError(f"faults/catalogue.yaml: {claim}: one action, not {sorted(actions)}")
        (action,) = actions
        when = next((w for w in WHEN if w in entry), None)
        inject = standard.declared(action, entry[action], when, entry.get(when or ""))
        step = f"{when} {entry[when]}" if when else None
        register(Fault(claim, inject, tuple(entry["tests"]) if "tests" in entry else None,
                       entry.get("untargeted"), tuple(entry.get("cause") or ()), action, step))
