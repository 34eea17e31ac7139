"""Whether a cluster has the habits of the suite's own kind cluster: kind's nodes, kubeadm's
layout, kubeadm's stacked etcd. A claim whose basis is such a habit (`distribution` in
suites/claims.yaml) is a Kubernetes promise nowhere: on a cluster without the habit, its
failure says that the cluster differs, not that Kubernetes broke a promise."""

from dataclasses import dataclass

import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tutorial_conformance.toolkit.timeouts import TIMEOUTS


@dataclass(frozen=True)
class Habits:
    kind: bool  # every node a kind node (providerID kind://)
    kubeadm: bool  # kube-system/kubeadm-config: built by kubeadm
    etcd: str  # kubeadm's etcd: "stacked" (static pods), "external", or "unknown"
    ours: bool = False  # the cluster the suite made from its own kind configuration

    @property
    def reference(self) -> bool:
        """The habits the catalogue's distribution claims were judged on."""
        return self.ours or (self.kind and self.kubeadm and self.etcd == "stacked")

    def describe(self) -> str:
        seen = [("kind" if self.kind else "not kind"),
                ("kubeadm-built" if self.kubeadm else "not kubeadm-built"),
                f"etcd {self.etcd}"]
        if self.ours:
            return "the suite's own kind cluster (kind, kubeadm-built, etcd stacked)"
        verdict = ("kind's and kubeadm's habits" if self.reference
                   else "differs from kind's and kubeadm's habits")
        return f"{', '.join(seen)}: {verdict}"


OURS = Habits(kind=True, kubeadm=True, etcd="stacked", ours=True)


def detect(api: client.ApiClient) -> Habits:
    """The habits an existing cluster shows to the API (nothing is run on its nodes)."""
    core = client.CoreV1Api(api)
    nodes = core.list_node(_request_timeout=TIMEOUTS.request).items
    kind = bool(nodes) and all((n.spec.provider_id or "").startswith("kind://") for n in nodes)
    try:
        config = core.read_namespaced_config_map("kubeadm-config", "kube-system",
                                                 _request_timeout=TIMEOUTS.request)
    except ApiException as err:
        if err.status not in (403, 404):
            raise
        return Habits(kind=kind, kubeadm=False, etcd="unknown")
    cluster = yaml.safe_load((config.data or {}).get("ClusterConfiguration") or "") or {}
    etcd = cluster.get("etcd") or {}
    return Habits(kind=kind, kubeadm=True,
                  etcd="external" if "external" in etcd else "stacked")
