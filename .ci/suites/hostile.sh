# shellcheck shell=bash
# .ci/suites/hostile.sh, sourced by .ci/test: the hostile suite, pg_migrate
# tried as an attacker or an unlucky deploy would try it (issue 13): crashes
# that would restart the cluster, a review that runs a table owner's code,
# a lock that a script or a stranger can break or block, bad input of every
# kind, and the ways production ends processes. Its files sit beside the
# other tests of their kind, named for the suite:
#   sql/hostile_*.sql      pg_regress, expected output in expected/
#   specs/hostile_*.spec   isolation specs, likewise
#   t/NNN_hostile_*.pl     TAP, with clusters of their own
# and only this suite runs them (`PGM_SUITES=hostile make test` alone).

# suite_hostile: the three kinds in turn, one result each (hostile/NAME).
suite_hostile() {
	installcheck_suite hostile sql .sql . REGRESS 'hostile_*'
	installcheck_suite hostile specs .spec output_iso ISOLATION 'hostile_*'
	tap_suite hostile '*_hostile_*'
}
