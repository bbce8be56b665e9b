# shellcheck shell=bash
# .ci/suites/hammer.sh: suite_hammer, sourced by .ci/test.
#
# Exactly once under contention: 32 clients call migrate_upgrade('head')
# over and over while another registers 200 revisions one by one
# (test/hammer.py; it prints each of its checks, shown here on failure).
# The server log it searches for "deadlock detected" is the throwaway
# cluster's.

# Debian's python3, which python3-psycopg2 (in PGM_PACKAGES) installs for:
# another python3 (pyenv, a virtualenv) may come first on PATH.
PGM_PYTHON=${PGM_PYTHON:-/usr/bin/python3}

# suite_hammer: one test; its summary line (how many upgrade calls ran,
# how many applied something) goes to stderr whatever the result, to show
# the calls contended.
suite_hammer() {
	local out
	out=$(mktemp)
	check hammer/upgrade_while_registering _hammer_run "$out"
	sed -n 's/^summary: /==> hammer: /p' "$out" >&2
	rm -f "$out"
}

# _hammer_run OUT: run test/hammer.py against the test cluster, its output
# also in OUT.
_hammer_run() {
	"$PGM_PYTHON" "$PGM_ROOT/test/hammer.py" \
		--server-log "$PGM_CLUSTER_DIR/server.log" | tee "$1"
}
