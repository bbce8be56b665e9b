
# The server-side migration folder: with pg_migrate.directory set,
# migrate_upgrade first registers the folder's files (new files added,
# unchanged ones left, an edited file of an applied revision reported as
# drift), and refuses a folder with any bad file whole.  Reading files is
# for roles that may set the parameter.

use strict;
use warnings FATAL => 'all';

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $db = 'app';
my $dir = PostgreSQL::Test::Utils::tempdir('migrations');

# Write one migration file in dbmate's format into the folder.
sub write_file
{
	my ($name, $up, $down) = @_;
	open(my $fh, '>', "$dir/$name") or die "cannot write $dir/$name: $!";
	print $fh "-- migrate:up\n$up\n\n-- migrate:down\n$down\n";
	close($fh);
	return;
}

my $node = PostgreSQL::Test::Cluster->new('main');
$node->init;
$node->start;
$node->safe_psql('postgres', "CREATE DATABASE $db");
$node->safe_psql($db, 'CREATE EXTENSION pg_migrate');
$node->safe_psql($db, "ALTER DATABASE $db SET pg_migrate.directory = '$dir'");

write_file('20240101000000_users.sql', 'CREATE TABLE users (id bigint PRIMARY KEY);',
	'DROP TABLE users;');
write_file('20240102000000_orders.sql',
	'CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint REFERENCES users);',
	'DROP TABLE orders;');

# The upgrade registers the folder, then applies it.
my ($ret, $out, $err) = $node->psql($db,
	"SELECT revision, action FROM migrate_upgrade('head')");
is($ret, 0, 'the first upgrade succeeds');
is( $out,
	"20240101000000_users|applied\n20240102000000_orders|applied",
	'it applies both files, in order');
like($err, qr/synced 2 revisions from ".*" \(pg_migrate layout\): 2 added, 0 updated, 0 drifted/,
	'a NOTICE says what the sync did');
is( $node->safe_psql($db,
		"SELECT parents FROM migrate.revision WHERE revision = '20240102000000_orders'"),
	'{20240101000000_users}', 'each file\'s parent is the one before it');

# A new file is added and applied; the others are left as they are.
write_file('20240103000000_names.sql', 'ALTER TABLE users ADD COLUMN name text;',
	'ALTER TABLE users DROP COLUMN name;');
($ret, $out, $err) = $node->psql($db,
	"SELECT revision, action FROM migrate_upgrade('head')");
is($out, '20240103000000_names|applied', 'a new file is applied');
like($err, qr/: 1 added, 0 updated, 0 drifted/, 'only the new file was registered');

# At head, the sync changes nothing and the upgrade does nothing.
($ret, $out, $err) = $node->psql($db, "SELECT count(*) FROM migrate_upgrade('head')");
is($out, '0', 'at head nothing is applied');
like($err, qr/: 0 added, 0 updated, 0 drifted/, 'and nothing is registered');

# An edited file of an applied revision is drift: the upgrade stops on it.
write_file('20240101000000_users.sql', 'CREATE TABLE users (id int PRIMARY KEY);',
	'DROP TABLE users;');
($ret, $out, $err) = $node->psql($db, "SELECT * FROM migrate_upgrade('head')",
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
isnt($ret, 0, 'an edited applied file stops the upgrade');
like($err, qr/MG006.*applied revision "20240101000000_users" has changed/,
	'with the drift error naming it');
is( $node->safe_psql($db,
		"SELECT revision FROM migrate_validate() WHERE problem = 'checksum drift'"),
	'', 'the failed upgrade rolled its sync back too');
write_file('20240101000000_users.sql', 'CREATE TABLE users (id bigint PRIMARY KEY);',
	'DROP TABLE users;');

# A bad file refuses the whole folder, naming the file; nothing is registered.
write_file('20240104000000_fine.sql', 'SELECT 1;', 'SELECT 1;');
open(my $fh, '>', "$dir/20240105000000_bad.sql") or die;
print $fh "-- migrate:colour red\n-- migrate:up\nSELECT 2;\n";
close($fh);
($ret, $out, $err) = $node->psql($db, "SELECT * FROM migrate_upgrade('head')",
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
isnt($ret, 0, 'a bad file stops the upgrade');
like($err, qr/MG023/, 'with SQLSTATE MG023');
like($err, qr/20240105000000_bad\.sql:1:/, 'naming the file and line');
is($node->safe_psql($db,
		"SELECT count(*) FROM migrate.revision WHERE revision LIKE '2024010[45]%'"),
	'0', 'nothing of the folder was registered');
unlink("$dir/20240105000000_bad.sql");

# A dry run plans from the registry and says it did not read the folder.
($ret, $out, $err) = $node->psql($db,
	"SELECT revision, action FROM migrate_upgrade('head', dry_run => true)");
is($out, '', 'a dry run does not register the folder\'s new file');
like($err, qr/does not read pg_migrate\.directory/, 'and says so');

# Reading files is for roles that may set pg_migrate.directory.
$node->safe_psql(
	$db, q{
	CREATE ROLE regress_deployer LOGIN;
	GRANT CREATE ON SCHEMA public TO regress_deployer;
	GRANT EXECUTE ON FUNCTION migrate_upgrade(text, boolean, text) TO regress_deployer;
});
($ret, $out, $err) = $node->psql($db, "SELECT * FROM migrate_upgrade('head')",
	extra_params => [ '-U', 'regress_deployer', '-v', 'VERBOSITY=verbose' ]);
isnt($ret, 0, 'a role that may not set pg_migrate.directory cannot read it');
like($err, qr/42501.*permission denied to read the migration folder/,
	'with a permission error');
$node->safe_psql($db, 'GRANT SET ON PARAMETER pg_migrate.directory TO regress_deployer');
($ret, $out, $err) = $node->psql($db,
	"SELECT revision, action FROM migrate_upgrade('head')",
	extra_params => [ '-U', 'regress_deployer' ]);
is($ret, 0, 'after GRANT SET ON PARAMETER it can');
is($out, '20240104000000_fine|applied', 'and the new file is applied');
is( $node->safe_psql($db,
		"SELECT role FROM migrate_history() WHERE revision = '20240104000000_fine' AND event = 'upgrade'"),
	'regress_deployer', 'in its name');

$node->stop;
done_testing();
