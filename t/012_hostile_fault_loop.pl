
# The fault loop of issue 13: migrations interrupted at random moments, in
# every way a migrating process can be stopped, must never crash a process
# nor leave anything half-done.
#
# Two rounds, one at pg_migrate.lock_timeout = '1ms' and one at the default
# (50 ms), each over a project of its own of 90 revisions in a chain, mixing
# transactional revisions (a table created; a column added to a table that
# a background reader keeps using, so lock timeouts and retries happen) and
# top-level ones run by CALL migrate_run's worker (CREATE INDEX
# CONCURRENTLY IF NOT EXISTS; a procedure that COMMITs twice).  Each round
# deals three times (PGM_FAULT_DECKS), in a shuffled order, every pair of
# call and fault, 42 faults a round:
#
#   migrate_upgrade (to the end of the run of transactional revisions
#   ahead, as it cannot run top-level ones):
#     pg_cancel_backend and pg_terminate_backend of the caller, a cancel
#     followed within 0.1 s by a termination (which finds the caller
#     stopping its worker or recording the failure), the client killed,
#     pg_ctl stop -m fast, pg_ctl stop -m immediate;
#   CALL migrate_run('+N') (N reaching the next top-level revision when
#   the fault is the worker's):
#     the same six, and pg_cancel_backend and pg_terminate_backend of the
#     top-level worker.
#
# A fault comes a random moment (up to 0.3 s) after the caller shows that
# it applies a revision (one time in four, after the call is sent, so that
# some hit the connection, the lock, the planning), or for the worker's
# faults after the worker has started; a call that ends first takes the
# fault after its end (a no-op, or a shutdown between calls).  The random
# choices (order, targets, delays) come from a fixed seed, printed first;
# PGM_FAULT_SEED=N chooses another.  The seed repeats the faults, not the
# machine's timing.
#
# After every fault, and after the run that finishes each round:
# - no process died on a signal.  The server log is scanned for the lines
#   the postmaster writes when a child crashes ("terminated by signal",
#   an exit status other than 0 or 1, "terminating any other active server
#   processes") and for a failed assertion ("TRAP:").  A FATAL exit
#   (terminate, lost client, fast shutdown) has status 1 and is no crash.
#   An immediate shutdown SIGQUITs every child, which leaves at once with
#   status 2 through _exit, running none of its exit handlers (so none of
#   pg_migrate's), or is SIGKILLed after 5 s if it does not; the
#   postmaster expects these deaths and logs none of them.  They are not
#   crashes and the scan does not see them; by the same token the log could
#   not show a crash in that window, and the test claims nothing about one
#   (see ExitCheck.pm).  The crash recovery that follows an immediate
#   shutdown is expected; the start after a fast shutdown must run none.
# - every revision is applied once or not at all: the applied set is a
#   prefix of the chain; an applied revision has exactly one "upgrade" row
#   in the history and its schema object (the table, the column and its
#   revlog row written in the same transaction, the valid index, the
#   procedure's two marks); a transactional revision not applied has none
#   of its objects and no revlog row.  A top-level revision not applied may
#   have kept what its committed statements did (README: "A top-level
#   revision that fails part way is not recorded, yet keeps the statements
#   that committed"), which is why those scripts can run twice.
# - no migrating session, no pg_migrate worker and no migration lock left.
# At the end of each round, CALL migrate_run() with no fault applies every
# revision left, and every check above holds with all applied and no
# INVALID index left.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib $FindBin::RealBin;

use ExitCheck;
use IPC::Run;
use List::Util qw(shuffle);
use MigrationWindow;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

my $seed = $ENV{PGM_FAULT_SEED} // 20261207;
note "fault loop seed: $seed (PGM_FAULT_SEED=$seed repeats these faults)";
srand($seed);

# PGM_FAULT_DECKS=N deals every pair N times per round (more revisions)
my $decks = $ENV{PGM_FAULT_DECKS} // 3;
my $revisions = 30 * $decks;

my $node = PostgreSQL::Test::Cluster->new('hostile_fault_loop');
$node->init;
# A crash is then reported by the iteration that caused it, and the loop
# goes on (Cluster.pm turns this off).
$node->append_conf('postgresql.conf', 'restart_after_crash = on');
$node->start;

my $db = 'faults';
$node->safe_psql('postgres', "CREATE DATABASE $db");
$node->safe_psql(
	$db, q{
CREATE EXTENSION pg_migrate;
CREATE TABLE base (id int PRIMARY KEY, a int NOT NULL);
INSERT INTO base SELECT g, g % 97 FROM generate_series(1, 5000) g;
CREATE TABLE revlog (revision text NOT NULL);
CREATE TABLE marks (mark text PRIMARY KEY);
CREATE PROCEDURE mark_twice(rev text) LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO marks VALUES (rev || ':1') ON CONFLICT DO NOTHING;
	COMMIT;
	PERFORM pg_sleep(CASE WHEN current_setting('test.slow', true) = 'on' THEN 0.3 ELSE 0 END);
	INSERT INTO marks VALUES (rev || ':2') ON CONFLICT DO NOTHING;
	COMMIT;
END $$;
});

# ------------------------------------------------------------------
# The background reader: a query on base every 0.1 s, holding its lock for
# 20 ms, restarted after each shutdown.

my $reader;
my $reader_input = PostgreSQL::Test::Utils::tempdir() . '/reader.sql';
PostgreSQL::Test::Utils::append_to_file($reader_input,
	"SELECT pg_sleep(0.02) FROM base WHERE id = 1 \\watch 0.08\n");

sub ensure_reader
{
	return
	  if $node->safe_psql($db,
		q{SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgm_reader'}) > 0;
	$reader->kill_kill if $reader;
	# from and to files: it runs on its own, whether pumped or not
	$reader = IPC::Run::start(
		[
			$node->installed_command('psql'), '-X', '-At', '-q',
			'-d', $node->connstr($db) . ' application_name=pgm_reader'
		],
		'<', $reader_input, '>', '/dev/null', '2>', '/dev/null');
	return;
}

# ------------------------------------------------------------------
# The revisions of a round: prefix a (first round) or b, 60 of them.

my $slow = sub {
	"SELECT pg_sleep(CASE WHEN current_setting('test.slow', true) = 'on' THEN $_[0] ELSE 0 END);";
};

# The kind of revision i (1-based): table, alter, cic or call.
sub kind
{
	my ($i) = @_;
	return $i % 8 == 0 ? 'call' : $i % 4 == 0 ? 'cic' : $i % 4 == 2 ? 'alter' : 'table';
}

sub top_level { my $k = kind($_[0]); return $k eq 'cic' || $k eq 'call'; }

sub revision_id { return sprintf('%s%02d', $_[0], $_[1]); }

sub register_round
{
	my ($prefix, $project) = @_;
	my @sql;

	for my $i (1 .. $revisions)
	{
		my $id = revision_id($prefix, $i);
		my $kind = kind($i);
		my $up =
			$kind eq 'table'
		  ? "CREATE TABLE $id (id int PRIMARY KEY);\nINSERT INTO revlog VALUES ('$id');\n"
		  . $slow->(0.25)
		  : $kind eq 'alter'
		  ? "ALTER TABLE base ADD COLUMN $id int;\nINSERT INTO revlog VALUES ('$id');"
		  : $kind eq 'cic'
		  ? $slow->(0.3)
		  . "\nCREATE INDEX CONCURRENTLY IF NOT EXISTS ${id}_idx ON base ((a + $i));"
		  : "CALL mark_twice('$id');";
		push @sql,
		  "SELECT migrate_register('$id', \$up\$$up\$up\$, project => '$project');";
	}
	$node->safe_psql($db, join("\n", @sql));
	return;
}

# ------------------------------------------------------------------
# What must hold between calls: see the header.  Returns the list of
# problems found, and the number of revisions applied.

sub check_once
{
	my ($prefix, $project) = @_;
	my $ids = join(',', map { "'" . revision_id($prefix, $_) . "'" } 1 .. $revisions);
	my $rows = $node->safe_psql(
		$db, qq{
SELECT r.rev,
       EXISTS (SELECT FROM migrate.applied a WHERE a.project = '$project' AND a.revision = r.rev),
       (SELECT count(*) FROM migrate.history h
         WHERE h.project = '$project' AND h.revision = r.rev AND h.event = 'upgrade'),
       (SELECT count(*) FROM revlog l WHERE l.revision = r.rev),
       to_regclass(r.rev) IS NOT NULL,
       EXISTS (SELECT FROM pg_attribute
                WHERE attrelid = 'base'::regclass AND attname = r.rev AND NOT attisdropped),
       coalesce((SELECT i.indisvalid::text FROM pg_index i
                  WHERE i.indexrelid = to_regclass(r.rev || '_idx')), 'none'),
       (SELECT count(*) FROM marks m WHERE m.mark LIKE r.rev || ':%')
  FROM unnest(ARRAY[$ids]) WITH ORDINALITY AS r(rev, n)
 ORDER BY r.n});
	my @problems;
	my $napplied = 0;
	my $gap;

	for my $row (split /\n/, $rows)
	{
		my ($id, $applied, $history, $revlog, $table, $column, $index, $marks) =
		  split /\|/, $row;
		my ($i) = $id =~ /(\d+)$/;
		my $kind = kind($i + 0);
		my $made =
			$kind eq 'table' ? ($table eq 't' && $revlog == 1)
		  : $kind eq 'alter' ? ($column eq 't' && $revlog == 1)
		  : $kind eq 'cic' ? $index eq 'true'
		  :                  $marks == 2;

		if ($applied eq 't')
		{
			$napplied++;
			push @problems, "$id is applied after $gap, which is not" if $gap;
			push @problems, "$id is applied with $history upgrade rows in the history"
			  if $history != 1;
			push @problems, "$id is applied, its objects are not all there ($row)"
			  unless $made;
		}
		else
		{
			$gap //= $id;
			push @problems, "$id is not applied, yet has $history upgrade rows in the history"
			  if $history != 0;
			push @problems, "$id is not applied, yet some of its objects are there ($row)"
			  if ($kind eq 'table' || $kind eq 'alter')
			  && ($table eq 't' || $column eq 't' || $revlog != 0);
		}
	}
	return (\@problems, $napplied);
}

# The checks after each fault; $what names it.
sub check_after
{
	my ($prefix, $project, $offset, $what) = @_;

	ExitCheck::settle($node, $db, $what);
	ExitCheck::no_crash($node, $offset, $what);
	ExitCheck::no_lock($node, $db, [$project], $what);
	my ($problems, $napplied) = check_once($prefix, $project);
	is(join("\n", @$problems), '', "$what: every revision applied once or not at all");
	return $napplied;
}

# ------------------------------------------------------------------
# One fault.

my $caller_sql = "SELECT pid FROM pg_stat_activity WHERE application_name = '$ExitCheck::APPNAME'";
my $worker_sql = q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'pg_migrate top-level'};
my %hits;

sub inject
{
	my ($mode, $fault, $lock_timeout, $prefix, $project, $napplied, $what) = @_;
	my ($call, $target);
	my $first = $napplied + 1;

	# migrate_upgrade cannot run a top-level revision: step over one
	if ($mode eq 'upgrade' && $first <= $revisions && top_level($first))
	{
		$node->safe_psql($db,
			"SET pg_migrate.project = '$project'; CALL migrate_run('+1')");
		$first++;
	}
	if ($first > $revisions)
	{
		$call = 'CALL migrate_run()';
	}
	elsif ($mode eq 'upgrade')
	{
		my $last = $first;
		my $len = 1 + int(rand(3));
		$last++
		  while $last < $revisions
		  && $last - $first + 1 < $len
		  && !top_level($last + 1);
		$target = revision_id($prefix, $last);
		$call = "SELECT * FROM migrate_upgrade('$target')";
	}
	else
	{
		my $n = 2 + int(rand(4));
		if ($fault =~ /worker/)
		{
			my $next = $first;
			$next++ until top_level($next) || $next >= $revisions;
			$n = $next - $first + 1 + int(rand(2));
		}
		$n = $revisions - $first + 1 if $first + $n - 1 > $revisions;
		$call = "CALL migrate_run('+$n')";
	}
	$what = "$what: $call, $fault";

	my @before = (
		"SET pg_migrate.project = '$project'",
		'SET test.slow = on',
		'SET client_min_messages = warning');
	push @before, "SET pg_migrate.lock_timeout = '$lock_timeout'"
	  if $lock_timeout ne 'default';
	my $offset = -s $node->logfile;
	my $m = ExitCheck::start_psql($node, $db, \@before, $call);

	# the moment: after the worker has started, for its faults; for the
	# others, after the caller has begun to apply a revision, or one time
	# in four from the start of the call (connecting, locking, planning)
	if ($fault =~ /worker/)
	{
		ExitCheck::wait_for($node, $db, $m, $worker_sql, "$what: the worker starts");
	}
	elsif (rand() >= 0.25)
	{
		ExitCheck::wait_for($node, $db, $m,
			"$caller_sql AND query LIKE 'pg_migrate: %'",
			"$what: the call applies a revision");
	}
	usleep(int(rand(300_000)));

	my $pid;
	my $live = 0;
	if ($fault =~ /^(cancel|terminate) (caller|worker)$/)
	{
		my $signal = $1 eq 'cancel' ? 'pg_cancel_backend' : 'pg_terminate_backend';
		$pid = $node->safe_psql($db, $2 eq 'caller' ? $caller_sql : $worker_sql);
		$live = $node->safe_psql($db, "SELECT $signal($pid)") eq 't' if $pid ne '';
	}
	elsif ($fault eq 'cancel, then terminate caller')
	{
		# the termination finds it stopping its worker, or recording the
		# failure the cancel caused
		$pid = $node->safe_psql($db, $caller_sql);
		if ($pid ne '')
		{
			$live = $node->safe_psql($db, "SELECT pg_cancel_backend($pid)") eq 't';
			usleep(int(rand(100_000)));
			$node->safe_psql($db, "SELECT pg_terminate_backend($pid)");
		}
	}
	elsif ($fault eq 'client loss')
	{
		$live = $node->safe_psql($db, $caller_sql) ne '';
		$m->{harness}->signal('KILL');
	}
	else
	{
		$live = $node->safe_psql($db, $caller_sql) ne '';
		$node->stop($fault eq 'fast stop' ? 'fast' : 'immediate');
	}

	my $ok = ExitCheck::finish($m);
	$live &&= !$ok;
	$hits{$fault}{$live ? 'hit' : 'missed'}++;
	note sprintf('%s: %s; client said: %s', $what,
		$live ? 'interrupted the call' : 'the call had ended',
		join(' | ', grep { /ERROR|FATAL/ } split /\n/, ${ $m->{stderr} }) || '-');

	if ($fault eq 'fast stop' || $fault eq 'immediate stop')
	{
		my $start_offset = -s $node->logfile;
		$node->start;
		ExitCheck::clean_restart($node, $start_offset, $what)
		  if $fault eq 'fast stop';
	}
	return check_after($prefix, $project, $offset, $what);
}

# ------------------------------------------------------------------
# The rounds.

my @pairs = (
	(map { [ 'upgrade', $_ ] }
		  ('cancel caller', 'terminate caller', 'cancel, then terminate caller',
			'client loss', 'fast stop', 'immediate stop')),
	(map { [ 'run', $_ ] }
		  ('cancel caller', 'terminate caller', 'cancel, then terminate caller',
			'cancel worker', 'terminate worker',
			'client loss', 'fast stop', 'immediate stop')));

my $started = time();
for my $round ([ '1ms', 'a', 'loop_1ms' ], [ 'default', 'b', 'loop_default' ])
{
	my ($lock_timeout, $prefix, $project) = @$round;
	my $round_started = time();
	my $napplied = 0;
	my $k = 0;

	register_round($prefix, $project);
	for my $pair (shuffle((@pairs) x $decks))
	{
		$k++;
		ensure_reader();
		$napplied = inject(@$pair, $lock_timeout, $prefix, $project, $napplied,
			"lock_timeout $lock_timeout, fault $k");
	}
	note "lock_timeout $lock_timeout: $napplied of $revisions revisions applied under faults";
	note "lock_timeout $lock_timeout: retries after lock timeouts, in the revisions applied: "
	  . $node->safe_psql($db,
		"SELECT sum(attempts - 1) FROM migrate.applied WHERE project = '$project'");

	# the next run finishes the job
	ensure_reader();
	my $offset = -s $node->logfile;
	my ($out, $err) = ('', '');
	$node->psql(
		$db, "SET pg_migrate.project = '$project'; CALL migrate_run();",
		stdout => \$out,
		stderr => \$err,
		on_error_die => 0);
	is( check_after($prefix, $project, $offset,
			"lock_timeout $lock_timeout, the run after the faults"),
		$revisions,
		"lock_timeout $lock_timeout: the next run applies every revision")
	  or diag $err;
	is( $node->safe_psql(
			$db,
			q{SELECT string_agg(indexrelid::regclass::text, ', ') FROM pg_index
			   WHERE NOT indisvalid}),
		'', "lock_timeout $lock_timeout: no INVALID index is left");
	note sprintf('lock_timeout %s: round took %.1f s', $lock_timeout, time() - $round_started);
}

for my $fault (sort keys %hits)
{
	note sprintf('%-29s interrupted a call %d times, came after its end %d times',
		$fault, $hits{$fault}{hit} // 0, $hits{$fault}{missed} // 0);
	cmp_ok($hits{$fault}{hit} // 0, '>', 0,
		"$fault interrupted a running migration at least once");
}
note sprintf('the fault loop took %.1f s', time() - $started);

$reader->kill_kill;
$node->stop;
ExitCheck::no_crash($node, 0, 'the whole test');
diag "fault loop seed: $seed" unless Test::More->builder->is_passing;
done_testing();
