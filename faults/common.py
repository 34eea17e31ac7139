"""What the faults of several suites share: reading and running commands in the test's pods,
and the addresses and names they use."""


from kubernetes import client

from faults.context import FaultContext


def pod(ctx: FaultContext, name: str) -> client.V1Pod:
    return ctx.core.read_namespaced_pod(name, ctx.namespace)


def pod_exec(ctx: FaultContext, pod_name: str, *cmd: str, container: str | None = None,
              check: bool = False) -> str:
    """A command in one of the test's pods, as the fault's own (not the test's) kubectl."""
    where = ["-c", container] if container else []
    return ctx.kubectl("exec", "-n", ctx.namespace, pod_name, *where, "--", *cmd, check=check)
