#!/usr/bin/env bash
# Runs a command (by default every Go test with the race detector) against a
# throwaway PostgreSQL cluster: initdb in a temporary folder, a server that
# listens only on a unix socket in that folder, WARDMAIL_TEST_POSTGRES set to
# it, and the cluster stopped and removed afterwards whatever happens.
#
#   scripts/test-postgres.sh                      # go test -race -count=1 ./...
#   scripts/test-postgres.sh go test ./store/...  # any command
#
# PG_LOG=1 prints the end of the server's log when the command fails.
# PG_OPTS adds server options, e.g. to see where a benchmark's statements
# spend PostgreSQL's time:
#   PG_OPTS="-c shared_preload_libraries=pg_stat_statements" scripts/test-postgres.sh ...
#
# Tests given WARDMAIL_TEST_POSTGRES create a database of their own per test
# (store/storetest), so they stay independent and run in parallel.
#
# PostgreSQL's initdb and postgres refuse to run as root; as root (CI, this
# project's machines) they run as the postgres user that Debian's package
# creates, and the tests, still root, reach the socket as the cluster's
# superuser "wardmail" with trust authentication (the socket is in a folder
# only root and postgres can enter).
set -euo pipefail

bin=
for d in /usr/lib/postgresql/*/bin; do
	[ -x "$d/initdb" ] && bin=$d
done
if [ -z "$bin" ]; then
	echo "test-postgres: no PostgreSQL server found (apt-get install postgresql)" >&2
	exit 1
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/wardmail-pg.XXXXXX")
as=()
if [ "$(id -u)" = 0 ]; then
	chown postgres: "$dir"
	as=(runuser -u postgres --)
fi
# The socket's port only names the socket file in $dir: with no TCP listener
# two clusters cannot collide, so the default port is as good as any.
port=5432

stop() {
	"${as[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
	rm -rf "$dir"
}
trap stop EXIT

"${as[@]}" "$bin/initdb" -D "$dir/data" -U wardmail --auth=trust --no-locale -E UTF8 >"$dir/initdb.log" 2>&1 ||
	{ cat "$dir/initdb.log" >&2; exit 1; }
# Many tests run at once, each with a database and a reader pool of its own.
"${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -o \
	"-c listen_addresses= -k $dir -p $port -c max_connections=400 -c shared_buffers=64MB ${PG_OPTS:-}" start >/dev/null ||
	{ cat "$dir/server.log" >&2; exit 1; }

export WARDMAIL_TEST_POSTGRES="postgres://wardmail@/postgres?host=$dir&port=$port&sslmode=disable"
echo "test-postgres: PostgreSQL $("$bin/postgres" --version | awk '{print $3}') at $dir" >&2
if [ $# -eq 0 ]; then
	set -- go test -race -count=1 -timeout 30m ./...
fi
set +e
"$@"
rc=$?
if [ $rc -ne 0 ] && [ -n "${PG_LOG:-}" ]; then
	tail -n 50 "$dir/server.log" >&2
fi
exit $rc
