# shellcheck shell=bash
# .ci/suites/packages.sh, sourced by .ci/test: the Debian packages of
# debian/, built, installed, used and removed, as a DBA would:
#
#   1. installs the build dependencies (debhelper, postgresql-server-dev-all
#      at the installed postgresql-common's version, so nothing else is
#      upgraded), and builds the packages with dpkg-buildpackage in a copy
#      of the source tree (the tree's own build, which the other suites
#      use, is left alone);
#   2. checks what each package holds and what pg-migrate-client depends on;
#   3. installs them with dpkg into the real /usr; starts a throwaway
#      cluster with Debian's server (as the postgres OS user, private port
#      and socket directory, never Debian's own cluster); CREATE EXTENSION;
#      migrates the example application with the pg_migrate that the PATH
#      finds (/usr/bin, from pg-migrate-client); runs the autopkgtest
#      (debian/tests/installcheck, the regress suite) against the installed
#      package, as autopkgtest would;
#   4. purges the packages, and checks that nothing of them is left: no
#      package state in dpkg, no file they installed, and the directories
#      they install into listed exactly as before.
#
# The other suites `make install` into the same paths (when they test
# Debian's /usr/lib/postgresql/NN). So before installing, every file that
# the packages would overwrite is moved aside (and a directory emptied by
# that removed), which leaves the tree as if pg_migrate had never been
# installed; the "before" listing is taken then; after the purge, what was
# moved aside is put back, and checked identical (type, mode, size,
# SHA-256) to what was there. Steps 3 and 4 hold /tmp/pgm-dpkg.lock, so two
# runs on one machine never install and purge over each other. If the run
# dies on the way, the EXIT hook stops the cluster, purges the packages and
# puts back what was moved aside.

PKG_LOCK=/tmp/pgm-dpkg.lock
PKG_WORK=			# this run's work directory, while the suite runs
PKG_HOOKED=0		# the EXIT hook is registered
PKG_SYSPATH=/usr/sbin:/usr/bin:/sbin:/bin	# a PATH with only the system's programs

# suite_packages: the steps above, one result each; each step needs the one
# before it, so the suite stops at the first failure (after cleaning up).
suite_packages() {
	local lock_fd
	PKG_WORK=$(mktemp -d "${PGM_TMPDIR:-/tmp}/pgm-pkg.XXXXXX")
	chmod 0755 "$PKG_WORK"
	if ((PKG_HOOKED == 0)); then
		pgm_on_exit _pkg_cleanup
		PKG_HOOKED=1
	fi

	check packages/build_deps _pkg_build_deps
	((CHECK_OK)) && check packages/build _pkg_build
	((CHECK_OK)) && check packages/contents _pkg_contents
	((CHECK_OK)) && check packages/client_depends _pkg_client_depends
	if ((CHECK_OK)); then
		exec {lock_fd}>"$PKG_LOCK"
		pgm_log "packages: waiting for $PKG_LOCK"
		if ! flock -w 1800 "$lock_fd"; then
			record "packages/lock($PKG_LOCK)" fail
		else
			_pkg_locked_steps
			_pkg_cleanup
		fi
		exec {lock_fd}>&-
	fi
	_pkg_cleanup
	rm -rf "$PKG_WORK"
	PKG_WORK=
}

# _pkg_locked_steps: install, use, purge, under the lock.
_pkg_locked_steps() {
	check packages/set_aside_prior_install _pkg_set_aside
	((CHECK_OK)) || return 0
	_pkg_snapshot >"$PKG_WORK/before.txt"
	check packages/install _pkg_install
	if ((CHECK_OK)); then
		check packages/client_on_path _pkg_client_on_path
		((CHECK_OK)) && check packages/cluster _pkg_cluster_start
		((CHECK_OK)) && check packages/create_extension _pkg_create_extension
		((CHECK_OK)) && check packages/example_app _pkg_example_app
		_pkg_cluster_stop
		check packages/autopkgtest _pkg_autopkgtest
	fi
	check packages/purge _pkg_purge
	((CHECK_OK)) && check packages/nothing_left _pkg_nothing_left
	check packages/prior_install_restored _pkg_restore
}

# ---------------------------------------------------------------- build

# _pkg_apt_install PKG...: install Debian packages, holding PKG_LOCK (and
# waiting for apt's own), updating the package lists first unless the
# bootstrap did.
_pkg_apt_install() {
	export DEBIAN_FRONTEND=noninteractive
	if ((PGM_APT_UPDATED == 0)); then
		flock -w 1800 "$PKG_LOCK" apt-get update -q
	fi
	flock -w 1800 "$PKG_LOCK" apt-get install -y -q --no-install-recommends \
		-o DPkg::Lock::Timeout=600 "$@"
}

# _pkg_build_deps: the packages that building the .debs needs and the
# bootstrap did not bring. postgresql-server-dev-all must be the version of
# the installed postgresql-common (it depends on exactly that), so that
# installing it never upgrades postgresql-common under a running machine.
_pkg_build_deps() {
	local common missing=()
	common=$(dpkg-query -W -f='${Version}' postgresql-common)
	_pgm_pkg_installed debhelper || missing+=(debhelper)
	_pgm_pkg_installed postgresql-server-dev-all || missing+=("postgresql-server-dev-all=$common")
	((${#missing[@]} == 0)) || _pkg_apt_install "${missing[@]}"
	command -v dpkg-buildpackage pg_buildext dh
}

# _pkg_build: the source tree's files (tracked and untracked, not ignored:
# none of the tree's own build) copied to PKG_WORK/src/pg-migrate-VERSION,
# built there with dpkg-buildpackage, binary packages only. Build log in
# PKG_WORK/build.log, shown on failure.
_pkg_build() {
	local src rc=0
	src=$PKG_WORK/src/pg-migrate-$(_pkg_version)
	_pkg_copy_source "$src"
	(cd "$src" && env -u PG_CONFIG -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
		PATH="$PKG_SYSPATH" DEB_BUILD_OPTIONS="nocheck noddebs" \
		dpkg-buildpackage -us -uc -b) >"$PKG_WORK/build.log" 2>&1 || rc=$?
	if ((rc != 0)); then
		tail -n 60 "$PKG_WORK/build.log"
		return "$rc"
	fi
	ls -1 "$PKG_WORK"/src/*.deb
}

# _pkg_copy_source DIR: the source tree's files, tracked and untracked but
# not ignored (so none of the tree's own build), copied to DIR.
_pkg_copy_source() {
	mkdir -p "$1"
	git -C "$PGM_ROOT" ls-files -z -co --exclude-standard |
		(cd "$PGM_ROOT" && tar --null -T - -cf -) | tar -xf - -C "$1"
}

# _pkg_debs: the built .deb files, the client's first.
_pkg_debs() {
	ls -1 "$PKG_WORK"/src/pg-migrate-client_*.deb
	ls -1 "$PKG_WORK"/src/postgresql-*-pg-migrate_*.deb
}

# _pkg_names: the built packages' names.
_pkg_names() {
	local deb
	for deb in $(_pkg_debs); do
		dpkg-deb -f "$deb" Package
	done
}

# _pkg_version: default_version in pg_migrate.control.
_pkg_version() {
	sed -n "s/^default_version *= *'\(.*\)'\$/\1/p" "$PGM_ROOT/pg_migrate.control"
}

# _pkg_files DEB: the paths DEB installs, one a line, directories with a
# trailing slash.
_pkg_files() {
	dpkg-deb --fsys-tarfile "$1" | tar -tf - | sed 's|^\./|/|' | grep -vx '/'
}

# _pkg_contents: one postgresql-NN-pg-migrate for each major that
# pg_buildext builds for, with the library, the control file and every
# migrations/ script, and no program; pg-migrate-client with
# /usr/bin/pg_migrate as its only program; all at version
# default_version-N.
_pkg_contents() {
	local v deb files f version
	version=$(_pkg_version)
	for deb in $(_pkg_debs); do
		echo "$(basename "$deb"): $(dpkg-deb -f "$deb" Version)"
		[[ $(dpkg-deb -f "$deb" Version) == "$version"-* ]]
	done
	for v in $(cd "$PKG_WORK"/src/pg-migrate-* && pg_buildext supported-versions); do
		deb=$(ls -1 "$PKG_WORK"/src/postgresql-"$v"-pg-migrate_*.deb)
		files=$(_pkg_files "$deb")
		for f in "/usr/lib/postgresql/$v/lib/pg_migrate.so" \
			"/usr/share/postgresql/$v/extension/pg_migrate.control"; do
			grep -qx "$f" <<<"$files" || { echo "$deb lacks $f"; return 1; }
		done
		for f in "$PGM_ROOT"/migrations/pg_migrate--*.sql; do
			grep -qx "/usr/share/postgresql/$v/extension/${f##*/}" <<<"$files" ||
				{ echo "$deb lacks ${f##*/}"; return 1; }
		done
		if grep -E '/bin/.' <<<"$files"; then
			echo "$deb installs a program"
			return 1
		fi
	done
	files=$(_pkg_files "$(ls -1 "$PKG_WORK"/src/pg-migrate-client_*.deb)")
	printf '%s\n' "$files"
	[[ $(grep -E '/bin/.' <<<"$files") == /usr/bin/pg_migrate ]]
	if grep -v -e '^/usr/bin/' -e '^/usr/share/doc/' -e '^/usr/share/$' -e '^/usr/$' <<<"$files"; then
		echo "pg-migrate-client installs more than its program and docs"
		return 1
	fi
}

# _pkg_client_depends: pg-migrate-client depends on libc and libpq only,
# and on nothing that libpq5 does not depend on itself (libpgcommon's
# SHA-256 links OpenSSL's libcrypto, a dependency of libpq5 already).
_pkg_client_depends() {
	local deb dep allowed
	deb=$(ls -1 "$PKG_WORK"/src/pg-migrate-client_*.deb)
	allowed=" libc6 libpq5 $(dpkg-query -W -f='${Depends}' libpq5 |
		tr ',|' '\n' | sed 's/(.*//; s/:any//; s/ //g' | tr '\n' ' ') "
	echo "Depends: $(dpkg-deb -f "$deb" Depends)"
	echo "allowed: $allowed"
	for dep in $(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed 's/(.*//; s/ //g'); do
		[[ $allowed == *" $dep "* ]] || { echo "unexpected dependency: $dep"; return 1; }
	done
}

# ---------------------------------------------------------------- install

# _pkg_prior_paths: the non-directory paths that the packages install and
# that exist now.
_pkg_prior_paths() {
	local deb p
	for deb in $(_pkg_debs); do
		_pkg_files "$deb"
	done | grep -v '/$' | LC_ALL=C sort -u | while read -r p; do
		if [[ -e $p || -L $p ]]; then echo "$p"; fi
	done
}

# _pkg_describe PATH...: type, mode, size, owner, SHA-256 of each path.
_pkg_describe() {
	local p
	for p in "$@"; do
		printf '%s %s\n' "$(stat -c '%F %a %s %U:%G' "$p")" \
			"$(sha256sum <"$p" | cut -d' ' -f1) $p"
	done
}

# _pkg_set_aside: move aside (to PKG_WORK/aside/) every file the packages
# would overwrite, then remove the directories among the packages' that
# this left empty; PKG_WORK/aside.txt describes the files, aside.dirs
# lists the directories and their modes, for _pkg_restore.
_pkg_set_aside() {
	local p d deb
	local -a paths=()
	mapfile -t paths < <(_pkg_prior_paths)
	: >"$PKG_WORK/aside.dirs"
	if ((${#paths[@]} > 0)); then
		_pkg_describe "${paths[@]}" >"$PKG_WORK/aside.txt"
	else
		: >"$PKG_WORK/aside.txt"
	fi
	for p in "${paths[@]}"; do
		mkdir -p "$PKG_WORK/aside$(dirname "$p")"
		mv "$p" "$PKG_WORK/aside$p"
	done
	for deb in $(_pkg_debs); do
		_pkg_files "$deb"
	done | grep '/$' | sed 's|/$||' | LC_ALL=C sort -ru | while read -r d; do
		if [[ -d $d && -z $(ls -A "$d") ]]; then
			echo "$(stat -c '%a' "$d") $d" >>"$PKG_WORK/aside.dirs"
			rmdir "$d"
		fi
	done
	echo "set aside: ${#paths[@]} files, $(wc -l <"$PKG_WORK/aside.dirs") directories"
}

# _pkg_restore: put back what _pkg_set_aside moved, and check it is what
# was there. Does nothing when nothing was set aside.
_pkg_restore() {
	local mode d p
	local -a paths=()
	[[ -f $PKG_WORK/aside.txt ]] || return 0
	if [[ -s $PKG_WORK/aside.dirs ]]; then
		LC_ALL=C sort -k2 "$PKG_WORK/aside.dirs" | while read -r mode d; do
			[[ -d $d ]] || mkdir -m "$mode" "$d"
		done
	fi
	mapfile -t paths < <(sed 's/.* //' "$PKG_WORK/aside.txt")
	for p in "${paths[@]}"; do
		mv "$PKG_WORK/aside$p" "$p"
	done
	mv "$PKG_WORK/aside.txt" "$PKG_WORK/aside.restored"
	rm -f "$PKG_WORK/aside.dirs"
	echo "restored: ${#paths[@]} files"
	if ((${#paths[@]} > 0)); then
		diff -u "$PKG_WORK/aside.restored" <(_pkg_describe "${paths[@]}")
	fi
}

# _pkg_snapshot: what the packages could leave behind: every entry under
# /usr/lib/postgresql and /usr/share/postgresql (type, mode, and size of
# files), and every path named after pg_migrate under /usr, /etc and
# dpkg's database.
_pkg_snapshot() {
	{
		find /usr/lib/postgresql /usr/share/postgresql -xdev \
			\( -type d -printf '%p d %m\n' \) -o -printf '%p %y %m %s\n'
		find /usr /etc /var/lib/dpkg/info -xdev \
			\( -name '*pg_migrate*' -o -name '*pg-migrate*' \) -printf '%p %y named\n'
	} | LC_ALL=C sort
}

# _pkg_install: dpkg -i the built packages. First PKG_WORK/paths.txt lists
# every path they hold, and PKG_WORK/existed.txt those of them that exist
# already (directories such as /usr/bin), for _pkg_nothing_left.
_pkg_install() {
	local deb p
	for deb in $(_pkg_debs); do
		_pkg_files "$deb"
	done | sed 's|/$||' | LC_ALL=C sort -u >"$PKG_WORK/paths.txt"
	while read -r p; do
		if [[ -e $p || -L $p ]]; then echo "$p"; fi
	done <"$PKG_WORK/paths.txt" >"$PKG_WORK/existed.txt"
	local -a debs=()
	mapfile -t debs < <(_pkg_debs)
	dpkg -i "${debs[@]}"
}

# _pkg_client_on_path: with the system's PATH, `pg_migrate` is
# pg-migrate-client's /usr/bin/pg_migrate, and says the release's version.
_pkg_client_on_path() {
	local found
	found=$(env PATH="$PKG_SYSPATH" bash -c 'command -v pg_migrate')
	echo "pg_migrate on the PATH: $found"
	[[ $found == /usr/bin/pg_migrate ]]
	dpkg -S /usr/bin/pg_migrate | grep -q '^pg-migrate-client:'
	[[ $(PATH=$PKG_SYSPATH pg_migrate --version) == "pg_migrate $(_pkg_version)" ]]
}

# _pkg_major: the PostgreSQL major the cluster runs: the newest one a
# package was built for.
_pkg_major() {
	_pkg_names | sed -n 's/^postgresql-\([0-9]*\)-pg-migrate$/\1/p' | sort -n | tail -n 1
}

# _pkg_cluster_start: a throwaway cluster of Debian's PostgreSQL (the
# server the package installed into) in PKG_WORK/c, as pgm_cluster_start
# makes them: the postgres OS user, trust, a unix socket in its own
# directory, no TCP. PKG_WORK/c/env holds the PG* variables to reach it.
_pkg_cluster_start() {
	local dir=$PKG_WORK/c bin port
	bin=/usr/lib/postgresql/$(_pkg_major)/bin
	mkdir -p "$dir"
	chmod 0755 "$dir"
	((EUID != 0)) || chown postgres:postgres "$dir"
	pgm_as_postgres "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 \
		--locale=C --no-sync --no-instructions >"$dir/initdb.log"
	port=$(_pgm_free_port)
	cat >>"$dir/data/postgresql.conf" <<-EOF
		# pg_migrate package test cluster (.ci/suites/packages.sh)
		port = $port
		listen_addresses = ''
		unix_socket_directories = '$dir'
		fsync = off
		logging_collector = off
	EOF
	pgm_as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start ||
		{ tail -n 30 "$dir/server.log"; return 1; }
	printf 'PGHOST=%s\nPGPORT=%s\nPGUSER=postgres\nPGDATABASE=pgm_pkg\n' \
		"$dir" "$port" >"$dir/env"
}

# _pkg_cluster_stop: stop that cluster, if it runs.
_pkg_cluster_stop() {
	local dir=$PKG_WORK/c
	[[ -n $PKG_WORK && -f $dir/data/postmaster.pid ]] || return 0
	pgm_as_postgres "/usr/lib/postgresql/$(_pkg_major)/bin/pg_ctl" -D "$dir/data" \
		-m fast -w -t 60 stop >/dev/null 2>&1 ||
		printf 'WARNING: could not stop the server in %s\n' "$dir" >&2
}

# _pkg_env CMD...: CMD with the system's PATH and the package cluster's PG*
# variables (and none of the suite cluster's).
_pkg_env() {
	local -a vars=()
	mapfile -t vars <"$PKG_WORK/c/env"
	env -u PGHOST -u PGPORT -u PGUSER -u PGDATABASE -u PG_CONFIG \
		PATH="$PKG_SYSPATH" "${vars[@]}" "$@"
}

# _pkg_create_extension: CREATE EXTENSION in a new database, at the
# release's version, with the packaged library.
_pkg_create_extension() {
	local got
	_pkg_env psql -X -v ON_ERROR_STOP=1 -d postgres -c 'CREATE DATABASE pgm_pkg'
	_pkg_env psql -X -v ON_ERROR_STOP=1 -c 'CREATE EXTENSION pg_migrate'
	got=$(_pkg_env psql -X -At -v ON_ERROR_STOP=1 -c \
		"SELECT extversion FROM pg_extension WHERE extname = 'pg_migrate'")
	echo "extversion: $got"
	[[ $got == "$(_pkg_version)" ]]
	got=$(_pkg_env psql -X -At -v ON_ERROR_STOP=1 -c \
		"SELECT count(*) FROM migrate_status()")
	[[ $got == 1 ]]
}

# _pkg_example_app: `pg_migrate up --dir examples/app/migrations` with the
# packaged client brings the database to head, as the demo does; again, it
# applies nothing.
_pkg_example_app() {
	local got
	_pkg_env pg_migrate up --dir "$PGM_ROOT/examples/app/migrations"
	got=$(_pkg_env psql -X -At -v ON_ERROR_STOP=1 -c \
		"SELECT pending = 0 AND applied = 4 FROM migrate_status()")
	[[ $got == t ]] || { echo "migrate_status after up: $got"; return 1; }
	got=$(_pkg_env psql -X -At -v ON_ERROR_STOP=1 -c \
		"SELECT count(*) FROM pg_attribute
		  WHERE attrelid = 'public.predictions'::regclass
		    AND attname = 'sqs_message_id' AND NOT attisdropped")
	[[ $got == 1 ]] || { echo "predictions.sqs_message_id: $got"; return 1; }
	got=$(_pkg_env psql -X -At -v ON_ERROR_STOP=1 -c "SELECT count(*) FROM migrate_history()")
	_pkg_env pg_migrate up --dir "$PGM_ROOT/examples/app/migrations"
	[[ $(_pkg_env psql -X -At -v ON_ERROR_STOP=1 -c "SELECT count(*) FROM migrate_history()") == "$got" ]]
	_pkg_env pg_migrate status
}

# _pkg_autopkgtest: debian/tests/installcheck, run as autopkgtest runs it:
# as root, in a fresh copy of the source tree, against the installed
# packages. pg_virtualenv makes its cluster in a temporary directory, on
# the port PGPORT names (a free one, not Debian's default 5432).
_pkg_autopkgtest() {
	local src=$PKG_WORK/test-src
	_pkg_copy_source "$src"
	(cd "$src" && env -u PGHOST -u PGUSER -u PGDATABASE -u PG_CONFIG \
		-u MAKEFLAGS -u MFLAGS -u MAKELEVEL PATH="$PKG_SYSPATH" \
		PGPORT="$(_pgm_free_port)" debian/tests/installcheck)
}

# ---------------------------------------------------------------- purge

# _pkg_purge: dpkg --purge every built package that is installed.
_pkg_purge() {
	local name
	local -a installed=()
	local status
	for name in $(_pkg_names); do
		status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$name" 2>/dev/null || true)
		status=${status// /}
		[[ -z $status || $status == un ]] || installed+=("$name")
	done
	((${#installed[@]} == 0)) || dpkg --purge "${installed[@]}"
}

# _pkg_nothing_left: dpkg knows none of the packages any more (not even
# their configuration), no path they hold exists unless it did before
# they were installed, and the snapshot equals the one taken then.
_pkg_nothing_left() {
	local name status p left=0
	for name in $(_pkg_names); do
		status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$name" 2>/dev/null || true)
		status=${status// /}
		if [[ -n $status && $status != un ]]; then
			echo "dpkg still knows $name: $status"
			left=1
		fi
	done
	while read -r p; do
		if [[ -e $p || -L $p ]] && ! grep -qxF -- "$p" "$PKG_WORK/existed.txt"; then
			echo "left behind: $p"
			left=1
		fi
	done <"$PKG_WORK/paths.txt"
	diff -u "$PKG_WORK/before.txt" <(_pkg_snapshot) || left=1
	((left == 0))
}

# _pkg_cleanup: whatever this suite left: its cluster running, its packages
# installed, files set aside. The suite calls it at its end; the EXIT hook
# calls it too, for a run that died on the way.
_pkg_cleanup() {
	[[ -n $PKG_WORK && -d $PKG_WORK ]] || return 0
	_pkg_cluster_stop
	if [[ -f $PKG_WORK/aside.txt ]]; then
		ls "$PKG_WORK"/src/*.deb >/dev/null 2>&1 && _pkg_purge >/dev/null 2>&1
		_pkg_restore >/dev/null 2>&1 ||
			printf 'WARNING: could not restore the files set aside in %s/aside\n' "$PKG_WORK" >&2
	fi
	if [[ -s $PKG_WORK/build.log ]] && ((PGM_EXIT_STATUS != 0 || FAILED > 0)); then
		mkdir -p "$PGM_ROOT/log"
		cp "$PKG_WORK/build.log" "$PGM_ROOT/log/packages-build.log"
	fi
}
