#!/usr/bin/env bash
# Builds a minimal Debian image (debootstrap, then `docker import`): the FROM of every
# other image, since no registry serves debian:*-slim here.
STEP=debian-base
source "$(dirname "$0")/lib.sh"

IMAGE="tutorial-suite/debian:$DEBIAN_SUITE"

build() {
  local root="$SUITE_CACHE/rootfs-$DEBIAN_SUITE"
  rm -rf "$root"
  debootstrap --variant=minbase "$DEBIAN_SUITE" "$root" http://deb.debian.org/debian >/dev/null
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
  tar -C "$root" -c . | docker import --change 'CMD ["bash"]' - "$IMAGE" >/dev/null
  rm -rf "$root"
}

image_present "$IMAGE" || rm -f "$SUITE_CACHE/stamps/debian-$DEBIAN_SUITE"
cached "debian-$DEBIAN_SUITE" build
