#!/usr/bin/env bash
# shellcheck disable=SC2119  # lib.sh functions take optional arguments
# bench/graph.sh — how long do planning and validation take on a large
# revision graph with branches and merges?
#
#   bash bench/graph.sh            10,000 and 100,000 revisions, 5 runs each
#   bash bench/graph.sh --runs 9   more runs on a noisy machine
#   bash bench/graph.sh --quick    smoke test: 200 and 2,000 revisions, 3 runs,
#                                  the installed build; checks the work,
#                                  judges no timing
#
# It bootstraps, builds and installs the extension (plain optimized build,
# no assertions) with bench/lib.sh, starts a throwaway cluster, and for
# each size N generates a graph (bench/graph.sql): blocks of 50 revisions,
# each a trunk of 20 that branches into two (every third block three)
# branches merged by the block's last revision.  The registry is loaded
# through migrate_register, one call per revision; then it measures:
#
#   (p) SELECT count(*) FROM migrate_pending('heads'), nothing applied:
#       loading the registry, building and checking the graph, planning;
#   (v) SELECT count(*) FROM migrate_validate(), every revision applied
#       with its checksum (applied rows written as an upgrade writes them,
#       by INSERT ... SELECT; see bench/graph.sql): loading, the graph, the
#       applied set, and parsing every script;
#
# each as the server's clock_timestamp() around the call inside one
# statement (bench.time_ms), the median of several runs in one session
# after an untimed warm-up.  Targets: (p) under 500 ms at 100,000
# revisions, (v) under 100 ms at 10,000, and both near-linear: at most x15
# for 10x the revisions (linear is x10, N log N x12.5).  It checks its own
# work: every plan has N steps, validation finds no problem, and on 200
# revisions a real migrate_upgrade('head') writes the same applied and
# history rows as the bulk route.  A full run profiles with perf each
# measurement that misses its target (BENCH_PERF=1: every measurement).
#
# Results go to bench/out/graph-N.txt and .json (git-ignored), profiles to
# bench/out/graph-N-perf-*.txt.  See bench/README.md.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
	cat <<EOF
usage: bash bench/graph.sh [--runs R] [--quick]
  --runs R   timed runs per measurement, after one untimed warm-up (default 5)
  --quick    smoke test: 200 and 2,000 revisions, 3 runs, the installed build;
             checks the work, does not judge timings
EOF
	bench_usage_env
	cat <<EOF
  BENCH_PERF=1        profile every measurement with perf (default: a full run
                      profiles those that miss their target; 0: none)
EOF
}

# ---------------------------------------------------------------- arguments
small=10000    # the sizes: (v)'s target is at small, (p)'s at big
big=100000
runs=5
sample=200     # revisions upgraded for real, to check the bulk applied rows
t_pending=500  # ms, (p) at big
t_validate=100 # ms, (v) at small
t_growth=15    # at most this growth for 10x the revisions
bench_args runs "$@"
if [ "${#bench_positional[@]}" -gt 0 ]; then
	usage >&2
	exit 2
fi
if [ "$quick" = 1 ]; then
	small=200
	big=2000
	[ "${runs_set:-0}" = 1 ] || runs=3
fi
[[ $runs =~ ^[1-9][0-9]*$ ]] || { usage >&2; exit 2; }
case ${BENCH_PERF:-} in
'') perf_mode=$([ "$quick" = 1 ] && echo 0 || echo missed) ;;
0) perf_mode=0 ;;
1) perf_mode=all ;;
*) { echo "BENCH_PERF must be 0 or 1"; usage; } >&2; exit 2 ;;
esac
if [ "$perf_mode" != 0 ] && ! command -v perf >/dev/null; then
	say "perf is not installed: no profiles"
	perf_mode=0
fi

out=${BENCH_OUT:-$bench_dir/out}
work=$out/work/graph
rm -rf "$work"
mkdir -p "$work"
results_txt=$out/graph-$big.txt
results_json=$out/graph-$big.json
rm -f "$out/graph-$big-perf-"*.txt

# ------------------------------------------------ build, install, cluster
bench_build "$quick"

# Autovacuum off, so that no worker vacuums or analyzes the registry in the
# middle of a measurement; the script runs VACUUM ANALYZE itself after
# loading, as autovacuum would have by the time anyone plans against a
# registry that large.
bench_cluster_start "autovacuum = off"

# ------------------------------------------------------------- helpers

# new_db DB N: a database with the extension, bench/graph.sql and N
# generated revisions registered through migrate_register, vacuumed and
# analyzed.  Sets registered_s to the wall time of the registration (s).
new_db() {
	local db=$1 n=$2 t0 t1 added
	createdb "$db"
	psqlx -d "$db" -c 'CREATE EXTENSION pg_migrate' -f "$bench_dir/graph.sql" >/dev/null
	[ "$(sql1 -d "$db" -c "SELECT bench.generate($n)")" = "$n" ] ||
		pgm_die "$db: bench.generate($n) did not generate $n revisions"
	t0=$(now)
	added=$(sql1 -d "$db" -c "SELECT bench.register()")
	t1=$(now)
	[ "$added" = "$n" ] || fail "$db: migrate_register added $added revisions, expected $n"
	psqlx -d "$db" -c 'VACUUM ANALYZE migrate.revision' -c 'VACUUM ANALYZE bench.graph_rows'
	registered_s=$(sub "$t0" "$t1")
}

# sql_literal S: S as an SQL string literal
sql_literal() { printf "'%s'" "${1//\'/\'\'}"; }

# median_or_nan X...: the median, or nan when there is no X (a failed run)
median_or_nan() { if (($# > 0)); then median "$@"; else echo nan; fi; }

# measure NAME DB QUERY WANT: run QUERY (one bigint out) 1 + runs times in
# one session on DB, timed by bench.time_ms; the first run is an untimed
# warm-up.  Every run must return WANT.  Sets the array times to the timed
# runs' ms, first_ms to the warm-up's (the first call of a session: what a
# deploy job's one call pays, pg_migrate's statements not yet prepared),
# and peak_mb to the backend's peak resident memory at the end (VmHWM, MB;
# shared buffers it touched included); keeps the psql output in
# $work/NAME.out.
measure() {
	local name=$1 db=$2 query=$3 want=$4 f=$work/$1.sql k got
	times=()
	{
		echo "SELECT pg_backend_pid() AS bench_pid \gset"
		printf "SELECT 'warm-up', ms, result FROM bench.time_ms(%s);\n" "$(sql_literal "$query")"
		for ((k = 1; k <= runs; k++)); do
			printf "SELECT 'run', ms, result FROM bench.time_ms(%s);\n" "$(sql_literal "$query")"
		done
		echo '\setenv BENCH_PID :bench_pid'
		# shellcheck disable=SC2016 # for the shell psql starts
		echo '\! awk '"'"'$1 == "VmHWM:" { print "peak", $2 / 1024, 0 }'"'"' /proc/$BENCH_PID/status'
	} >"$f"
	sql1 -F ' ' -d "$db" -f "$f" >"$work/$name.out" 2>"$work/$name.log" || {
		fail "$name: the timed query failed: $(grep -m1 ERROR "$work/$name.log" || tail -n 1 "$work/$name.log")"
		return 0
	}
	got=$(awk -v w="$want" '($1 == "run" || $1 == "warm-up") && $3 != w { print $3; exit }' "$work/$name.out")
	[ -z "$got" ] || fail "$name: $query returned $got, expected $want"
	mapfile -t times < <(awk '$1 == "run" { printf "%.3f\n", $2 }' "$work/$name.out")
	[ "${#times[@]}" = "$runs" ] || fail "$name: $runs timed runs, ${#times[@]} times read from $work/$name.out"
	first_ms=$(awk '$1 == "warm-up" { printf "%.3f", $2 }' "$work/$name.out")
	peak_mb=$(awk '$1 == "peak" { printf "%.0f", $2 }' "$work/$name.out")
}

# The functions whose total time (with all they call) a profile lists, in
# the order they run, each after its depth below the SQL-callable function:
# loading the registry and building the graph, the graph checks and the
# plan, the applied-set checks, loading and parsing the scripts, returning
# the rows; last the kernel's first touch of memory the backend had not
# used before, wherever it happens.
profile_steps=(0:migrate_pending 0:migrate_validate 1:mg_registry_load 2:graph_build
	1:mg_validate_graph 1:graph_plan_upgrade 1:mg_validate_applied
	1:mg_registry_load_scripts 1:mg_validate_scripts 2:mg_in_subtransaction 3:raw_parser
	1:tuplestore_putvalues 1:SPI_finish 0:do_anonymous_page)

# profile NAME DB QUERY: perf record, with DWARF call graphs, of the
# backend of one session while it runs QUERY runs times, after an untimed
# warm-up that is not recorded.  Writes $out/graph-BIG-perf-NAME.txt: the
# total time of the steps in profile_steps, the functions by self time,
# then the caller graph; prints the first two parts.
profile() {
	local name=$1 db=$2 query=$3 data=$work/$1.perf report=$out/graph-$big-perf-$1.txt
	local sql pid perf_pid k line
	sql="SELECT result FROM bench.time_ms($(sql_literal "$query"));"
	say "$name: perf record of $runs runs"
	coproc PROFILED { psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$db" 2>&1; }
	echo "SELECT pg_backend_pid(); $sql" >&"${PROFILED[1]}"
	read -r pid <&"${PROFILED[0]}" && read -r line <&"${PROFILED[0]}" || line=
	perf record -q -p "$pid" -F 499 --call-graph dwarf,32768 -o "$data" 2>"$work/$name-perf.log" &
	perf_pid=$!
	sleep 1 # perf attaches; the idle backend gives no samples meanwhile
	for ((k = 1; k <= runs; k++)); do
		echo "$sql" >&"${PROFILED[1]}"
		read -r line <&"${PROFILED[0]}" || break
	done
	kill -INT "$perf_pid"
	wait "$perf_pid" || true
	echo '\q' >&"${PROFILED[1]}"
	wait "$PROFILED_PID" || true
	if [ ! -s "$data" ]; then
		say "warning: $name: perf recorded nothing: $(tail -n 1 "$work/$name-perf.log")"
		return 0
	fi
	{
		printf 'perf profile of %s: the backend (pid %s) running %s %d times after an untimed warm-up\n' \
			"$name" "$pid" "$query" "$runs"
		printf '  total time of each step, with all it calls (%% of the samples):\n'
		perf report -i "$data" --children --sort symbol -g none --stdio 2>/dev/null |
			awk -v steps="${profile_steps[*]}" '
			BEGIN {
				n = split(steps, order, " ")
				for (i = 1; i <= n; i++) {
					split(order[i], p, ":"); depth[i] = p[1]; order[i] = p[2]
					want[order[i]] = 1
				}
			}
			$3 ~ /^\[/ && ($4 in want) { sub(/%/, "", $1); total[$4] += $1 }
			END {
				for (i = 1; i <= n; i++)
					if (order[i] in total)
						printf "    %6.2f%%  %*s%s\n", total[order[i]], 2 * depth[i], "", order[i]
			}'
		printf '  self time, the top 15:\n'
		perf report -i "$data" --no-children --sort dso,symbol -g none --stdio 2>/dev/null |
			awk '/%/ && !/^#/ && n++ < 15 { sub(/ +- +- *$/, ""); print "  " $0 }'
		printf '\ncaller graph:\n'
		perf report -i "$data" --children --sort symbol --stdio -g caller,0.5,callee,function,percent \
			--percent-limit 3 2>/dev/null | awk '!/^#/ && !/^$/'
	} >"$report"
	rm -f "$data"
	sed '/^caller graph:/,$d' "$report"
}

# ------------------------------------------------------------- the bulk route, checked
# On a small graph: a real migrate_upgrade('head') (the scripts run), and
# bench.apply_all on the same registry, must write the same applied and
# history rows, but for times and pids.
say "check: $sample revisions upgraded for real and by bench.apply_all write the same rows"
new_db bench_graph_sample "$sample"
got=$(sql1 -d bench_graph_sample -c "SELECT count(*) FROM migrate_upgrade('head')" 2>"$work/sample.log") ||
	got="an error: $(grep -m1 ERROR "$work/sample.log")"
[ "$got" = "$sample" ] || fail "sample: migrate_upgrade('head') applied $got revisions, expected $sample"
diffs=$(psqlx -A -t -d bench_graph_sample <<'EOF'
CREATE TEMP TABLE real_upgrade AS SELECT * FROM bench.upgraded;
DELETE FROM migrate.applied;
DELETE FROM migrate.history WHERE event = 'upgrade';
SELECT bench.apply_all() \g /dev/null
SELECT count(*) FROM ((SELECT * FROM real_upgrade EXCEPT ALL SELECT * FROM bench.upgraded)
                      UNION ALL
                      (SELECT * FROM bench.upgraded EXCEPT ALL SELECT * FROM real_upgrade)) AS d;
EOF
)
[ "$diffs" = 0 ] || fail "sample: bench.apply_all's rows differ from a real upgrade's in $diffs rows"
got=$(sql1 -d bench_graph_sample -c "SELECT count(*) FROM migrate_validate()")
[ "$got" = 0 ] || fail "sample: migrate_validate() found $got problems after bench.apply_all"
dropdb bench_graph_sample

# ------------------------------------------------------------- measure
q_pending="SELECT count(*) FROM migrate_pending('heads')"
q_validate="SELECT count(*) FROM migrate_validate()"
declare -A reg_s graph_desc heads_n p_ms v_ms p_runs v_runs p_mem v_mem p_first v_first
for n in "$small" "$big"; do
	db=bench_graph_$n
	say "$n revisions: generate, register through migrate_register"
	new_db "$db" "$n"
	reg_s[$n]=$registered_s
	say "  registered $n revisions in ${reg_s[$n]} s (not timed)"
	graph_desc[$n]=$(sql1 -F ' ' -d "$db" -c 'SELECT * FROM bench.describe()')
	heads_n[$n]=$(sql1 -d "$db" -c 'SELECT count(*) FROM migrate_heads()')

	say "  (p) migrate_pending('heads'), nothing applied"
	measure "pending-$n" "$db" "$q_pending" "$n"
	p_runs[$n]="${times[*]}"
	p_ms[$n]=$(median_or_nan "${times[@]}")
	p_mem[$n]=$peak_mb
	p_first[$n]=$first_ms

	say "  mark all $n applied (bench.apply_all)"
	got=$(sql1 -d "$db" -c 'SELECT bench.apply_all()')
	[ "$got" = "$n" ] || fail "$n: bench.apply_all() marked $got applied, expected $n"
	psqlx -d "$db" -c 'VACUUM ANALYZE migrate.applied' -c 'VACUUM ANALYZE migrate.history'
	got=$(sql1 -d "$db" -c 'SELECT applied = '"$n"' AND pending = 0 AND drifted = 0 FROM migrate_status()')
	[ "$got" = t ] || fail "$n: migrate_status() does not show all $n applied without drift"

	say "  (v) migrate_validate(), all applied"
	measure "validate-$n" "$db" "$q_validate" 0
	v_runs[$n]="${times[*]}"
	v_ms[$n]=$(median_or_nan "${times[@]}")
	v_mem[$n]=$peak_mb
	v_first[$n]=$first_ms
	say "  (p) ${p_ms[$n]} ms, (v) ${v_ms[$n]} ms (medians of $runs)"
done

server_version=$(sql1 -d postgres -c 'SHOW server_version')
settings=$(bench_settings shared_buffers work_mem autovacuum fsync)
load=$(cut -d' ' -f1-3 /proc/loadavg)

# ------------------------------------------------------------- verdict
verdict() { # verdict VALUE LIMIT: ok when VALUE <= LIMIT, else MISSED
	if awk -v v="$1" -v l="$2" 'BEGIN { exit !(v != "nan" && v != "" && v <= l) }'; then
		echo ok
	else
		echo MISSED
	fi
}
p_growth=$(div "${p_ms[$big]}" "${p_ms[$small]}")
v_growth=$(div "${v_ms[$big]}" "${v_ms[$small]}")
v_p=$(verdict "${p_ms[$big]}" "$t_pending")
v_v=$(verdict "${v_ms[$small]}" "$t_validate")
v_pg=$(verdict "$p_growth" "$t_growth")
v_vg=$(verdict "$v_growth" "$t_growth")
missed=0
case "$v_p $v_v $v_pg $v_vg" in *MISSED*) missed=1 ;; esac

# ------------------------------------------------------------- profiles
# A measurement is profiled when it, or the growth it is part of, missed
# its target (or with BENCH_PERF=1 always).
profiled=()
if [ "$perf_mode" != 0 ]; then
	for m in "pending $small $v_pg" "pending $big $v_p$v_pg" \
		"validate $small $v_v$v_vg" "validate $big $v_vg"; do
		read -r what n verdicts <<<"$m"
		[[ $verdicts == *MISSED* ]] || [ "$perf_mode" = all ] || continue
		if [ "$what" = pending ]; then query=$q_pending; else query=$q_validate; fi
		profile "$what-$n" "bench_graph_$n" "$query" >"$work/$what-$n-perf.head"
		profiled+=("$what-$n")
	done
fi
for n in "$small" "$big"; do dropdb "bench_graph_$n"; done

# ------------------------------------------------------------- report
describe() { # describe N: the graph line for N
	local rev roots bp merges m3
	read -r rev roots bp merges m3 <<<"${graph_desc[$1]}"
	printf '  %7d revisions: %d root, %d branch points, %d merges (%d of them three-way), %d head(s); registered in %s s\n' \
		"$rev" "$roots" "$bp" "$merges" "$m3" "${heads_n[$1]}" "${reg_s[$1]}"
}
runs_of() { echo "$1" | tr ' ' '\n' | awk '{ printf "%s%s", sep, $1; sep = " " }'; }

{
	printf '\npg_migrate graph benchmark: planning and validation on generated revision graphs\n'
	printf 'graph: blocks of 50 revisions, each a trunk of 20 that branches into 2 (every third block 3) branches\n'
	printf '  merged by the block'"'"'s 50th revision; up scripts as in upgrade.sh (CREATE TABLE + CREATE INDEX,\n'
	printf '  every tenth also an ALTER TABLE)\n'
	describe "$small"
	describe "$big"
	printf 'loading: the registry through migrate_register, one call per revision, parents given (checksums by\n'
	printf '  the extension); the applied set by INSERT ... SELECT from the registry, the rows an upgrade writes\n'
	printf '  (on %d revisions compared with a real migrate_upgrade: %s)\n' "$sample" \
		"$([ "${diffs:-x}" = 0 ] && echo "the same rows" || echo "DIFFERENT")"
	printf 'timing: server side, clock_timestamp() around the call in one statement; median of %d runs in one\n' "$runs"
	printf '  session after an untimed warm-up\n'
	bench_about "$server_version" "$settings" "$load"
	printf '%-58s %10s %10s %8s\n' "" "$small" "$big" "growth"
	printf '%-58s %10s %10s %7sx\n' "(p) migrate_pending('heads'), nothing applied, ms" \
		"${p_ms[$small]}" "${p_ms[$big]}" "$p_growth"
	printf '%-58s %10s %10s %7sx\n' "(v) migrate_validate(), all applied, ms" \
		"${v_ms[$small]}" "${v_ms[$big]}" "$v_growth"
	printf '    runs, ms: (p) %s: %s | %s: %s\n' "$small" "$(runs_of "${p_runs[$small]}")" "$big" "$(runs_of "${p_runs[$big]}")"
	printf '              (v) %s: %s | %s: %s\n' "$small" "$(runs_of "${v_runs[$small]}")" "$big" "$(runs_of "${v_runs[$big]}")"
	printf '    first call of the session (the warm-up), ms: (p) %s: %s | %s: %s; (v) %s: %s | %s: %s\n' \
		"$small" "${p_first[$small]:-?}" "$big" "${p_first[$big]:-?}" "$small" "${v_first[$small]:-?}" "$big" "${v_first[$big]:-?}"
	printf '    peak backend memory (VmHWM, MB): (p) %s: %s | %s: %s; (v) %s: %s | %s: %s\n' \
		"$small" "${p_mem[$small]:-?}" "$big" "${p_mem[$big]:-?}" "$small" "${v_mem[$small]:-?}" "$big" "${v_mem[$big]:-?}"
	printf '\ntargets:\n'
	printf '  (p) migrate_pending('"'"'heads'"'"') at %d revisions < %d ms   %10s ms   %s\n' \
		"$big" "$t_pending" "${p_ms[$big]}" "$v_p"
	printf '  (v) migrate_validate() at %d applied revisions < %d ms   %10s ms   %s\n' \
		"$small" "$t_validate" "${v_ms[$small]}" "$v_v"
	printf '  near-linear growth, %d -> %d revisions: at most x%d (linear x10)   (p) x%s %s, (v) x%s %s\n' \
		"$small" "$big" "$t_growth" "$p_growth" "$v_pg" "$v_growth" "$v_vg"
	printf 'checks (every plan has N steps, validation finds no problem, the bulk rows are an upgrade'"'"'s): %s\n' \
		"$([ ${#failures[@]} = 0 ] && echo "all passed" || echo "${#failures[@]} FAILED (listed at the end)")"
	for name in "${profiled[@]}"; do
		printf '\n'
		cat "$work/$name-perf.head"
		printf '  (all of it: %s)\n' "$out/graph-$big-perf-$name.txt"
	done
	if [ "$missed" = 0 ]; then
		printf 'verdict: ok'
	else
		printf 'verdict: MISSED'
	fi
	printf ': (p) %s ms at %d, (v) %s ms at %d, growth (p) x%s (v) x%s' \
		"${p_ms[$big]}" "$big" "${v_ms[$small]}" "$small" "$p_growth" "$v_growth"
	if [ "$quick" = 1 ]; then printf ' (--quick: timings shown, not judged)'; fi
	printf '\n'
} | tee "$results_txt"

json_runs() { echo "$1" | tr ' ' ','; }
cat >"$results_json" <<EOF
{
  "sizes": [$small, $big], "runs": $runs, "quick": $([ "$quick" = 1 ] && echo true || echo false),
  "server_version": "$server_version",
  "timing": "ms, server side: clock_timestamp() around the call inside one statement; median of the runs after one untimed warm-up",
  "pending_heads_ms": {"$small": $(jnum "${p_ms[$small]}"), "$big": $(jnum "${p_ms[$big]}")},
  "pending_heads_runs_ms": {"$small": [$(json_runs "${p_runs[$small]}")], "$big": [$(json_runs "${p_runs[$big]}")]},
  "validate_ms": {"$small": $(jnum "${v_ms[$small]}"), "$big": $(jnum "${v_ms[$big]}")},
  "validate_runs_ms": {"$small": [$(json_runs "${v_runs[$small]}")], "$big": [$(json_runs "${v_runs[$big]}")]},
  "growth": {"pending_heads": $(jnum "$p_growth"), "validate": $(jnum "$v_growth")},
  "peak_backend_mb": {"pending_heads": {"$small": $(jnum "${p_mem[$small]:-}"), "$big": $(jnum "${p_mem[$big]:-}")},
                      "validate": {"$small": $(jnum "${v_mem[$small]:-}"), "$big": $(jnum "${v_mem[$big]:-}")}},
  "first_call_ms": {"pending_heads": {"$small": $(jnum "${p_first[$small]:-}"), "$big": $(jnum "${p_first[$big]:-}")},
                    "validate": {"$small": $(jnum "${v_first[$small]:-}"), "$big": $(jnum "${v_first[$big]:-}")}},
  "register_s": {"$small": $(jnum "${reg_s[$small]}"), "$big": $(jnum "${reg_s[$big]}")},
  "targets": {"pending_heads_ms_at_big": $t_pending, "validate_ms_at_small": $t_validate, "growth_at_most": $t_growth},
  "targets_met": $([ "$missed" = 0 ] && echo true || echo false)
}
EOF
say "results: $results_txt, $results_json"
# --quick judges no timing, not even with BENCH_STRICT=1
bench_end "$((missed && !quick))"
