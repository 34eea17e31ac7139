"""The offline stand-in for kind's load balancer (ci/images/loadbalancer/envoy.py): the
files kind writes for envoy, rendered as haproxy's configuration."""

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import yaml

REPO = Path(__file__).resolve().parent.parent
# What kind v0.33's templates (pkg/cluster/internal/loadbalancer/config.go) write for a
# cluster of three control-plane nodes.
LDS = """
resources:
- "@type": type.googleapis.com/envoy.config.listener.v3.Listener
  name: listener_apiserver
  address:
    socket_address:
      address: "0.0.0.0"
      port_value: 6443
"""
CDS = """
resources:
- "@type": type.googleapis.com/envoy.config.cluster.v3.Cluster
  name: kube_apiservers
  connect_timeout: 0.25s
  type: STRICT_DNS
  health_checks:
  - timeout: 3s
    interval: 2s
    unhealthy_threshold: 2
    healthy_threshold: 1
    http_health_check:
      path: /healthz
  load_assignment:
    cluster_name: kube_apiservers
    endpoints:
    - lb_endpoints:
""" + "".join(f"""      - endpoint:
          address:
            socket_address:
              address: ha-control-plane{n}
              port_value: 6443
""" for n in ("", "2", "3"))


def stand_in() -> ModuleType:
    path = REPO / "ci/images/loadbalancer/envoy.py"
    spec = importlib.util.spec_from_file_location("envoy_stand_in", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_kinds_files_become_one_listener_balancing_over_every_apiserver():
    envoy = stand_in()
    config = envoy.render(yaml.safe_load(LDS)["resources"], yaml.safe_load(CDS)["resources"])
    assert "  bind 0.0.0.0:6443" in config
    assert "  option httpchk GET /healthz" in config
    servers = [line.split()[2] for line in config.splitlines() if line.startswith("  server ")]
    assert servers == [f"ha-control-plane{n}:6443" for n in ("", "2", "3")]
    assert "check check-ssl verify none inter 2s fall 2 rise 1" in config


def test_nothing_is_served_until_kind_has_written_both_files():
    envoy = stand_in()
    assert envoy.render([], yaml.safe_load(CDS)["resources"]) is None
    assert envoy.render(yaml.safe_load(LDS)["resources"], []) is None
