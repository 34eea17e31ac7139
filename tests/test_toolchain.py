from pathlib import Path

import pytest

from tutorial_conformance.toolkit.errors import SetupError
from tutorial_conformance.toolkit.toolchain import check_kubernetes_version, pinned


def test_pinned_versions_are_read_from_versions_env():
    assert pinned("KIND_VERSION").startswith("v0.")
    assert check_kubernetes_version(pinned("KUBERNETES_VERSION"))


@pytest.mark.parametrize("bad", ["1.34.4", "v1.34", "latest", "v2.0.0"])
def test_malformed_kubernetes_versions_are_refused(bad: str):
    with pytest.raises(SetupError, match="unknown Kubernetes version"):
        check_kubernetes_version(bad)


def test_a_manifest_can_be_overridden_for_a_while(tmp_path: Path):
    from tutorial_conformance.toolkit.manifests import manifest, overridden

    original = manifest("redis/pod.yaml")
    stand_in = tmp_path / "pod.yaml"
    with overridden("redis/pod.yaml", str(stand_in)):
        assert manifest("redis/pod.yaml") == str(stand_in)
        assert manifest("redis/pod-as-printed.yaml") != str(stand_in)
    assert manifest("redis/pod.yaml") == original
