=pod

=head1 NAME

MigrationWindow - a migration caught half-way, for pg_migrate's TAP tests

=head1 SYNOPSIS

  use FindBin;
  use lib $FindBin::RealBin;
  use MigrationWindow;

  MigrationWindow::setup($node, 'crash_db');
  my $before = MigrationWindow::snapshot($node, 'crash_db');
  my $m = MigrationWindow::start($node, 'crash_db');
  # ... interrupt it: kill $m->{pid}, stop the server, kill the client ...
  MigrationWindow::check_as_before($node, 'crash_db', $before);
  MigrationWindow::check_completes($node, 'crash_db');

=head1 DESCRIPTION

The tests of "nothing half-done" all need the same thing: a database with
one applied revision and two pending ones, the first of which creates a
table and then sleeps, and a client that runs migrate_upgrade('head') and is
caught in that sleep, with the migration lock held and work done that must
not survive.  This module builds it and checks what must hold afterwards.

The sleep happens only when the migrating session has set test.slow = on,
so the upgrade that completes the work afterwards runs at full speed.  The
migrating session is found in pg_stat_activity by its application_name and
the wait event of pg_sleep ('PgSleep'), never by its query text, which
pg_migrate may replace with progress text.

=cut

package MigrationWindow;

use strict;
use warnings FATAL => 'all';

use IPC::Run;
use Time::HiRes qw(usleep);
use PostgreSQL::Test::Utils;
use Test::More;

# The application_name of the migrating session.
our $APPNAME = 'pgm_migrating';

# pg_migrate's migration lock (src/lock.c): an object lock whose class is
# the OID of table migrate.project; query it in a database that has
# pg_migrate.
our $LOCK_FILTER =
  q{locktype = 'object' AND classid = 'migrate.project'::regclass};

# The revisions.  0002 creates a table, then sleeps (statement 2 of 3) when
# the session asks for it, then indexes the table.
my @REVISIONS = (
	[
		'0001_create_users',
		'CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);'
	],
	[
		'0002_create_orders', q{
CREATE TABLE orders (id bigint PRIMARY KEY,
                     user_id bigint NOT NULL REFERENCES users);
SELECT pg_sleep(CASE WHEN current_setting('test.slow', true) = 'on'
                     THEN 600 ELSE 0 END);
CREATE INDEX orders_user_id ON orders (user_id);
}
	],
	[ '0003_add_users_name', 'ALTER TABLE users ADD COLUMN name text;' ]);

=pod

=over

=item setup($node, $db)

Create database $db with the extension, register 0001 and apply it, then
register 0002 and 0003, which stay pending.

=cut

sub setup
{
	my ($node, $db) = @_;
	my ($first, @rest) = @REVISIONS;

	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, 'CREATE EXTENSION pg_migrate');
	$node->safe_psql($db, register_sql($first));
	$node->safe_psql($db, "SELECT * FROM migrate_upgrade('head')");
	$node->safe_psql($db, join("\n", map { register_sql($_) } @rest));
	return;
}

# The SQL that registers one revision ([id, up script]), linear append.
sub register_sql
{
	my ($revision) = @_;
	my ($id, $up) = @$revision;
	return "SELECT migrate_register('$id', \$up\$$up\$up\$);";
}

=pod

=item snapshot($node, $db)

Everything a migration may change, as one hash of strings: the project
row, the registry, the applied set, the history, migrate_status() and the
relations and columns of schema public.

=cut

sub snapshot
{
	my ($node, $db) = @_;
	my %queries = (
		project => 'SELECT string_agg(p::text, E\'\n\' ORDER BY project)
		              FROM migrate.project p',
		registry => 'SELECT string_agg(r::text, E\'\n\' ORDER BY project, revision)
		               FROM migrate.revision r',
		applied => 'SELECT string_agg(a::text, E\'\n\' ORDER BY project, revision)
		              FROM migrate.applied a',
		history => 'SELECT string_agg(h::text, E\'\n\' ORDER BY id)
		              FROM migrate.history h',
		status => 'SELECT s::text FROM migrate_status() s',
		schema => q{SELECT string_agg(format('%s (%s): %s', c.relname, c.relkind,
		                                     (SELECT string_agg(a.attname, ', ' ORDER BY a.attnum)
		                                        FROM pg_attribute a
		                                       WHERE a.attrelid = c.oid AND a.attnum > 0
		                                         AND NOT a.attisdropped)),
		                              E'\n' ORDER BY c.relname)
		              FROM pg_class c
		             WHERE c.relnamespace = 'public'::regnamespace});
	my %state;

	for my $key (keys %queries)
	{
		$state{$key} = $node->safe_psql($db, $queries{$key});
	}
	return \%state;
}

=pod

=item start($node, $db)

Start SELECT * FROM migrate_upgrade('head') with test.slow = on in a
background psql, and wait until its backend sleeps inside 0002's script.
Check that it holds the migration lock and that migrate_status() names it.
Return a hash: harness (the IPC::Run harness of psql), stdout and stderr
(references to its output) and pid (the backend's).

=cut

sub start
{
	my ($node, $db) = @_;
	my ($stdout, $stderr) = ('', '');
	my %m = (stdout => \$stdout, stderr => \$stderr);
	my @cmd = (
		$node->installed_command('psql'), '-X', '-At', '-v', 'ON_ERROR_STOP=1',
		'-d', $node->connstr($db) . " application_name=$APPNAME",
		'-c', 'SET test.slow = on',
		'-c', "SELECT * FROM migrate_upgrade('head')");
	my $found = qq{SELECT pid FROM pg_stat_activity
	                WHERE application_name = '$APPNAME' AND wait_event = 'PgSleep'};
	my $deadline = time() + $PostgreSQL::Test::Utils::timeout_default;

	$m{harness} =
	  IPC::Run::start(\@cmd, '<', \undef, '>', \$stdout, '2>', \$stderr);

	# Poll until the backend sleeps; stop at once if psql ends instead.
	while (1)
	{
		$m{pid} = $node->safe_psql($db, $found);
		last if $m{pid} ne '';
		$m{harness}->pump_nb;
		if (!$m{harness}->pumpable)
		{
			$m{harness}->finish;
			BAIL_OUT("the migrating psql ended before the sleep:\n"
				  . "stdout: $stdout\nstderr: $stderr");
		}
		BAIL_OUT("the migration did not reach the sleep in time")
		  if time() > $deadline;
		usleep(100_000);
	}
	note "migrating backend: pid $m{pid}";

	is( $node->safe_psql(
			$db, "SELECT pid FROM pg_locks WHERE $LOCK_FILTER AND granted"),
		$m{pid},
		'mid-migration: the migrating backend holds the migration lock');
	is($node->safe_psql($db, 'SELECT lock_pid FROM migrate_status()'),
		$m{pid}, 'mid-migration: migrate_status() names the lock holder');
	return \%m;
}

=pod

=item finish_client($m)

Reap the migrating psql (it must have ended, or be ending) and check that
its call did not report success: no applied rows on its output.

=cut

sub finish_client
{
	my ($m) = @_;
	my $ok = $m->{harness}->finish;

	ok(!$ok, 'the migrating client did not see its call succeed');
	unlike(${ $m->{stdout} }, qr/applied/,
		'the migrating client got no applied rows');
	note "migrating client stderr: ${ $m->{stderr} }";
	return;
}

=pod

=item check_as_before($node, $db, $before, $what)

Check that the state is exactly $before (from snapshot()) and that no
migration lock is held.  $what names the interruption in the test names.

=cut

sub check_as_before
{
	my ($node, $db, $before, $what) = @_;
	my $after = snapshot($node, $db);

	for my $key (sort keys %$before)
	{
		is($after->{$key}, $before->{$key},
			"after $what: $key as before the call");
	}
	is($node->safe_psql($db, "SELECT count(*) FROM pg_locks WHERE $LOCK_FILTER"),
		'0', "after $what: no migration lock held");
	return;
}

=pod

=item check_completes($node, $db, $what)

Check that the next migrate_upgrade('head') applies 0002 and 0003 and
leaves nothing pending, with the tables they make.

=cut

sub check_completes
{
	my ($node, $db, $what) = @_;

	is( $node->safe_psql(
			$db, "SELECT revision, action FROM migrate_upgrade('head')"),
		"0002_create_orders|applied\n0003_add_users_name|applied",
		"after $what: the next upgrade applies both pending revisions");
	is( $node->safe_psql(
			$db,
			q{SELECT applied, pending, last_revision FROM migrate_status()}),
		'3|0|0003_add_users_name',
		"after $what: everything applied");
	is( $node->safe_psql(
			$db,
			q{SELECT to_regclass('orders_user_id') IS NOT NULL
			     AND EXISTS (SELECT FROM pg_attribute
			                  WHERE attrelid = 'users'::regclass
			                    AND attname = 'name')}),
		't', "after $what: the pending revisions' schema exists");
	return;
}

=pod

=back

=cut

1;
