# shellcheck shell=bash
# shellcheck disable=SC2119  # .ci/lib.sh functions take optional arguments
# bench/lib.sh: what the benchmarks in bench/ share, sourced by each right
# after `set -euo pipefail`:
#
#   . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#   bench_args "reps" "$@"               # --quick, --reps R, -h, N...
#   bench_build "$quick"                 # the build to measure
#   bench_cluster_start "autovacuum = off" ...
#   ...                                  # measure, with say, psqlx, sql1,
#                                        # fail, median, div, jnum...
#   bench_about "$server_version" "$settings" "$load"   # in the report
#   bench_end "$missed"                  # stop the cluster, exit status
#
# It sources .ci/lib.sh (packages, build, throwaway cluster), stops the
# run at an error inside $(...) too, sets LC_ALL=C (EPOCHREALTIME and
# printf then use '.' as the decimal point), and sets bench_dir to bench/.

shopt -s inherit_errexit
export LC_ALL=C

bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# shellcheck source=../.ci/lib.sh
. "$bench_dir/../.ci/lib.sh"

failures=() # what went wrong: a run's own checks, not the timings

# say MSG...: a progress line on stderr.
say() { pgm_log "bench: $*"; }

# fail MSG: record a failed check of the run's own work; bench_end exits 1.
fail() {
	say "ERROR: $*"
	failures+=("$*")
}

psqlx() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
sql1() { psql -X -q -v ON_ERROR_STOP=1 -A -t "$@"; } # one value out

# Numbers.  Times are seconds or ms as the caller keeps them.
now() { printf '%s\n' "$EPOCHREALTIME"; }
sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }     # b - a
div() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "nan" }'; }
# median of the numbers given as arguments
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { printf "%.3f\n", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
minof() { printf '%s\n' "$@" | sort -g | head -n 1; }
maxof() { printf '%s\n' "$@" | sort -g | tail -n 1; }
# jnum X: X as a JSON number, or null when it is not one
jnum() { [[ $1 =~ ^-?[0-9]+(\.[0-9]+)?$ ]] && printf '%s' "$1" || printf 'null'; }

# bench_usage_env: the environment lines of a benchmark's usage.
bench_usage_env() {
	cat <<EOF
environment:
  BENCH_OUT=DIR       where generated files and results go (default bench/out)
  BENCH_NO_BUILD=1    do not rebuild/reinstall (use what is installed)
  BENCH_BUILD=1       with --quick: rebuild even if the extension is installed
  BENCH_STRICT=1      exit 1 when a target is missed (default: report only)
  BENCH_DISK=1        keep the cluster on disk instead of tmpfs
EOF
}

# bench_args "NAME..." ARG...: read a benchmark's command line.  --quick
# sets quick=1 (else quick=0); -h or --help prints the script's usage (its
# function `usage`) and exits 0; for each NAME, "--NAME V" and "--NAME=V"
# set the variable NAME to V and NAME_set to 1.  Other arguments starting
# with "-", and an option without its value, print the usage on stderr
# and exit 2.  The other arguments are left, in order, in the array
# bench_positional.  Values are checked by the caller.
bench_args() {
	local names=" $1 " arg name
	shift
	quick=0
	bench_positional=()
	while [ $# -gt 0 ]; do
		arg=$1
		shift
		case $arg in
		--quick) quick=1 ;;
		-h | --help)
			usage
			exit 0
			;;
		--*)
			name=${arg#--}
			name=${name%%=*}
			if [[ $names != *" $name "* ]]; then
				usage >&2
				exit 2
			fi
			if [[ $arg == *=* ]]; then
				printf -v "$name" '%s' "${arg#*=}"
			elif [ $# -ge 1 ]; then
				printf -v "$name" '%s' "$1"
				shift
			else
				usage >&2
				exit 2
			fi
			printf -v "${name}_set" 1
			;;
		-?*)
			usage >&2
			exit 2
			;;
		*) bench_positional+=("$arg") ;;
		esac
	done
}

# bench_build QUICK: install missing packages, put PostgreSQL 15 first on
# PATH, and choose the build to measure; sets bench_build_note, which the
# report prints.  A full run builds and installs the build users get
# (PGXS's optimized flags, no assertions, no -Werror).  --quick (QUICK=1)
# is what a test suite calls after it has installed its own build (perhaps
# with assertions, for its own tests): it reuses that install rather than
# replace it.  BENCH_BUILD=1 forces the build, BENCH_NO_BUILD=1 skips it.
bench_build() {
	local quick=$1 build=1
	pgm_bootstrap # cheap when every package is there
	[ "${BENCH_NO_BUILD:-0}" != 1 ] || build=0
	if [ "$quick" = 1 ] && [ "${BENCH_BUILD:-0}" != 1 ] &&
		[ -f "$(pg_config --sharedir)/extension/pg_migrate.control" ]; then
		build=0
	fi
	if [ "$build" = 1 ]; then
		pgm_build_install "-O2"
		bench_build_note="built here with PG_CFLAGS=-O2 (no assertions)"
	else
		bench_build_note="the installed build (not rebuilt; may have assertions)"
		say "using the installed extension, not rebuilding"
	fi
}

# bench_cluster_start [CONF_LINE...]: .ci/lib.sh's throwaway cluster, with
# CONF_LINEs added to postgresql.conf, on tmpfs (/dev/shm) when there is
# one and neither BENCH_DISK=1 nor PGM_TMPDIR says otherwise; sets
# bench_cluster_fs, the file system it runs on, which the report prints.
# On disk (ext4), creating a file costs what the allocator's search costs:
# block groups full of recently deleted inodes, which earlier runs leave
# behind, are slow, and single runs of bench/upgrade.sh swung by 3x for
# that alone; the disk also adds stalls of its own to latencies.
bench_cluster_start() {
	if [ "${BENCH_DISK:-0}" != 1 ] && [ -z "${PGM_TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then
		export PGM_TMPDIR=/dev/shm
	fi
	bench_cluster_fs=$(df --output=fstype "${PGM_TMPDIR:-/tmp}" | tail -n 1)
	pgm_cluster_start "$@"
}

# bench_settings NAME...: "name=value, ..." of the named server settings,
# units included, in name order.
bench_settings() {
	local names
	names=$(printf "'%s'," "$@")
	sql1 -d postgres -c "SELECT string_agg(name || '=' || setting || coalesce(unit, ''), ', ' ORDER BY name)
		FROM pg_settings WHERE name IN (${names%,})"
}

# bench_about VERSION SETTINGS LOAD: the report's lines on where the run
# ran (server, settings, build, cluster, host and its load), then a blank
# line.
bench_about() {
	printf 'PostgreSQL %s; %s\n' "$1" "$2"
	printf 'extension: %s\n' "$bench_build_note"
	printf 'cluster: on %s (%s)\n' "${PGM_TMPDIR:-/tmp}" "$bench_cluster_fs"
	printf 'host: %s, %s CPUs, load %s, %s\n\n' "$(uname -n)" "$(nproc)" "$3" \
		"$(date -u +%Y-%m-%dT%H:%M:%SZ)"
}

# bench_end MISSED: stop the cluster and exit: 1 when a check of the run's
# own work failed (fail), or when MISSED is 1 (a target missed) and
# BENCH_STRICT=1; else 0.
bench_end() {
	say "stop the cluster"
	pgm_cluster_stop
	if ((${#failures[@]} > 0)); then
		printf 'ERROR: the benchmark did not run as described:\n' >&2
		printf '  %s\n' "${failures[@]}" >&2
		exit 1
	fi
	if [ "$1" = 1 ] && [ "${BENCH_STRICT:-0}" = 1 ]; then
		exit 1
	fi
	exit 0
}
