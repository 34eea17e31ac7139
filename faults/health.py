"""Is the cluster whole again? What every fault checks after its restore, what
ci/fault-demo.sh checks between claims, and the repair of what a killed run left.

    python -m faults.health --kubeconfig PATH --kind-name NAME [--wait SECONDS] [--repair]
"""

import argparse
import json
import shlex
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from faults.actions import COMMENT, FAULT_LABEL, ORIGINAL
from faults.static_pods import BACKUPS, LEASED, MANIFESTS, lease_holder, mirror_pod
from fixtures.cluster import api_client
from fixtures.commands import run
from fixtures.nodes import is_ready
from fixtures.operator import DEPLOY_MANIFEST, NAMESPACE
from fixtures.operator_workflow import marker_rules
from fixtures.pods import is_running_and_ready
from fixtures.timeouts import TIMEOUTS
from fixtures.waiting import wait_until

SYSTEM_NAMESPACES = ("kube-system", "kube-flannel", "local-path-storage", NAMESPACE)
CONTROL_PLANE = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler")
SCHEDULER_CONFIG = "/etc/kubernetes/fault-scheduler-config.yaml"
DOCKER_ON_NODE = ("/usr/local/bin/docker", "/usr/local/bin/dockerd")
KIND_VERSION_BACKUP = f"{BACKUPS}/kind-version"

NODE_STATE = f"""
for b in iptables ip6tables; do
  for t in filter nat; do
    $b -w 5 -t $t -S 2>/dev/null | grep -- '--comment {COMMENT}' | sed "s/^/rule $b $t /"
  done
done
for f in {' '.join(DOCKER_ON_NODE)} {SCHEDULER_CONFIG} {BACKUPS}/*; do
  [ -e "$f" ] && echo "file $f"
done
echo "kubelet $(systemctl is-active kubelet)"
echo "proxy $(curl -s -m 3 http://127.0.0.1:10249/proxyMode)"
"""


def docker_exec(node: str, *cmd: str) -> subprocess.CompletedProcess[str]:
    """A command in a node whose failure the health check reports rather than raises."""
    return run(["docker", "exec", node, *cmd], timeout=60, check=False)


def node_state(node: str) -> list[str]:
    proc = docker_exec(node, "sh", "-c", NODE_STATE)
    if proc.returncode != 0 and not proc.stdout:
        return [f"error {proc.stderr.strip()}"]
    return proc.stdout.splitlines()


def operator_manifests() -> dict[str, dict]:
    docs = yaml.safe_load_all(DEPLOY_MANIFEST.read_text())
    return {doc["kind"]: doc for doc in docs if doc}


def raw(call: object, *args: str) -> dict | None:
    """An object as the apiserver serves it (JSON), or None where it does not exist."""
    try:
        response = call(*args, _preload_content=False)  # type: ignore[operator]
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise
    return json.loads(response.data)


def rule_set(rules: list[dict]) -> set[tuple[str, str, frozenset[str]]]:
    return {(group, resource, frozenset(rule["verbs"])) for rule in rules
            for group in rule.get("apiGroups", []) for resource in rule.get("resources", [])}


def operator_problems(api: client.ApiClient) -> list[str]:
    """The operator, where deployed, is as config/deploy.yaml says; the ClusterRole, whose
    name section VI's workflow operator shares, may also be the one its markers make."""
    found = []
    wanted = operator_manifests()
    crd = raw(client.ApiextensionsV1Api(api).read_custom_resource_definition,
              wanted["CustomResourceDefinition"]["metadata"]["name"])
    want_schema = wanted["CustomResourceDefinition"]["spec"]["versions"][0]["schema"]
    if crd and crd["spec"]["versions"][0]["schema"] != want_schema:
        found.append("the Memcached CRD's schema differs from config/deploy.yaml")
    role = raw(client.RbacAuthorizationV1Api(api).read_cluster_role,
               wanted["ClusterRole"]["metadata"]["name"])
    if role and role["rules"] != wanted["ClusterRole"]["rules"] \
            and rule_set(role["rules"]) != marker_rules():
        found.append("the operator's ClusterRole differs from config/deploy.yaml and from "
                     "section VI's controller's markers")
    return found


def problems(api: client.ApiClient, kind_name: str) -> list[str]:
    """What is not as a fresh cluster has it; empty when healthy."""
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    found: list[str] = []
    nodes = core.list_node().items
    for node in nodes:
        name = node.metadata.name
        if not is_ready(node):
            found.append(f"node {name} is not Ready")
        if node.spec.unschedulable:
            found.append(f"node {name} is cordoned")
        taints = [t.key for t in node.spec.taints or []
                  if t.key != "node-role.kubernetes.io/control-plane"]
        if taints:
            found.append(f"node {name} is tainted {taints}")

    for namespace in SYSTEM_NAMESPACES:
        for pod in core.list_namespaced_pod(namespace).items:
            if pod.metadata.deletion_timestamp:
                found.append(f"pod {namespace}/{pod.metadata.name} is terminating")
            elif not is_running_and_ready(pod):
                found.append(f"pod {namespace}/{pod.metadata.name} is not ready "
                             f"({pod.status.phase})")
        for dep in apps.list_namespaced_deployment(namespace).items:
            s, want = dep.status, dep.spec.replicas
            if not (s.ready_replicas == s.updated_replicas == s.replicas == want
                    and (s.observed_generation or 0) >= dep.metadata.generation):
                found.append(f"deployment {namespace}/{dep.metadata.name} is not rolled out "
                             f"(ready={s.ready_replicas} want={want})")
            if FAULT_LABEL in (dep.spec.template.metadata.annotations or {}):
                found.append(f"deployment {namespace}/{dep.metadata.name} has a fault's template")
        for ds in apps.list_namespaced_daemon_set(namespace).items:
            s = ds.status
            if not (s.desired_number_scheduled == s.updated_number_scheduled == s.number_ready
                    and (s.observed_generation or 0) >= ds.metadata.generation):
                found.append(f"daemonset {namespace}/{ds.metadata.name} is not rolled out")
            if FAULT_LABEL in (ds.spec.template.metadata.annotations or {}):
                found.append(f"daemonset {namespace}/{ds.metadata.name} has a fault's template")
        for cm in core.list_namespaced_config_map(namespace).items:
            if ORIGINAL in (cm.metadata.annotations or {}):
                found.append(f"configmap {namespace}/{cm.metadata.name} is still edited")

    master = f"{kind_name}-control-plane"
    for component in CONTROL_PLANE:
        pod = mirror_pod(core, component)
        if pod is None or not is_running_and_ready(pod):
            found.append(f"{component} is not running and ready")
            continue
        disk = docker_exec(master, "cat", f"{MANIFESTS}/{component}.yaml")
        on_disk = yaml.safe_load(disk.stdout or "{}") or {}
        container = (on_disk.get("spec", {}).get("containers") or [{}])[0]
        running = pod.spec.containers[0]
        if (running.command, running.image) != (container.get("command"), container.get("image")):
            found.append(f"{component} does not run its manifest on disk")
    for component in LEASED:
        _, renewed = lease_holder(api, component)
        if not renewed or (datetime.now(UTC) - renewed).total_seconds() > 30:
            found.append(f"{component} holds no fresh leader lease (renewed {renewed})")

    version = client.VersionApi(api).get_code().git_version
    image_version = docker_exec(master, "cat", "/kind/version").stdout.strip()
    if version != image_version:
        found.append(f"the apiserver is {version}, the node image {image_version}")
    images = docker_exec(master, "crictl", "images", "-o", "json").stdout
    tags = [t for i in json.loads(images or '{"images": []}')["images"]
            for t in i.get("repoTags") or [] if "/kube-apiserver:" in t]
    if any(not t.endswith(f":{image_version}") for t in tags):
        found.append(f"other apiserver images on {master}: {tags}")

    for node in sorted(n.metadata.name for n in nodes):
        for line in node_state(node):
            kind, _, rest = line.partition(" ")
            if kind in ("rule", "file", "error"):
                found.append(f"{node}: fault leftover {line}")
            elif kind == "kubelet" and rest != "active":
                found.append(f"{node}: kubelet is {rest}")
            elif kind == "proxy" and rest != "iptables":
                found.append(f"{node}: kube-proxy serves in mode {rest!r}")

    bindings = client.RbacAuthorizationV1Api(api).list_cluster_role_binding(
        label_selector=FAULT_LABEL).items
    found += [f"clusterrolebinding {b.metadata.name} is a fault's" for b in bindings]
    policies = client.AdmissionregistrationV1Api(api).list_validating_admission_policy(
        label_selector=FAULT_LABEL).items
    found += [f"validatingadmissionpolicy {p.metadata.name} is a fault's" for p in policies]
    for node in client.CoreV1Api(api).list_node(
            label_selector="node-role.kubernetes.io/control-plane").items:
        taints = {(t.key, t.effect) for t in node.spec.taints or []}
        if ("node-role.kubernetes.io/control-plane", "NoSchedule") not in taints:
            found.append(f"{node.metadata.name} lacks its control-plane NoSchedule taint")
    found += operator_problems(api)
    return found


def wait_healthy(
    api: client.ApiClient, kind_name: str, timeout: float = TIMEOUTS.cluster_ready
) -> None:
    def probe() -> tuple[bool, list[str]]:
        found = problems(api, kind_name)
        return not found, found

    wait_until("the cluster to be healthy again", probe, timeout=timeout, interval=3)


def repair(api: client.ApiClient, kind_name: str) -> list[str]:
    """Undoes what faults leave when their run is killed. Returns what it did."""
    done: list[str] = []
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    master = f"{kind_name}-control-plane"
    backups = docker_exec(master, "sh", "-c", f"ls {BACKUPS} 2>/dev/null").stdout.split()
    for name in backups:
        path = f"{BACKUPS}/{name}"
        if name.endswith(".yaml"):
            script = f'cp "{path}" "{MANIFESTS}/.{name}.tmp" && mv "{MANIFESTS}/.{name}.tmp" ' \
                     f'"{MANIFESTS}/{name}" && rm "{path}"'
        elif name.endswith(".pid"):
            script = f'kill "$(cat "{path}")" 2>/dev/null; rm "{path}"'
        elif name == "kind-version":
            script = f'cp "{path}" /kind/version && rm "{path}"'
        else:
            script = f'rm -f "{path}"'
        docker_exec(master, "sh", "-c", script)
        done.append(f"{master}: restored {path}")
    version = docker_exec(master, "cat", "/kind/version").stdout.strip()
    images = docker_exec(master, "crictl", "images", "-o", "json").stdout
    for image in json.loads(images or '{"images": []}')["images"]:
        for tag in image.get("repoTags") or []:
            if "/kube-apiserver:" in tag and not tag.endswith(f":{version}"):
                docker_exec(master, "crictl", "rmi", tag)
                done.append(f"{master}: removed image {tag}")

    for node in sorted(n.metadata.name for n in core.list_node().items):
        for line in node_state(node):
            kind, _, rest = line.partition(" ")
            if kind == "rule":
                binary, table, rule = rest.split(" ", 2)
                args = shlex.split(rule)
                docker_exec(node, binary, "-w", "5", "-t", table, "-D", *args[1:])
                done.append(f"{node}: deleted {binary} -t {table} {rule}")
            elif kind == "file" and not rest.startswith(BACKUPS):
                docker_exec(node, "rm", "-f", rest)
                done.append(f"{node}: removed {rest}")
            elif kind == "kubelet" and rest != "active":
                docker_exec(node, "systemctl", "start", "kubelet")
                done.append(f"{node}: started kubelet")

    for namespace in ("kube-system",):
        for cm in core.list_namespaced_config_map(namespace).items:
            original = (cm.metadata.annotations or {}).get(ORIGINAL)
            if original:
                core.patch_namespaced_config_map(cm.metadata.name, namespace, {
                    "metadata": {"annotations": {ORIGINAL: None}}, "data": json.loads(original)})
                done.append(f"configmap {namespace}/{cm.metadata.name} restored")
        unset = {"spec": {"template": {"metadata": {"annotations": {FAULT_LABEL: None}}}}}
        for dep in apps.list_namespaced_deployment(namespace).items:
            if FAULT_LABEL in (dep.spec.template.metadata.annotations or {}):
                apps.patch_namespaced_deployment(dep.metadata.name, namespace, unset)
                done.append(f"deployment {namespace}/{dep.metadata.name} template restored")
        for ds in apps.list_namespaced_daemon_set(namespace).items:
            if FAULT_LABEL in (ds.spec.template.metadata.annotations or {}):
                apps.patch_namespaced_daemon_set(ds.metadata.name, namespace, unset)
                done.append(f"daemonset {namespace}/{ds.metadata.name} template restored")

    rbac = client.RbacAuthorizationV1Api(api)
    for binding in rbac.list_cluster_role_binding(label_selector=FAULT_LABEL).items:
        rbac.delete_cluster_role_binding(binding.metadata.name)
        done.append(f"clusterrolebinding {binding.metadata.name} deleted")
    if operator_problems(api):  # the suite's fixture deploys it afresh
        delete_operator(api)
        done.append("the memcached operator deleted (the suite deploys it afresh)")
    return done


def delete_operator(api: client.ApiClient) -> None:
    wanted = operator_manifests()
    calls = [
        lambda: client.ApiextensionsV1Api(api).delete_custom_resource_definition(
            wanted["CustomResourceDefinition"]["metadata"]["name"]),
        lambda: client.RbacAuthorizationV1Api(api).delete_cluster_role(
            wanted["ClusterRole"]["metadata"]["name"]),
        lambda: client.RbacAuthorizationV1Api(api).delete_cluster_role_binding(
            wanted["ClusterRoleBinding"]["metadata"]["name"]),
        lambda: client.CoreV1Api(api).delete_namespace(NAMESPACE),
    ]
    for call in calls:
        try:
            call()
        except ApiException as exc:
            if exc.status != 404:
                raise

    def gone() -> tuple[bool, str]:
        try:
            client.CoreV1Api(api).read_namespace(NAMESPACE)
        except ApiException as exc:
            if exc.status == 404:
                return True, "gone"
            raise
        return False, f"namespace {NAMESPACE} terminating"

    wait_until(f"namespace {NAMESPACE} to be deleted", gone,
               timeout=TIMEOUTS.cluster_ready, interval=2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m faults.health", description=__doc__)
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("--kind-name", required=True)
    parser.add_argument("--wait", type=float, default=0, metavar="SECONDS",
                        help="wait up to this long for the cluster to be healthy")
    parser.add_argument("--repair", action="store_true",
                        help="first undo whatever faults of a killed run left behind")
    args = parser.parse_args(argv)
    api = api_client(Path(args.kubeconfig))
    if args.repair:
        for line in repair(api, args.kind_name):
            print(f"repaired: {line}")
    if args.wait:
        try:
            wait_healthy(api, args.kind_name, args.wait)
        except AssertionError as exc:
            print(f"unhealthy: {exc}", file=sys.stderr)
            return 1
        print("healthy")
        return 0
    found = problems(api, args.kind_name)
    for line in found:
        print(f"unhealthy: {line}", file=sys.stderr)
    if not found:
        print("healthy")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
