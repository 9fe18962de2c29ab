#!/bin/sh
# Run once by the postgis image when the database volume is new (/docker-entrypoint-initdb.d):
# the login the service uses. It owns nothing; `safewalk migrate` (as the owner) grants it the
# data and puts row-level security on every tenant table (docs/operations.md, "Database roles").
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v pw="$SAFEWALK_APP_DB_PASSWORD" <<'SQL'
CREATE ROLE safewalk_app LOGIN PASSWORD :'pw';
SQL
