#!/usr/bin/env bash
# Builds Kubo and IPFS Cluster from the Go module proxy into DEST/bin (default
# $HOME/.cache/mist-p2p-tools) and reuses binaries whose recipe stamp matches,
# so CI reruns on the same machine skip the several-minute Go builds.
#
#   scripts/build-ipfs-tools.sh [DEST] [kubo|cluster|all]
#
# Kubo v0.43.1's go.mod replaces go-libp2p with a fork the proxy does not serve
# (403); the fork waited for quic-go v0.62 / webtransport-go v0.13, which
# go-libp2p v0.50.0 requires, so the build drops the replace and uses v0.50.0.
# IPFS Cluster's module list is refused by the proxy but v1.1.0 is served.
set -euo pipefail

dest="${1:-${MIST_TOOLS_CACHE:-$HOME/.cache/mist-p2p-tools}}"
what="${2:-all}"
KUBO_VERSION=v0.43.1
KUBO_LIBP2P=v0.50.0
CLUSTER_VERSION=v1.1.0

mkdir -p "$dest/bin" "$dest/work"
export GOFLAGS=-mod=mod

module_dir() { go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p'; }

# Copy a module out of the read-only module cache so its go.mod can be edited.
writable_copy() {
  local src="$1" work="$2"
  rm -rf "$work"
  cp -r "$src" "$work"
  chmod -R u+w "$work"
}

build_kubo() {
  local stamp="kubo $KUBO_VERSION go-libp2p $KUBO_LIBP2P $(go env GOVERSION)"
  if [[ -x "$dest/bin/ipfs" && "$(cat "$dest/bin/ipfs.stamp" 2>/dev/null)" == "$stamp" ]] \
     && "$dest/bin/ipfs" version | grep -q "${KUBO_VERSION#v}"; then
    echo "kubo: reusing $dest/bin/ipfs ($stamp)"; return 0
  fi
  local src; src="$(module_dir "github.com/ipfs/kubo@$KUBO_VERSION")"
  local work="$dest/work/kubo"
  writable_copy "$src" "$work"
  (cd "$work" \
    && go mod edit -dropreplace=github.com/libp2p/go-libp2p -require="github.com/libp2p/go-libp2p@$KUBO_LIBP2P" \
    && go build -trimpath -o "$dest/bin/ipfs.tmp" ./cmd/ipfs)
  mv "$dest/bin/ipfs.tmp" "$dest/bin/ipfs"
  echo "$stamp" > "$dest/bin/ipfs.stamp"
  rm -rf "$work"
  "$dest/bin/ipfs" version
}

build_cluster() {
  local stamp="ipfs-cluster $CLUSTER_VERSION $(go env GOVERSION)"
  if [[ -x "$dest/bin/ipfs-cluster-service" && -x "$dest/bin/ipfs-cluster-ctl" \
        && "$(cat "$dest/bin/ipfs-cluster.stamp" 2>/dev/null)" == "$stamp" ]]; then
    echo "ipfs-cluster: reusing $dest/bin/ipfs-cluster-{service,ctl} ($stamp)"; return 0
  fi
  local src; src="$(module_dir "github.com/ipfs-cluster/ipfs-cluster@$CLUSTER_VERSION")"
  local work="$dest/work/ipfs-cluster"
  writable_copy "$src" "$work"
  (cd "$work" \
    && go build -trimpath -o "$dest/bin/ipfs-cluster-service.tmp" ./cmd/ipfs-cluster-service \
    && go build -trimpath -o "$dest/bin/ipfs-cluster-ctl.tmp" ./cmd/ipfs-cluster-ctl)
  mv "$dest/bin/ipfs-cluster-service.tmp" "$dest/bin/ipfs-cluster-service"
  mv "$dest/bin/ipfs-cluster-ctl.tmp" "$dest/bin/ipfs-cluster-ctl"
  echo "$stamp" > "$dest/bin/ipfs-cluster.stamp"
  rm -rf "$work"
  "$dest/bin/ipfs-cluster-service" --version
}

case "$what" in
  kubo) build_kubo ;;
  cluster) build_cluster ;;
  all) build_kubo; build_cluster ;;
  *) echo "usage: $0 [DEST] [kubo|cluster|all]" >&2; exit 2 ;;
esac
