#!/usr/bin/env bash
# bench/client.sh — what does the pg_migrate client cost a deploy job,
# against the cheapest way to do the same with psql?
#
#   bash bench/client.sh             N = 1000 migration files, 5 repetitions
#   bash bench/client.sh 3000        another N
#   bash bench/client.sh --reps 9    more repetitions on a noisy machine
#   bash bench/client.sh --runs 101  more no-op calls of each kind
#   bash bench/client.sh --quick     smoke test: N = 50, 1 repetition, a few
#                                    no-op calls, reuses the installed build
#
# It bootstraps, builds and installs the extension and the client (plain
# optimized build) with .ci/lib.sh, starts a throwaway cluster (on tmpfs
# when there is one), and measures in the same run:
#
#   (a) wall time of  pg_migrate -q -d DB up --dir DIR  on a database with
#       the extension and nothing registered: the client reads the N files,
#       registers them (one migrate_sync call) and upgrades to head;
#   (b) the floor: wall time of  psql -X -q -1 -f  on the same N scripts
#       concatenated into one file, on an empty database;
#   (c) a / b: the median of the ratios within each repetition (the two
#       halves of a repetition run back to back);
#   (d) the no-op deploy: wall time of  pg_migrate -q -d DB up --dir DIR  at
#       head with all N applied (read N files, find their fingerprint
#       recorded by migrate_synced_folder(), send nothing, upgrade
#       nothing), against the
#       trivial  psql -X -d DB -c 'select 1'; calls alternate, medians and
#       their ratio are reported.  Also shown: the no-op  up  without --dir.
#
# It checks its own work: (a) creates N tables; a no-op run with --json
# reports that it sent no revision, applied nothing and compared nothing
# (it found the folder recorded); the registry
# holds N revisions and its history no registration after the first sync.
# Timings are judged against the targets (ratio <= 1.2, no-op <= 1.5x)
# but only BENCH_STRICT=1 makes a miss fail the run.  The generated files
# and the results (text and JSON) are kept in bench/out/ (git-ignored).
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
	cat <<EOF
usage: bash bench/client.sh [N] [--reps R] [--runs K] [--quick]
  N              number of migration files (default 1000)
  --reps R       repetitions of (a)/(b) (default 5)
  --runs K       no-op calls of each kind (default 41)
  --quick        smoke test: N=50, 1 repetition, 5 no-op calls
EOF
	bench_usage_env
}

# ---------------------------------------------------------------- arguments
n=1000
reps=5
runs=41
n_set=0
bench_args "reps runs" "$@"
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
	[ "${runs_set:-0}" = 1 ] || runs=5
fi
[[ $reps =~ ^[1-9][0-9]*$ ]] || { usage >&2; exit 2; }
[[ $runs =~ ^[1-9][0-9]*$ ]] || { usage >&2; exit 2; }

out=${BENCH_OUT:-$bench_dir/out}
work=$out/work
mkdir -p "$work"
results_txt=$out/client-$n.txt
results_json=$out/client-$n.json

# ------------------------------------------------ build, install, cluster
bench_build "$quick"
client=$(command -v pg_migrate) || {
	say "ERROR: pg_migrate (the client) is not installed; run make install"
	exit 1
}
[ "$client" = "$PGM_PGBIN/pg_migrate" ] ||
	say "note: using $client, not $PGM_PGBIN/pg_migrate"

# As in upgrade.sh: N tables in one transaction need about 5 locks each.
locks=$(((n * 8 + 2000 + 99) / 100))
locks=$(((locks + 63) / 64 * 64))
bench_cluster_start "max_locks_per_transaction = $locks" "autovacuum = off"

# ------------------------------------------------------------- workload
say "generate $n migration files"
bash "$bench_dir/gen.sh" "$n" "$work/n$n" files
dir=$work/n$n/migrations

# ------------------------------------------------------------- helpers
# wall CMD...: run CMD (stdout and stderr to $work/last.*), print its wall
# time in seconds, to the millisecond; fails when CMD fails.
wall() {
	wall_us "$@" | awk '{ printf "%.3f\n", $1 / 1e6 }'
}

# wall_ms CMD...: the same in milliseconds, to the microsecond.
wall_ms() {
	wall_us "$@" | awk '{ printf "%.3f\n", $1 / 1e3 }'
}

# wall_us CMD...: the same in microseconds.
wall_us() {
	local t0 t1 rc=0
	t0=$EPOCHREALTIME
	"$@" >"$work/last.out" 2>"$work/last.log" || rc=$?
	t1=$EPOCHREALTIME
	if [ "$rc" != 0 ]; then
		say "ERROR: exit $rc from: $*"
		tail -n 20 "$work/last.log" >&2
		return "$rc"
	fi
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%d\n", (b - a) * 1e6 }'
}

tables_in() {
	sql1 -d "$1" -c "SELECT count(*) FROM pg_class WHERE relkind = 'r' AND relname LIKE 't\\_%'"
}

# (a): prints the wall seconds of the client's sync + upgrade on a new
# database $1 that has the extension.
measure_client() {
	local db=$1 t got
	createdb "$db"
	psqlx -d "$db" -c 'CREATE EXTENSION pg_migrate'
	psqlx -d postgres -c CHECKPOINT
	t=$(wall "$client" -q -d "$db" up --dir "$dir")
	got=$(tables_in "$db")
	[ "$got" = "$n" ] || fail "(a) $db has $got workload tables, expected $n"
	echo "$t"
}

# (b): prints the wall seconds of psql -1 -f on the concatenated scripts.
measure_floor() {
	local db=$1 t got
	createdb "$db"
	psqlx -d postgres -c CHECKPOINT
	t=$(wall psql -X -q -v ON_ERROR_STOP=1 -1 -d "$db" -f "$work/n$n/floor.sql")
	got=$(tables_in "$db")
	[ "$got" = "$n" ] || fail "(b) $db has $got workload tables, expected $n"
	echo "$t"
}

# ------------------------------------------------------------- measure
say "warm-up: one untimed (a) and (b)"
measure_client bench_warm_a >/dev/null
measure_floor bench_warm_b >/dev/null
dropdb bench_warm_a
dropdb bench_warm_b

a=()
b=()
r=()
last_a=
for ((rep = 1; rep <= reps; rep++)); do
	if [ $((rep % 2)) -eq 1 ]; then order="a b"; else order="b a"; fi
	for which in $order; do
		if [ "$which" = a ]; then
			ta=$(measure_client "bench_a$rep")
			say "rep $rep/$reps: (a) pg_migrate up --dir, $n files: $ta s"
			[ -z "$last_a" ] || dropdb "$last_a"
			last_a=bench_a$rep
		else
			tb=$(measure_floor "bench_b$rep")
			say "rep $rep/$reps: (b) psql -1 -f, $n scripts: $tb s"
			dropdb "bench_b$rep"
		fi
	done
	a+=("$ta")
	b+=("$tb")
	r+=("$(div "$ta" "$tb")")
done
med_a=$(median "${a[@]}")
med_b=$(median "${b[@]}")
ratio=$(awk -v x="$(median "${r[@]}")" 'BEGIN { printf "%.2f", x }')

# ---------------------------------------------------- (d) the no-op deploy
say "(d) the no-op: pg_migrate up --dir at head ($n applied) against psql -c 'select 1'"
db=$last_a
registered_events() {
	sql1 -d "$db" -c "SELECT count(*) FROM migrate_history(1000000) WHERE event IN ('register', 'update')"
}
events_before=$(registered_events)
# one no-op with --json: nothing sent, nothing applied
"$client" -q --json -d "$db" up --dir "$dir" >"$work/noop.json" 2>"$work/noop.log" ||
	fail "(d) the no-op with --json failed: $(tail -n 5 "$work/noop.log")"
grep -q '"sent": 0,' "$work/noop.json" ||
	fail "(d) the no-op sent revisions to the server: $(head -c 300 "$work/noop.json")"
grep -q '"steps": \[\]' "$work/noop.json" ||
	fail "(d) the no-op applied something: $(head -c 300 "$work/noop.json")"
grep -q "\"unchanged\": $n," "$work/noop.json" ||
	fail "(d) the no-op did not find all $n revisions unchanged: $(head -c 300 "$work/noop.json")"
grep -q '"compared": false,' "$work/noop.json" ||
	fail "(d) the no-op compared the folder revision by revision instead of finding it recorded: $(head -c 300 "$work/noop.json")"

noop=()
noop_nodir=()
trivial=()
for ((k = 0; k < runs; k++)); do
	# rotate the order, so that no kind always follows the same one
	case $((k % 3)) in
	0) order="c d e" ;;
	1) order="d e c" ;;
	*) order="e c d" ;;
	esac
	for which in $order; do
		case $which in
		c) noop+=("$(wall_ms "$client" -q -d "$db" up --dir "$dir")") ;;
		d) trivial+=("$(wall_ms psql -X -d "$db" -c 'select 1')") ;;
		e) noop_nodir+=("$(wall_ms "$client" -q -d "$db" up)") ;;
		esac
	done
done
events_after=$(registered_events)
[ "$events_after" = "$events_before" ] ||
	fail "(d) the no-op calls registered revisions: $events_before registration events before, $events_after after"
registered=$(sql1 -d "$db" -c "SELECT count(*) FROM migrate_sources()")
[ "$registered" = "$n" ] || fail "$registered revisions registered, expected $n"

ms() { awk -v x="$1" 'BEGIN { printf "%.2f", x }'; }
med_noop=$(ms "$(median "${noop[@]}")")
med_nodir=$(ms "$(median "${noop_nodir[@]}")")
med_trivial=$(ms "$(median "${trivial[@]}")")
noop_ratio=$(div "$med_noop" "$med_trivial")
nodir_ratio=$(div "$med_nodir" "$med_trivial")

server_version=$(sql1 -d postgres -c 'SHOW server_version')
settings=$(bench_settings fsync synchronous_commit shared_buffers max_locks_per_transaction autovacuum)
load=$(cut -d' ' -f1-3 /proc/loadavg)
dropdb "$db"

# ------------------------------------------------------------- report
verdict() { # verdict VALUE LIMIT: ok when VALUE <= LIMIT
	if awk -v v="$1" -v l="$2" 'BEGIN { exit !(v <= l) }'; then echo ok; else echo MISSED; fi
}
v_ratio=$(verdict "$ratio" 1.2)
v_noop=$(verdict "$noop_ratio" 1.5)
missed=0
case "$v_ratio $v_noop" in *MISSED*) missed=1 ;; esac

row() {
	local label=$1
	shift
	printf '%-44s' "$label"
	printf ' %8s' "$@"
	printf '\n'
}

{
	printf '\npg_migrate client benchmark: %d migration files (%d CREATE TABLE + %d CREATE INDEX + %d ALTER TABLE)\n' \
		"$n" "$n" "$n" "$((n / 10))"
	bench_about "$server_version" "$settings" "$load"
	printf 'client: %s\n\n' "$client"
	hdr=()
	for ((rep = 1; rep <= reps; rep++)); do hdr+=("rep$rep"); done
	row "" "${hdr[@]}" "median"
	row "(a) pg_migrate up --dir (sync+upgrade) s" "${a[@]}" "$med_a"
	row "(b) psql -X -q -1 -f (floor)           s" "${b[@]}" "$med_b"
	row "(c) a / b, same repetition" "${r[@]}" "$ratio"
	printf '\n'
	printf '(c) sync + upgrade, ratio to the psql floor   %5sx   target <= 1.2x   %s\n' "$ratio" "$v_ratio"
	printf '    (median a / median b: %sx)\n' "$(div "$med_a" "$med_b")"
	printf '(d) no-op deploy at head, medians of %d calls each, alternating:\n' "$runs"
	printf '      pg_migrate -q up --dir (%d files)   %8s ms\n' "$n" "$med_noop"
	printf '      psql -X -c '"'"'select 1'"'"'              %8s ms\n' "$med_trivial"
	printf '      pg_migrate -q up (no folder)        %8s ms   (%sx, informative)\n' "$med_nodir" "$nodir_ratio"
	printf '    no-op ratio to the trivial psql call     %5sx   target <= 1.5x   %s\n' "$noop_ratio" "$v_noop"
	printf '    (the no-op sent no revision: migrate_sync was not called, checked with --json)\n'
	printf '\nreference, no-op deploy as a multiple of the trivial psql call (other tools, measured by the team):\n'
	printf '  dbmate 2.5x | Alembic 36x | node-pg-migrate 43x | pg_migrate (this run) %sx\n' "$noop_ratio"
} | tee "$results_txt"

json_list() { local IFS=,; printf '[%s]' "$*" | sed 's/nan/null/g'; }
cat >"$results_json" <<EOF
{
  "n": $n, "repetitions": $reps, "quick": $([ "$quick" = 1 ] && echo true || echo false),
  "server_version": "$server_version",
  "client_wall_s": $(json_list "${a[@]}"), "client_wall_s_median": $(jnum "$med_a"),
  "floor_wall_s": $(json_list "${b[@]}"), "floor_wall_s_median": $(jnum "$med_b"),
  "ratio": $(jnum "$ratio"), "ratio_target": 1.2, "paired_ratios": $(json_list "${r[@]}"),
  "noop_runs": $runs,
  "noop_ms_median": $(jnum "$med_noop"), "trivial_psql_ms_median": $(jnum "$med_trivial"),
  "noop_ratio": $(jnum "$noop_ratio"), "noop_ratio_target": 1.5,
  "noop_without_dir_ms_median": $(jnum "$med_nodir"),
  "reference_noop_ratios": {"dbmate": 2.5, "alembic": 36, "node-pg-migrate": 43}
}
EOF
say "results: $results_txt, $results_json"

bench_end "$missed"
