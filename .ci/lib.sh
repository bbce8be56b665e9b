# shellcheck shell=bash
# .ci/lib.sh: shell functions shared by .ci/demo, .ci/test and bench/.
#
# Source it from bash (it is safe under `set -euo pipefail`):
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#   pgm_bootstrap                     # install missing Debian packages
#   pgm_build_install "-Wall -Werror" # make clean, make, make install
#   pgm_cluster_start                 # throwaway cluster; exports PGHOST...
#   pgm_cluster_stop
#
# Every cluster is a throwaway: initdb into a fresh temporary directory, run
# as the `postgres` OS user (initdb refuses root), reachable only through a
# unix socket in that directory. Debian's own cluster is never used.
#
# Knobs (environment):
#   PGM_KEEP_CLUSTER=1  keep the cluster directory after stopping
#   PGM_PGBIN           the PostgreSQL binaries to build and test against
#                       (default Debian's /usr/lib/postgresql/15/bin)
#   PGM_PG_MAJOR        their major (default 15)
#   PGM_TMPDIR          where cluster directories go (default /tmp; must be
#                       reachable by the postgres user, path kept short for
#                       the unix socket)

# The repository root, from this file's own path.
PGM_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# The PostgreSQL major this project builds against, and its binaries
# (.ci/test-versions sets both for the other majors).
PGM_PG_MAJOR=${PGM_PG_MAJOR:-15}
PGM_PGBIN=${PGM_PGBIN:-/usr/lib/postgresql/$PGM_PG_MAJOR/bin}

# Debian packages the scripts and the test suites need. The reader's fuzz
# target needs clang and libclang-rt-14-dev, which holds libFuzzer and the
# sanitizer runtimes (clang alone does not bring it). The drivers suite
# needs nodejs (any Node from 18 on; a nodejs already installed from
# elsewhere counts) and Debian's node-pg, which .ci/suites/drivers.sh
# unpacks itself (see there why it is not installed). The meta suite
# validates META.json with python3-jsonschema and python3-regex (see
# test/pgxn/validate_meta.py); the packages suite installs its own build
# dependencies.
PGM_PACKAGES=(
	postgresql-15 postgresql-server-dev-15 postgresql-client-15
	make gcc
	libipc-run-perl postgresql-15-cron python3-psycopg2 nodejs
	clang libclang-rt-14-dev
	python3-jsonschema python3-regex
)

PGM_APT_UPDATED=0		# apt-get update runs at most once per script run
PGM_EXIT_HOOKS=()		# commands the EXIT trap runs, last added first
PGM_EXIT_STATUS=0		# the script's exit status, as the hooks see it
PGM_MAIN_PID=$$			# only this shell runs the hooks, not subshells
PGM_CLUSTER_DIR=		# set while a cluster started here is running
PGM_STOP_HOOKED=0		# the EXIT trap already stops clusters

# ---------------------------------------------------------------- messages

# pgm_log MSG...: a progress line, on stderr so it never mixes into output
# that a caller parses.
pgm_log() {
	printf '==> %s\n' "$*" >&2
}

# pgm_die MSG...: print an error and exit 1 (the EXIT trap still cleans up).
pgm_die() {
	printf 'ERROR: %s\n' "$*" >&2
	exit 1
}

# pgm_run_logged LOGFILE CMD...: run CMD with its output in LOGFILE; on
# failure print LOGFILE and return CMD's status. Keeps success quiet.
pgm_run_logged() {
	local log=$1 rc=0
	shift
	"$@" >"$log" 2>&1 || rc=$?
	if ((rc != 0)); then
		printf 'ERROR: command failed (exit %d): %s\n' "$rc" "$*" >&2
		sed 's/^/    /' "$log" >&2
	fi
	return "$rc"
}

# pgm_enter_script: called first by .ci/demo and .ci/test. Refuses to run
# inside another of them (a make target that re-entered a script would
# otherwise recurse without end), and marks the environment for children.
pgm_enter_script() {
	if [[ -n ${PGM_CI_SCRIPT:-} ]]; then
		pgm_die "$(basename "$0") started from within $PGM_CI_SCRIPT; refusing to recurse" \
			"(a bare 'make' inside a .ci script? name the target)"
	fi
	PGM_CI_SCRIPT=$(basename "$0")
	export PGM_CI_SCRIPT
}

# ---------------------------------------------------------------- cleanup

# pgm_on_exit CMD: run CMD (a string for eval) when the script exits, for
# any reason. Hooks run in reverse order of registration and can read the
# script's exit status in $PGM_EXIT_STATUS.
pgm_on_exit() {
	PGM_EXIT_HOOKS+=("$1")
	trap _pgm_exit_trap EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

_pgm_exit_trap() {
	# shellcheck disable=SC2034 # read by the hooks, through eval
	PGM_EXIT_STATUS=$?
	local i
	[[ $BASHPID == "$PGM_MAIN_PID" ]] || return 0
	set +e
	for ((i = ${#PGM_EXIT_HOOKS[@]} - 1; i >= 0; i--)); do
		eval "${PGM_EXIT_HOOKS[i]}"
	done
	PGM_EXIT_HOOKS=()
}

# ---------------------------------------------------------------- packages

# pgm_bootstrap: install whichever of PGM_PACKAGES is missing (checked with
# dpkg-query; nothing is downloaded when all are present), then put the
# PostgreSQL binaries first on PATH. Installing needs root.
pgm_bootstrap() {
	local missing=() pkg log
	for pkg in "${PGM_PACKAGES[@]}"; do
		_pgm_pkg_installed "$pkg" || missing+=("$pkg")
	done
	if ((${#missing[@]} > 0)); then
		if ((EUID != 0)); then
			pgm_die "missing Debian packages: ${missing[*]}." \
				"Install them as root: apt-get install ${missing[*]}"
		fi
		pgm_log "installing Debian packages: ${missing[*]}"
		log=$(mktemp)
		export DEBIAN_FRONTEND=noninteractive
		if ((PGM_APT_UPDATED == 0)); then
			pgm_run_logged "$log" apt-get update -q || pgm_die "apt-get update failed"
			PGM_APT_UPDATED=1
		fi
		pgm_run_logged "$log" apt-get install -y -q --no-install-recommends \
			"${missing[@]}" || pgm_die "apt-get install failed"
		rm -f "$log"
	fi
	_pgm_env
}

# _pgm_pkg_installed PKG: true if the Debian package PKG is installed.
_pgm_pkg_installed() {
	[[ $(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null) == installed ]]
}

# _pgm_env: point PATH and PGXS at PostgreSQL $PGM_PG_MAJOR, whatever other
# versions or wrappers are installed.
_pgm_env() {
	[[ -x $PGM_PGBIN/pg_ctl ]] || pgm_die "PostgreSQL $PGM_PG_MAJOR binaries not found in $PGM_PGBIN"
	case ":$PATH:" in
	*":$PGM_PGBIN:"*) ;;
	*) export PATH="$PGM_PGBIN:$PATH" ;;
	esac
	export PG_CONFIG="$PGM_PGBIN/pg_config"
}

# ---------------------------------------------------------------- build

# pgm_build_install [PG_CFLAGS]: clean, build and install the extension
# from the repository root. PG_CFLAGS defaults to "-Wall -Werror".
pgm_build_install() {
	local cflags="-Wall -Werror" log
	(($# == 0)) || cflags=$1
	log=$(mktemp)
	pgm_log "building pg_migrate (PG_CFLAGS=$cflags)"
	pgm_run_logged "$log" make -C "$PGM_ROOT" -s clean || pgm_die "make clean failed"
	# Name the target: the Makefile's first target is not necessarily `all`.
	pgm_run_logged "$log" make -C "$PGM_ROOT" -j"$(nproc)" PG_CFLAGS="$cflags" all ||
		pgm_die "build failed"
	pgm_run_logged "$log" make -C "$PGM_ROOT" install || pgm_die "make install failed"
	rm -f "$log"
}

# ---------------------------------------------------------------- cluster

# pgm_as_postgres CMD...: run CMD as the postgres OS user when we are root,
# else as ourselves (initdb and postgres refuse to run as root). Runs from /
# so that a working directory postgres cannot read does not matter.
pgm_as_postgres() {
	if ((EUID == 0)); then
		(cd / && runuser -u postgres -- "$@")
	else
		(cd / && "$@")
	fi
}

# pgm_cluster_start [CONF_LINE...]: initdb and start a throwaway cluster,
# then export PGHOST, PGPORT, PGUSER and PGDATABASE for it. Each argument is
# appended to postgresql.conf (e.g. "shared_preload_libraries = 'pg_cron'").
# The EXIT trap stops the cluster and removes its directory.
pgm_cluster_start() {
	local dir port line
	[[ -z $PGM_CLUSTER_DIR ]] || pgm_die "a cluster is already running in $PGM_CLUSTER_DIR"
	dir=$(mktemp -d "${PGM_TMPDIR:-/tmp}/pgm.XXXXXX")
	chmod 0755 "$dir"
	((EUID != 0)) || chown postgres:postgres "$dir"
	PGM_CLUSTER_DIR=$dir
	if ((PGM_STOP_HOOKED == 0)); then
		# shellcheck disable=SC2016 # expanded when the hook runs
		pgm_on_exit 'pgm_cluster_stop "$PGM_EXIT_STATUS"'
		PGM_STOP_HOOKED=1
	fi

	pgm_run_logged "$dir/initdb.log" pgm_as_postgres initdb -D "$dir/data" \
		-U postgres --auth=trust -E UTF8 --locale=C --no-sync --no-instructions ||
		pgm_die "initdb failed"

	port=$(_pgm_free_port)
	{
		echo "# pg_migrate throwaway cluster (.ci/lib.sh)"
		echo "port = $port"
		echo "listen_addresses = ''"
		echo "unix_socket_directories = '$dir'"
		echo "fsync = off"
		echo "synchronous_commit = off"
		echo "full_page_writes = off"
		echo "logging_collector = off"
		for line in "$@"; do echo "$line"; done
	} >>"$dir/data/postgresql.conf"

	pgm_run_logged "$dir/pg_ctl.log" pgm_as_postgres pg_ctl -D "$dir/data" \
		-l "$dir/server.log" -w -t 60 start || {
		tail -n 30 "$dir/server.log" >&2 2>/dev/null
		pgm_die "the server did not start"
	}

	unset PGHOSTADDR PGSERVICE PGSERVICEFILE PGOPTIONS PGPASSWORD
	export PGHOST=$dir PGPORT=$port PGUSER=postgres PGDATABASE=postgres
	export PGCLIENTENCODING=UTF8
	pgm_log "cluster up: PGHOST=$PGHOST PGPORT=$PGPORT (log: $dir/server.log)"
}

# _pgm_free_port: print the first TCP port from 54329 on that nothing
# listens on. (The server listens on no TCP port at all, so this only keeps
# it away from ports others may expect it on.)
_pgm_free_port() {
	local port
	for ((port = 54329; port < 54429; port++)); do
		if command -v ss >/dev/null; then
			[[ -z $(ss -Hltn "sport = :$port" 2>/dev/null) ]] && break
		elif ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			break
		fi
	done
	echo "$port"
}

# pgm_cluster_stop [STATUS]: stop the cluster started by pgm_cluster_start
# and remove its directory. With a non-zero STATUS (a failed run) the tail
# of the server log is printed and the whole log copied to log/ in the
# repository. Does nothing when no cluster is running.
pgm_cluster_stop() {
	local status=${1:-0} dir=$PGM_CLUSTER_DIR
	[[ -n $dir ]] || return 0
	PGM_CLUSTER_DIR=
	if [[ -f $dir/data/postmaster.pid ]]; then
		pgm_as_postgres pg_ctl -D "$dir/data" -m fast -w -t 60 stop >/dev/null 2>&1 ||
			printf 'WARNING: could not stop the server in %s\n' "$dir" >&2
	fi
	if ((status != 0)) && [[ -s $dir/server.log ]]; then
		mkdir -p "$PGM_ROOT/log"
		cp "$dir/server.log" "$PGM_ROOT/log/server.log"
		printf -- '--- last lines of the server log (all of it: log/server.log) ---\n' >&2
		tail -n 25 "$dir/server.log" >&2
	fi
	if [[ ${PGM_KEEP_CLUSTER:-0} == 1 ]]; then
		pgm_log "cluster kept in $dir (PGM_KEEP_CLUSTER=1)"
	else
		rm -rf "$dir"
	fi
	unset PGHOST PGPORT
}

# ---------------------------------------------------------------- psql

# pgm_psql ARGS...: psql without ~/.psqlrc, stopping at the first error.
pgm_psql() {
	psql -X -v ON_ERROR_STOP=1 "$@"
}
