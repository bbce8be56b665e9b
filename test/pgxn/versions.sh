#!/usr/bin/env bash
# test/pgxn/versions.sh ROOT CLIENT: do the release's versions agree?
#
# Reads, from the source tree ROOT and the client program CLIENT:
#   META.json              "version", and provides.pg_migrate.version
#   pg_migrate.control     default_version
#   migrations/            the newest version an install script reaches:
#                          X of pg_migrate--X.sql, B of pg_migrate--A--B.sql,
#                          the highest in version order
#   CLIENT --version       "pg_migrate X"
#   debian/changelog       the upstream part of the newest entry's version
#                          (X of X-1), when ROOT has one
# prints each, and exits 0 when all are one version, 1 (naming the odd ones
# out) otherwise.
set -euo pipefail

if (($# != 2)); then
	echo "usage: $0 ROOT CLIENT" >&2
	exit 2
fi
root=$1 client=$2

declare -A got=()
declare -a order=("META.json version" "META.json provides.pg_migrate.version"
	"pg_migrate.control default_version" "newest migrations/ script" "pg_migrate --version")

got[META.json version]=$(/usr/bin/python3 -c \
	'import json,sys; print(json.load(open(sys.argv[1]))["version"])' "$root/META.json")
got[META.json provides.pg_migrate.version]=$(/usr/bin/python3 -c \
	'import json,sys; print(json.load(open(sys.argv[1]))["provides"]["pg_migrate"]["version"])' \
	"$root/META.json")
got[pg_migrate.control default_version]=$(sed -n \
	"s/^default_version *= *'\(.*\)'\$/\1/p" "$root/pg_migrate.control")
got[newest migrations/ script]=$(
	for f in "$root"/migrations/pg_migrate--*.sql; do
		f=${f##*/pg_migrate--}
		f=${f%.sql}
		echo "${f##*--}"
	done | sort -V | tail -n 1
)
got[pg_migrate --version]=$("$client" --version | sed -n 's/^pg_migrate \([^ ]*\)$/\1/p')
if [[ -f $root/debian/changelog ]]; then
	got[debian/changelog]=$(sed -n '1s/^[^ ]* (\([^)]*\)).*/\1/p' "$root/debian/changelog")
	got[debian/changelog]=${got[debian/changelog]%-*}
	order+=("debian/changelog")
fi

want=${got[pg_migrate.control default_version]}
status=0
for what in "${order[@]}"; do
	if [[ ${got[$what]} == "$want" && -n $want ]]; then
		printf '%-40s %s\n' "$what" "${got[$what]}"
	else
		printf '%-40s %s   <- differs from default_version %s\n' \
			"$what" "${got[$what]:-(none)}" "${want:-(none)}"
		status=1
	fi
done
exit "$status"
