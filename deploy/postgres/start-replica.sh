#!/usr/bin/env bash
# The compose `replica` service: a streaming replica of `db`. The first start clones the
# primary with pg_basebackup -R (which writes standby.signal and primary_conninfo); every
# start then runs PostgreSQL as a read-only hot standby that replays the primary's WAL.
set -euo pipefail
: "${PGDATA:?}" "${POSTGRES_USER:?}" "${PRIMARY_HOST:=db}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  for _ in $(seq 1 60); do
    pg_isready -q -h "$PRIMARY_HOST" -U "$POSTGRES_USER" && break
    sleep 1
  done
  pg_basebackup -h "$PRIMARY_HOST" -U "$POSTGRES_USER" -D "$PGDATA" -R -X stream --checkpoint=fast
  chmod 700 "$PGDATA"
fi
exec postgres -c hot_standby=on -c hba_file=/etc/factstore/pg_hba.conf
