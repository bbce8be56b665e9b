
# A fresh database with 10,000 revisions under the default
# max_locks_per_transaction: migrate_upgrade, one transaction, runs out of
# lock table ("out of shared memory", 53200), applies nothing, and its hint
# points to migrate_run; CALL migrate_run, one transaction per revision,
# reaches head with every revision applied and recorded, and leaves no
# migration lock behind.

use strict;
use warnings FATAL => 'all';

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $count = 10000;

my $node = PostgreSQL::Test::Cluster->new('run_many');
$node->init;
$node->start;

my $db = 'run_many';
$node->safe_psql('postgres', "CREATE DATABASE $db");
$node->safe_psql($db, 'CREATE EXTENSION pg_migrate');

# the default is 64 up to PostgreSQL 18, 128 from 19 on
is( $node->safe_psql(
		$db,
		"SELECT setting = boot_val FROM pg_settings WHERE name = 'max_locks_per_transaction'"),
	't',
	'max_locks_per_transaction is the default');

# one call registers them all: a chain, each revision creating a table
my $start = time;
$node->safe_psql(
	$db, qq{
	SELECT count(*) FROM migrate_sync((
	  SELECT jsonb_agg(jsonb_build_object(
	           'revision', format('r%s', lpad(i::text, 5, '0')),
	           'parents', CASE WHEN i = 1 THEN '[]'::jsonb
	                      ELSE jsonb_build_array(format('r%s', lpad((i - 1)::text, 5, '0'))) END,
	           'up', format('CREATE TABLE t%s (id int PRIMARY KEY, note text);', i),
	           'down', format('DROP TABLE t%s;', i)) ORDER BY i)
	    FROM generate_series(1, $count) AS i));
});
note sprintf('registered %d revisions in %.1f s', $count, time - $start);
is($node->safe_psql($db, 'SELECT count(*) FROM migrate_pending()'),
	$count, "$count revisions pending");

# one transaction: out of shared memory, with the hint, nothing applied
my ($out, $err) = ('', '');
$start = time;
my $ret = $node->psql(
	$db, q{\set VERBOSITY verbose
SET client_min_messages = warning;
SELECT count(*) FROM migrate_upgrade();},
	stdout => \$out,
	stderr => \$err);
note sprintf('migrate_upgrade failed after %.1f s', time - $start);
isnt($ret, 0, 'migrate_upgrade fails');
like($err, qr/ERROR:  53200: out of shared memory/,
	'it runs out of shared memory (53200)');
like(
	$err,
	qr/HINT:  .*max_locks_per_transaction.*CALL migrate_run\(\)/,
	'the hint points to max_locks_per_transaction and CALL migrate_run()');
is( $node->safe_psql(
		$db, q{SELECT (SELECT count(*) FROM migrate.applied)
		       || ' ' || (SELECT count(*) FROM pg_class WHERE relname ~ '^t[0-9]+$')}),
	'0 0',
	'nothing applied, no table created');
is( $node->safe_psql(
		$db, q{SELECT string_agg(event || ' ' || sqlstate, ',') FROM migrate.history
		       WHERE event LIKE '% failed'}),
	'upgrade failed 53200',
	'the failure is recorded');

# one transaction per revision: head
($out, $err) = ('', '');
$start = time;
$ret = $node->psql(
	$db, q{SET client_min_messages = warning;
CALL migrate_run();},
	stdout => \$out,
	stderr => \$err);
note sprintf('migrate_run took %.1f s', time - $start);
is($ret, 0, 'CALL migrate_run() succeeds') or diag $err;
is( $node->safe_psql(
		$db, q{SELECT (SELECT count(*) FROM migrate.applied)
		       || ' ' || (SELECT count(*) FROM migrate.history WHERE event = 'upgrade')
		       || ' ' || (SELECT count(*) FROM pg_class WHERE relname ~ '^t[0-9]+$' AND relkind = 'r')}),
	"$count $count $count",
	'every revision applied, recorded and run');
is($node->safe_psql($db, 'SELECT revision FROM migrate_current()'),
	sprintf('r%05d', $count), 'at head');
is($node->safe_psql($db, 'SELECT count(*) FROM migrate_pending()'),
	'0', 'nothing pending');
is( $node->safe_psql(
		$db, q{SELECT count(*) FROM pg_locks
		       WHERE locktype = 'object' AND classid = 'migrate.project'::regclass}),
	'0',
	'no migration lock is left');
is($node->safe_psql($db, 'SELECT count(*) FROM migrate_upgrade()'),
	'0', 'migrate_upgrade finds nothing to do');

$node->stop;
done_testing();
