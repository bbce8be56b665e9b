#!/usr/bin/env bash
# bench/gen.sh N OUTDIR [files]
#
# Writes the benchmark's migration workload, deterministically (the same N
# always gives byte-identical files, and the first M scripts of a run with
# N >= M are the M scripts of a run with M):
#
#   OUTDIR/floor.sql     the N scripts concatenated, for `psql -1 -f` (the floor)
#   OUTDIR/register.sql  one `SELECT migrate_register(...)` per script, the
#                        script dollar-quoted, in order r0001..rN (parents
#                        NULL, so the registry becomes one linear history)
#   OUTDIR/migrations/   with "files": one migration file per script,
#                        rNNNN.sql in pg_migrate's (dbmate's) format, which
#                        the client reads as the same linear history
#
# Script i creates table t_i with a few columns (its primary key is one index)
# plus a secondary index; every tenth script also alters an earlier table,
# t_(i/2), by adding a column.
set -euo pipefail

if [ $# -lt 2 ] || [ $# -gt 3 ] || ! [[ $1 =~ ^[1-9][0-9]*$ ]] ||
	{ [ $# -eq 3 ] && [ "$3" != files ]; }; then
	echo "usage: $0 N OUTDIR [files]   (N >= 1)" >&2
	exit 2
fi
n=$1
out=$2
mkdir -p "$out"

# Width of the numbers in revision ids and table names: at least 4 digits.
w=${#n}
[ "$w" -lt 4 ] && w=4

# Prints the up script of migration $1.
script() {
	local i=$1 t j
	printf -v t 't_%0*d' "$w" "$i"
	printf 'CREATE TABLE %s (\n' "$t"
	printf '    id bigint PRIMARY KEY,\n'
	printf '    name text NOT NULL,\n'
	printf '    amount numeric(12,2) NOT NULL DEFAULT 0,\n'
	printf '    created_at timestamptz NOT NULL DEFAULT now()\n'
	printf ');\n'
	printf 'CREATE INDEX %s_name_idx ON %s (name);\n' "$t" "$t"
	if [ $((i % 10)) -eq 0 ]; then
		printf -v j 't_%0*d' "$w" $((i / 2))
		printf 'ALTER TABLE %s ADD COLUMN extra_%0*d integer;\n' "$j" "$w" "$i"
	fi
}

{
	printf -- '-- pg_migrate benchmark workload: %d migrations, run as one transaction\n' "$n"
	for ((i = 1; i <= n; i++)); do
		script "$i"
	done
} >"$out/floor.sql"

{
	printf -- '-- pg_migrate benchmark workload: register %d migrations r%0*d..r%0*d\n' \
		"$n" "$w" 1 "$w" "$n"
	for ((i = 1; i <= n; i++)); do
		printf "SELECT migrate_register(revision => 'r%0*d', up => \$up\$\n" "$w" "$i"
		script "$i"
		# shellcheck disable=SC2016  # a literal dollar-quote tag
		printf '$up$);\n'
	done
} >"$out/register.sql"

if [ $# -eq 3 ]; then
	rm -rf "$out/migrations"
	mkdir "$out/migrations"
	for ((i = 1; i <= n; i++)); do
		printf -v f '%s/migrations/r%0*d.sql' "$out" "$w" "$i"
		{
			printf -- '-- migrate:up\n'
			script "$i"
		} >"$f"
	done
fi
