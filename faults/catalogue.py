"""One fault per testable claim of suites/claims.yaml: what makes that claim false on the
real cluster. The faults live beside the suites whose tests they break, one module per
suite module (faults/architecture.py for suites/test_architecture.py, ...); importing
this module registers all of them. Each is applied once the test's fixtures are up and
undone before they are torn down; a fault that concerns an object the test itself
creates strikes at one of the test's own steps (ctx.before/after, with the kubectl
command it names). Where a claim is about an object as written (a manifest the test
applies), the fault is that manifest altered (ctx.override_manifest); every other fault
is on the cluster. What each fault does, in words, is the claim's `fault:` in
suites/claims.yaml, kept there only.
"""

from faults import (  # noqa: F401 - imported for their registrations
    architecture,
    call_flow,
    cluster_setup,
    node_failure,
    operator,
    operator_workflow,
    operator_workflow_deploy,
    redis_standalone,
    scheduling,
    services,
    statefulset,
    topologies,
)
from faults.registry import EXEMPT, FAULTS

__all__ = ["EXEMPT", "FAULTS"]
