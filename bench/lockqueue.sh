#!/usr/bin/env bash
# shellcheck disable=SC2119  # lib.sh functions take optional arguments
# bench/lockqueue.sh — does a migration that waits for a lock stall the
# application's traffic?
#
#   bash bench/lockqueue.sh            the reader holds its lock 10 s
#   bash bench/lockqueue.sh --hold 30  another hold
#   bash bench/lockqueue.sh --quick    smoke test: 3 s hold, reuses an
#                                      installed build; checks that the runs
#                                      worked, judges no timing
#
# It bootstraps, builds and installs the extension (plain optimized build,
# no assertions) with .ci/lib.sh, starts a throwaway cluster, and runs the
# same scenario twice, on a fresh pgbench database each time:
#
#   t = -2 s   pgbench starts: the built-in tpcb-like script (it updates
#              pgbench_accounts) at a fixed rate, -R 200 -c 4 -j 2, with a
#              log line per transaction (-l);
#   t =  0     a reader opens a transaction, reads pgbench_accounts and
#              sleeps in it for the hold (10 s), then commits;
#   t = +1 s   a migration adds a column to pgbench_accounts:
#                alter:      ALTER TABLE ... ADD COLUMN, through psql;
#                pg_migrate: the same ALTER as a registered revision,
#                            SELECT * FROM migrate_upgrade('head'), with
#                            pg_migrate's default settings (none is SET);
#   then pgbench runs 5 s more, long enough to work off any backlog.
#
# A migration that waits in the lock queue for its ACCESS EXCLUSIVE lock
# blocks every transaction that touches the table behind it until the
# reader commits: that is the stall this measures.  Per run it prints the
# latency the application saw, from when a transaction was due to when it
# finished, as p50, p99 and max (pgbench's logged latency: with -R pgbench
# measures it from the scheduled start, so it already includes the schedule
# lag; see latencies below), how many transactions took over 1 s and over
# 100 ms, when the reader committed and when the migration finished, and
# the attempts the migration reported.  The last line is the verdict against the targets for the
# pg_migrate run: max latency <= 100 ms, no transaction over 1 s, migration
# done within 1 s of the reader's commit.  The plain ALTER is the control:
# it is expected to stall for seconds.
#
# Results go to bench/out/lockqueue.txt and .json (git-ignored); per-run
# pgbench logs and a per-second timeline stay in bench/out/work/lockqueue/.
# See bench/README.md.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
	cat <<EOF
usage: bash bench/lockqueue.sh [--hold S] [--quick]
  --hold S   seconds the reader holds its lock (default 10)
  --quick    smoke test: 3 s hold, shorter warm-up and tail, scale 1, the
             installed build; checks the runs worked, does not judge timings
EOF
	bench_usage_env
}

# ---------------------------------------------------------------- arguments
rate=200       # pgbench -R: transactions per second, all clients together
clients=4      # pgbench -c
jobs=2         # pgbench -j
scale=4        # pgbench -i -s
warmup=2       # s of traffic before the reader starts
hold=10        # s the reader holds its read lock
delay=1        # s between the reader taking its lock and the migration
tail=5         # s of traffic after the hold, to work off the backlog
hold_set=0
bench_args hold "$@"
if [ "${#bench_positional[@]}" -gt 0 ]; then
	usage >&2
	exit 2
fi
if [ "$quick" = 1 ]; then
	[ "$hold_set" = 1 ] || hold=3
	warmup=1
	tail=3
	scale=1
fi
if ! [[ $hold =~ ^[1-9][0-9]*$ ]] || [ "$hold" -le "$delay" ]; then
	echo "--hold must be a whole number of seconds above $delay" >&2
	exit 2
fi
duration=$((warmup + hold + tail)) # pgbench -T

column=lockqueue_note
revision=0001_add_lockqueue_note
alter_sql="ALTER TABLE pgbench_accounts ADD COLUMN $column text;"

out=${BENCH_OUT:-$bench_dir/out}
work=$out/work/lockqueue
rm -rf "$work"
mkdir -p "$work"
results_txt=$out/lockqueue.txt
results_json=$out/lockqueue.json

# ------------------------------------------------ build, install, cluster
bench_build "$quick"

# tmpfs when there is one, so that the disk adds no stalls of its own to the
# latencies; autovacuum off, so that no worker takes or waits for a lock on
# pgbench_accounts in the middle of a run; log_lock_waits so that the server
# log (kept with PGM_KEEP_CLUSTER=1) shows the queue.
bench_cluster_start "autovacuum = off" "log_lock_waits = on"

# ------------------------------------------------------------- helpers
ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", (b - a) * 1000 }'; }   # b - a, s -> ms
rel() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%+.3f", b - a }'; }          # b - a, s

# stamp FILE NAME: the epoch seconds on FILE's "NAME|..." line, or empty.
stamp() { awk -F'|' -v n="$2" '$1 == n { print $2; exit }' "$1" 2>/dev/null || true; }

# wait_for_reader DB: until the reader session holds its lock on
# pgbench_accounts (at most 20 s).
wait_for_reader() {
	local k
	for ((k = 0; k < 200; k++)); do
		[ "$(sql1 -d "$1" -c "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
			WHERE a.application_name = 'lockqueue_reader' AND l.granted
			  AND l.relation = 'pgbench_accounts'::regclass")" = 0 ] || return 0
		sleep 0.1
	done
	return 1
}

# latencies DIR: one line per logged transaction of the pgbench logs in
# DIR: "experienced_ms end_epoch from_start_ms lag_ms".
#
# pgbench's per-transaction log (PG 15) with -R is "client_id
# transaction_no time_us script_no time_epoch time_us lag_us", time "failed"
# for a failed transaction (counted by count_failed, not listed here).
# With -R, pgbench computes time from the transaction's *scheduled* start
# (processXactStats: latency = now - txn_scheduled; lag = txn_begin -
# txn_scheduled), so time is already latency + schedule lag: what the
# application experienced, from when the transaction was due to when it
# finished.  Adding the lag column to it would count the lag twice.
# from_start (time - lag: from when pgbench sent it) and the lag are kept
# for the record.  A malformed line stops the run.
latencies() {
	cat "$1"/tx.* | awk '
	$3 == "failed" || $3 == "skipped" { next }
	NF < 7 || $3 !~ /^[0-9]+$/ || $7 !~ /^[0-9]+$/ {
		printf "malformed pgbench log line: %s\n", $0 > "/dev/stderr"; exit 1
	}
	{ printf "%.3f %d.%06d %.3f %.3f\n", $3 / 1000, $5, $6, ($3 - $7) / 1000, $7 / 1000 }'
}

count_failed() { cat "$1"/tx.* | awk '$3 == "failed" || $3 == "skipped" { n++ } END { print n + 0 }'; }

# stats FILE: of the experienced latencies (column 1) in FILE: "n p50 p99
# max over_1s over_100ms max_from_start max_lag" (ms, nearest rank).
stats() {
	sort -g -k1,1 "$1" | awk '
	{ v[NR] = $1; if ($1 > 1000) s++; if ($1 > 100) h++; if ($3 > m) m = $3; if ($4 > g) g = $4 }
	END {
		if (NR == 0) { print "0 nan nan nan 0 0 nan nan"; exit }
		p50 = v[int(NR * 0.50) + (NR * 0.50 > int(NR * 0.50))]
		p99 = v[int(NR * 0.99) + (NR * 0.99 > int(NR * 0.99))]
		printf "%d %.1f %.1f %.1f %d %d %.1f %.1f\n", NR, p50, p99, v[NR], s, h, m, g
	}'
}

# timeline FILE T0: per second from T0 (by the end time of transactions):
# transactions finished, the worst experienced latency among them.
timeline() {
	awk -v t0="$2" '
	{ s = int($2 - t0 + 1000) - 1000; n[s]++; if ($1 > m[s]) m[s] = $1
	  if (s < lo || NR == 1) lo = s; if (s > hi || NR == 1) hi = s }
	END {
		printf "%-16s %6s %12s\n", "second (t0 = read)", "txns", "worst ms"
		for (s = lo; s <= hi; s++) printf "%+5d .. %+5d    %6d %12.1f\n", s, s + 1, n[s], m[s]
	}' "$1"
}

# ------------------------------------------------------------- one run
# run_case NAME: the scenario on a fresh database bench_lq_NAME, NAME
# "alter" (plain ALTER through psql) or "pg_migrate".  Leaves its results
# in the R_* variables (below) and its files in $work/NAME/.
run_case() {
	local name=$1 db=bench_lq_$1 d=$work/$1 pgbench_pid reader_pid mig_pid
	local pgbench_rc=0 reader_rc=0 mig_rc=0 t_pgbench got
	R_n=0 R_p50=nan R_p99=nan R_max=nan R_over1s=0 R_over100=0 R_max_start=nan R_max_lag=nan R_failed=0 R_base_n=0 R_base_max=nan
	R_expected=$((rate * duration)) R_t0='' R_reader_commit='' R_mig_start='' R_mig_done='' R_diff=''
	R_migration_error='' R_attempts='' R_steps='' R_settings=''
	mkdir -p "$d"
	say "$name: pgbench -i -s $scale on a new database $db"
	createdb "$db"
	pgm_run_logged "$d/init.log" pgbench -i -q -s "$scale" "$db" || {
		fail "$name: pgbench -i failed"
		return 0
	}
	if [ "$name" = pg_migrate ]; then
		psqlx -d "$db" -c 'CREATE EXTENSION pg_migrate' \
			-c "SELECT migrate_register('$revision', '$alter_sql',
			      down => 'ALTER TABLE pgbench_accounts DROP COLUMN $column;',
			      description => 'the lock-queue benchmark''s migration')" >/dev/null
	fi
	psqlx -d "$db" -c CHECKPOINT

	cat >"$d/reader.sql" <<EOF
SELECT 'start', extract(epoch FROM clock_timestamp());
BEGIN;
SELECT 'read', aid FROM pgbench_accounts LIMIT 1;
SELECT 'locked', extract(epoch FROM clock_timestamp());
SELECT 'slept', pg_sleep($hold);
SELECT 'commit', extract(epoch FROM clock_timestamp());
COMMIT;
SELECT 'committed', extract(epoch FROM clock_timestamp());
EOF
	{
		echo "SELECT 'start', extract(epoch FROM clock_timestamp());"
		if [ "$name" = pg_migrate ]; then
			echo "SELECT 'step', revision, action, attempts, statements, duration FROM migrate_upgrade('head');"
		else
			echo "$alter_sql"
		fi
		echo "SELECT 'done', extract(epoch FROM clock_timestamp());"
		# the pg_migrate settings the migration ran with (none SET here)
		[ "$name" != pg_migrate ] ||
			echo "SELECT 'setting', name, setting || coalesce(unit, '') FROM pg_settings WHERE name LIKE 'pg\\_migrate.%' ORDER BY name;"
	} >"$d/migration.sql"

	say "$name: pgbench -R $rate -c $clients -j $jobs -T $duration; reader at +${warmup} s holds ${hold} s; migration ${delay} s after it"
	t_pgbench=$EPOCHREALTIME
	PGAPPNAME=lockqueue_pgbench pgbench -n -R "$rate" -c "$clients" -j "$jobs" -T "$duration" \
		-l --log-prefix="$d/tx" "$db" >"$d/pgbench.out" 2>&1 &
	pgbench_pid=$!
	sleep "$warmup"
	PGAPPNAME=lockqueue_reader psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$db" \
		-f "$d/reader.sql" >"$d/reader.out" 2>"$d/reader.log" &
	reader_pid=$!
	if wait_for_reader "$db"; then
		sleep "$delay"
	else
		fail "$name: the reader never held its lock on pgbench_accounts"
	fi
	PGAPPNAME=lockqueue_migration psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$db" \
		-f "$d/migration.sql" >"$d/migration.out" 2>"$d/migration.log" &
	mig_pid=$!
	wait "$reader_pid" || reader_rc=$?
	wait "$mig_pid" || mig_rc=$?
	wait "$pgbench_pid" || pgbench_rc=$?

	# ---- its own checks: the run happened as described
	[ "$reader_rc" = 0 ] || fail "$name: the reader failed: $(grep -m1 ERROR "$d/reader.log" || tail -n 1 "$d/reader.log")"
	[ "$pgbench_rc" = 0 ] || fail "$name: pgbench failed (exit $pgbench_rc): $(tail -n 3 "$d/pgbench.out" | tr '\n' ' ')"
	if [ "$mig_rc" != 0 ]; then
		R_migration_error=$({ grep -m1 'ERROR' "$d/migration.log" || tail -n 1 "$d/migration.log"; } |
			sed 's/^psql:[^ ]*:[0-9]*: //')
		fail "$name: the migration failed: $R_migration_error"
	fi
	got=$(sql1 -d "$db" -c "SELECT count(*) FROM pg_attribute
		WHERE attrelid = 'pgbench_accounts'::regclass AND attname = '$column' AND NOT attisdropped")
	[ "$got" = 1 ] || fail "$name: pgbench_accounts has no column $column afterwards"
	R_attempts=1 # a plain ALTER: one statement, no retries
	if [ "$name" = pg_migrate ]; then
		R_steps=$(awk -F'|' '$1 == "step" { print $2 " " $3 }' "$d/migration.out")
		R_attempts=$(awk -F'|' '$1 == "step" { print $4 }' "$d/migration.out")
		[ "$R_steps" = "$revision applied" ] ||
			fail "$name: migrate_upgrade reported \"${R_steps:-nothing}\", expected \"$revision applied\""
		got=$(sql1 -d "$db" -c "SELECT pending = 0 AND applied = 1 FROM migrate_status()")
		[ "$got" = t ] || fail "$name: migrate_status() does not show the revision applied"
		R_settings=$(awk -F'|' '$1 == "setting" { printf "%s%s=%s", sep, $2, $3; sep = ", " }' "$d/migration.out")
	fi

	# Times are the server's clock_timestamp().  The reader's commit is
	# stamped just before its COMMIT (which releases its lock at once), so
	# that a migration finishing within the same millisecond does not show
	# as finishing before it.
	R_t0=$(stamp "$d/reader.out" locked)
	R_reader_commit=$(stamp "$d/reader.out" commit)
	R_mig_start=$(stamp "$d/migration.out" start)
	[ "$mig_rc" != 0 ] || R_mig_done=$(stamp "$d/migration.out" 'done')
	if [ -z "$R_t0" ] || [ -z "$R_reader_commit" ] || [ -z "$R_mig_start" ] ||
		{ [ "$mig_rc" = 0 ] && [ -z "$R_mig_done" ]; }; then
		fail "$name: missing time stamps in $d/reader.out or $d/migration.out"
		R_t0=${R_t0:-$t_pgbench}
		R_reader_commit=${R_reader_commit:-$R_t0}
		R_mig_start=${R_mig_start:-$R_t0}
	fi
	[ -z "$R_mig_done" ] || R_diff=$(ms "$R_reader_commit" "$R_mig_done")
	if [ -n "$R_mig_start" ] && [ -n "$R_reader_commit" ] &&
		awk -v a="$R_mig_start" -v b="$R_reader_commit" 'BEGIN { exit !(a >= b) }'; then
		say "warning: $name: the migration started after the reader committed; it waited for nothing (an overloaded machine?)"
	fi

	if compgen -G "$d/tx.*" >/dev/null && latencies "$d" >"$d/latencies"; then
		read -r R_n R_p50 R_p99 R_max R_over1s R_over100 R_max_start R_max_lag <<<"$(stats "$d/latencies")"
		R_failed=$(count_failed "$d")
	else
		fail "$name: could not read the pgbench log"
		: >"$d/latencies"
	fi
	# the machine's own noise: transactions that finished before the
	# migration started
	read -r R_base_n R_base_max <<<"$(awk -v t="$R_mig_start" '$2 < t { n++; if ($1 > m) m = $1 }
		END { printf "%d %.1f\n", n, m }' "$d/latencies")"
	[ "$R_n" -gt 0 ] || fail "$name: pgbench logged no transaction"
	[ "$R_failed" = 0 ] || fail "$name: pgbench logged $R_failed failed transactions"
	timeline "$d/latencies" "$R_t0" >"$out/lockqueue-$name-timeline.txt"
	dropdb "$db"
}

# report_case NAME LABEL: print a run's results (from the R_* variables).
report_case() {
	local name=$1 label=$2
	printf '%s\n' "$label"
	printf '  latency, due to finished, ms:  p50 %s   p99 %s   max %s\n' \
		"$R_p50" "$R_p99" "$R_max"
	printf '  transactions: %s logged (about %s due), over 1 s: %s, over 100 ms: %s, failed: %s\n' \
		"$R_n" "$R_expected" "$R_over1s" "$R_over100" "$R_failed"
	printf '  the parts, for the record: schedule lag max %s ms; from sent to finished max %s ms\n' \
		"$R_max_lag" "$R_max_start"
	printf '  before the migration started (the machine'"'"'s own noise): %s transactions, max %s ms\n' \
		"$R_base_n" "$R_base_max"
	printf '  reader:    took its read lock at t0, committed at t0%s s\n' "$(rel "$R_t0" "$R_reader_commit")"
	if [ -n "$R_diff" ]; then
		printf '  migration: started at t0%s s, finished at t0%s s: %s ms after the reader committed\n' \
			"$(rel "$R_t0" "$R_mig_start")" "$(rel "$R_t0" "$R_mig_done")" "$R_diff"
	else
		printf '  migration: started at t0%s s, FAILED: %s\n' "$(rel "$R_t0" "$R_mig_start")" \
			"${R_migration_error:-see the log}"
	fi
	if [ "$name" = pg_migrate ]; then
		printf '  attempts:  %s (migrate_upgrade returned: %s)\n' "${R_attempts:-none reported}" "${R_steps:-no row}"
		printf '  settings:  %s (the defaults: none is SET)\n' "${R_settings:-?}"
	else
		printf '  attempts:  1 (one ALTER TABLE statement; psql does not retry)\n'
	fi
	printf '  per-second timeline: %s\n' "$out/lockqueue-$name-timeline.txt"
}

# ------------------------------------------------------------- measure
server_version=$(sql1 -d postgres -c 'SHOW server_version')
settings=$(bench_settings lock_timeout deadlock_timeout fsync synchronous_commit autovacuum)
load=$(cut -d' ' -f1-3 /proc/loadavg)

run_case alter
A=("$R_n" "$R_p50" "$R_p99" "$R_max" "$R_over1s" "$R_over100" "$R_failed" "$R_diff")
A_report=$(report_case alter "plain ALTER TABLE through psql:")

run_case pg_migrate
M_report=$(report_case pg_migrate "pg_migrate, SELECT * FROM migrate_upgrade('head'), default settings:")
M_diff=$R_diff

# ------------------------------------------------------------- verdict
# targets for the pg_migrate run
v_max=MISSED
v_1s=MISSED
v_done=MISSED
awk -v v="$R_max" 'BEGIN { exit !(v != "nan" && v <= 100) }' && v_max=ok
[ "$R_over1s" = 0 ] && [ "$R_n" -gt 0 ] && v_1s=ok
[ -n "$M_diff" ] && [ "$M_diff" -le 1000 ] && v_done=ok
missed=0
case "$v_max $v_1s $v_done" in *MISSED*) missed=1 ;; esac
stall=no
awk -v v="${A[3]}" 'BEGIN { exit !(v != "nan" && v >= 1000) }' && stall=yes

{
	printf '\npg_migrate lock-queue benchmark: a %d s read on pgbench_accounts, a migration adding a column %d s into it\n' \
		"$hold" "$delay"
	printf 'traffic: pgbench tpcb-like -R %d -c %d -j %d -T %d, scale %d\n' \
		"$rate" "$clients" "$jobs" "$duration" "$scale"
	printf 'latency: what the application saw, from when a transaction was due to when it finished: pgbench'"'"'s logged\n'
	printf '  latency, which with -R counts from the scheduled start and so already includes the schedule lag\n'
	bench_about "$server_version" "$settings" "$load"
	printf '%s\n\n' "$A_report"
	printf '%s\n\n' "$M_report"
	printf 'targets for the pg_migrate run:\n'
	printf '  max latency <= 100 ms                          %10s ms   %s\n' "$R_max" "$v_max"
	printf '  no transaction over 1 s                        %10s      %s\n' "$R_over1s" "$v_1s"
	printf '  done within 1 s of the reader'"'"'s commit         %13s   %s\n' \
		"$([ -n "$M_diff" ] && echo "$M_diff ms" || echo "failed")" "$v_done"
	printf 'control, plain ALTER: max %s ms, %s over 1 s: stall of seconds expected: %s\n' \
		"${A[3]}" "${A[4]}" "$([ "$stall" = yes ] && echo shown || echo "NOT shown")"
	if [ "$missed" = 0 ]; then
		printf 'verdict: ok: pg_migrate max %s ms, %s over 1 s, done %s ms after the reader; the plain ALTER stalled (max %s ms)' \
			"$R_max" "$R_over1s" "$M_diff" "${A[3]}"
	else
		printf 'verdict: MISSED: pg_migrate max %s ms (target 100), %s over 1 s (target 0), %s (target 1000 ms); plain ALTER max %s ms' \
			"$R_max" "$R_over1s" \
			"$([ -n "$M_diff" ] && echo "done $M_diff ms after the reader" || echo "migration failed")" "${A[3]}"
	fi
	if [ "$quick" = 1 ]; then printf ' (--quick: timings shown, not judged)'; fi
	printf '\n'
} | tee "$results_txt"

cat >"$results_json" <<EOF
{
  "hold_s": $hold, "quick": $([ "$quick" = 1 ] && echo true || echo false),
  "rate": $rate, "clients": $clients, "jobs": $jobs, "scale": $scale, "duration_s": $duration,
  "server_version": "$server_version",
  "latency": "ms from when the transaction was due to when it finished (pgbench -l time with -R: includes the schedule lag)",
  "alter": {"transactions": $(jnum "${A[0]}"), "p50_ms": $(jnum "${A[1]}"), "p99_ms": $(jnum "${A[2]}"),
            "max_ms": $(jnum "${A[3]}"), "over_1s": $(jnum "${A[4]}"), "over_100ms": $(jnum "${A[5]}"),
            "failed": $(jnum "${A[6]}"), "done_after_reader_ms": $(jnum "${A[7]}"), "attempts": 1},
  "pg_migrate": {"transactions": $(jnum "$R_n"), "p50_ms": $(jnum "$R_p50"), "p99_ms": $(jnum "$R_p99"),
                 "max_ms": $(jnum "$R_max"), "over_1s": $(jnum "$R_over1s"), "over_100ms": $(jnum "$R_over100"),
                 "failed": $(jnum "$R_failed"), "done_after_reader_ms": $(jnum "$M_diff"),
                 "attempts": $(jnum "$R_attempts")},
  "targets": {"max_ms": 100, "over_1s": 0, "done_after_reader_ms": 1000},
  "targets_met": $([ "$missed" = 0 ] && echo true || echo false)
}
EOF
say "results: $results_txt, $results_json"
# --quick judges no timing, not even with BENCH_STRICT=1
bench_end "$((missed && !quick))"
