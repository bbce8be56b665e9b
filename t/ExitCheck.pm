=pod

=head1 NAME

ExitCheck - interrupted migrations, and what must hold after them, for
pg_migrate's hostile TAP tests (t/011_hostile_exits.pl,
t/012_hostile_fault_loop.pl)

=head1 SYNOPSIS

  use FindBin;
  use lib $FindBin::RealBin;
  use ExitCheck;

  my $offset = -s $node->logfile;
  my $m = ExitCheck::start_psql($node, $db, ['SET test.slow = on'],
      'CALL migrate_run()');
  # ... interrupt it ...
  ExitCheck::finish($m);
  ExitCheck::settle($node, $db, 'case');
  ExitCheck::no_crash($node, $offset, 'case');
  ExitCheck::no_lock($node, $db, ['default'], 'case');

=head1 DESCRIPTION

A process of the server that dies on a signal (a segfault, an assertion
failure) makes the postmaster restart the whole cluster, every session of
every database with it.  The hostile tests interrupt migrations in every
way a process can be told to exit and check afterwards that no process
died that way, that the migration lock is free and that no pg_migrate
worker is left.  This module holds what both tests need for that.

What no_crash counts as a crash.  The postmaster logs the end of every
child process that did not exit with status 0 or 1: "terminated by signal
N" (a segfault is 11, a failed assertion aborts, 6), "exited with exit code
N" for another status, then "terminating any other active server processes"
as it restarts the others.  A failed assertion also prints "TRAP:" first.
All of these are crashes.  FATAL errors (pg_terminate_backend, a lost
client, a fast shutdown) exit with status 1 and are logged by the process
itself, not as a crash.  An immediate shutdown is the one exception the
tests meet: the postmaster sends SIGQUIT to every child, and the children
leave at once with status 2 without running their exit handlers (so the
lock probe of src/lock.c cannot fire there), or are killed with SIGKILL if
they take too long; the postmaster expects this and logs none of these
exits.  So the log shows no crash line for an immediate shutdown, and any
crash line there would be a real crash, before the shutdown began.

=cut

package ExitCheck;

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib $FindBin::RealBin;

use IPC::Run;
use MigrationWindow;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

# The application_name of the migrating session.
our $APPNAME = 'pgm_hostile';

# The server log lines that mean a process crashed (see above).
our $CRASH_RE = qr/terminated by signal|exited with exit code [2-9]|exited with exit code [1-9][0-9]|terminating any other active server processes|all server processes terminated|TRAP: |PANIC: /;

# pg_migrate's own background processes (backend_type in pg_stat_activity).
our $WORKER_FILTER = q{backend_type LIKE 'pg_migrate%'};

=pod

=over

=item start_psql($node, $db, \@before, $call)

Start psql in the background on $db with application_name $APPNAME,
running each statement of @before, then $call, each as a -c of its own.
Returns a hash: harness, stdout and stderr (references to the output).

=cut

sub start_psql
{
	my ($node, $db, $before, $call) = @_;
	my ($stdout, $stderr) = ('', '');
	my @cmd = (
		$node->installed_command('psql'), '-X', '-At', '-v', 'ON_ERROR_STOP=1',
		'-d', $node->connstr($db) . " application_name=$APPNAME",
		(map { ('-c', $_) } @$before), '-c', $call);
	my %m = (stdout => \$stdout, stderr => \$stderr);

	$m{harness} =
	  IPC::Run::start(\@cmd, '<', \undef, '>', \$stdout, '2>', \$stderr);
	return \%m;
}

=pod

=item wait_for($node, $db, $m, $sql, $what)

Poll $sql until it returns a non-empty value, while the psql of $m runs;
return the value.  Returns undef when psql ends first (its output is then
in $m), and bails out after the default timeout.

=cut

sub wait_for
{
	my ($node, $db, $m, $sql, $what) = @_;
	my $deadline = time() + $PostgreSQL::Test::Utils::timeout_default;

	while (1)
	{
		my $got = $node->safe_psql($db, $sql);
		return $got if $got ne '';
		$m->{harness}->pump_nb;
		return undef unless $m->{harness}->pumpable;
		BAIL_OUT("timed out waiting for $what") if time() > $deadline;
		usleep(20_000);
	}
}

=pod

=item finish($m)

Wait for the psql of $m to end; return whether it succeeded.

=cut

sub finish
{
	my ($m) = @_;
	my $ok = eval { $m->{harness}->finish };
	return $ok ? 1 : 0;
}

=pod

=item settle($node, $db, $what)

Wait until the migrating session and every pg_migrate worker have gone
(an exiting backend may still be stopping its worker when its client sees
the connection close); fail the test if they do not within the default
timeout.

=cut

sub settle
{
	my ($node, $db, $what) = @_;
	my $gone = $node->poll_query_until(
		$db, qq{SELECT count(*) = 0 FROM pg_stat_activity
		         WHERE application_name = '$APPNAME' OR $WORKER_FILTER});
	ok($gone, "$what: no migrating session and no pg_migrate worker is left")
	  or diag $node->safe_psql($db,
		qq{SELECT string_agg(format('%s %s %s %s', pid, backend_type, state, wait_event), E'\n')
		     FROM pg_stat_activity
		    WHERE application_name = '$APPNAME' OR $WORKER_FILTER});
	return $gone;
}

=pod

=item no_crash($node, $offset, $what)

Check that the server log from byte $offset on shows no process that
died on a signal or otherwise crashed (see above); returns the log from
$offset on.

=cut

sub no_crash
{
	my ($node, $offset, $what) = @_;
	my $log = slurp_file($node->logfile, $offset);
	my @crashes = grep { /$CRASH_RE/ } split /\n/, $log;

	ok(!@crashes, "$what: no process died on a signal")
	  or diag join("\n", @crashes);
	return $log;
}

=pod

=item no_lock($node, $db, \@projects, $what)

Check that no migration lock is held, in pg_locks and as each project's
migrate_status() says.

=cut

sub no_lock
{
	my ($node, $db, $projects, $what) = @_;
	my $status = join(', ',
		map { "(SELECT lock_pid FROM migrate_status(project => '$_'))" }
		  @$projects);

	is( $node->safe_psql(
			$db,
			"SELECT 'locks ' || (SELECT count(*) FROM pg_locks WHERE $MigrationWindow::LOCK_FILTER)"
			  . " || ', holders ' || concat_ws(',', $status) || '.'"),
		'locks 0, holders .', "$what: no migration lock is held");
	return;
}

=pod

=item clean_restart($node, $offset, $what)

Check that the server started from the log offset $offset on after a clean
shutdown: no crash recovery ran.

=cut

sub clean_restart
{
	my ($node, $offset, $what) = @_;
	my $log = slurp_file($node->logfile, $offset);

	like($log, qr/database system was shut down at/,
		"$what: the server had shut down cleanly");
	unlike($log,
		qr/not properly shut down|automatic recovery in progress|database system was interrupted|redo starts at/,
		"$what: the next start ran no crash recovery");
	return;
}

=pod

=back

=cut

1;
