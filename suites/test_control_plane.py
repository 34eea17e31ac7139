"""Section I, "k8s architecture": the master's name today, and the controller manager
that turns the current state into the desired one."""

import pytest

from tutorial_conformance.toolkit.context import TestContext
from tutorial_conformance.toolkit.deployments import wait_ready_pods
from tutorial_conformance.toolkit.nodes import control_plane_nodes
from tutorial_conformance.toolkit.timeouts import TIMEOUTS
from tutorial_conformance.toolkit.waiting import wait_until

ROLE = "node-role.kubernetes.io/"


@pytest.mark.claim("arch-master-node-role")
def test_the_master_is_called_the_control_plane_today(t: TestContext):
    with t.step("kubectl get nodes --show-labels"):
        t.kubectl("get", "nodes", "--show-labels")
        nodes = t.core.list_node().items
    roles = {n.metadata.name: sorted(k.removeprefix(ROLE) for k in n.metadata.labels
                                     if k.startswith(ROLE)) for n in nodes}
    taints = {n.metadata.name: sorted(f"{x.key}:{x.effect}" for x in n.spec.taints or [])
              for n in nodes}
    t.evidence.add("node roles and taints", "\n".join(
        f"{name}: roles {roles[name]}, taints {taints[name]}" for name in sorted(roles)))
    masters = [name for name, found in roles.items() if "master" in found]
    assert not masters, f"nodes labelled {ROLE}master: {masters} (roles: {roles})"
    assert [n.metadata.name for n in control_plane_nodes(t.core)], (
        f"no node labelled {ROLE}control-plane: {roles}")
    tainted = [name for name, found in taints.items() if any("/master:" in x for x in found)]
    assert not tainted, f"nodes tainted {ROLE}master: {tainted}"


@pytest.mark.claim("arch-controller-manager")
def test_the_controller_manager_turns_the_current_state_into_the_desired_one(t: TestContext):
    with t.step("kubectl get lease kube-controller-manager -n kube-system"):
        holder = t.kubectl("get", "lease", "kube-controller-manager", "-n", "kube-system",
                           "-o", "jsonpath={.spec.holderIdentity}")
    assert holder.strip(), "no kube-controller-manager holds its leader lease"
    with t.step("kubectl create deployment redis-deployment --image=redis"):
        t.kubectl("create", "deployment", "redis-deployment", "--image=redis", "-n",
                  t.namespace)
        wait_ready_pods(t.core, t.namespace, "app=redis-deployment", 1,
                        timeout=TIMEOUTS.slow_start)
    with t.step("kubectl scale deployment redis-deployment --replicas=2"):
        t.kubectl("scale", "deployment", "redis-deployment", "--replicas=2", "-n", t.namespace)

        def followed() -> tuple[bool, str]:
            sets = t.apps.list_namespaced_replica_set(t.namespace).items
            seen = [(s.metadata.name, s.spec.replicas, s.status.replicas) for s in sets]
            return any(s.spec.replicas == 2 for s in sets), (
                f"ReplicaSets (name, desired, current): {seen}")

        wait_until("the Deployment's ReplicaSet to want 2 pods", followed,
                   timeout=TIMEOUTS.api_change,
                   diagnose=lambda: t.diagnose.pods(t.namespace, "app=redis-deployment", 2))
        wait_ready_pods(t.core, t.namespace, "app=redis-deployment", 2,
                        timeout=TIMEOUTS.slow_start)
    (replica_set,) = t.apps.list_namespaced_replica_set(t.namespace).items
    managers = {f.manager for f in replica_set.metadata.managed_fields or []}
    t.evidence.add(f"managers of ReplicaSet {replica_set.metadata.name}", str(sorted(managers)))
    # The Deployment's controller, in kube-controller-manager, wrote the change.
    assert "kube-controller-manager" in managers, managers
