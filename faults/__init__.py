"""Fault injection: for every testable claim, a real fault on the cluster that makes the
claim false, so that its tests can be shown to fail (`-p faults.plugin --inject-fault=ID`).

- registry.py: how a fault is declared and registered under its claim id;
- catalogue.py: imports the faults, one module per suite module (architecture.py for
  suites/test_architecture.py, ...), one fault per testable claim;
- actions.py: the cluster operations they are made of (static pods, kube-controller-manager
  flags, iptables in nodes and pods, CoreDNS, RBAC, the operator's CRD);
- context.py: what a fault gets (the cluster, the test, hooks on the test's kubectl);
- health.py: the cluster's health after a fault, and the repair of what a killed run left;
- plugin.py: the pytest plugin.
"""
