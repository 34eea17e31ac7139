#!/usr/bin/env bash
# Makes sure a Docker engine runs that can start kind's --privileged nodes. With
# OFFLINE=1 it also installs what the offline toolchain builds with (debootstrap,
# libseccomp-dev, pkg-config, jq, skopeo). Where a working engine answers (GitHub's
# runners, most workstations) and nothing offline is asked for, it changes nothing.
# As a non-root user it uses sudo.
#
# Why trixie's docker.io where the engine is missing: bookworm's engine (20.10) asks runc
# for every capability the kernel knows, and in sandboxes whose bounding set lacks
# CAP_SYS_RESOURCE every `docker run --privileged` fails ("unable to apply caps",
# moby#42906). Engine 26 asks only for the capabilities it holds.
set -euo pipefail
cd "$(dirname "$0")/.."
source ci/mirrors.sh

log() { printf '[install-engine] %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }

need_apt=()
command -v jq >/dev/null || need_apt+=(jq)
# section VI runs `sudo make docker-build docker-push` as the tutorial prints it
command -v sudo >/dev/null || need_apt+=(sudo)
if [ "${OFFLINE:-0}" = 1 ]; then
  command -v debootstrap >/dev/null || need_apt+=(debootstrap)
  dpkg -s libseccomp-dev >/dev/null 2>&1 || need_apt+=(libseccomp-dev)
  dpkg -s pkg-config >/dev/null 2>&1 || need_apt+=(pkg-config)
  command -v skopeo >/dev/null || need_apt+=(skopeo)
fi

engine_ok() { timeout 20 docker info >/dev/null 2>&1; }

apt_updated=
apt_update() { [ -n "$apt_updated" ] || { as_root apt-get update -qq; apt_updated=1; }; }
apt_install() {
  apt_update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

if [ "${#need_apt[@]}" -gt 0 ]; then
  log "installing ${need_apt[*]}"
  apt_install "${need_apt[@]}"
fi

if ! engine_ok; then
  if ! command -v dockerd >/dev/null; then
    log "installing docker.io from Debian trixie (pinned low: only what is asked for comes from trixie)"
    if [ ! -f /etc/apt/sources.list.d/trixie.sources ]; then
      mirror=$(debian_mirror)
      printf 'Types: deb\nURIs: %s\nSuites: trixie\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
        "$mirror" | as_root tee /etc/apt/sources.list.d/trixie.sources >/dev/null
      printf 'Package: *\nPin: release n=trixie\nPin-Priority: 100\n' \
        | as_root tee /etc/apt/preferences.d/trixie-low >/dev/null
      apt_updated=
    fi
    apt_install -t trixie docker.io docker-cli docker-buildx
  fi
  if ! pgrep -x dockerd >/dev/null; then
    log "starting dockerd (no systemd on this host)"
    # containerd comes with docker.io; dockerd starts its own when none is running.
    as_root bash -c 'nohup dockerd >/var/log/dockerd.log 2>&1 &'
  fi
  for _ in $(seq 1 60); do engine_ok && break; sleep 1; done
  engine_ok || { log "the docker engine did not come up in 60 s; the end of /var/log/dockerd.log:"; tail -20 /var/log/dockerd.log >&2; exit 1; }
fi
if ! docker buildx version >/dev/null 2>&1; then
  log "installing docker-buildx (the image builds use BuildKit)"
  apt_install docker-buildx
fi
log "docker engine: $(docker version --format '{{.Server.Version}}')"
