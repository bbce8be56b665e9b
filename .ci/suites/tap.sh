# shellcheck shell=bash
# .ci/suites/tap.sh: the TAP tests in t/ (crashes, restarts, a standby),
# sourced by .ci/test. Each t/NNN_topic.pl starts clusters of its own with
# PostgreSQL::Test::Cluster and uses the installed extension.
#
# The tests run with the environment PGXS's prove_installcheck would give
# them, but not through `make installcheck`: initdb refuses root, so as
# root they run as the postgres OS user, from a copy of t/ in a temporary
# directory that user can write (tmp_check/ with the clusters and logs goes
# there too, and test/fixtures/, which t/004_client.pl reads). As any other
# user they run as that user.

# suite_tap: one prove per t/*.pl, one result each (tap/NNN_topic), but
# for the hostile suite's files (t/NNN_hostile_*.pl), which suite_hostile
# runs. On a failure, prove's verbose output and the test's logs from
# tmp_check/log are printed.
suite_tap() {
	tap_suite tap '!(*_hostile_*)'
}

# tap_suite SUITE PATTERN: prove each t/NAME.pl whose NAME matches the
# extended glob PATTERN, recording SUITE/NAME for each.
tap_suite() {
	local suite=$1 pattern=$2 work name pkglibdir file
	local -a run_as=() tests=()
	shopt -s extglob nullglob
	for file in "$PGM_ROOT"/t/$pattern.pl; do
		tests+=("$(basename "$file" .pl)")
	done
	shopt -u nullglob
	if ((${#tests[@]} == 0)); then
		pgm_log "$suite: no tests matching t/$pattern.pl"
		return 0
	fi
	work=$(mktemp -d "${PGM_TMPDIR:-/tmp}/pgm-tap.XXXXXX")
	cp -R "$PGM_ROOT/t" "$work/t"
	# the file reader's fixture folders, which t/004_client.pl loads
	if [[ -d $PGM_ROOT/test/fixtures ]]; then
		mkdir -p "$work/test"
		cp -R "$PGM_ROOT/test/fixtures" "$work/test/fixtures"
	fi
	mkdir "$work/tmp_check"
	if ((EUID == 0)); then
		chown -R postgres:postgres "$work"
		run_as=(runuser -u postgres --)
	fi
	pkglibdir=$("$PG_CONFIG" --pkglibdir)

	# PGM_TAP_TESTS="004_client 005_directory" runs only those of them
	# (while developing)
	if [[ -n ${PGM_TAP_TESTS:-} ]]; then
		local -a wanted=()
		for name in "${tests[@]}"; do
			[[ " $PGM_TAP_TESTS " != *" $name "* ]] || wanted+=("$name")
		done
		tests=("${wanted[@]}")
	fi
	# PGM_TAP_SKIP="006_pg_cron" leaves those out, each said so (not
	# counted as passed): .ci/test-versions, on majors pg_cron is not
	# packaged for
	if [[ -n ${PGM_TAP_SKIP:-} ]]; then
		local -a kept=()
		for name in "${tests[@]}"; do
			if [[ " $PGM_TAP_SKIP " == *" $name "* ]]; then
				printf 'SKIPPED: %s/%s (not run on PostgreSQL %s)\n' "$suite" "$name" "$PGM_PG_MAJOR"
			else
				kept+=("$name")
			fi
		done
		tests=("${kept[@]}")
	fi
	# The tests that mostly wait (pg_cron runs jobs on minute boundaries)
	# run in the background, beside the others.
	local -A background=()
	local -a waiting=()
	local pid
	for name in "${tests[@]}"; do
		if [[ " $PGM_TAP_BACKGROUND " == *" $name "* ]]; then
			_tap_run "$work" "$name" "$pkglibdir" "${run_as[@]}" &
			background[$name]=$!
			waiting+=("$name")
		fi
	done
	for name in "${tests[@]}"; do
		[[ -z ${background[$name]:-} ]] || continue
		_tap_record "$suite" "$work" "$name" _tap_run "$work" "$name" "$pkglibdir" "${run_as[@]}"
	done
	for name in "${waiting[@]}"; do
		pid=${background[$name]}
		_tap_record "$suite" "$work" "$name" wait "$pid"
	done
	rm -rf "$work"
}

# The TAP tests run in the background while the others run.
PGM_TAP_BACKGROUND="006_pg_cron"

# _tap_run WORK NAME PKGLIBDIR [RUN_AS...]: prove t/NAME.pl in WORK, its
# output in WORK/NAME.out; the exit status is prove's. tmp_check/ and its
# log/ are TESTDIR's on PostgreSQL 15, and TESTDATADIR and TESTLOGDIR on 16
# and later (all set, as their prove_installcheck sets them): absolute
# paths, which the server can open.
_tap_run() {
	local work=$1 name=$2 pkglibdir=$3
	shift 3
	(cd "$work" && "$@" env \
		PATH="$PGM_PGBIN:$PATH" \
		TESTDIR="$work" \
		TESTDATADIR="$work/tmp_check" \
		TESTLOGDIR="$work/tmp_check/log" \
		PGPORT=65432 \
		PG_REGRESS="$pkglibdir/pgxs/src/test/regress/pg_regress" \
		PERL5LIB="$pkglibdir/pgxs/src/test/perl${PERL5LIB:+:$PERL5LIB}" \
		prove -v "t/$name.pl") >"$work/$name.out" 2>&1
}

# _tap_record SUITE WORK NAME CMD...: record SUITE/NAME as CMD's status
# says, and show the test's output and logs when it failed.
_tap_record() {
	local suite=$1 work=$2 name=$3
	shift 3
	if "$@"; then
		record "$suite/$name" ok
	else
		record "$suite/$name" fail
		_tap_show_failure "$suite" "$work" "$name"
	fi
}

# _tap_show_failure SUITE WORK NAME: print what the failed test NAME left in
# WORK: prove's output, then every log of that test in tmp_check/log (its
# regress_log_NAME and the server logs of its nodes, NAME_NODE.log).
_tap_show_failure() {
	local suite=$1 work=$2 name=$3 log
	printf 'FAILED: %s/%s\n' "$suite" "$name" >&2
	sed 's/^/    /' "$work/$name.out" >&2
	for log in "$work/tmp_check/log/regress_log_$name" "$work/tmp_check/log/${name}"_*.log; do
		[[ -f $log ]] || continue
		printf -- '--- %s ---\n' "${log#"$work"/}" >&2
		sed 's/^/    /' "$log" >&2
	done
}
