
# Statements that cannot run in a transaction block, run by CALL migrate_run
# at top level in a background worker (src/toplevel.c):
#
# 1. CREATE INDEX CONCURRENTLY on a table under a pgbench write load
#    completes, and no write waits as long as the lock timeout;
# 2. a failing concurrent build is cleaned up and reported by name (the
#    error, the history), and the revisions before it in the same run stay
#    committed;
# 3. a procedure that COMMITs in a loop runs at top level and its NOTICEs
#    reach the client; the worker terminated by someone else is MG037; a
#    pg_terminate_backend and a SIGKILL of the calling backend while the
#    procedure runs leave no worker running, no lock held, the revision not
#    applied, and the next run completes;
# 4. a concurrent build waiting for a long transaction, cancelled, leaves
#    an INVALID index that the next run drops and builds again; a REINDEX
#    CONCURRENTLY timed out the same way names its "_ccnew" copy, which the
#    next run drops;
# 5. a lock timeout at top level is retried from the failed statement, the
#    script's earlier SET kept, the NOTICE naming the lock and its holder;
# 6. with no free background worker slot, MG036 and nothing runs.
#
# pgbench comes with Debian's postgresql-15 package.

use strict;
use warnings FATAL => 'all';

use File::Temp qw(tempdir);
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

my $node = PostgreSQL::Test::Cluster->new('toplevel');
$node->init;
# a SIGKILL of a backend resets the server, which then comes back
$node->append_conf('postgresql.conf', 'restart_after_crash = on');
$node->start;

my $db = 'toplevel';
my $appname = 'pgm_migrating';
my $lock_filter =
  q{locktype = 'object' AND classid = 'migrate.project'::regclass};
my $worker_filter = q{backend_type = 'pg_migrate top-level'};

$node->safe_psql('postgres', "CREATE DATABASE $db");
$node->safe_psql($db, 'CREATE EXTENSION pg_migrate');

# Register revisions ([id, up script], ...), linear append.
sub register
{
	my $sql = join("\n",
		map { "SELECT migrate_register('$_->[0]', \$up\$$_->[1]\$up\$);" } @_);
	$node->safe_psql($db, $sql);
	return;
}

# CALL migrate_run() in psql, with the given SET statements first; returns
# (exit status of psql, stdout, stderr).
sub run_migrate
{
	my @sets = @_;
	my ($stdout, $stderr) = ('', '');
	my @cmd = (
		$node->installed_command('psql'), '-X', '-At', '-v', 'ON_ERROR_STOP=1',
		'-d', $node->connstr($db) . " application_name=$appname",
		(map { ('-c', $_) } @sets),
		'-c', 'CALL migrate_run()');
	my $ok = IPC::Run::run(\@cmd, '<', \undef, '>', \$stdout, '2>', \$stderr);
	return ($ok, $stdout, $stderr);
}

# Start CALL migrate_run() in a background psql; returns a hash with the
# harness and references to its output.
sub start_migrate
{
	my @sets = @_;
	my ($stdout, $stderr) = ('', '');
	my @cmd = (
		$node->installed_command('psql'), '-X', '-At', '-v', 'ON_ERROR_STOP=1',
		'-d', $node->connstr($db) . " application_name=$appname",
		(map { ('-c', $_) } @sets),
		'-c', 'CALL migrate_run()');
	my %m = (stdout => \$stdout, stderr => \$stderr);
	$m{harness} =
	  IPC::Run::start(\@cmd, '<', \undef, '>', \$stdout, '2>', \$stderr);
	return \%m;
}

# Wait until $sql returns a non-empty value, while the background program
# of $m (its harness, stdout and stderr) still runs; returns the value.
sub wait_for
{
	my ($m, $sql, $what) = @_;
	my $deadline = time() + $PostgreSQL::Test::Utils::timeout_default;

	while (1)
	{
		my $got = $node->safe_psql($db, $sql);
		return $got if $got ne '';
		$m->{harness}->pump_nb;
		if (!$m->{harness}->pumpable)
		{
			$m->{harness}->finish;
			BAIL_OUT("the program ended before $what:\n"
				  . "stdout: ${ $m->{stdout} }\nstderr: ${ $m->{stderr} }");
		}
		BAIL_OUT("timed out waiting for $what") if time() > $deadline;
		usleep(50_000);
	}
}

# Whether revision $id is applied.
sub applied
{
	my ($id) = @_;
	return $node->safe_psql($db,
		"SELECT count(*) FROM migrate.applied WHERE revision = '$id'");
}

# What must hold after an interrupted run of revision $id: no worker, no
# lock, the revision not applied.
sub check_left_clean
{
	my ($id, $what) = @_;

	is($node->safe_psql('postgres', "SELECT count(*) FROM pg_stat_activity WHERE $worker_filter"),
		'0', "after $what: no top-level worker is running");
	is($node->safe_psql($db, "SELECT count(*) FROM pg_locks WHERE $lock_filter"),
		'0', "after $what: no migration lock is held");
	is(applied($id), '0', "after $what: $id is not recorded as applied");
	return;
}

# ------------------------------------------------------------------
# 1. CREATE INDEX CONCURRENTLY under a write load.

$node->safe_psql(
	$db, q{
CREATE TABLE load (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v int NOT NULL);
INSERT INTO load (v) SELECT g % 1000 FROM generate_series(1, 300000) g;
});
register([ '0001_load_v', 'CREATE INDEX CONCURRENTLY load_v_idx ON load (v);' ]);

my $logdir = tempdir(CLEANUP => 1);
my $bench_script = "$logdir/writes.sql";
open(my $fh, '>', $bench_script) or die "could not write $bench_script: $!";
print $fh q{\set id random(1, 300000)
INSERT INTO load (v) VALUES (:id % 1000);
UPDATE load SET v = v + 1 WHERE id = :id;
};
close($fh);

my ($bench_out, $bench_err) = ('', '');
my %bench = (stdout => \$bench_out, stderr => \$bench_err);
{
	local $ENV{PGAPPNAME} = 'pgm_writes';
	# keep the writes out of the server log, which the test prints on failure
	local $ENV{PGOPTIONS} = '-c log_statement=none';
	$bench{harness} = IPC::Run::start(
		[
			$node->installed_command('pgbench'), '-n', '-c', '4', '-j', '2',
			'-T', '8', '-f', $bench_script, '-l', "--log-prefix=$logdir/bench",
			'-h', $node->host, '-p', $node->port, $db
		],
		'<', \undef, '>', \$bench_out, '2>', \$bench_err);
}
my $bench = $bench{harness};

# Start the migration once the writers are connected and writing.
wait_for(\%bench,
	q{SELECT nullif(count(*), 0) FROM pg_stat_activity
	   WHERE application_name = 'pgm_writes' HAVING count(*) >= 4},
	'pgbench connects');
usleep(500_000);

my $started = time();
my ($ok, $out, $err) = run_migrate('SET pg_migrate.lock_timeout = 1000');
my $took = time() - $started;
ok($ok, 'CREATE INDEX CONCURRENTLY under a write load: migrate_run succeeds')
  or diag $err;
$bench->pump_nb;
ok($bench->pumpable, 'the writes were still running when the build finished')
  or diag sprintf('the migration took %.1f s', $took);
$bench->finish;
note sprintf('migrate_run took %.2f s while pgbench wrote', $took);

my ($txns, $max_us) = (0, 0);
for my $log (glob("$logdir/bench.*"))
{
	open(my $lf, '<', $log) or die "could not read $log: $!";
	while (<$lf>)
	{
		# client_id transaction_no time script_no time_epoch time_us
		my @f = split;
		next unless @f >= 6;
		$txns++;
		$max_us = $f[2] if $f[2] > $max_us;
	}
	close($lf);
}
cmp_ok($txns, '>', 100, 'pgbench wrote while the index was built')
  or diag "pgbench: $bench_out $bench_err";
cmp_ok($max_us, '<', 1_000_000,
	'no write waited as long as the lock timeout (1 s) while the index was built');
note sprintf('%d write transactions, the slowest took %.1f ms', $txns, $max_us / 1000);
is($node->safe_psql($db,
		q{SELECT indisvalid FROM pg_index WHERE indexrelid = 'load_v_idx'::regclass}),
	't', 'the concurrently built index is valid');
is(applied('0001_load_v'), '1', '0001_load_v is applied');

# ------------------------------------------------------------------
# 2. A failing concurrent build in the middle of a run.

register(
	[
		'0002_items',
		'CREATE TABLE items (id int PRIMARY KEY, code int NOT NULL);
INSERT INTO items SELECT g, g % 50 FROM generate_series(1, 5000) g;'
	],
	[ '0003_items_code', 'CREATE INDEX CONCURRENTLY items_code_idx ON items (code);' ],
	[
		'0004_items_code_key',
		"SET maintenance_work_mem = '64MB';
-- codes repeat: the build fails on them
CREATE UNIQUE INDEX CONCURRENTLY items_code_key ON items (code);"
	]);

($ok, $out, $err) = run_migrate();
ok(!$ok, 'a failing unique concurrent build fails the run');
like($err, qr/could not create unique index "items_code_key"/,
	'the error is the build\'s own');
like(
	$err,
	qr/The invalid index "public\.items_code_key" left by the failed build was dropped\./,
	'the error names the invalid index, dropped');
like($err, qr/revision "0004_items_code_key" of project "default", statement 2, line 3, column 1/,
	'the error says where in the script');
is($node->safe_psql($db, q{SELECT to_regclass('items_code_key') IS NULL}),
	't', 'the invalid index is gone');
is(applied('0004_items_code_key'), '0', 'the failed revision is not applied');
is(applied('0002_items') . applied('0003_items_code'),
	'11', 'the revisions before it in the run stay committed and applied');
is($node->safe_psql($db,
		q{SELECT indisvalid FROM pg_index WHERE indexrelid = 'items_code_idx'::regclass}),
	't', 'the earlier concurrent build is valid');
is( $node->safe_psql(
		$db,
		q{SELECT concat_ws(' ', sqlstate, statement, line,
		                 detail LIKE '%"public.items_code_key" left by the failed build was dropped%')
		    FROM migrate.history
		   WHERE event = 'upgrade failed' AND revision = '0004_items_code_key'}),
	'23505 2 3 t',
	'the failure is in the history, where it happened, with the dropped index');

# With the duplicates gone, the same revision applies.
$node->safe_psql($db, 'UPDATE items SET code = id');
($ok, $out, $err) = run_migrate();
ok($ok, 'the revision applies once the duplicates are gone') or diag $err;
is($node->safe_psql($db,
		q{SELECT indisvalid FROM pg_index WHERE indexrelid = 'items_code_key'::regclass}),
	't', 'the unique index is valid');

# ------------------------------------------------------------------
# 3. A procedure that COMMITs in a loop, interrupted while it sleeps:
#    terminated, then killed with SIGKILL.

$node->safe_psql(
	$db, q{
CREATE TABLE marks (n int);
CREATE PROCEDURE slow_step() LANGUAGE plpgsql AS $$
BEGIN
	FOR i IN 1..3 LOOP
		INSERT INTO marks VALUES (i);
		COMMIT;
		RAISE NOTICE 'step % committed', i;
	END LOOP;
	PERFORM pg_sleep(CASE WHEN current_setting('test.slow', true) = 'on'
	                      THEN 600 ELSE 0 END);
END $$;
});
register([ '0005_slow_step', 'CALL slow_step();' ]);

my $sleeping = qq{SELECT pid FROM pg_stat_activity
                   WHERE $worker_filter AND wait_event = 'PgSleep'};
my $caller = qq{SELECT pid FROM pg_stat_activity WHERE application_name = '$appname'};

# The worker terminated by someone else: MG037, the caller carries on.
my $m = start_migrate('\set VERBOSITY verbose', 'SET test.slow = on');
my $worker = wait_for($m, $sleeping, 'the procedure sleeps in the worker');
$node->safe_psql($db, "SELECT pg_terminate_backend($worker)");
ok(!$m->{harness}->finish, 'a run whose worker is terminated fails');
like(
	${ $m->{stderr} },
	qr/ERROR:  MG037: the background worker running revision "0005_slow_step" at top level stopped: terminating background worker "pg_migrate top-level" due to administrator command/,
	'MG037 says the worker was stopped, and why');
like(${ $m->{stderr} }, qr/DETAIL:  0 of its statements from statement 1 on completed/,
	'MG037 says how far it got');
check_left_clean('0005_slow_step', 'pg_terminate_backend of the worker');
is($node->safe_psql($db, 'SELECT count(*) FROM marks'),
	'3', 'what the procedure committed before the termination stays');

$m = start_migrate('SET test.slow = on');
$worker = wait_for($m, $sleeping, 'the procedure sleeps in the worker');
my $caller_pid = $node->safe_psql($db, $caller);
like(
	$node->safe_psql($db, "SELECT query FROM pg_stat_activity WHERE pid = $caller_pid"),
	qr/^pg_migrate: applying 0005_slow_step \(1\/1\), statement 1\/1 at top level$/,
	'the caller shows its progress in pg_stat_activity');
is( $node->safe_psql(
		$db, "SELECT application_name FROM pg_stat_activity WHERE pid = $worker"),
	'pg_migrate top-level: 0005_slow_step',
	'the worker names the revision in its application_name');
is($node->safe_psql($db, 'SELECT count(*) FROM marks'),
	'6', 'the procedure committed in its loop, at top level');

$node->safe_psql($db, "SELECT pg_terminate_backend($caller_pid)");
$m->{harness}->finish;
like(${ $m->{stderr} }, qr/step 3 committed/,
	'the procedure\'s NOTICEs reached the client');
like(${ $m->{stderr} }, qr/terminating connection|server closed the connection/,
	'the terminated caller\'s client lost its connection');
$node->poll_query_until($db,
	"SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = $caller_pid")
  or die 'the terminated backend did not exit';
check_left_clean('0005_slow_step', 'pg_terminate_backend of the caller');

$m = start_migrate('SET test.slow = on');
$worker = wait_for($m, $sleeping, 'the procedure sleeps in the worker again');
$caller_pid = $node->safe_psql($db, $caller);
my $log_offset = -s $node->logfile;
kill 'KILL', $caller_pid;
$m->{harness}->finish;
# wait for the end of crash recovery in the log first: while the server
# refuses connections, psql exits before poll_query_until (PostgreSQL 17's)
# has written its query, which then dies of a broken pipe
$node->wait_for_log(qr/database system is ready to accept connections/, $log_offset);
$node->poll_query_until($db, 'SELECT true')
  or die 'the server did not come back after the SIGKILL';
check_left_clean('0005_slow_step', 'a SIGKILL of the caller');

($ok, $out, $err) = run_migrate();
ok($ok, 'after the termination and the SIGKILL, the next run completes') or diag $err;
is(applied('0005_slow_step'), '1', '0005_slow_step is applied');

# ------------------------------------------------------------------
# 4. A concurrent build waiting for a long transaction, cancelled: the
#    INVALID index it left is dropped by the next run.

register(
	[ '0006_items_pair', 'CREATE INDEX CONCURRENTLY items_pair_idx ON items (code, id);' ]);

my $long = $node->background_psql($db);
$long->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
$long->query_safe('SELECT count(*) FROM items');

$m = start_migrate('SET pg_migrate.lock_timeout = 0');
wait_for(
	$m, qq{SELECT pid FROM pg_stat_activity
	        WHERE $worker_filter AND wait_event = 'virtualxid'},
	'the build waits for the long transaction');
$caller_pid = $node->safe_psql($db, $caller);
$node->safe_psql($db, "SELECT pg_cancel_backend($caller_pid)");
$m->{harness}->finish;
like(${ $m->{stderr} }, qr/canceling statement due to user request/,
	'the cancelled call reports the cancel');
check_left_clean('0006_items_pair', 'a cancel of the caller');
is($node->safe_psql($db,
		q{SELECT indisvalid FROM pg_index WHERE indexrelid = 'items_pair_idx'::regclass}),
	'f', 'the interrupted build left an INVALID index');
is( $node->safe_psql(
		$db,
		q{SELECT sqlstate FROM migrate.history
		   WHERE event = 'upgrade failed' AND revision = '0006_items_pair'}),
	'57014', 'the cancel is in the history');

$long->query_safe('COMMIT');
$long->quit;
($ok, $out, $err) = run_migrate();
ok($ok, 'after the cancel, the next run completes') or diag $err;
like($err, qr/dropping invalid index "public\.items_pair_idx" left by an earlier failed build/,
	'the next run reports the INVALID index by name as it drops it');
is($node->safe_psql($db,
		q{SELECT indisvalid FROM pg_index WHERE indexrelid = 'items_pair_idx'::regclass}),
	't', 'the index is rebuilt valid');
is( $node->safe_psql(
		$db, q{SELECT applied, pending FROM migrate_status()}),
	'6|0', 'every revision is applied');


# A REINDEX CONCURRENTLY that times out waiting for a long transaction
# leaves its "_ccnew" copy, which cannot be dropped while that transaction
# lasts: the error names it, and the next run drops it first.
register([ '0007_reindex_code', 'REINDEX INDEX CONCURRENTLY items_code_idx;' ]);
$long = $node->background_psql($db);
$long->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
$long->query_safe('SELECT count(*) FROM items');
($ok, $out, $err) = run_migrate('SET pg_migrate.lock_timeout = 300',
	'SET pg_migrate.lock_retries = 0');
ok(!$ok, 'a REINDEX CONCURRENTLY behind a long transaction times out');
like(
	$err,
	qr/The invalid index "public\.items_code_idx_ccnew" left by the failed build could not be dropped \(canceling statement due to lock timeout\)/,
	'the error names the INVALID copy it left');
$long->query_safe('COMMIT');
$long->quit;
($ok, $out, $err) = run_migrate();
ok($ok, 'the next run completes the REINDEX') or diag $err;
like($err, qr/dropping invalid index "public\.items_code_idx_ccnew" left by an earlier failed build/,
	'the next run drops the INVALID copy first');
is( $node->safe_psql(
		$db,
		q{SELECT string_agg(indexrelid::regclass || ' ' || indisvalid, ', ' ORDER BY 1)
		    FROM pg_index WHERE indrelid = 'items'::regclass
		     AND indexrelid::regclass::text LIKE 'items_code_idx%'}),
	'items_code_idx true', 'one valid index is left');

# ------------------------------------------------------------------
# 5. A lock timeout at top level is retried from the statement that
#    failed, with the script's earlier SETs made again; the retry NOTICE
#    names the lock and its holder.

register(
	[
		'0008_items_code_brin', "SET work_mem = '7MB';
CREATE INDEX CONCURRENTLY items_code_brin ON items USING brin (code);
CREATE TABLE settings_seen AS SELECT current_setting('work_mem') AS work_mem;"
	]);

my $blocker = $node->background_psql($db);
$blocker->query_safe('BEGIN');
$blocker->query_safe('LOCK TABLE items IN SHARE MODE');
my $blocker_pid = $blocker->query_safe('SELECT pg_backend_pid()');
chomp $blocker_pid;    # with its newline from PostgreSQL 16's BackgroundPsql

$m = start_migrate('SET pg_migrate.lock_timeout = 100',
	'SET pg_migrate.retry_delay = 500', 'SET pg_migrate.lock_retries = 20');
{
	my $deadline = time() + $PostgreSQL::Test::Utils::timeout_default;
	until (${ $m->{stderr} } =~ /attempt 1 of 21 failed/)
	{
		BAIL_OUT('no retry NOTICE: ' . ${ $m->{stderr} })
		  if time() > $deadline || !$m->{harness}->pumpable;
		$m->{harness}->pump_nb;
		usleep(20_000);
	}
}
$blocker->query_safe('COMMIT');
$blocker->quit;
ok($m->{harness}->finish, 'the revision applies once the lock is free')
  or diag ${ $m->{stderr} };
like(
	${ $m->{stderr} },
	qr/attempt 1 of 21 failed: canceling statement due to lock timeout.*\n.*DETAIL:  It waited for ShareUpdateExclusiveLock on relation "public\.items"; process $blocker_pid .* holds ShareLock on it/,
	'the retry NOTICE names the lock the worker waited for and its holder');
is($node->safe_psql($db, 'SELECT work_mem FROM settings_seen'),
	'7MB', 'the retried run kept the script\'s earlier SET');
is($node->safe_psql($db,
		q{SELECT statements || ' ' || attempts FROM migrate.applied WHERE revision = '0008_items_code_brin'}),
	'3 2', 'the applied row counts the statements and the two attempts');

# ------------------------------------------------------------------
# 6. No background worker slot: a clear error, nothing run.

register([ '0009_items_code_hash', 'CREATE INDEX CONCURRENTLY items_code_hash ON items USING hash (code);' ]);
# the logical replication launcher takes the only slot
$node->append_conf('postgresql.conf', 'max_worker_processes = 1');
$node->restart;
($ok, $out, $err) = run_migrate('\set VERBOSITY verbose');
ok(!$ok, 'without a free worker slot the run fails');
like($err, qr/ERROR:  MG036: could not start a background worker to run revision "0009_items_code_hash" at top level/,
	'MG036 names the revision');
like($err, qr/HINT:  Raise max_worker_processes/, 'the hint says what to raise');
is($node->safe_psql($db, q{SELECT to_regclass('items_code_hash') IS NULL}),
	't', 'nothing of the revision ran');
is(applied('0009_items_code_hash'), '0', 'the revision is not applied');

$node->append_conf('postgresql.conf', 'max_worker_processes = 8');
$node->restart;
($ok, $out, $err) = run_migrate();
ok($ok, 'with a free slot the same run completes') or diag $err;
is( $node->safe_psql(
		$db, q{SELECT applied, pending FROM migrate_status()}),
	'9|0', 'every revision is applied at the end');

$node->stop;
done_testing();
