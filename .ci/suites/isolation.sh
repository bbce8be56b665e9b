# shellcheck shell=bash
# .ci/suites/isolation.sh, sourced by .ci/test: the isolation specs.

# suite_isolation: the isolation specs in specs/ (expected output in
# expected/, beside pg_regress's), through PGXS's `make installcheck`
# without the pg_regress tests, one result per spec; the hostile suite's
# specs (specs/hostile_*.spec) run in suite_hostile. pg_isolation_regress
# writes its results and regression.diffs to output_iso/.
suite_isolation() {
	installcheck_suite isolation specs .spec output_iso ISOLATION '!(hostile_*)'
}
