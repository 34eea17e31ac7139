"""The outside etcd of the topology cluster (toolkit/topology.py): its status and alarms,
filled to its space quota through the apiservers, and its space freed again."""

import json
import time
from dataclasses import dataclass, field

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tutorial_conformance.toolkit.commands import container_exec
from tutorial_conformance.toolkit.timeouts import TIMEOUTS

# One ConfigMap's data: well under the apiserver's request limit (3 MiB) and etcd's
# --max-request-bytes (1.5 MiB), so that each write is one etcd request.
BLOB_BYTES = 900 * 1024
# What etcd answers a write once its space quota is reached (its NOSPACE alarm).
NOSPACE = "database space exceeded"
MIB = 1024 * 1024


def etcdctl(container: str, *args: str) -> str:
    return container_exec(container, "etcdctl", *args, timeout=TIMEOUTS.exec)


def endpoint_status(container: str) -> dict:
    """`etcdctl endpoint status -w json` of the one member: dbSize, header.revision, ..."""
    (member,) = json.loads(etcdctl(container, "endpoint", "status", "-w", "json"))
    return member["Status"]


def alarms(container: str) -> list[str]:
    return etcdctl(container, "alarm", "list").split()


@dataclass
class Fill:
    """ConfigMaps written one after the other until a write was refused (or a bound)."""
    written: list[str] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)  # each accepted write's duration
    refused: str | None = None  # the refusal, as the apiserver gave it

    @property
    def mib(self) -> float:
        return len(self.written) * BLOB_BYTES / MIB

    def rate(self) -> str:
        took = sum(self.seconds)
        return (f"{len(self.written)} writes of {BLOB_BYTES // 1024} KiB in {took:.1f} s: "
                f"{len(self.written) / took:.1f} writes/s, {self.mib / took:.1f} MiB/s"
                if took else "no write accepted")


def fill(core: client.CoreV1Api, namespace: str, prefix: str, bound_bytes: int) -> Fill:
    """Writes ConfigMaps of BLOB_BYTES until the apiserver refuses one, or bound_bytes."""
    data = {"blob": "x" * BLOB_BYTES}
    done = Fill()
    while len(done.written) * BLOB_BYTES < bound_bytes:
        name = f"{prefix}-{len(done.written)}"
        body = client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name), data=data)
        started = time.monotonic()
        try:
            core.create_namespaced_config_map(namespace, body, _request_timeout=TIMEOUTS.request)
        except ApiException as err:
            message = json.loads(err.body).get("message") if err.body else err.reason
            done.refused = f"HTTP {err.status}: {message}"
            return done
        done.seconds.append(time.monotonic() - started)
        done.written.append(name)
    return done


def free(container: str, core: client.CoreV1Api, namespace: str, names: list[str]) -> list[str]:
    """The space given back: the ConfigMaps deleted (etcd takes deletes under its alarm),
    the history compacted, the file defragmented, the alarm disarmed. What was done."""
    for name in names:
        try:
            core.delete_namespaced_config_map(name, namespace, _request_timeout=TIMEOUTS.request)
        except ApiException as err:
            if err.status != 404:
                raise
    revision = endpoint_status(container)["header"]["revision"]
    return [f"deleted {len(names)} ConfigMaps",
            etcdctl(container, "compact", str(revision)).strip(),
            etcdctl(container, "defrag").strip(),
            f"alarm disarm: {etcdctl(container, 'alarm', 'disarm').strip() or 'no alarm'}",
            f"dbSize now {endpoint_status(container)['dbSize'] / MIB:.1f} MiB"]
