#!/usr/bin/env bash
# Builds the Temporal server and temporal-sql-tool from the go.temporal.io/server module at the
# version docker-compose.yml pins (temporalio/server:X.Y.Z), the way the module's Makefile builds
# them for the images (CGO_ENABLED=0, -tags disable_grpc_modules), into a per-machine cache outside
# the clone, keyed by that version. Beside them: the schema files the admin-tools image ships in
# /etc/temporal/schema and the server image's entrypoint. Reuses a complete earlier build.
#
#   scripts/cluster/build-server.sh     prints the cache directory on its last line
#
# The cache is $INFTY_CLUSTER_CACHE, else ${XDG_CACHE_HOME:-$HOME/.cache}/infty. Go comes from PATH,
# else /usr/local/go/bin/go. Used by the cluster test (docs/cluster-test.md).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
compose="$root/docker-compose.yml"

version="$(sed -n 's|^ *image: temporalio/server:\([0-9][0-9.]*\) *$|\1|p' "$compose")"
admin="$(sed -n 's|^ *image: temporalio/admin-tools:\([0-9][0-9.]*\) *$|\1|p' "$compose" | sort -u)"
if [ -z "$version" ]; then
  echo "build-server: no 'image: temporalio/server:X.Y.Z' line in $compose" >&2
  exit 1
fi
if [ "$admin" != "$version" ]; then
  echo "build-server: $compose pins temporalio/server:$version but temporalio/admin-tools:$admin; keep them equal" >&2
  exit 1
fi

cache="${INFTY_CLUSTER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/infty}"
dir="$cache/temporal-server-v$version"
if [ -f "$dir/complete" ]; then
  echo "build-server: reusing $dir" >&2
  echo "$dir"
  exit 0
fi

go="$(command -v go || true)"
[ -n "$go" ] || { [ -x /usr/local/go/bin/go ] && go=/usr/local/go/bin/go; }
if [ -z "$go" ]; then
  echo "build-server: Go is not installed (no 'go' on PATH nor /usr/local/go/bin/go); it builds the Temporal server for the cluster test" >&2
  exit 1
fi

module="go.temporal.io/server@v$version"
echo "build-server: building temporal-server and temporal-sql-tool from $module with $("$go" version)" >&2
mkdir -p "$cache"
work="$(mktemp -d "$cache/.build-v$version.XXXXXX")"
trap 'rm -rf "$work"' EXIT
start=$(date +%s)
(
  cd "$work"
  CGO_ENABLED=0 GOBIN="$work/bin" "$go" install -tags disable_grpc_modules \
    "go.temporal.io/server/cmd/server@v$version" "go.temporal.io/server/cmd/tools/sql@v$version"
)
src="$(cd "$work" && "$go" mod download -json "$module" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
if [ ! -d "$src/schema/postgresql" ]; then
  echo "build-server: the module source of $module has no schema/postgresql (looked in '$src')" >&2
  exit 1
fi
mkdir -p "$work/out/bin"
mv "$work/bin/server" "$work/out/bin/temporal-server"
mv "$work/bin/sql" "$work/out/bin/temporal-sql-tool"
cp -R "$src/schema" "$work/out/schema"
cp "$src/docker/scripts/sh/entrypoint.sh" "$work/out/entrypoint.sh"
chmod -R u+w,a+rX "$work/out"
echo "$version built in $(($(date +%s) - start)) s by $("$go" version)" >"$work/out/complete"
rm -rf "$dir"
mv "$work/out" "$dir"
echo "build-server: built $dir in $(($(date +%s) - start)) s" >&2
echo "$dir"
