
# Nothing half-done: a migration whose backend is killed, or whose server
# crashes, in the middle of a script leaves the state exactly as before the
# call, holds no lock, and the next migrate_upgrade('head') completes it.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib $FindBin::RealBin;

use MigrationWindow;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('crash');
$node->init;
# Cluster.pm turns this off; a backend crash must be followed by crash
# recovery in place, as on a production server.
$node->append_conf('postgresql.conf', 'restart_after_crash = on');
$node->start;

# (a) The migrating backend is killed with SIGKILL: the postmaster resets
# every backend and recovers from the WAL, the migration's transaction
# never committed.
{
	my $db = 'killed';
	MigrationWindow::setup($node, $db);
	my $before = MigrationWindow::snapshot($node, $db);
	my $m = MigrationWindow::start($node, $db);
	my $offset = -s $node->logfile;

	kill 'KILL', $m->{pid};
	$node->wait_for_log(
		# "client backend" from PostgreSQL 18 on
		qr/(?:server process|client backend) \(PID $m->{pid}\) was terminated by signal 9/,
		$offset);
	$node->wait_for_log(qr/all server processes terminated; reinitializing/,
		$offset);
	# (before poll_query_until: see t/009_toplevel.pl)
	$node->wait_for_log(qr/database system is ready to accept connections/,
		$offset);
	$node->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()')
	  or die 'the server did not come back after the crash';
	pass('backend killed mid-script; the server recovered');

	MigrationWindow::finish_client($m);
	MigrationWindow::check_as_before($node, $db, $before, 'SIGKILL');
	MigrationWindow::check_completes($node, $db, 'SIGKILL');
}

# (b) The server stops in immediate mode (no shutdown checkpoint, like a
# power cut for the database) and starts again.
{
	my $db = 'stopped';
	MigrationWindow::setup($node, $db);
	my $before = MigrationWindow::snapshot($node, $db);
	my $m = MigrationWindow::start($node, $db);

	$node->stop('immediate');
	$node->start;
	pass('server stopped in immediate mode mid-script, then started');

	MigrationWindow::finish_client($m);
	MigrationWindow::check_as_before($node, $db, $before, 'immediate stop');
	MigrationWindow::check_completes($node, $db, 'immediate stop');
}

$node->stop;
done_testing();
