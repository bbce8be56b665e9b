
# Every way a migrating process can be told to exit, and none may kill it
# on a signal (issue 13, item 1).  A backend or worker that leaves on FATAL
# runs its exit handlers; the lock-wait probe of src/lock.c, a timer armed
# while a script statement runs, once went on firing while ProcKill had
# already cleared MyProc, and the segfault restarted the whole cluster.
# t/001_crash.pl and t/009_toplevel.pl only use SIGKILL, which runs no exit
# handler at all.  Each case below runs at pg_migrate.lock_timeout = '1ms'
# (the probe fires every millisecond: before the fix nearly every case
# crashed) and at the default (50 ms: about one exit in ten crashed):
#
#  1. pg_terminate_backend of the backend running migrate_upgrade;
#  2. the same for a backend running a transactional revision under CALL
#     migrate_run;
#  3. the same for the caller of CALL migrate_run while its top-level
#     worker runs (the caller stops the worker as it exits);
#  4. the issue's one-liner: a revision that terminates its own backend
#     (migrate_upgrade);
#  5. the same in a top-level revision, which terminates its own worker;
#  6. the deploy client killed (its socket closes) during migrate_upgrade:
#     psql, and the pg_migrate client program's up;
#  7. the same during CALL migrate_run, while the worker runs (psql, and
#     the client's up, which switches to migrate_run for a top-level
#     revision);
#  8. pg_ctl stop -m fast during migrate_upgrade;
#  9. the same during CALL migrate_run, while the worker runs;
# 10. pg_terminate_backend of the top-level worker;
# 11. pg_cancel_backend of a CALL migrate_run caller, which then stops its
#     worker.
#
# A migrating session sleeps in its revision (test.slow = on), the second
# statement of three for the backend cases, the first statement before a
# CREATE INDEX CONCURRENTLY for the worker's, so that the interruption
# always finds the same point and the state as before the call is exact.
# Each case then checks: no process died on a signal or crashed (the server
# log, see ExitCheck.pm for exactly what counts), no migrating session and
# no pg_migrate worker left, no migration lock held, the registry, applied
# set, status and schema exactly as before, and the history grown by the
# one "upgrade failed" row of a call that got an error back (a cancel, a
# stopped worker), or by nothing when its backend exited.  After a fast
# shutdown the next start must not run crash recovery.  At the end the
# next run of each project applies what was interrupted.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib $FindBin::RealBin;

use ExitCheck;
use IPC::Run;
use MigrationWindow;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('hostile_exits');
$node->init;
# Cluster.pm turns this off.  A crash then stops the server for good and
# every later case would fail on it; with it on, the crash is reported by
# the case that caused it (its log) and the others still run.
$node->append_conf('postgresql.conf', 'restart_after_crash = on');
$node->start;

my $db = 'exits';
$node->safe_psql('postgres', "CREATE DATABASE $db");
$node->safe_psql($db, 'CREATE EXTENSION pg_migrate');

my $sleep =
  q{SELECT pg_sleep(CASE WHEN current_setting('test.slow', true) = 'on' THEN 600 ELSE 0 END);};

# Register revisions ([id, up script], ...) of project, linear append.
sub register
{
	my ($project, @revisions) = @_;
	$node->safe_psql($db,
		join("\n",
			map {
				"SELECT migrate_register('$_->[0]', \$up\$$_->[1]\$up\$, project => '$project');"
			} @revisions));
	return;
}

# Project tx: transactional revisions; tx2 sleeps between two statements.
register('tx', [ 'tx1', 'CREATE TABLE tx_users (id bigint PRIMARY KEY);' ]);
$node->safe_psql($db, q{SELECT * FROM migrate_upgrade(project => 'tx')});
register(
	'tx',
	[
		'tx2', "CREATE TABLE tx_orders (id bigint PRIMARY KEY, user_id bigint REFERENCES tx_users);
$sleep
CREATE INDEX tx_orders_user ON tx_orders (user_id);"
	],
	[ 'tx3', 'ALTER TABLE tx_users ADD COLUMN name text;' ]);

# Project top: top2 runs at top level, in a worker that sleeps first.
register(
	'top',
	[
		'top1', 'CREATE TABLE things (id int PRIMARY KEY, v int NOT NULL);
INSERT INTO things SELECT g, g % 100 FROM generate_series(1, 1000) g;'
	]);
$node->safe_psql($db, q{CALL migrate_run(project => 'top')});
register(
	'top',
	[ 'top2', "$sleep\nCREATE INDEX CONCURRENTLY things_v_idx ON things (v);" ],
	[ 'top3', 'CREATE TABLE top_after (id int);' ]);

# The issue's one-liner, in a backend and, at top level, in a worker.
register('boom',
	[ 'boom1', 'SELECT pg_terminate_backend(pg_backend_pid()); SELECT pg_sleep(1);' ]);
register(
	'boomtop',
	[
		'boomtop1', 'SELECT pg_terminate_backend(pg_backend_pid()); SELECT pg_sleep(1);
CREATE INDEX CONCURRENTLY things_boom_idx ON things (id, v);'
	]);

my @projects = qw(tx top boom boomtop);

# Everything an interrupted call must leave as it was, as one hash of
# strings; the history is compared apart (a call that gets an error back
# records its failure).
sub snapshot
{
	my %queries = (
		project => q{SELECT string_agg(p::text, E'\n' ORDER BY project) FROM migrate.project p},
		registry => q{SELECT string_agg(r::text, E'\n' ORDER BY project, revision)
		                FROM migrate.revision r},
		applied => q{SELECT string_agg(a::text, E'\n' ORDER BY project, revision)
		               FROM migrate.applied a},
		status => join(' UNION ALL ',
			map { "SELECT s::text FROM migrate_status(project => '$_') s" }
			  @projects),
		schema => q{SELECT string_agg(format('%s (%s%s): %s', c.relname, c.relkind,
		                                     CASE WHEN i.indisvalid THEN ', valid'
		                                          WHEN NOT i.indisvalid THEN ', INVALID' END,
		                                     (SELECT string_agg(a.attname, ', ' ORDER BY a.attnum)
		                                        FROM pg_attribute a
		                                       WHERE a.attrelid = c.oid AND a.attnum > 0
		                                         AND NOT a.attisdropped)),
		                              E'\n' ORDER BY c.relname)
		              FROM pg_class c LEFT JOIN pg_index i ON i.indexrelid = c.oid
		             WHERE c.relnamespace = 'public'::regnamespace},
		history_id => q{SELECT coalesce(max(id), 0) FROM migrate.history});
	my %state;

	for my $key (keys %queries)
	{
		$state{$key} = $node->safe_psql($db, $queries{$key});
	}
	return \%state;
}

# The migrating session, started in the background: psql, or the
# pg_migrate client program (on PATH, as in t/004_client.pl), whose
# settings come through PGOPTIONS and whose application_name is PGAPPNAME.
sub start_call
{
	my ($case, $lock_timeout) = @_;

	if ($case->{call} eq 'pg_migrate up')
	{
		my ($stdout, $stderr) = ('', '');
		my %m = (stdout => \$stdout, stderr => \$stderr);
		local $ENV{PGAPPNAME} = $ExitCheck::APPNAME;
		local $ENV{PGOPTIONS} = '-c test.slow=on'
		  . ($lock_timeout ne 'default' ? " -c pg_migrate.lock_timeout=$lock_timeout" : '');
		$m{harness} = IPC::Run::start(
			[
				'pg_migrate', '-d', $node->connstr($db),
				'--project', $case->{project}, 'up'
			],
			'<', \undef, '>', \$stdout, '2>', \$stderr);
		return \%m;
	}

	my @before = (
		"SET pg_migrate.project = '$case->{project}'",
		'SET test.slow = on');
	push @before, "SET pg_migrate.lock_timeout = '$lock_timeout'"
	  if $lock_timeout ne 'default';
	return ExitCheck::start_psql($node, $db, \@before, $case->{call});
}

my $caller_sql = "SELECT pid FROM pg_stat_activity WHERE application_name = '$ExitCheck::APPNAME'";
my %asleep = (
	backend => "$caller_sql AND wait_event = 'PgSleep'",
	worker => q{SELECT pid FROM pg_stat_activity
	             WHERE backend_type = 'pg_migrate top-level' AND wait_event = 'PgSleep'});

my $upgrade = 'SELECT * FROM migrate_upgrade()';
my $run = 'CALL migrate_run()';
my $terminated = qr/terminating connection due to administrator command/;
my $worker_stopped = qr/the background worker running revision "\w+" at top level stopped: terminating background worker "pg_migrate top-level" due to administrator command/;

my @cases = (
	{
		name => 'pg_terminate_backend of the backend in migrate_upgrade',
		project => 'tx',
		call => $upgrade,
		asleep => 'backend',
		fault => 'terminate caller',
		stderr => $terminated,
	},
	{
		name => 'pg_terminate_backend of the backend in CALL migrate_run, transactional',
		project => 'tx',
		call => $run,
		asleep => 'backend',
		fault => 'terminate caller',
		stderr => $terminated,
	},
	{
		name => 'pg_terminate_backend of the CALL migrate_run caller, worker running',
		project => 'top',
		call => $run,
		asleep => 'worker',
		fault => 'terminate caller',
		stderr => $terminated,
	},
	{
		name => 'a revision terminates its own backend (migrate_upgrade)',
		project => 'boom',
		call => $upgrade,
		fault => 'none',
		stderr => $terminated,
	},
	{
		name => 'a top-level revision terminates its own worker',
		project => 'boomtop',
		call => $run,
		fault => 'none',
		stderr => $worker_stopped,
		failed => 'boomtop1 MG037',
	},
	{
		name => 'the client is killed during migrate_upgrade',
		project => 'tx',
		call => $upgrade,
		asleep => 'backend',
		fault => 'kill client',
	},
	{
		name => 'the client is killed during CALL migrate_run, worker running',
		project => 'top',
		call => $run,
		asleep => 'worker',
		fault => 'kill client',
	},
	{
		name => 'the pg_migrate client is killed during its up (migrate_upgrade)',
		project => 'tx',
		call => 'pg_migrate up',
		asleep => 'backend',
		fault => 'kill client',
	},
	{
		name => 'the pg_migrate client is killed during its up (CALL migrate_run), worker running',
		project => 'top',
		call => 'pg_migrate up',
		asleep => 'worker',
		fault => 'kill client',
	},
	{
		name => 'pg_ctl stop -m fast during migrate_upgrade',
		project => 'tx',
		call => $upgrade,
		asleep => 'backend',
		fault => 'fast stop',
		stderr => qr/$terminated|server closed the connection/,
	},
	{
		name => 'pg_ctl stop -m fast during CALL migrate_run, worker running',
		project => 'top',
		call => $run,
		asleep => 'worker',
		fault => 'fast stop',
		stderr => qr/$terminated|server closed the connection/,
	},
	{
		name => 'pg_terminate_backend of the top-level worker',
		project => 'top',
		call => $run,
		asleep => 'worker',
		fault => 'terminate worker',
		stderr => $worker_stopped,
		failed => 'top2 MG037',
	},
	{
		name => 'pg_cancel_backend of the CALL migrate_run caller, its worker stopped',
		project => 'top',
		call => $run,
		asleep => 'worker',
		fault => 'cancel caller',
		stderr => qr/canceling statement due to user request/,
		failed => 'top2 57014',
	});

for my $lock_timeout ('1ms', 'default')
{
	for my $case (@cases)
	{
		my $what = "$case->{name}, lock_timeout $lock_timeout";
		my $before = snapshot();
		my $offset = -s $node->logfile;
		my $m = start_call($case, $lock_timeout);
		my ($pid, $caller);

		if ($case->{asleep})
		{
			$pid = ExitCheck::wait_for($node, $db, $m, $asleep{ $case->{asleep} },
				"$what: the sleep");
			BAIL_OUT("$what: the call ended before its sleep: ${ $m->{stderr} }")
			  unless defined $pid;
			$caller = $node->safe_psql($db, $caller_sql);
			is($node->safe_psql($db,
					"SELECT lock_pid FROM migrate_status(project => '$case->{project}')"),
				$caller, "$what: the caller holds the migration lock while it sleeps");
		}

		my $fault = $case->{fault};
		if ($fault eq 'terminate caller')
		{
			$node->safe_psql($db, "SELECT pg_terminate_backend($caller)");
		}
		elsif ($fault eq 'cancel caller')
		{
			$node->safe_psql($db, "SELECT pg_cancel_backend($caller)");
		}
		elsif ($fault eq 'terminate worker')
		{
			$node->safe_psql($db, "SELECT pg_terminate_backend($pid)");
		}
		elsif ($fault eq 'kill client')
		{
			$m->{harness}->signal('KILL');
		}
		elsif ($fault eq 'fast stop')
		{
			$node->stop('fast');
		}

		ok(!ExitCheck::finish($m), "$what: the call did not succeed");
		like(${ $m->{stderr} }, $case->{stderr}, "$what: the client was told why")
		  if $case->{stderr};
		note "client stderr: ${ $m->{stderr} }";

		if ($fault eq 'fast stop')
		{
			my $start_offset = -s $node->logfile;
			$node->start;
			ExitCheck::clean_restart($node, $start_offset, $what);
		}

		ExitCheck::settle($node, $db, $what);
		ExitCheck::no_crash($node, $offset, $what);
		ExitCheck::no_lock($node, $db, \@projects, $what);

		my $after = snapshot();
		for my $key (qw(project registry applied status schema))
		{
			is($after->{$key}, $before->{$key}, "$what: $key as before the call");
		}
		is( $node->safe_psql(
				$db,
				"SELECT string_agg(concat_ws(' ', revision, sqlstate), ', ' ORDER BY id)
				   FROM migrate.history WHERE id > $before->{history_id}"),
			$case->{failed} // '',
			$case->{failed}
			? "$what: the failure the caller got is in the history"
			: "$what: the history is as before (the backend exited)");
	}
}

# The next runs apply what every case interrupted.
is( $node->safe_psql($db,
		q{SELECT string_agg(revision || ' ' || action, ', ') FROM migrate_upgrade(project => 'tx')}),
	'tx2 applied, tx3 applied',
	'after every interruption, the next migrate_upgrade applies tx2 and tx3');
$node->safe_psql($db, q{CALL migrate_run(project => 'top')});
is( $node->safe_psql(
		$db,
		q{SELECT string_agg(project || ' ' || revision, ', ' ORDER BY project, revision)
		    FROM migrate.applied}),
	'top top1, top top2, top top3, tx tx1, tx tx2, tx tx3',
	'after every interruption, the next CALL migrate_run applies top2 and top3');
is( $node->safe_psql(
		$db,
		q{SELECT indisvalid FROM pg_index WHERE indexrelid = 'things_v_idx'::regclass}),
	't', 'the index of the top-level revision is valid');
is( $node->safe_psql(
		$db,
		q{SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
		   WHERE NOT i.indisvalid}),
	'0', 'no INVALID index is left');
$node->safe_psql($db,
	q{SELECT migrate_unregister('boom1', project => 'boom');
	  SELECT migrate_unregister('boomtop1', project => 'boomtop');});

my $offset = 0;
$node->stop;
ExitCheck::no_crash($node, $offset, 'the whole test');
done_testing();
