#!/usr/bin/env bash
# Brings a fresh Debian host (root, Node and npm only) to what syscontainer and its tests
# need: the outside tools (plus any COMMAND=PACKAGE pairs given as arguments), the npm
# dependencies and a build. Safe to run again: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

# command -> Debian package that ships it
declare -A needed=(
  [ostree]=ostree
  [runc]=runc
  [docker-registry]=docker-registry
  [zstd]=zstd
  [htpasswd]=apache2-utils
  [systemd-analyze]=systemd
  [nsenter]=util-linux
  [skopeo]=skopeo
  # Signature tests: keys made by gpg (its agent holds them) and signed by skopeo --sign-by.
  [gpg]=gnupg
  [gpg-agent]=gnupg
  [openssl]=openssl
  # Content of the images under images/ (etcd, hello), read from the host at build time.
  [etcd]=etcd-server
  [etcdctl]=etcd-client
  [busybox]=busybox-static
  # apply: pods' network namespaces (ip netns); podman as the peer of the Kubernetes YAML
  # interop tests, with catatonit for the pause image kube play builds.
  [ip]=iproute2
  [podman]=podman
  [catatonit]=catatonit
  # The REST service's clients in its tests: the docker CLI and docker-py.
  [docker]=docker.io
)
# Extra COMMAND=PACKAGE pairs from the command line (the benchmark adds its peers this way).
for pair in "$@"; do
  needed[${pair%%=*}]=${pair#*=}
done
missing=()
for cmd in "${!needed[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${needed[$cmd]}")
done
# Python modules (no command to look for): module -> Debian package.
python3 -c 'import docker' >/dev/null 2>&1 || missing+=(python3-docker)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing Debian packages (${missing[*]}); run as root to install them" >&2
    exit 1
  fi
  echo "setup: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The Debian registry package enables its own service; we start registries ourselves.
if command -v systemctl >/dev/null 2>&1 && [ "$(systemctl is-system-running 2>/dev/null || true)" != offline ]; then
  systemctl disable --now docker-registry >/dev/null 2>&1 || true
  # Likewise etcd-server's own service: it would hold 127.0.0.1:2379, which the etcd image uses.
  systemctl disable --now etcd >/dev/null 2>&1 || true
fi

stamp=node_modules/.syscontainer-lock
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  echo "setup: installing npm dependencies"
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
fi

npm run --silent build
