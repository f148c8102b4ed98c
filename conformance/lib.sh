# Shared by conformance/oracles, conformance/testbed and conformance/servers. Sourced, not run.
# shellcheck shell=bash

CONF_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$CONF_DIR/.." && pwd)
# shellcheck source=versions.env
. "$CONF_DIR/versions.env"

# Built tools live in a machine-wide cache so that a fresh clone (CI) reuses them; each binary's
# name carries a stamp of everything that went into it, so a version bump rebuilds.
TOOLS_CACHE=${RUDDER_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rudder-testbed}
ORACLES_BIN=$ROOT/target/oracles/bin
TESTBED_DIR=$ROOT/target/testbed

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

require_go() {
  command -v go >/dev/null || die "Go is not installed (need Go >= $GO_MIN); install it from your distribution or go.dev"
  local have; have=$(go env GOVERSION | sed 's/^go//')
  if [ "$(printf '%s\n%s\n' "$GO_MIN" "$have" | sort -V | head -1)" != "$GO_MIN" ]; then
    die "Go $have is too old: the pinned tools need Go >= $GO_MIN"
  fi
}

# stamp FILE... : a short hash of the named files' contents plus the Go version.
stamp() {
  { go env GOVERSION; cat "$@"; } | sha256sum | cut -c1-12
}

# link_tool NAME CACHED_PATH: expose a cached binary under target/oracles/bin/NAME.
link_tool() {
  mkdir -p "$ORACLES_BIN"
  ln -sfn "$2" "$ORACLES_BIN/$1"
}
