"""Names as a pod resolves them (the cluster's DNS, through the pod's resolv.conf)."""

from tutorial_conformance.toolkit.context import TestContext
from tutorial_conformance.toolkit.kubectl import ExecError


def lookup(t: TestContext, pod: str, name: str, service: str | None = None) -> set[str]:
    """The IPv4 addresses `name` resolves to in `pod` (getent ahostsv4). A name that does
    not resolve fails saying so, and what the Service behind it has as endpoints."""
    try:
        out = t.exec(pod, "getent", "ahostsv4", name)
    except ExecError as err:
        first, _, rest = str(err).partition("\n")
        behind = f"; {t.diagnose.service(t.namespace, service)}" if service else ""
        raise AssertionError(f"{first}{behind}" + (f"\n{rest}" if rest else "")) from None
    return {line.split()[0] for line in out.splitlines() if line.strip()}
