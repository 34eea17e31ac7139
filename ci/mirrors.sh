# The package mirrors this machine is configured with, so that no script names a
# registry's host: each reads the machine's own client configuration, and an environment
# variable overrides it (for users behind their own mirrors). Source it; do not run it.
# shellcheck shell=bash

# debian_mirror: the Debian archive apt uses here (DEBIAN_MIRROR overrides it).
debian_mirror() {
  if [ -n "${DEBIAN_MIRROR:-}" ]; then echo "${DEBIAN_MIRROR%/}"; return; fi
  local uris uri
  uris=$({
    cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
      | sed -E 's/\[[^]]*\]//' | awk '$1 == "deb" {print $2}'
    cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '$1 == "URIs:" {for (i = 2; i <= NF; i++) print $i}'
  })
  uri=$(grep -m1 -E '/debian/?$' <<<"$uris" || true)
  if [ -z "$uri" ]; then
    echo "no Debian archive in apt's sources (/etc/apt): set DEBIAN_MIRROR to one" >&2
    return 1
  fi
  echo "${uri%/}"
}

# go_proxy: the Go module proxy the go command uses here (GOPROXY overrides it, as it does
# for go itself): the first URL of `go env GOPROXY`.
go_proxy() {
  local entries entry
  entries=${GOPROXY:-$(go env GOPROXY 2>/dev/null)}
  for entry in ${entries//[,|]/ }; do
    case "$entry" in http://*|https://*|file://*) echo "${entry%/}"; return 0 ;; esac
  done
  echo "no Go module proxy in GOPROXY or \`go env GOPROXY\` ($entries): set GOPROXY" >&2
  return 1
}
