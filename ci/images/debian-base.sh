#!/usr/bin/env bash
# Builds minimal Debian images (debootstrap, then `docker import`): the FROM of every
# other image, since no registry serves debian:*-slim here. Two suites: kind's base image
# is on trixie as upstream's, the other images on $DEBIAN_SUITE. The archive is the one
# apt uses on this machine (ci/mirrors.sh).
STEP=debian-base
source "$(dirname "$0")/lib.sh"
source "$IMAGES_DIR/../mirrors.sh"

build() {
  local suite="$1" root="$SUITE_CACHE/rootfs-$1" mirror
  mirror=$(debian_mirror)
  rm -rf "$root"
  debootstrap --variant=minbase "$suite" "$root" "$mirror" >/dev/null
  # As in Debian's official slim images: no docs or man pages, no apt caches.
  cat > "$root/etc/dpkg/dpkg.cfg.d/docker-slim" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
CFG
  echo 'APT::Install-Recommends "false";' > "$root/etc/apt/apt.conf.d/00no-recommends"
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/usr/share/doc/* "$root"/usr/share/man/*
  tar -C "$root" -c . | docker import --change 'CMD ["bash"]' - "tutorial-suite/debian:$suite" >/dev/null
  rm -rf "$root"
}

for suite in $(printf '%s\n' "$DEBIAN_SUITE" "$KIND_BASE_DEBIAN_SUITE" | sort -u); do
  image_present "tutorial-suite/debian:$suite" || rm -f "$SUITE_CACHE/stamps/debian-$suite"
  cached "debian-$suite" build "$suite"
done
