#!/usr/bin/env bash
# Installs the peers the benchmark compares against (podman, skopeo) and GNU time (peak RSS).
# Idempotent: installs only what is missing; does nothing when everything is there.
set -euo pipefail

declare -A needed=(
  [podman]=podman
  [skopeo]=skopeo
  [/usr/bin/time]=time
  [du]=coreutils
)
missing=()
for cmd in "${!needed[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${needed[$cmd]}")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "bench setup: missing Debian packages (${missing[*]}); run as root to install them" >&2
    exit 1
  fi
  echo "bench setup: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi
