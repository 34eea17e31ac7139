"""The Python faults of suites/test_kube_proxy.py (section I); the others are declared in
faults/catalogue.yaml."""

from collections.abc import Iterator

from tutorial_conformance.faults.context import FaultContext, FaultError
from tutorial_conformance.faults.registry import fault
from tutorial_conformance.toolkit.nodes import frozen
from tutorial_conformance.toolkit.pods import is_running_and_ready


@fault("arch-kube-proxy-opens-network")
def kube_proxy_frozen(ctx: FaultContext) -> Iterator[None]:
    """kube-proxy present but not at work: its process stopped (SIGSTOP) on one worker.
    kube-proxy has no probe, so its pod stays Running and Ready, which is all that
    arch-node-components' test looks at; the node's rules stop following the Services."""
    node = ctx.workers[-1]
    pods = ctx.core.list_namespaced_pod("kube-system", label_selector="k8s-app=kube-proxy",
                                        field_selector=f"spec.nodeName={node}").items
    if not pods:
        raise FaultError(f"no kube-proxy pod on {node}")
    pod = pods[0]
    with frozen(pod):
        ready = ctx.core.read_namespaced_pod(pod.metadata.name, "kube-system")
        ctx.note(f"kube-proxy {pod.metadata.name} on {node} stopped (SIGSTOP); its pod is "
                 f"{ready.status.phase}, {'Ready' if is_running_and_ready(ready) else 'not Ready'}")
        yield
