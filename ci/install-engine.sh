#!/usr/bin/env bash
# Installs and starts what the offline toolchain needs on a Debian bookworm host:
# a Docker engine that can run kind's --privileged nodes, debootstrap, a registry.
#
# Why trixie's docker.io: bookworm's engine (20.10) asks runc for every capability the
# kernel knows, and in sandboxes whose bounding set lacks CAP_SYS_RESOURCE every
# `docker run --privileged` fails ("unable to apply caps", moby#42906). Engine 26 asks
# only for the capabilities it holds. On ordinary machines with a working engine this
# script changes nothing: it only installs when `docker info` fails.
set -euo pipefail

log() { printf '[install-engine] %s\n' "$*" >&2; }

need_apt=()
command -v debootstrap >/dev/null || need_apt+=(debootstrap)

dpkg -s libseccomp-dev >/dev/null 2>&1 || need_apt+=(libseccomp-dev)
dpkg -s pkg-config >/dev/null 2>&1 || need_apt+=(pkg-config)
command -v jq >/dev/null || need_apt+=(jq)
command -v skopeo >/dev/null || need_apt+=(skopeo)

engine_ok() { timeout 20 docker info >/dev/null 2>&1; }

if [ "${#need_apt[@]}" -gt 0 ] || ! engine_ok; then
  apt_updated=
  apt_update() { [ -n "$apt_updated" ] || { apt-get update -qq; apt_updated=1; }; }
  if [ "${#need_apt[@]}" -gt 0 ]; then
    log "installing ${need_apt[*]}"
    apt_update
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  fi
fi

if ! engine_ok; then
  if ! command -v dockerd >/dev/null; then
    log "installing docker.io from Debian trixie (pinned low: only what is asked for comes from trixie)"
    if [ ! -f /etc/apt/sources.list.d/trixie.sources ]; then
      cat > /etc/apt/sources.list.d/trixie.sources <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
      cat > /etc/apt/preferences.d/trixie-low <<'PIN'
Package: *
Pin: release n=trixie
Pin-Priority: 100
PIN
      apt_updated=
    fi
    apt_update
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      -t trixie docker.io docker-cli docker-buildx >/dev/null
  fi
  if ! pgrep -x dockerd >/dev/null; then
    log "starting dockerd (no systemd on this host)"
    mkdir -p /var/log
    # containerd comes with docker.io; dockerd starts its own when none is running.
    nohup dockerd >/var/log/dockerd.log 2>&1 &
  fi
  for _ in $(seq 1 60); do engine_ok && break; sleep 1; done
  engine_ok || { log "docker engine did not come up; see /var/log/dockerd.log"; tail -20 /var/log/dockerd.log >&2; exit 1; }
fi
if ! docker buildx version >/dev/null 2>&1; then
  log "installing docker-buildx (the image builds use BuildKit)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-buildx >/dev/null
fi
log "docker engine: $(docker version --format '{{.Server.Version}}')"
