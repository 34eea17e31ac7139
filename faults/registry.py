"""How a fault is declared: a generator that breaks the cluster, yields while the test
runs, and restores the cluster in its `finally`, registered under the claims it falsifies."""

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from toolkit.catalogue import Catalogue, load_catalogue

if TYPE_CHECKING:
    from faults.context import FaultContext

Inject = Callable[["FaultContext"], AbstractContextManager[None]]


@dataclass(frozen=True)
class Fault:
    claim: str
    inject: Inject
    tests: tuple[str, ...] | None = None  # the claim's tests it targets; None: all of them
    untargeted: str | None = None  # why the claim's other tests are left out

    @property
    def summary(self) -> str:
        """What is broken, in one line: the claim's `fault:` in suites/claims.yaml, where
        the description is kept (once)."""
        return catalogue().claims[self.claim].fault or "(not described in claims.yaml)"


@cache
def catalogue() -> Catalogue:
    return load_catalogue()


FAULTS: dict[str, Fault] = {}

# Testable claims without a fault, with the reason. Empty: every testable claim has one.
EXEMPT: dict[str, str] = {}


def fault(
    *claims: str, tests: tuple[str, ...] | None = None,
    untargeted: str | None = None,
) -> Callable[[Callable[["FaultContext"], Iterator[None]]], Inject]:
    """Registers a generator function as the fault of each of `claims`."""

    def register(generator: Callable[["FaultContext"], Iterator[None]]) -> Inject:
        inject = contextmanager(generator)
        for claim in claims:
            if claim in FAULTS:
                raise ValueError(f"claim {claim} has two faults")
            FAULTS[claim] = Fault(claim, inject, tests, untargeted)
        return inject

    return register
