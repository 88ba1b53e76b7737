#!/bin/sh
# Run by the one-shot `temporal-admin-tools` service of docker-compose.yml (image
# temporalio/admin-tools, which ships temporal-sql-tool and the schema files): creates Temporal's two
# PostgreSQL databases and brings their schemas to this release's version. Every step is
# idempotent: `create` ignores an existing database, `setup-schema -v 0.0` leaves a newer schema
# alone, `update-schema` applies only the versions not yet applied. So it runs on every `up`, and
# after an image upgrade it migrates the schema before the new server starts.
set -eu

: "${DB:=postgres12}"
: "${DB_PORT:=5432}"
: "${POSTGRES_SEEDS:=postgresql}"
: "${POSTGRES_USER:=temporal}"
: "${DBNAME:=temporal}"
: "${VISIBILITY_DBNAME:=temporal_visibility}"
# temporal-sql-tool reads the password from SQL_PASSWORD (kept off the command line).
SQL_PASSWORD="${POSTGRES_PWD:?POSTGRES_PWD is not set}"
export SQL_PASSWORD

# Where the admin-tools image keeps the schema files (the cluster test points it at the module's copy).
: "${SCHEMA_DIR:=/etc/temporal/schema/postgresql/v12}"

echo "Waiting for PostgreSQL at ${POSTGRES_SEEDS}:${DB_PORT}..."
attempt=0
until nc -z -w 5 "$POSTGRES_SEEDS" "$DB_PORT"; do
  attempt=$((attempt + 1))
  if [ "$attempt" -ge 30 ]; then
    echo "PostgreSQL did not answer on ${POSTGRES_SEEDS}:${DB_PORT}" >&2
    exit 1
  fi
  sleep 2
done

sql_tool() {
  temporal-sql-tool --plugin "$DB" --ep "$POSTGRES_SEEDS" -u "$POSTGRES_USER" -p "$DB_PORT" "$@"
}

for pair in "${DBNAME}:temporal" "${VISIBILITY_DBNAME}:visibility"; do
  db="${pair%%:*}"
  schema="${pair#*:}"
  echo "Setting up database ${db} (${schema} schema)..."
  sql_tool --db "$db" create
  sql_tool --db "$db" setup-schema -v 0.0
  sql_tool --db "$db" update-schema -d "${SCHEMA_DIR}/${schema}/versioned"
done

echo "PostgreSQL schema setup complete"
