#!/bin/sh
# Run by the one-shot `temporal-create-namespace` service of docker-compose.yml (image
# temporalio/admin-tools, which ships the `temporal` CLI) once the server is healthy: creates the
# namespace when it does not exist and registers Infty's search attributes on it
# (docs/interface.md, search attributes) and waits until the server applies them, so they are in
# effect before the first worker or run starts.
set -eu

: "${TEMPORAL_ADDRESS:=temporal:7233}"
: "${TEMPORAL_NAMESPACE:=default}"
: "${TEMPORAL_NAMESPACE_RETENTION:=72h}"

# Temporal's own compose setup dials the server by its IPv4 address rather than by name (some
# Docker networks hand the CLI an address the server does not listen on); do the same.
host="${TEMPORAL_ADDRESS%:*}"
port="${TEMPORAL_ADDRESS##*:}"
ip="$(getent ahostsv4 "$host" 2>/dev/null | awk 'NR == 1 { print $1 }')" || ip=""
if [ -n "$ip" ]; then
  TEMPORAL_ADDRESS="${ip}:${port}"
fi
export TEMPORAL_ADDRESS

echo "Waiting for the Temporal server at ${TEMPORAL_ADDRESS}..."
attempt=0
until temporal operator cluster health >/dev/null 2>&1; do
  attempt=$((attempt + 1))
  if [ "$attempt" -ge 30 ]; then
    echo "Temporal server at ${TEMPORAL_ADDRESS} did not become healthy" >&2
    exit 1
  fi
  sleep 2
done

if temporal operator namespace describe --namespace "$TEMPORAL_NAMESPACE" >/dev/null 2>&1; then
  echo "Namespace ${TEMPORAL_NAMESPACE} exists"
else
  echo "Creating namespace ${TEMPORAL_NAMESPACE} (retention ${TEMPORAL_NAMESPACE_RETENTION})..."
  temporal operator namespace create --namespace "$TEMPORAL_NAMESPACE" --retention "$TEMPORAL_NAMESPACE_RETENTION"
fi

# The new namespace may take a few seconds to reach every frontend cache.
attempt=0
until temporal operator search-attribute list --namespace "$TEMPORAL_NAMESPACE" >/tmp/search-attributes 2>&1; do
  attempt=$((attempt + 1))
  if [ "$attempt" -ge 15 ]; then
    cat /tmp/search-attributes >&2
    echo "Could not list the search attributes of ${TEMPORAL_NAMESPACE}" >&2
    exit 1
  fi
  sleep 2
done

for attribute in InftyGoalStatus:Keyword InftyPhase:Keyword InftyTokensUsed:Int; do
  name="${attribute%%:*}"
  type="${attribute#*:}"
  if grep -qw "$name" /tmp/search-attributes; then
    echo "Search attribute ${name} exists"
  else
    echo "Registering search attribute ${name} (${type})..."
    temporal operator search-attribute create --namespace "$TEMPORAL_NAMESPACE" --name "$name" --type "$type"
  fi
done

# Registered search attributes are not in effect at once: on SQL visibility each frontend reads
# them from its namespace cache, refreshed every few seconds, and until then a start that sets
# them is refused ("has no mapping defined for search attribute"). A visibility query naming them
# goes through the same cache (src/host/searchAttributeWait.ts): wait until it is accepted.
probe="InftyGoalStatus = 'active' AND InftyPhase = 'starting' AND InftyTokensUsed = 0"
attempt=0
until temporal workflow count --namespace "$TEMPORAL_NAMESPACE" --query "$probe" >/tmp/search-attribute-probe 2>&1; do
  attempt=$((attempt + 1))
  if [ "$attempt" -eq 1 ]; then
    echo "Waiting for Temporal to apply the search attributes of ${TEMPORAL_NAMESPACE} (up to 60 s)..."
  fi
  if [ "$attempt" -ge 60 ]; then
    cat /tmp/search-attribute-probe >&2
    echo "Temporal still refuses the search attributes of ${TEMPORAL_NAMESPACE} after 60 s" >&2
    exit 1
  fi
  sleep 1
done

echo "Namespace ${TEMPORAL_NAMESPACE} is ready"
