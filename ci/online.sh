# Sets OFFLINE (unless set): 1 when Docker Hub cannot be reached, so that everything is
# built from the package registries; 0 with internet (official kindest/node images).
# shellcheck shell=bash
if [ -z "${OFFLINE:-}" ]; then
  if curl -s -o /dev/null --max-time 10 https://registry-1.docker.io/v2/; then OFFLINE=0; else OFFLINE=1; fi
fi
export OFFLINE
