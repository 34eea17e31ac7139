#!/usr/bin/env python3
"""`envoy -c BOOTSTRAP` for kind's load balancer container, served by haproxy.

kind starts its load balancer with envoy's file-based dynamic configuration: a bootstrap
that names a listener file (LDS) and a cluster file (CDS), which kind rewrites (by `mv`)
whenever the control-plane nodes change. This reads the same files, renders what they
say (one TCP listener, round robin over the apiservers, an HTTPS /healthz check) as an
haproxy configuration, runs haproxy in master-worker mode and reloads it when a file
changes. Only the fields kind's templates use are read (kind's
pkg/cluster/internal/loadbalancer/config.go).
"""

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

HAPROXY_CFG = Path("/usr/local/etc/haproxy.cfg")
POLL_SECONDS = 1.0


def resources(path: Path) -> list[dict]:
    try:
        return yaml.safe_load(path.read_text()).get("resources") or []
    except (OSError, yaml.YAMLError, AttributeError):
        return []


def render(lds: list[dict], cds: list[dict]) -> str | None:
    """haproxy's configuration for kind's listener and cluster, or None until kind has
    written both."""
    if not lds or not cds:
        return None
    listener, cluster = lds[0], cds[0]
    bind = listener["address"]["socket_address"]
    port, host = bind["port_value"], bind.get("address", "0.0.0.0")
    ipv6 = ":" in host
    check = (cluster.get("health_checks") or [{}])[0]
    path = check.get("http_health_check", {}).get("path", "/healthz")
    interval = str(check.get("interval", "2s"))
    fall = check.get("unhealthy_threshold", 2)
    rise = check.get("healthy_threshold", 1)
    servers = []
    for group in cluster["load_assignment"]["endpoints"]:
        for entry in group.get("lb_endpoints", []):
            addr = entry["endpoint"]["address"]["socket_address"]
            servers.append((addr["address"], addr["port_value"]))
    lines = [
        "global",
        "  log stdout format raw local0 info",
        "resolvers docker",
        "  nameserver dns 127.0.0.11:53",
        "defaults",
        "  log global",
        "  mode tcp",
        "  option dontlognull",
        "  timeout connect 250ms",
        "  timeout client 1h",
        "  timeout server 1h",
        "  retries 3",
        "  option redispatch",
        "  default-server init-addr none",
        f"frontend {listener.get('name', 'listener')}",
        f"  bind {'[::]' if ipv6 else '0.0.0.0'}:{port}" + (" v4v6" if ipv6 else ""),
        f"  default_backend {cluster['name']}",
        f"backend {cluster['name']}",
        "  balance roundrobin",
        f"  option httpchk GET {path}",
    ]
    family = "ipv6" if ipv6 else "ipv4"
    lines += [
        f"  server {host}-{port} {host}:{port} check check-ssl verify none inter {interval} "
        f"fall {fall} rise {rise} resolvers docker resolve-prefer {family}"
        for host, port in sorted(servers)
    ]
    return "\n".join(lines) + "\n"


def stamp(paths: list[Path]) -> tuple:
    out = []
    for path in paths:
        try:
            st = path.stat()
            out.append((st.st_ino, st.st_mtime_ns, st.st_size))
        except OSError:
            out.append(None)
    return tuple(out)


def main() -> int:
    parser = argparse.ArgumentParser(prog="envoy")
    parser.add_argument("-c", "--config-path", required=True)
    args, _ = parser.parse_known_args()
    bootstrap = yaml.safe_load(Path(args.config_path).read_text())
    dynamic = bootstrap["dynamic_resources"]
    lds_path = Path(dynamic["lds_config"]["path_config_source"]["path"])
    cds_path = Path(dynamic["cds_config"]["path_config_source"]["path"])
    haproxy: subprocess.Popen | None = None
    seen: tuple | None = None
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while True:
            now = stamp([lds_path, cds_path])
            if now != seen:
                seen = now
                text = render(resources(lds_path), resources(cds_path))
                if text and (not HAPROXY_CFG.exists() or HAPROXY_CFG.read_text() != text):
                    HAPROXY_CFG.write_text(text)
                    if haproxy is None or haproxy.poll() is not None:
                        haproxy = subprocess.Popen(["haproxy", "-W", "-db", "-f", str(HAPROXY_CFG)])
                        print(f"envoy (haproxy stand-in): started, pid {haproxy.pid}", flush=True)
                    else:
                        haproxy.send_signal(signal.SIGUSR2)  # master-worker: reload
                        print("envoy (haproxy stand-in): reloaded", flush=True)
            if haproxy is not None and haproxy.poll() is not None:
                print(f"envoy (haproxy stand-in): haproxy exited {haproxy.returncode}", flush=True)
                return 1
            time.sleep(POLL_SECONDS)
    finally:
        if haproxy is not None and haproxy.poll() is None:
            haproxy.terminate()


if __name__ == "__main__":
    os.umask(0o022)
    sys.exit(main())
