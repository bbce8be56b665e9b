
# A streaming standby: pg_migrate's state replicates with the WAL, so
# migrate_status(), migrate_history() and migrate_check() there show the
# primary's applied state; an upgrade there is refused with MG014 before
# anything else; a dry run works; and what the primary applies next shows up
# after replay.

use strict;
use warnings FATAL => 'all';

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $db = 'app';

# Register one revision (linear append) on $node.
sub register
{
	my ($node, $id, $up) = @_;
	$node->safe_psql($db, "SELECT migrate_register('$id', \$up\$$up\$up\$)");
	return;
}

# The same query on both nodes gives the same output.
sub same_on_both
{
	my ($primary, $standby, $query, $name) = @_;
	my $want = $primary->safe_psql($db, $query);
	isnt($want, '', "$name: the primary has something to compare");
	is($standby->safe_psql($db, $query), $want, $name);
	return;
}

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->start;

$primary->safe_psql('postgres', "CREATE DATABASE $db");
$primary->safe_psql($db, 'CREATE EXTENSION pg_migrate');
register($primary, '0001_create_users',
	'CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);');
register($primary, '0002_create_orders',
	'CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint REFERENCES users);');
$primary->safe_psql($db, "SELECT * FROM migrate_upgrade('head')");
register($primary, '0003_add_users_name',
	'ALTER TABLE users ADD COLUMN name text;');

$primary->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->start;
$primary->wait_for_catchup($standby);

is($standby->safe_psql($db, 'SELECT pg_is_in_recovery()'),
	't', 'the standby is in recovery');

# Reading the state works there and shows the primary's.
is( $standby->safe_psql(
		$db,
		'SELECT applied, pending, applied_heads, registry_heads, last_revision
		   FROM migrate_status()'),
	'2|1|{0002_create_orders}|{0003_add_users_name}|0002_create_orders',
	'migrate_status() on the standby: two applied, one pending');
same_on_both($primary, $standby, 'SELECT s::text FROM migrate_status() s',
	'migrate_status() on the standby equals the primary\'s');
same_on_both(
	$primary, $standby,
	'SELECT string_agg(h::text, E\'\n\' ORDER BY id) FROM migrate_history() h',
	'migrate_history() on the standby equals the primary\'s');

# An upgrade is refused with MG014, before anything else is tried.
my ($stdout, $stderr);
my $rc = $standby->psql(
	$db,
	"\\set VERBOSITY verbose\nSELECT * FROM migrate_upgrade('head')",
	stdout => \$stdout,
	stderr => \$stderr);
isnt($rc, 0, 'migrate_upgrade(\'head\') on the standby fails');
like(
	$stderr,
	qr/ERROR:  MG014: migrate_upgrade cannot run on a standby server/,
	'the refusal has SQLSTATE MG014 and says why');
like($stderr, qr/HINT:  Connect to the primary\./,
	'the refusal says what to do');

# A dry run works there: it takes no lock and changes nothing.
is( $standby->safe_psql(
		$db,
		"SELECT revision, action, statements
		   FROM migrate_upgrade('head', dry_run => true)"),
	'0003_add_users_name|pending|1',
	'a dry run on the standby shows the pending revision');

# migrate_check() works there (it only reads): not ok, one revision pending.
$rc = $standby->psql(
	$db,
	"\\set VERBOSITY verbose\nSELECT migrate_check()",
	stdout => \$stdout,
	stderr => \$stderr);
isnt($rc, 0, 'migrate_check() on the standby fails while a revision is pending');
like(
	$stderr,
	qr/ERROR:  MG024: project "default" has 1 pending revision\n.*0003_add_users_name/s,
	'the check on the standby names the pending revision, with SQLSTATE MG024');

# The primary moves on: another revision registered, and both applied.
register($primary, '0004_add_orders_total',
	'ALTER TABLE orders ADD COLUMN total numeric;');
is( $primary->safe_psql(
		$db, "SELECT revision, action FROM migrate_upgrade('head')"),
	"0003_add_users_name|applied\n0004_add_orders_total|applied",
	'the primary applies two more revisions');
$primary->wait_for_catchup($standby);

is( $standby->safe_psql(
		$db,
		'SELECT applied, pending, applied_heads, last_revision
		   FROM migrate_status()'),
	'4|0|{0004_add_orders_total}|0004_add_orders_total',
	'after replay, migrate_status() on the standby shows all four applied');
same_on_both($primary, $standby, 'SELECT s::text FROM migrate_status() s',
	'after replay, migrate_status() on the standby equals the primary\'s');
same_on_both(
	$primary, $standby,
	'SELECT string_agg(h::text, E\'\n\' ORDER BY id) FROM migrate_history() h',
	'after replay, migrate_history() on the standby equals the primary\'s');
is( $standby->safe_psql(
		$db,
		"SELECT count(*) FROM migrate_upgrade('head', dry_run => true)"),
	'0', 'after replay, a dry run on the standby finds nothing to do');
is( $standby->safe_psql($db, 'SELECT migrate_check()'),
	'ok: project "default" at head 0004_add_orders_total (4 applied, none pending, no drift)',
	'after replay, migrate_check() on the standby is ok');
is( $standby->safe_psql(
		$db,
		q{SELECT string_agg(attrelid::regclass || '.' || attname, ' '
		                    ORDER BY attrelid::regclass::text, attnum)
		    FROM pg_attribute
		   WHERE attrelid IN ('users'::regclass, 'orders'::regclass)
		     AND attnum > 0 AND NOT attisdropped}),
	'orders.id orders.user_id orders.total users.id users.email users.name',
	'after replay, the standby has the schema the revisions made');

$standby->stop;
$primary->stop;
done_testing();
