
# Failures are remembered, and what pg_regress cannot see of it: the LOG
# line of every applied and reverted revision (written at commit, none for
# work that rolled back); a server with no background worker slot free (the
# original error still arrives, after a WARNING that the failure was not
# recorded); the recorder held up by a lock until it gives up; a cancel
# while the backend waits for the recorder; and a backend terminated while
# it waits, whose failure the recorder still writes.

use strict;
use warnings FATAL => 'all';

use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my $node = PostgreSQL::Test::Cluster->new('failures');
$node->init;
$node->start;

my $db = 'failures';
$node->safe_psql('postgres', "CREATE DATABASE $db");
$node->safe_psql($db, 'CREATE EXTENSION pg_migrate');

# psql on $db with the given SQL: (exit code, stdout, stderr)
sub run_sql
{
	my ($sql) = @_;
	my ($out, $err) = ('', '');
	my $ret = $node->psql($db, $sql, stdout => \$out, stderr => \$err,
		on_error_stop => 1);
	return ($ret, $out, $err);
}

# the failure rows, oldest first, as text
sub failure_rows
{
	return $node->safe_psql($db,
		q{SELECT string_agg(concat_ws(' ', event, revision, sqlstate, attempts), E'\n' ORDER BY id)
		    FROM migrate.history WHERE event LIKE '% failed'});
}

# a psql running $sql in the background, application_name $app: a hash of
# harness, stdout and stderr (references)
sub start_psql
{
	my ($sql, $app) = @_;
	my ($stdout, $stderr) = ('', '');
	my $h = IPC::Run::start(
		[
			$node->installed_command('psql'), '-X', '-At',
			'-d', $node->connstr($db) . " application_name=$app",
			'-c', $sql
		],
		'<', \undef, '>', \$stdout, '2>', \$stderr);
	return { harness => $h, stdout => \$stdout, stderr => \$stderr };
}

# wait until the failure recorder waits for a lock
sub wait_for_recorder_on_lock
{
	$node->poll_query_until('postgres',
		q{SELECT count(*) > 0 FROM pg_stat_activity
		   WHERE backend_type = 'pg_migrate failure recorder'
		     AND wait_event_type = 'Lock'})
	  or die 'the failure recorder never waited for the lock';
}

# ------------------------------------------------------------ LOG lines

{
	my $offset = -s $node->logfile;

	$node->safe_psql($db, q{
		SELECT migrate_register('0001_log_a', 'CREATE TABLE log_a (id int);', 'DROP TABLE log_a;');
		SELECT migrate_register('0002_log_b', 'CREATE TABLE log_b (id int);', 'DROP TABLE log_b;');
		SELECT count(*) FROM migrate_upgrade();
	});
	$node->wait_for_log(
		qr/LOG:  applied revision "0001_log_a" of project "default" in \d+\.\d{3} ms \(1 attempt\)/,
		$offset);
	$node->wait_for_log(
		qr/LOG:  applied revision "0002_log_b" of project "default" in \d+\.\d{3} ms \(1 attempt\)/,
		$offset);
	pass('each applied revision has a LOG line with project, duration and attempts');

	$node->safe_psql($db, q{SELECT count(*) FROM migrate_downgrade('0001_log_a')});
	$node->wait_for_log(
		qr/LOG:  reverted revision "0002_log_b" of project "default" in \d+\.\d{3} ms \(1 attempt\)/,
		$offset);
	pass('a reverted revision has one too');

	# Work that rolls back gets no line: a transaction, a savepoint, a
	# failed call.  Then a committed upgrade, whose line comes after them
	# in the log, proves that the others would have been written by then.
	$offset = -s $node->logfile;
	$node->safe_psql($db, q{
		BEGIN; SELECT count(*) FROM migrate_upgrade(); ROLLBACK;
		BEGIN; SAVEPOINT s; SELECT count(*) FROM migrate_upgrade();
		ROLLBACK TO s; COMMIT;
	});
	$node->safe_psql($db, q{
		SELECT migrate_register('0003_log_fails', 'SELECT 1 / 0;');
	});
	my ($ret, $out, $err) = run_sql('SELECT count(*) FROM migrate_upgrade()');
	like($err, qr/ERROR:  division by zero/, 'the failing upgrade fails');
	$node->safe_psql($db, q{
		SELECT migrate_register('0003_log_fails', 'SELECT 1;');
		SELECT count(*) FROM migrate_upgrade();
	});
	$node->wait_for_log(qr/LOG:  applied revision "0003_log_fails"/, $offset);
	my $log = slurp_file($node->logfile, $offset);
	my @lines = $log =~ /LOG:  applied revision "0002_log_b"/g;
	is(scalar @lines, 1,
		'work rolled back (transaction, savepoint, failed call) has no LOG line; the commit has one');

	# a revision that needed several attempts says so
	$node->safe_psql($db, q{CREATE TABLE log_busy (id int)});
	$node->safe_psql($db, q{
		SELECT migrate_register('0004_log_retried', 'ALTER TABLE log_busy ADD COLUMN note text;');
	});
	my $blocker = $node->background_psql($db);
	$blocker->query_safe('BEGIN; SELECT count(*) FROM log_busy;');
	my $m = start_psql(
		q{SET pg_migrate.retry_delay = 100; SET pg_migrate.retry_max_delay = 100;
		  SELECT count(*) FROM migrate_upgrade()}, 'regress_retried');
	$node->poll_query_until($db,
		q{SELECT count(*) > 0 FROM pg_stat_activity
		   WHERE application_name = 'regress_retried' AND query LIKE 'pg_migrate: %waiting%'})
	  or die 'the upgrade never retried';
	$blocker->query_safe('COMMIT;');
	$blocker->quit;
	$m->{harness}->finish;
	$node->wait_for_log(
		qr/LOG:  applied revision "0004_log_retried" of project "default" in \d+\.\d{3} ms \([2-9]\d* attempts\)/,
		$offset);
	pass('a revision retried after a lock conflict names its attempts');
}

# ------------------------------------------------------------ no free worker slot

{
	$node->append_conf('postgresql.conf', 'max_worker_processes = 0');
	$node->restart;
	$node->safe_psql($db, q{SELECT migrate_register('0005_no_slot', 'SELECT 1 / 0;')});
	my $before = failure_rows();
	my ($ret, $out, $err) = run_sql('SELECT count(*) FROM migrate_upgrade()');
	like($err,
		qr/WARNING:  the failure of migrate_upgrade was not recorded in the history\nDETAIL:  No background worker slot was free to write it\.\nHINT:  Raise max_worker_processes\./,
		'no free worker slot: a WARNING says the failure was not recorded');
	like($err, qr/ERROR:  division by zero\nCONTEXT:  revision "0005_no_slot" of project "default", statement 1/,
		'and the original error still arrives, unchanged');
	isnt($ret, 0, 'the call failed');
	is(failure_rows(), $before, 'no failure row was written');

	$node->adjust_conf('postgresql.conf', 'max_worker_processes', '8');
	$node->restart;
	($ret, $out, $err) = run_sql('SELECT count(*) FROM migrate_upgrade()');
	unlike($err, qr/WARNING/, 'with a slot free again, no WARNING');
	like(failure_rows(), qr/upgrade failed 0005_no_slot 22012 1$/,
		'and the failure row is there');
}

# ------------------------------------------------------------ the recorder blocked

# A session that holds migrate.history locked (only its owner or a
# superuser can) makes the recorder wait.  When the lock outlasts the
# recorder's lock_timeout, the recorder gives up: a WARNING, the original
# error, no row.
{
	my $before = failure_rows();
	my $locker = $node->background_psql($db);
	$locker->query_safe('BEGIN; LOCK TABLE migrate.history IN ACCESS EXCLUSIVE MODE;');
	my ($ret, $out, $err) = run_sql('SELECT count(*) FROM migrate_upgrade()');
	like($err,
		qr/WARNING:  the failure of migrate_upgrade was not recorded in the history\nDETAIL:  The process that writes it failed: canceling statement due to lock timeout/,
		'a recorder that cannot get its lock gives up, with a WARNING');
	like($err, qr/ERROR:  division by zero/, 'and the original error arrives');
	$locker->query_safe('COMMIT;');
	$locker->quit;
	is(failure_rows(), $before, 'no failure row was written');
}

# A cancel while the backend waits for the recorder stops the wait; the
# recorder goes on and writes the row once the lock is free.
{
	my $before = failure_rows();
	my $locker = $node->background_psql($db);
	$locker->query_safe('BEGIN; LOCK TABLE migrate.history IN ACCESS EXCLUSIVE MODE;');
	my $m = start_psql('SELECT count(*) FROM migrate_upgrade()', 'regress_cancelled');
	wait_for_recorder_on_lock();
	$node->safe_psql('postgres',
		q{SELECT pg_cancel_backend(pid) FROM pg_stat_activity
		   WHERE application_name = 'regress_cancelled'});
	$m->{harness}->finish;
	like(${ $m->{stderr} },
		qr/WARNING:  the failure of migrate_upgrade was not recorded in the history\nDETAIL:  The wait for the process that writes it was cancelled; the row may still appear\./,
		'a cancel stops the wait for the recorder, with a WARNING');
	like(${ $m->{stderr} }, qr/ERROR:  division by zero/,
		'and the original error arrives, not the cancel');
	$locker->query_safe('COMMIT;');
	$locker->quit;
	$node->poll_query_until($db,
		q{SELECT count(*) > 0 FROM migrate.history
		   WHERE event = 'upgrade failed' AND application_name = 'regress_cancelled'})
	  or die 'the recorder never wrote the row';
	pass('the recorder wrote the row once the lock was free');
}

# A backend terminated while it waits for the recorder: it ends (FATAL),
# and the recorder, which has the row in its own hands, still writes it.
{
	my $locker = $node->background_psql($db);
	$locker->query_safe('BEGIN; LOCK TABLE migrate.history IN ACCESS EXCLUSIVE MODE;');
	my $m = start_psql('SELECT count(*) FROM migrate_upgrade()', 'regress_terminated');
	wait_for_recorder_on_lock();
	my $pid = $node->safe_psql('postgres',
		q{SELECT pid FROM pg_stat_activity WHERE application_name = 'regress_terminated'});
	$node->safe_psql('postgres', "SELECT pg_terminate_backend($pid)");
	$m->{harness}->finish;
	like(${ $m->{stderr} }, qr/FATAL:  terminating connection due to administrator command/,
		'the waiting backend is terminated');
	$node->poll_query_until('postgres',
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = $pid")
	  or die 'the terminated backend is still there';
	$locker->query_safe('COMMIT;');
	$locker->quit;
	$node->poll_query_until($db,
		qq{SELECT count(*) > 0 FROM migrate.history
		   WHERE event = 'upgrade failed' AND backend_pid = $pid
		     AND revision = '0005_no_slot' AND sqlstate = '22012'})
	  or die 'the recorder never wrote the row of the terminated backend';
	pass('the recorder wrote the failure of the terminated backend');
	ok( $node->poll_query_until('postgres',
			q{SELECT count(*) = 0 FROM pg_stat_activity
			   WHERE backend_type = 'pg_migrate failure recorder'}),
		'no recorder is left running');
}

$node->stop;
done_testing();
