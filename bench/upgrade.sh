#!/usr/bin/env bash
# shellcheck disable=SC2119  # lib.sh functions take optional arguments
# bench/upgrade.sh — how fast is migrate_upgrade('head') compared with the
# cheapest way to run the same scripts?
#
#   bash bench/upgrade.sh            N = 1000 migrations, 3 repetitions
#   bash bench/upgrade.sh 5000       another N
#   bash bench/upgrade.sh --reps 7   more repetitions on a noisy machine
#   bash bench/upgrade.sh --quick    smoke test: N = 50, 1 repetition, reuses
#                                    an installed build (a few seconds)
#
# It bootstraps, builds and installs the extension (plain optimized build, no
# assertions) with .ci/lib.sh, starts a throwaway cluster, and measures on
# fresh databases:
#
#   (a) wall time of  psql -c "SELECT count(*) FROM migrate_upgrade('head')"
#       with N revisions registered and none applied (registering is not
#       timed);
#   (b) the floor: wall time of  psql -1 -f  on the same N scripts
#       concatenated into one file;
#   (c) a / b (the median of the ratios within each repetition), plus the
#       CPU time of the backend and of psql for (a) and (b);
#   (d) server-side time (EXPLAIN ANALYZE "Execution Time") of a no-op
#       migrate_upgrade('head') at head, with a small number of revisions
#       applied and with N applied, to show that it does not grow with N.
#
# (a) and (b) alternate and repeat; medians are reported. The generated SQL
# and the results (text and JSON) are kept in bench/out/ (git-ignored).
# See bench/README.md.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
	cat <<EOF
usage: bash bench/upgrade.sh [N] [--reps R] [--quick]
  N          number of migrations (default 1000)
  --reps R   repetitions of (a)/(b) (default 3)
  --quick    smoke test: N=50, 1 repetition, no-op measured at 10 and 50
EOF
	bench_usage_env
}

# ---------------------------------------------------------------- arguments
n=1000
reps=3
small=100      # the smaller history for (d)
noop_runs=50   # EXPLAIN ANALYZE repetitions for (d)
conn_runs=10   # new-connection no-op repetitions (informative)
n_set=0
bench_args reps "$@"
for arg in "${bench_positional[@]}"; do
	if [[ $arg =~ ^[1-9][0-9]*$ ]]; then
		n=$arg
		n_set=1
	else
		usage >&2
		exit 2
	fi
done
if [ "$quick" = 1 ]; then
	[ "$n_set" = 1 ] || n=50
	reps=1
	small=10
	noop_runs=20
	conn_runs=3
fi
[[ $reps =~ ^[1-9][0-9]*$ ]] || { usage >&2; exit 2; }
[ "$small" -le "$n" ] || small=$n

out=${BENCH_OUT:-$bench_dir/out}
work=$out/work
mkdir -p "$work"
results_txt=$out/upgrade-$n.txt
results_json=$out/upgrade-$n.json

# ------------------------------------------------ build, install, cluster
bench_build "$quick"

# Applying N migrations in one transaction holds about 5 locks per table
# (table, primary key, index, TOAST table and its index) until commit: size
# the shared lock table (max_locks_per_transaction x max_connections, 100
# here) for N with room to spare. Autovacuum is off: it would wake up on
# the thousands of new catalog rows in the middle of a measurement, and its
# workers' CPU would be counted as the measured backend's (see timed below).
locks=$(((n * 8 + 2000 + 99) / 100))
locks=$(((locks + 63) / 64 * 64))

# The cluster lives on tmpfs when there is one. Both (a) and (b) create the
# same thousands of files, but on ext4 the time to create one depends on
# where the allocator lands (block groups full of recently deleted inodes,
# left by earlier runs, are slow to search): it swung single runs by 3x and
# drowned the difference being measured. BENCH_DISK=1 keeps the cluster on
# disk (PGM_TMPDIR, default /tmp) to see that effect.
bench_cluster_start "max_locks_per_transaction = $locks" "autovacuum = off"

# The postmaster, whose exited children's CPU time (cutime + cstime in
# /proc/PID/stat) tells how much CPU a finished backend used.
pm_pid=$(head -n 1 "$(sql1 -d postgres -c 'SHOW data_directory')/postmaster.pid")
pm_children=/proc/$pm_pid/task/$pm_pid/children
clk_tck=$(getconf CLK_TCK)
cpu_ok=1
[ -r "$pm_children" ] && [ -r "/proc/$pm_pid/stat" ] || cpu_ok=0

# ------------------------------------------------------------- workload
say "generate $n migrations (and $small for the no-op check)"
bash "$bench_dir/gen.sh" "$n" "$work/n$n"
[ "$small" = "$n" ] || bash "$bench_dir/gen.sh" "$small" "$work/n$small"

# ------------------------------------------------------------- helpers
# pm_child_ticks: the CPU (clock ticks) of the postmaster's reaped children.
pm_child_ticks() {
	local st fields
	st=$(<"/proc/$pm_pid/stat")
	read -r -a fields <<<"${st##*) }" # fields from the 3rd on: state first
	echo $((fields[13] + fields[14]))
}

# backends_settle: waits until the postmaster has no child but its
# auxiliary processes, so that every backend that ran has exited and been
# reaped and pm_child_ticks includes it. An exiting backend can still be
# listed while its title is already empty or /proc has let go of it: only
# a child positively known as auxiliary counts as settled.
backends_settle() {
	local k c busy title
	for ((k = 0; k < 1000; k++)); do
		busy=0
		for c in $(<"$pm_children"); do
			title=$(tr '\0' ' ' 2>/dev/null <"/proc/$c/cmdline") || title=
			case $title in
			"postgres: checkpointer"* | "postgres: background writer"* | \
				"postgres: walwriter"* | "postgres: autovacuum launcher"* | \
				"postgres: logical replication launcher"* | "postgres: archiver"*) ;;
			*)
				busy=1
				break
				;;
			esac
		done
		[ "$busy" = 1 ] || return 0
		sleep 0.01
	done
	say "warning: backends still running after 10 s; CPU figures may be off"
}

# timed PREFIX CMD...: runs CMD with its stdout in PREFIX.out and its stderr
# in PREFIX.log, and prints "wall client_cpu server_cpu" in seconds: wall
# clock, CPU of CMD (psql) itself, and CPU of the backends that exited
# meanwhile (CMD's own: nothing else connects, and autovacuum is off).
# Returns CMD's status.
timed() {
	local p=$1 tf=$1.time c0=0 c1=0 rc=0 TIMEFORMAT='%3R %3U %3S' wall u s
	shift
	if [ "$cpu_ok" = 1 ]; then
		backends_settle
		c0=$(pm_child_ticks)
	fi
	{ time "$@" >"$p.out" 2>"$p.log"; } 2>"$tf" || rc=$?
	[ "$rc" = 0 ] || return "$rc"
	if [ "$cpu_ok" = 1 ]; then
		backends_settle
		c1=$(pm_child_ticks)
	fi
	read -r wall u s <"$tf"
	[[ $wall =~ ^[0-9]+\.[0-9]+$ ]] || { say "ERROR: could not time: $*"; return 1; }
	awk -v w="$wall" -v u="$u" -v s="$s" -v t=$((c1 - c0)) -v hz="$clk_tck" -v ok="$cpu_ok" \
		'BEGIN { printf "%.3f %.3f %s\n", w, u + s, ok ? sprintf("%.2f", t / hz) : "nan" }'
}

fresh_db() { createdb "$1"; } # the cluster is new: the name is free

# Creates database $1 with the extension and the first $2 revisions
# registered (not applied). Not timed.
setup_registered() {
	local db=$1 count=$2 t0 t1
	fresh_db "$db"
	psqlx -d "$db" -c 'CREATE EXTENSION pg_migrate'
	t0=$(now)
	psqlx -1 -d "$db" -f "$work/n$count/register.sql" >/dev/null
	t1=$(now)
	say "  $db: registered $count revisions in $(sub "$t0" "$t1") s (not timed)"
}

tables_in() {
	sql1 -d "$1" -c "SELECT count(*) FROM pg_class WHERE relkind = 'r' AND relname LIKE 't\\_%'"
}

# Checks that database $1 holds the workload's $2 tables.
check_tables() {
	local got
	got=$(tables_in "$1")
	if [ "$got" != "$2" ]; then
		say "ERROR: $1 has $got workload tables, expected $2"
		exit 1
	fi
}

# (a): prints "wall client_cpu server_cpu" (s) of migrate_upgrade('head')
# on a new database $1.
measure_upgrade() {
	local db=$1 res rows log=$work/$1.log
	setup_registered "$db" "$n" >&2
	psqlx -d postgres -c CHECKPOINT >&2
	# The NOTICEs (progress) go to a log: receiving them is part of the
	# cost, showing them here is not.
	res=$(timed "$work/$db" psql -X -q -v ON_ERROR_STOP=1 -A -t -d "$db" \
		-c "SELECT count(*) FROM migrate_upgrade('head')") || {
		say "ERROR: migrate_upgrade failed on $db; the end of $log:"
		tail -n 20 "$log" >&2
		exit 1
	}
	check_tables "$db" "$n"
	rows=$(<"$work/$db.out")
	[ "$rows" = "$n" ] || say "  note: migrate_upgrade returned $rows rows for $n revisions"
	echo "$res"
}

# (b): prints "wall client_cpu server_cpu" (s) of psql -1 -f on the
# concatenated scripts on a new database $1.
measure_floor() {
	local db=$1 res log=$work/$1.log
	fresh_db "$db" >&2
	psqlx -d postgres -c CHECKPOINT >&2
	res=$(timed "$work/$db" psql -X -q -v ON_ERROR_STOP=1 -1 -d "$db" \
		-f "$work/n$n/floor.sql") || {
		say "ERROR: psql -1 -f failed on $db; the end of $log:"
		tail -n 20 "$log" >&2
		exit 1
	}
	check_tables "$db" "$n"
	echo "$res"
}

# (d): prints the EXPLAIN ANALYZE execution times (ms), one a line, of
# $noop_runs no-op migrate_upgrade('head') calls in one session on $1.
measure_noop() {
	local db=$1 pending f=$work/noop.sql log=$work/noop-$1.log
	pending=$(sql1 -d "$db" -c "SELECT count(*) FROM migrate_upgrade('head')" 2>"$log") ||
		pending="an error"
	if [ "$pending" != 0 ]; then
		tail -n 20 "$log" >&2
		say "ERROR: migrate_upgrade at head on $db did $pending steps, expected 0"
		exit 1
	fi
	for ((k = 0; k < noop_runs; k++)); do
		echo "EXPLAIN (ANALYZE, FORMAT JSON) SELECT * FROM migrate_upgrade('head');"
	done >"$f"
	psql -X -q -v ON_ERROR_STOP=1 -A -t -d "$db" -f "$f" >"$work/noop-$1.json" 2>>"$log" || {
		say "ERROR: EXPLAIN ANALYZE of the no-op failed on $db:"
		tail -n 20 "$log" >&2
		exit 1
	}
	sed -n 's/.*"Execution Time": *\([0-9.eE+-]*\).*/\1/p' "$work/noop-$1.json"
}

# Informative: wall ms of a no-op through a new connection each time
# (backend start, library load, cold caches: what a deploy job sees).
measure_noop_conn() {
	local db=$1 t0 t1
	for ((k = 0; k < conn_runs; k++)); do
		t0=$(now)
		psqlx -d "$db" -c "SELECT count(*) FROM migrate_upgrade('head')" >/dev/null 2>>"$work/noop-conn.log"
		t1=$(now)
		awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f\n", (b - a) * 1000 }'
	done
}

# ------------------------------------------------------------- measure
a=() # wall s
b=()
r=() # a / b in the same repetition
ac=() # CPU s, server + psql
bc=()
rc=()
last_a=
# One untimed run of each first: the first measurement on a new cluster
# paid for cold caches (about 15% at N = 1000), whichever side it was.
say "warm-up: one untimed (a) and (b)"
measure_upgrade bench_warm_a >/dev/null
measure_floor bench_warm_b >/dev/null
dropdb bench_warm_a
dropdb bench_warm_b

for ((rep = 1; rep <= reps; rep++)); do
	# alternate the order, so neither side always runs on a warmer server
	if [ $((rep % 2)) -eq 1 ]; then order="a b"; else order="b a"; fi
	for which in $order; do
		if [ "$which" = a ]; then
			say "rep $rep/$reps: (a) migrate_upgrade('head'), $n revisions"
			res=$(measure_upgrade "bench_a$rep")
			read -r ta ta_client ta_server <<<"$res"
			tac=$(awk -v c="$ta_client" -v s="$ta_server" 'BEGIN { if (s == "nan") print "nan"; else printf "%.2f", c + s }')
			say "  (a) $ta s wall; CPU $ta_server s server, $ta_client s psql"
			[ -z "$last_a" ] || dropdb "$last_a"
			last_a=bench_a$rep
		else
			say "rep $rep/$reps: (b) psql -1 -f, $n scripts"
			res=$(measure_floor "bench_b$rep")
			read -r tb tb_client tb_server <<<"$res"
			tbc=$(awk -v c="$tb_client" -v s="$tb_server" 'BEGIN { if (s == "nan") print "nan"; else printf "%.2f", c + s }')
			say "  (b) $tb s wall; CPU $tb_server s server, $tb_client s psql"
			dropdb "bench_b$rep"
		fi
	done
	a+=("$ta")
	b+=("$tb")
	r+=("$(div "$ta" "$tb")")
	ac+=("$tac")
	bc+=("$tbc")
	rc+=("$(div "$tac" "$tbc")")
done
med_a=$(median "${a[@]}")
med_b=$(median "${b[@]}")
# The headline is the median of the same-repetition ratios: the machine's
# speed drifts (by 3x or more on a shared one) slowly enough that the two
# halves of a repetition, run back to back, see the same conditions, while
# the ratio of the medians can pair a fast (a) with a slow (b). Both shown.
med_r=$(awk -v x="$(median "${r[@]}")" 'BEGIN { printf "%.2f", x }')
ratio=$med_r
ratio_of_medians=$(div "$med_a" "$med_b")
med_ac=$(median "${ac[@]}")
med_bc=$(median "${bc[@]}")
ratio_cpu=null
[ "$cpu_ok" = 0 ] || ratio_cpu=$(awk -v x="$(median "${rc[@]}")" 'BEGIN { printf "%.2f", x }')

say "(d) no-op at head with $small applied"
setup_registered bench_small "$small"
psqlx -d bench_small -c "SELECT count(*) FROM migrate_upgrade('head')" \
	>/dev/null 2>"$work/bench_small.log" || {
	say "ERROR: migrate_upgrade failed on bench_small; the end of $work/bench_small.log:"
	tail -n 20 "$work/bench_small.log" >&2
	exit 1
}
check_tables bench_small "$small"
measure_noop bench_small >"$work/noop-small.ms"
mapfile -t d_small <"$work/noop-small.ms"
say "(d) no-op at head with $n applied"
measure_noop "$last_a" >"$work/noop-n.ms"
mapfile -t d_big <"$work/noop-n.ms"
if [ "${#d_small[@]}" -ne "$noop_runs" ] || [ "${#d_big[@]}" -ne "$noop_runs" ]; then
	say "ERROR: could not read $noop_runs EXPLAIN ANALYZE execution times from $work/noop-*.json"
	exit 1
fi
measure_noop_conn "$last_a" >"$work/noop-conn.ms"
mapfile -t c_big <"$work/noop-conn.ms"
med_ds=$(median "${d_small[@]}")
med_db=$(median "${d_big[@]}")
med_c=$(awk -v x="$(median "${c_big[@]}")" 'BEGIN { printf "%.2f", x }')

server_version=$(sql1 -d postgres -c 'SHOW server_version')
settings=$(bench_settings fsync synchronous_commit shared_buffers max_locks_per_transaction wal_level autovacuum)

dropdb bench_small
dropdb "$last_a"

# ------------------------------------------------------------- report
verdict() { # verdict VALUE OP LIMIT: prints ok or MISSED
	if awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN { exit !((op == "<=" && v <= l) || (op == "<" && v < l)) }'; then
		echo "ok"
	else
		echo "MISSED"
	fi
}
v_ratio=$(verdict "$ratio" "<=" 1.0)
v_small=$(verdict "$med_ds" "<" 1)
v_big=$(verdict "$med_db" "<" 1)
missed=0
case "$v_ratio $v_small $v_big" in *MISSED*) missed=1 ;; esac
alters=$((n / 10))

row() { # label values... (one a repetition) median
	local label=$1
	shift
	printf '%-40s' "$label"
	printf ' %8s' "$@"
	printf '\n'
}

{
	printf '\npg_migrate upgrade benchmark: %d migrations (%d CREATE TABLE + %d CREATE INDEX + %d ALTER TABLE)\n' \
		"$n" "$n" "$n" "$alters"
	bench_about "$server_version" "$settings" "$(cut -d' ' -f1-3 /proc/loadavg)"
	hdr=()
	for ((rep = 1; rep <= reps; rep++)); do hdr+=("rep$rep"); done
	row "" "${hdr[@]}" "median"
	row "(a) migrate_upgrade('head')  wall s" "${a[@]}" "$med_a"
	row "(b) psql -1 -f (floor)       wall s" "${b[@]}" "$med_b"
	row "(c) a / b, same repetition" "${r[@]}" "$med_r"
	if [ "$cpu_ok" = 1 ]; then
		row "(a) CPU s, backend + psql" "${ac[@]}" "$med_ac"
		row "(b) CPU s, backend + psql" "${bc[@]}" "$med_bc"
		row "    CPU a / b, same repetition" "${rc[@]}" "$ratio_cpu"
	fi
	printf '\n'
	printf '(c) ratio to the psql floor, median of same-repetition a / b   %5sx   target <= 1.0x   %s\n' \
		"$ratio" "$v_ratio"
	printf '    (median a / median b: %sx' "$ratio_of_medians"
	[ "$cpu_ok" = 0 ] || printf '; in CPU time, backend + psql: %sx' "$ratio_cpu"
	printf ')\n'
	printf '(d) no-op at head, %5d applied   %7.3f ms (server, median of %d; min %s, max %s)   target < 1 ms   %s\n' \
		"$small" "$med_ds" "$noop_runs" "$(minof "${d_small[@]}")" "$(maxof "${d_small[@]}")" "$v_small"
	printf '(d) no-op at head, %5d applied   %7.3f ms (server, median of %d; min %s, max %s)   target < 1 ms   %s\n' \
		"$n" "$med_db" "$noop_runs" "$(minof "${d_big[@]}")" "$(maxof "${d_big[@]}")" "$v_big"
	printf '    no-op growth from %d to %d revisions: x%s (independent of N is ~x1)\n' \
		"$small" "$n" "$(div "$med_db" "$med_ds")"
	printf '    no-op through a new connection each time (psql -c, wall): %s ms median of %d (informative)\n' \
		"$med_c" "$conn_runs"
	printf '\nreference, ratio to the psql floor on this workload (other tools, measured by the team elsewhere):\n'
	printf '  plain PL/pgSQL loop 0.9x | dbmate 1.4x | node-pg-migrate 1.5x | Alembic 1.6x | Sqitch 12x | pg_migrate (this run) %sx\n' \
		"$ratio"
} | tee "$results_txt"

json_list() { local IFS=,; printf '[%s]' "$*" | sed 's/nan/null/g'; }
cat >"$results_json" <<EOF
{
  "n": $n, "repetitions": $reps, "quick": $([ "$quick" = 1 ] && echo true || echo false),
  "server_version": "$server_version",
  "upgrade_wall_s": $(json_list "${a[@]}"), "upgrade_wall_s_median": $med_a,
  "floor_wall_s": $(json_list "${b[@]}"), "floor_wall_s_median": $med_b,
  "ratio": $ratio, "ratio_target": 1.0, "paired_ratios": $(json_list "${r[@]}"),
  "ratio_of_medians": $ratio_of_medians,
  "upgrade_cpu_s": $(json_list "${ac[@]}"), "floor_cpu_s": $(json_list "${bc[@]}"),
  "cpu_ratio": $ratio_cpu,
  "noop_small_n": $small, "noop_small_ms_median": $med_ds,
  "noop_n_ms_median": $med_db, "noop_target_ms": 1.0,
  "noop_new_connection_ms_median": $med_c,
  "reference_ratios": {"plpgsql_loop": 0.9, "dbmate": 1.4, "node-pg-migrate": 1.5, "alembic": 1.6, "sqitch": 12}
}
EOF
say "results: $results_txt, $results_json"
bench_end "$missed"
