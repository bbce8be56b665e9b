
# Nothing half-done: a migration whose client vanishes in the middle of a
# script is rolled back by its backend, which notices the lost connection
# while the script still runs (pg_migrate checks the client connection
# while a migration runs), instead of finishing and committing work nobody
# is waiting for.  The state is as before the call, no lock is held, and
# the next migrate_upgrade('head') completes it.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib $FindBin::RealBin;

use MigrationWindow;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

# How long the backend may take to notice.  pg_migrate checks about once a
# second; the margin is for slow, shared machines.  The script sleeps for
# much longer than this, so a backend that does not notice is still there.
my $notice_within = 30;

my $node = PostgreSQL::Test::Cluster->new('client_gone');
$node->init;
$node->start;

my $db = 'gone';
MigrationWindow::setup($node, $db);
my $before = MigrationWindow::snapshot($node, $db);
my $m = MigrationWindow::start($node, $db);

# Kill the client, psql, not the backend: its socket closes under the
# backend, which is asleep in the script and sends nothing until it wakes.
my $killed_at = time();
$m->{harness}->signal('KILL');
MigrationWindow::finish_client($m);

my $gone = 0;
while (time() - $killed_at < $notice_within)
{
	$gone = $node->safe_psql('postgres',
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = $m->{pid}") eq
	  't';
	last if $gone;
	usleep(250_000);
}
ok($gone, "the backend ended within $notice_within s of losing its client")
  or diag sprintf(
	"backend %d still running %.1f s after its client was killed: %s",
	$m->{pid},
	time() - $killed_at,
	$node->safe_psql(
		'postgres',
		"SELECT format('state %s, wait_event %s, in transaction since %s',
		               state, wait_event, xact_start)
		   FROM pg_stat_activity WHERE pid = $m->{pid}"));
note sprintf('backend gone after %.1f s', time() - $killed_at) if $gone;

SKIP:
{
	if (!$gone)
	{
		# Clean up for the node's shutdown; what remains to check would
		# only show what pg_terminate_backend does, not a lost client.
		$node->safe_psql('postgres',
			"SELECT pg_terminate_backend($m->{pid}, 60000)");
		skip 'the backend had to be terminated by the test', 1;
	}

	MigrationWindow::check_as_before($node, $db, $before, 'client gone');
	MigrationWindow::check_completes($node, $db, 'client gone');
}

$node->stop;
done_testing();
