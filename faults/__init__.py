"""Fault injection: for every testable claim, a real fault on the cluster that makes the
claim false, so that its tests can be shown to fail (`--tutorial-inject-fault=CLAIM_ID`,
ci/fault-demo.sh).

- catalogue.yaml: every claim's fault; those that are one standard action, as data;
- standard.py: the standard actions; actions.py and static_pods.py: the mechanisms
  (iptables, ConfigMaps, RBAC, kube-proxy, kubelet, static pods);
- one module of Python faults per suite module, for the faults that are new mechanisms;
- registry.py: how a fault is declared; context.py: what a fault gets (the test's
  context, whose steps it strikes at);
- plugin.py: the pytest plugin; health.py and leftovers.py: the cluster whole again
  (ci/fault_demo.py runs the demonstration, ci/fault_table.py writes ci/FAULTS.md).
"""

from tutorial_conformance.faults.registry import FAULTS, Fault

MODULES = ("architecture", "call_flow", "cluster_setup", "kube_proxy", "operator",
           "operator_workflow", "redis_standalone", "statefulset")


def load() -> dict[str, Fault]:
    """Every fault: the Python ones (importing their modules registers them) and those
    faults/catalogue.yaml declares as data."""
    if not FAULTS:
        import importlib

        from tutorial_conformance.faults.registry import declare_all

        for module in MODULES:
            importlib.import_module(f"tutorial_conformance.faults.{module}")
        declare_all()
    return FAULTS
