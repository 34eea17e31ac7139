"""The kind config the fixture builds, and the node image it picks, per version and host."""

from pathlib import Path

import pytest
import yaml

from tutorial_conformance.toolkit.errors import SetupError
from tutorial_conformance.toolkit.kind import failure_lines
from tutorial_conformance.toolkit.kind_config import (
    kind_config,
    kubernetes_version_of,
    needs_cgroup_v1_settings,
    needs_ipvs_gate,
    official_image,
    official_images,
)
from tutorial_conformance.toolkit.toolchain import pinned


def kubelet_patches(config: str) -> list[dict]:
    patches = yaml.safe_load(config).get("kubeadmConfigPatches", [])
    return [p for p in map(yaml.safe_load, patches) if p["kind"] == "KubeletConfiguration"]


@pytest.mark.parametrize(
    ("version", "cgroup_v1", "needed"),
    [("v1.34.4", True, False), ("v1.35.4", True, True), ("v1.36.3", True, True),
     ("v1.36.3", False, False)],
)
def test_kubelet_1_35_and_newer_on_cgroup_v1_is_told_not_to_fail(
    version: str, cgroup_v1: bool, needed: bool
):
    assert needs_cgroup_v1_settings(version, cgroup_v1) is needed


def test_the_cgroup_v1_settings_reach_every_kubelet(tmp_path: Path):
    config = kind_config(False, False, tmp_path, cgroup_v1_settings=True)
    assert kubelet_patches(config) == [{"kind": "KubeletConfiguration", "failCgroupV1": False}]
    assert kubelet_patches(kind_config(False, False, tmp_path)) == []


def test_ipvs_mode_gets_its_feature_gate_from_1_37(tmp_path: Path):
    assert [needs_ipvs_gate(v) for v in ("v1.35.4", "v1.36.3", "v1.37.2")] == [False, False, True]
    ipvs = yaml.safe_load(kind_config(False, False, tmp_path, "kind-ipvs.yaml", ipvs_gate=True))
    assert ipvs["featureGates"] == {"KubeProxyIPVS": True}
    plain = yaml.safe_load(kind_config(False, False, tmp_path, "kind.yaml", ipvs_gate=True))
    assert "featureGates" not in plain
    older = yaml.safe_load(kind_config(False, False, tmp_path, "kind-ipvs.yaml"))
    assert "featureGates" not in older


def test_official_images_are_pinned_by_digest_newest_first():
    images = official_images()
    assert list(images) == ["v1.37.0", "v1.36.4", "v1.35.8"]
    for version, image in images.items():
        assert image.startswith(f"kindest/node:{version}@sha256:")
        assert len(image.rsplit(":", 1)[1]) == 64
    assert official_image("v1.36.4") == images["v1.36.4"]
    assert official_image(None) == images["v1.37.0"]


def test_an_unpublished_version_is_one_line_naming_the_published_ones():
    with pytest.raises(SetupError) as refused:
        official_image("v1.36.3")
    message = str(refused.value)
    assert "\n" not in message
    assert f"kind {pinned('KIND_VERSION')}" in message
    assert "v1.37.0, v1.36.4, v1.35.8" in message


def test_the_version_of_a_node_image_comes_from_its_tag():
    assert kubernetes_version_of("kindest/node:v1.35.4@sha256:00", "v1.34.4") == "v1.35.4"
    assert kubernetes_version_of("my/node:latest", "v1.34.4") == "v1.34.4"


def test_a_failed_kind_create_reports_its_error_lines_not_the_stack_trace():
    stderr = (
        "Creating cluster ...\nERROR: failed to create cluster: kubeadm init failed\n"
        'error: your configuration file uses an old API spec: "kubeadm.k8s.io/v1beta3"\n'
        "k8s.io/kubernetes/cmd/kubeadm/app.Run\n\tkubeadm.go:48\nruntime.goexit\n"
    )
    assert failure_lines(stderr).splitlines() == stderr.splitlines()[1:3]
    assert failure_lines("a\nb") == "a\nb"


def test_the_control_plane_mounts_the_audit_policy_from_the_repository(tmp_path: Path):
    cluster = yaml.safe_load(kind_config(False, False, tmp_path))
    (mount,) = cluster["nodes"][0]["extraMounts"]
    assert Path(mount["hostPath"], "policy.yaml").is_file()
    assert mount["containerPath"] == "/etc/kubernetes/audit"
    policy = yaml.safe_load(Path(mount["hostPath"], "policy.yaml").read_text())
    assert policy["kind"] == "Policy" and policy["rules"][-1] == {"level": "None"}
