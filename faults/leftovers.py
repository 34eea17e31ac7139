"""What a fault leaves behind when its run is killed before its restore, one kind of
leftover per class: each finds its own leftovers (`find`, one line per problem) and undoes
them (`repair`, one line per repair). faults/health.py runs them all."""

import json
import shlex
from datetime import UTC, datetime
from typing import Protocol

import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tutorial_conformance.faults.actions import COMMENT, FAULT_LABEL, ORIGINAL
from tutorial_conformance.faults.static_pods import BACKUPS, MANIFESTS, SCHEDULER_CONFIG
from tutorial_conformance.toolkit.commands import CommandError, node_exec
from tutorial_conformance.toolkit.control_plane import LEASED, lease_holder, mirror_pod
from tutorial_conformance.toolkit.operator import MANAGER_ROLE, NAMESPACE, deploy_objects
from tutorial_conformance.toolkit.pods import is_running_and_ready
from tutorial_conformance.toolkit.timeouts import INTERVALS, TIMEOUTS
from tutorial_conformance.toolkit.waiting import wait_until

# What faults put on nodes, where the node check looks for it.
DOCKER_ON_NODE = ("/usr/local/bin/docker", "/usr/local/bin/dockerd")
KIND_VERSION_BACKUP = f"{BACKUPS}/kind-version"
SYSTEM_NAMESPACES = ("kube-system", "kube-flannel", "local-path-storage", NAMESPACE)
CONTROL_PLANE = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler")

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


class Leftover(Protocol):
    def find(self, api: client.ApiClient, kind_name: str) -> list[str]: ...

    def repair(self, api: client.ApiClient, kind_name: str) -> list[str]: ...


def in_node(node: str, *cmd: str) -> str:
    """A command in a node whose failure the checks report rather than raise: its output,
    or an `error ...` line where it failed without any."""
    try:
        return node_exec(node, *cmd)
    except CommandError as err:
        return f"error {err}"


def node_names(api: client.ApiClient) -> list[str]:
    return sorted(n.metadata.name for n in client.CoreV1Api(api).list_node().items)


class NodeLeftovers:
    """iptables rules commented by a fault, files a fault put on a node, a stopped kubelet,
    kube-proxy in another mode."""

    def find(self, api: client.ApiClient, kind_name: str) -> list[str]:
        found = []
        for node in node_names(api):
            for line in in_node(node, "sh", "-c", NODE_STATE).splitlines():
                kind, _, rest = line.partition(" ")
                if kind in ("rule", "file", "error"):
                    found.append(f"{node}: fault leftover {line}")
                elif kind == "kubelet" and rest != "active":
                    found.append(f"{node}: kubelet is {rest}")
                elif kind == "proxy" and rest != "iptables":
                    found.append(f"{node}: kube-proxy serves in mode {rest!r}")
        return found

    def repair(self, api: client.ApiClient, kind_name: str) -> list[str]:
        done = []
        for node in node_names(api):
            for line in in_node(node, "sh", "-c", NODE_STATE).splitlines():
                kind, _, rest = line.partition(" ")
                if kind == "rule":
                    binary, table, rule = rest.split(" ", 2)
                    in_node(node, binary, "-w", "5", "-t", table, "-D", *shlex.split(rule)[1:])
                    done.append(f"{node}: deleted {binary} -t {table} {rule}")
                elif kind == "file" and not rest.startswith(BACKUPS):
                    in_node(node, "rm", "-f", rest)
                    done.append(f"{node}: removed {rest}")
                elif kind == "kubelet" and rest != "active":
                    in_node(node, "systemctl", "start", "kubelet")
                    done.append(f"{node}: started kubelet")
        return done


class ControlPlaneLeftovers:
    """Static-pod manifests a fault moved or edited (their originals in the backup folder),
    an apiserver image of another version, a component without a fresh leader lease."""

    def find(self, api: client.ApiClient, kind_name: str) -> list[str]:
        core, master, found = client.CoreV1Api(api), f"{kind_name}-control-plane", []
        for component in CONTROL_PLANE:
            pod = mirror_pod(core, component)
            if pod is None or not is_running_and_ready(pod):
                found.append(f"{component} is not running and ready")
                continue
            disk = node_exec(master, "cat", f"{MANIFESTS}/{component}.yaml", check=False)
            on_disk = yaml.safe_load(disk) or {}
            container = (on_disk.get("spec", {}).get("containers") or [{}])[0]
            running = pod.spec.containers[0]
            if (running.command, running.image) != (container.get("command"),
                                                    container.get("image")):
                found.append(f"{component} does not run its manifest on disk")
        for component in LEASED:
            _, renewed = lease_holder(api, component)
            if not renewed or (datetime.now(UTC) - renewed).total_seconds() > 30:
                found.append(f"{component} holds no fresh leader lease (renewed {renewed})")
        version = client.VersionApi(api).get_code().git_version
        image_version = node_exec(master, "cat", "/kind/version", check=False).strip()
        if version != image_version:
            found.append(f"the apiserver is {version}, the node image {image_version}")
        others = self.other_apiserver_images(master, image_version)
        if others:
            found.append(f"other apiserver images on {master}: {others}")
        return found

    @staticmethod
    def other_apiserver_images(master: str, version: str) -> list[str]:
        out = node_exec(master, "crictl", "images", "-o", "json", check=False)
        listed = json.loads(out or '{"images": []}')
        return [t for i in listed["images"] for t in i.get("repoTags") or []
                if "/kube-apiserver:" in t and not t.endswith(f":{version}")]

    def repair(self, api: client.ApiClient, kind_name: str) -> list[str]:
        master, done = f"{kind_name}-control-plane", []
        for name in in_node(master, "sh", "-c", f"ls {BACKUPS} 2>/dev/null").split():
            path = f"{BACKUPS}/{name}"
            if name.endswith(".yaml"):
                script = (f'cp "{path}" "{MANIFESTS}/.{name}.tmp" && '
                          f'mv "{MANIFESTS}/.{name}.tmp" "{MANIFESTS}/{name}" && rm "{path}"')
            elif name.endswith(".pid"):
                script = f'kill "$(cat "{path}")" 2>/dev/null; rm "{path}"'
            elif name == "kind-version":
                script = f'cp "{path}" /kind/version && rm "{path}"'
            else:
                script = f'rm -f "{path}"'
            in_node(master, "sh", "-c", script)
            done.append(f"{master}: restored {path}")
        version = node_exec(master, "cat", "/kind/version", check=False).strip()
        for tag in self.other_apiserver_images(master, version):
            in_node(master, "crictl", "rmi", tag)
            done.append(f"{master}: removed image {tag}")
        return done


class EditedObjects:
    """ConfigMaps a fault edited (their original data in an annotation), workload templates
    a fault changed (marked with its label as an annotation)."""

    def find(self, api: client.ApiClient, kind_name: str) -> list[str]:
        core, apps, found = client.CoreV1Api(api), client.AppsV1Api(api), []
        for namespace in SYSTEM_NAMESPACES:
            for cm in core.list_namespaced_config_map(namespace).items:
                if ORIGINAL in (cm.metadata.annotations or {}):
                    found.append(f"configmap {namespace}/{cm.metadata.name} is still edited")
            for kind, items in (("deployment", apps.list_namespaced_deployment(namespace).items),
                                ("daemonset", apps.list_namespaced_daemon_set(namespace).items)):
                found += [f"{kind} {namespace}/{o.metadata.name} has a fault's template"
                          for o in items
                          if FAULT_LABEL in (o.spec.template.metadata.annotations or {})]
        return found

    def repair(self, api: client.ApiClient, kind_name: str) -> list[str]:
        core, apps, done = client.CoreV1Api(api), client.AppsV1Api(api), []
        for namespace in SYSTEM_NAMESPACES:
            for cm in core.list_namespaced_config_map(namespace).items:
                original = (cm.metadata.annotations or {}).get(ORIGINAL)
                if original:
                    core.patch_namespaced_config_map(cm.metadata.name, namespace, {
                        "metadata": {"annotations": {ORIGINAL: None}},
                        "data": json.loads(original)})
                    done.append(f"configmap {namespace}/{cm.metadata.name} restored")
            unset = {"spec": {"template": {"metadata": {"annotations": {FAULT_LABEL: None}}}}}
            for kind, items, patch in (
                    ("deployment", apps.list_namespaced_deployment(namespace).items,
                     apps.patch_namespaced_deployment),
                    ("daemonset", apps.list_namespaced_daemon_set(namespace).items,
                     apps.patch_namespaced_daemon_set)):
                for o in items:
                    if FAULT_LABEL in (o.spec.template.metadata.annotations or {}):
                        patch(o.metadata.name, namespace, unset)
                        done.append(f"{kind} {namespace}/{o.metadata.name} template restored")
        return done


class LabelledObjects:
    """Cluster-wide objects a fault created, labelled with its label."""

    def kinds(self, api: client.ApiClient) -> list[tuple[str, object, object]]:
        rbac = client.RbacAuthorizationV1Api(api)
        admission = client.AdmissionregistrationV1Api(api)
        return [("clusterrolebinding", rbac.list_cluster_role_binding,
                 rbac.delete_cluster_role_binding),
                ("validatingadmissionpolicy", admission.list_validating_admission_policy,
                 admission.delete_validating_admission_policy)]

    def find(self, api: client.ApiClient, kind_name: str) -> list[str]:
        return [f"{kind} {o.metadata.name} is a fault's" for kind, listing, _ in self.kinds(api)
                for o in listing(label_selector=FAULT_LABEL).items]  # type: ignore[operator]

    def repair(self, api: client.ApiClient, kind_name: str) -> list[str]:
        done = []
        for kind, listing, delete in self.kinds(api):
            for o in listing(label_selector=FAULT_LABEL).items:  # type: ignore[operator]
                delete(o.metadata.name)  # type: ignore[operator]
                done.append(f"{kind} {o.metadata.name} deleted")
        return done


class OperatorLeftovers:
    """The suite's operator, where deployed, other than what `make deploy` applies (the
    CRD's schema, the manager's ClusterRole, which section VI's workflow and its faults
    share); repaired by deleting it: the suite's fixture deploys it afresh."""

    def find(self, api: client.ApiClient, kind_name: str) -> list[str]:
        found, wanted = [], deploy_objects()
        (crd,) = [d for (kind, _), d in wanted.items() if kind == "CustomResourceDefinition"]
        live = raw(client.ApiextensionsV1Api(api).read_custom_resource_definition,
                   crd["metadata"]["name"])
        if live and live["spec"]["versions"][0]["schema"] != crd["spec"]["versions"][0]["schema"]:
            found.append("the Memcached CRD's schema differs from operator/'s")
        role = raw(client.RbacAuthorizationV1Api(api).read_cluster_role, MANAGER_ROLE)
        if role and rule_set(role["rules"]) != rule_set(
                wanted["ClusterRole", MANAGER_ROLE]["rules"]):
            found.append(f"ClusterRole {MANAGER_ROLE} differs from operator/'s markers")
        return found

    def repair(self, api: client.ApiClient, kind_name: str) -> list[str]:
        if not self.find(api, kind_name):
            return []
        rbac = client.RbacAuthorizationV1Api(api)
        deletes = {"CustomResourceDefinition":
                   client.ApiextensionsV1Api(api).delete_custom_resource_definition,
                   "ClusterRole": rbac.delete_cluster_role,
                   "ClusterRoleBinding": rbac.delete_cluster_role_binding,
                   "Namespace": client.CoreV1Api(api).delete_namespace}
        for kind, name in deploy_objects():
            if kind in deletes:
                try:
                    deletes[kind](name)
                except ApiException as exc:
                    if exc.status != 404:
                        raise
        wait_until(f"namespace {NAMESPACE} to be deleted",
                   lambda: (raw(client.CoreV1Api(api).read_namespace, NAMESPACE) is None,
                            f"namespace {NAMESPACE} terminating"),
                   timeout=TIMEOUTS.cluster_ready, interval=INTERVALS.slow)
        return ["the memcached operator deleted (the suite deploys it afresh)"]


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


LEFTOVERS: tuple[Leftover, ...] = (ControlPlaneLeftovers(), NodeLeftovers(), EditedObjects(),
                                   LabelledObjects(), OperatorLeftovers())
