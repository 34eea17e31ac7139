#!/usr/bin/env bash
# The host settings kind's documentation asks for (its "known issues"): IP forwarding,
# and inotify limits high enough for several nodes' kubelets and systemd ("too many
# open files"). Uses sudo as a non-root user; a setting the host refuses (a sandbox, a
# read-only /proc/sys) is reported and left as it is.
set -uo pipefail
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }
raise() {  # raise KEY VALUE: sets KEY to VALUE unless it is already at least that
  local now; now=$(sysctl -n "$1" 2>/dev/null || echo 0)
  [ "$now" -ge "$2" ] && return 0
  as_root sysctl -qw "$1=$2" >/dev/null 2>&1 || echo "[host-settings] could not set $1=$2 (it stays $now)" >&2
}
raise net.ipv4.ip_forward 1
raise fs.inotify.max_user_watches 524288
raise fs.inotify.max_user_instances 512
exit 0
