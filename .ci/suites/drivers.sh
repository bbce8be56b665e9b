# shellcheck shell=bash
# .ci/suites/drivers.sh: suite_drivers, sourced by .ci/test.
#
# pg_migrate from the drivers applications use: Python's psycopg2
# (test/drivers/psycopg2_test.py, Debian's python3-psycopg2) and Node's pg
# (test/drivers/node_pg_test.js, Debian's node-pg). Each registers
# revisions, upgrades and reads the result rows, catches a failing script's
# error (its own SQLSTATE and pg_migrate's context line) and pg_migrate's
# own MG errors with their hints, receives the NOTICE progress, and reads
# migrate_status() and migrate_check(), in a database of its own on the
# throwaway cluster (PG* variables from pgm_cluster_start).
#
# Debian's node-pg is unpacked, not installed: through node-libpq (for
# pg-native, which the tests do not use) it depends on Debian's own Node 18
# runtime, which apt cannot put beside a nodejs from another source (this
# project's machines come with NodeSource's Node 20). The pure-JavaScript
# client needs only node-pg, node-split2 and node-xtend; they are fetched
# with `apt-get download`, unpacked once with dpkg-deb into a cache
# directory, and found through NODE_PATH, with any Node.

# Debian's python3, which python3-psycopg2 (in PGM_PACKAGES) installs for.
PGM_PYTHON=${PGM_PYTHON:-/usr/bin/python3}

# Where Debian's node-pg is unpacked.
PGM_NODE_PG_DIR=${PGM_NODE_PG_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pg_migrate/node-pg}

# suite_drivers: one test per driver (drivers/psycopg2, drivers/node_pg);
# on failure, the test's own report names each failed check.
suite_drivers() {
	local node_path
	check drivers/psycopg2 "$PGM_PYTHON" "$PGM_ROOT/test/drivers/psycopg2_test.py"
	check drivers/node_pg_unpacked _drivers_unpack_node_pg
	((CHECK_OK)) || return 0
	node_path=$PGM_NODE_PG_DIR/usr/share/nodejs
	check drivers/node_pg env NODE_PATH="$node_path" node "$PGM_ROOT/test/drivers/node_pg_test.js"
}

# _drivers_unpack_node_pg: unpack Debian's node-pg and the two packages it
# needs at run time into PGM_NODE_PG_DIR, unless already there. The package
# lists are refreshed once if the download fails (a fresh machine may have
# none).
_drivers_unpack_node_pg() {
	local dir=$PGM_NODE_PG_DIR tmp deb
	local -a pkgs=(node-pg node-split2 node-xtend)
	[[ -f $dir/usr/share/nodejs/pg/package.json ]] && return 0
	tmp=$(mktemp -d)
	if ! (cd "$tmp" && apt-get download -q "${pkgs[@]}") >"$tmp/download.log" 2>&1; then
		apt-get update -q >/dev/null 2>&1 || true
		(cd "$tmp" && apt-get download -q "${pkgs[@]}") >"$tmp/download.log" 2>&1 || {
			cat "$tmp/download.log"
			rm -rf "$tmp"
			echo "could not download ${pkgs[*]} with apt-get"
			return 1
		}
	fi
	rm -rf "$dir.new"
	mkdir -p "$dir.new"
	for deb in "$tmp"/*.deb; do
		dpkg-deb -x "$deb" "$dir.new"
	done
	rm -rf "$tmp" "$dir"
	mv "$dir.new" "$dir"
	NODE_PATH=$dir/usr/share/nodejs node -e "require('pg')"
}
