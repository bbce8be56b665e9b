
# The pg_migrate client program: its exit statuses, passwords masked in
# every connection string it prints, connection retries while a server
# comes up, Ctrl-C and SIGTERM cancelling a migration that then leaves
# nothing applied, NOTICE progress with timestamps, --json, and the folders
# other tools write (dbmate, golang-migrate, Flyway, diesel, sqlx) loaded
# and upgraded.
#
# The client is the installed one, found on PATH (pg_config --bindir).

use strict;
use warnings FATAL => 'all';

use IPC::Run;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

# The fixture folders of the file reader's tests: test/fixtures under the
# tree the tests run from (.ci/suites/tap.sh copies them next to t/).
my $fixtures = "$ENV{TESTDIR}/test/fixtures";

# A line of progress: "2025-01-31 12:34:56.789 UTC  ..."
my $ts = qr/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \S+  /;

my $secret = 's3cr3t-Pa55word';

my $node = PostgreSQL::Test::Cluster->new('client');
$node->init;
$node->start;
my $host = $node->host;
my $port = $node->port;
$ENV{PGHOST} = $host;
$ENV{PGPORT} = $port;
delete $ENV{PGPASSWORD};
delete $ENV{PGDATABASE};

# A port nothing listens on, in the same socket directory.
my $dead_port = PostgreSQL::Test::Cluster::get_free_port();

# Run the client; return (exit status, stdout, stderr).  stdin is empty,
# so it never prompts.
sub client
{
	my (@args) = @_;
	my ($stdout, $stderr) = ('', '');
	print "# Running: pg_migrate @args\n";
	IPC::Run::run([ 'pg_migrate', @args ], '<', \undef, '>', \$stdout,
		'2>', \$stderr);
	die "pg_migrate ended by signal " . ($? & 127) if $? & 127;
	return ($? >> 8, $stdout, $stderr);
}

# Run the client and check its exit status; return (stdout, stderr).
sub client_is
{
	my ($expected, $name, @args) = @_;
	my ($rc, $out, $err) = client(@args);
	is($rc, $expected, "$name: exit status $expected")
	  or diag("stdout:\n$out\nstderr:\n$err");
	return ($out, $err);
}

# A new database with the extension.
sub new_db
{
	my ($db) = @_;
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, 'CREATE EXTENSION pg_migrate');
	return $db;
}

# A folder of migration files in pg_migrate's (dbmate's) format:
# [name, up, down] each.
sub write_folder
{
	my ($dir, @files) = @_;
	mkdir $dir unless -d $dir;
	for my $f (@files)
	{
		my ($name, $up, $down) = @$f;
		open(my $fh, '>', "$dir/$name.sql") or die "cannot write $dir/$name.sql: $!";
		print $fh "-- migrate:up\n$up\n";
		print $fh "-- migrate:down\n$down\n" if defined $down;
		close($fh);
	}
	return $dir;
}

sub json_ok
{
	my ($text, $name) = @_;
	my $doc = eval { decode_json($text) };
	ok(defined $doc && ref $doc eq 'HASH', "$name: --json prints one JSON object")
	  or diag("not JSON: $text ($@)");
	return $doc // {};
}

# ------------------------------------------------------------- usage: 2

{
	my ($rc, $out, $err) = client('--help');
	is($rc, 0, '--help exits 0');
	is($err, '', '--help prints nothing on stderr');
	for my $word (
		qw(sync up down plan status check history validate stamp
		--dir --layout --project --dry-run --per-revision --limit --json --quiet
		--dbname --host --port --username --connect-retries
		--connect-timeout SIGINT SIGTERM 130 143 ****))
	{
		like($out, qr/\Q$word\E/, "--help documents $word");
	}
	like($out, qr/^  2 .*bad usage/m,         '--help documents exit status 2');
	like($out, qr/^  3 .*could not connect/m, '--help documents exit status 3');
	like($out, qr/^  1 .*failed/m,            '--help documents exit status 1');
	($rc, $out, $err) = client('--version');
	is($rc, 0, '--version exits 0');
	like($out, qr/^pg_migrate \d+\.\d+/, '--version prints the version');
}

client_is(2, 'no command');
client_is(2, 'unknown command', 'migrate');
client_is(2, 'unknown option', '--frobnicate', 'status');
client_is(2, 'down without a target', 'down');
client_is(2, 'stamp without a target', 'stamp');
client_is(2, 'sync without a folder', 'sync');
client_is(2, 'status with an argument', 'status', 'head');
client_is(2, 'too many arguments', 'up', 'head', 'more');
client_is(2, '--limit on another command', '--limit', '5', 'status');
client_is(2, 'a bad --connect-retries', '--connect-retries', 'many', 'status');
client_is(2, '--dir on history', '--dir', '/tmp', 'history');
client_is(2, 'an unknown layout', '--layout', 'liquibase', 'sync', '/tmp');
client_is(2, '--per-revision on stamp', '--per-revision', 'stamp', 'base');
client_is(2, '--per-revision with --dry-run', '--per-revision', '--dry-run', 'up');
{
	my ($out, $err) = client_is(2, 'unknown command', 'frobnicate');
	like($err, qr/pg_migrate: error: unknown command "frobnicate"/, 'says which command');
	like($err, qr/Try "pg_migrate --help"/, 'and points to --help');
}

# ------------------------------------------- a first project: exit 0 and 1

my $base = PostgreSQL::Test::Utils::tempdir('client');
my $app = new_db('app');
my $dir = write_folder(
	"$base/app",
	[ '0001_users', 'CREATE TABLE users (id bigint PRIMARY KEY);', 'DROP TABLE users;' ],
	[
		'0002_orders',
		'CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint REFERENCES users);',
		'DROP TABLE orders;'
	],
	[ '0003_names', 'ALTER TABLE users ADD COLUMN name text;', 'ALTER TABLE users DROP COLUMN name;' ]);

{
	my ($out, $err) = client_is(0, 'sync', '-d', $app, 'sync', $dir);
	like($out, qr/^0001_users\s+added$/m, 'sync lists what it added');
	like($out, qr/synced 3 revisions from .*: 3 added, 0 updated, 0 drifted, 0 unchanged/,
		'sync counts it');
	like($err, qr/^${ts}connecting to host=\S+ port=$port dbname=$app/m,
		'progress on stderr, with a timestamp: where it connects');
	like($err, qr/^${ts}read 3 revisions from .* \(pg_migrate layout\)/m,
		'and what it read');
	is( $node->safe_psql($app, 'SELECT count(*) FROM migrate_sources()'),
		'3', 'three revisions are registered');
	is($node->safe_psql($app, 'SELECT count(*) FROM migrate.applied'),
		'0', 'none is applied');
}

# the second sync sends nothing: every hash matches
{
	my ($out, $err) = client_is(0, 'sync again', '-d', $app, '--json', 'sync', $dir);
	my $doc = json_ok($out, 'sync again');
	is($doc->{sync}{sent},      0, 'an unchanged folder sends nothing');
	is($doc->{sync}{unchanged}, 3, 'and finds all three unchanged');
	is($doc->{sync}{layout}, 'pg_migrate', 'in the layout recorded');
	is($doc->{sync}{compared}, JSON::PP::false, 'and compares nothing');
	like($err, qr/^${ts}the registry holds this folder as it is: nothing to compare or send$/m,
		'without comparing: the first sync recorded the folder');
	is($doc->{ok},              JSON::PP::true, '"ok" is true');
	is($doc->{exit_code},       0, '"exit_code" is 0');
}

{
	my ($out, $err) = client_is(0, 'plan', '-d', $app, 'plan');
	like($out, qr/^0001_users\s+pending/m, 'plan shows the pending revisions');
	like($out, qr/would apply 3 revisions/, 'and says nothing changed');
	is($node->safe_psql($app, 'SELECT count(*) FROM migrate.applied'),
		'0', 'plan applies nothing');
}

{
	my ($out, $err) = client_is(1, 'check with pending revisions', '-d', $app, 'check');
	like($out, qr/^not ok: project "default" has 3 pending revisions$/,
		'check says why, in one line: migrate_check()\'s message');
	is(scalar(split /\n/, $out), 1, 'one line');
	like($err, qr/MG024: .*\n.*DETAIL:  Pending revisions, in the order an upgrade applies them: 0001_users, 0002_orders, 0003_names\./,
		'stderr has the whole error, with the pending revisions');
}

{
	my ($out, $err) = client_is(0, 'up --dir', '-d', $app, 'up', '--dir', $dir);
	like($out, qr/^0001_users\s+applied\s+[\d.]+\s+1\s+1$/m, 'up lists the applied revisions');
	like($out, qr/applied 3 revisions in [\d.]+ s/, 'and counts them');
	like($err, qr/^${ts}NOTICE:  applying 0001_users \(1\/3\)$/m,
		'the server\'s NOTICE progress streams to stderr with timestamps');
	like($err, qr/^${ts}NOTICE:  applying 0003_names \(3\/3\)$/m, 'for every revision');
	like($err, qr/0 added, 0 updated, 0 drifted, 3 unchanged/, 'the sync sent nothing');
}

{
	my ($out, $err) = client_is(0, 'up at head', '-d', $app, 'up', '--dir', $dir);
	like($out, qr/nothing to do: already at head/, 'a second up has nothing to do');
	like($err, qr/holds this folder as it is/, 'and neither parses nor compares the folder');
	($out, $err) = client_is(0, 'check at head', '-d', $app, 'check');
	like($out, qr/^ok: project "default" at head 0003_names \(3 applied, none pending, no drift\)$/,
		'check says ok in one line');
	($out, $err) = client_is(0, 'status', '-d', $app, 'status');
	like($out, qr/^pending\s+0$/m,                  'status shows the counts');
	like($out, qr/^applied_heads\s+0003_names$/m, 'and the heads');
	($out, $err) = client_is(0, 'history', '-d', $app, 'history', '--limit', '2');
	like($out, qr/^id\s+event\s+revision/m, 'history prints a table');
	is(scalar(() = $out =~ /^\s*\d+\s+upgrade\s/mg), 2, '--limit limits it');
	($out, $err) = client_is(0, 'validate', '-d', $app, 'validate');
	like($out, qr/no problems found/, 'validate finds nothing');
	($out, $err) = client_is(0, 'quiet', '-q', '-d', $app, 'status');
	is($err, '', '--quiet prints no progress');
}

# the folder the client recorded: a registration by hand forgets it, and
# the next sync compares every revision again, and says what is not in
# the folder; it records the folder again once the registry holds exactly
# that folder
{
	$node->safe_psql($app,
		q{SELECT migrate_register('0004_by_hand', 'SELECT 4', parents => '{0003_names}')});
	my ($out, $err) = client_is(0, 'sync after a registration by hand',
		'-d', $app, '--json', 'sync', $dir);
	unlike($err, qr/holds this folder as it is/, 'the record was forgotten');
	like($err, qr/1 registered revision is not in /, 'the comparison ran, and warns');
	my $doc = json_ok($out, 'sync after a registration by hand');
	is($doc->{sync}{sent}, 0, 'and sends nothing');
	is($doc->{sync}{compared}, JSON::PP::true, 'having compared every revision');
	$node->safe_psql($app, q{SELECT migrate_unregister('0004_by_hand')});
	($out, $err) = client_is(0, 'sync with the registry as the folder', '-d', $app, 'sync', $dir);
	unlike($err, qr/holds this folder as it is/,
		'not recorded while the registry held more than the folder');
	($out, $err) = client_is(0, 'sync recorded again', '-d', $app, 'sync', $dir);
	like($err, qr/holds this folder as it is/, 'recorded again');
}

# --json, for every command
for my $cmd ([ 'status' ], [ 'check' ], [ 'history' ], [ 'validate' ],
	[ 'plan' ], [ 'up', '--dir', $dir ], [ 'sync', $dir ],
	[ 'down', '0002_orders', '--dry-run' ])
{
	my ($out, $err) = client_is(0, "--json @$cmd", '-d', $app, '--json', @$cmd);
	my $doc = json_ok($out, "@$cmd");
	is($doc->{command}, $cmd->[0], "@$cmd: \"command\" names it");
	is($doc->{exit_code}, 0, "@$cmd: \"exit_code\" 0");
}
{
	my (undef, $out) = client('-d', $app, '--json', 'status');
	my $doc = decode_json($out);
	is_deeply($doc->{status}{applied_heads}, ['0003_names'], 'text[] columns are JSON arrays');
	is($doc->{status}{applied}, 3, 'integers are JSON numbers');
	(undef, $out) = client('-d', $app, '--json', 'up', '--dir', $dir);
	$doc = decode_json($out);
	is_deeply($doc->{steps}, [], 'the no-op up has no steps');
	is($doc->{sync}{sent}, 0, 'and sent nothing');
}

# down, stamp, and back up
{
	my ($out) = client_is(0, 'down', '-d', $app, 'down', '0001_users');
	like($out, qr/^0003_names\s+revert/m, 'down reverts, children first');
	like($out, qr/reverted 2 revisions/, 'and counts');
	client_is(1, 'check after down', '-d', $app, 'check');
	($out) = client_is(0, 'stamp', '-d', $app, 'stamp', 'head');
	like($out, qr/^0002_orders\s+stamped$/m, 'stamp marks without running');
	client_is(0, 'stamp base', '-d', $app, 'stamp', '0001_users');
	($out) = client_is(0, 'up again', '-d', $app, 'up');
	like($out, qr/applied 2 revisions/, 'up applies what down reverted');
}

# bad targets and arguments: 2, nothing run
{
	my ($out, $err) = client_is(2, 'an unknown target', '-d', $app, 'up', 'nosuch');
	like($err, qr/^${ts}ERROR:  MG002: unknown target "nosuch"/m,
		'the server\'s error, with its SQLSTATE');
	($out, $err) = client_is(2, 'an unknown target, --json', '-d', $app, '--json', 'down', 'nosuch');
	my $doc = json_ok($out, 'a failure');
	is($doc->{error}{sqlstate}, 'MG002', '"error" has the SQLSTATE');
	is($doc->{ok}, JSON::PP::false, '"ok" is false');
	is($doc->{exit_code}, 2, '"exit_code" is 2');
	client_is(2, 'an invalid project name', '-d', $app, '--project', 'no such', 'status');
}

# bad files: 2, nothing registered, every problem listed
{
	my $bad = write_folder("$base/bad", [ '0001_ok', 'SELECT 1;' ]);
	open(my $fh, '>', "$bad/0002_broken.sql") or die;
	print $fh "-- migrate:down\nDROP TABLE x;\n-- migrate:up\nCREATE TABLE x ();\n";
	close($fh);
	my $db = new_db('badfiles');
	my ($out, $err) = client_is(2, 'a bad file', '-d', $db, 'up', '--dir', $bad);
	like($err, qr/ERROR:  the migration folder ".*" has 1 problem; nothing was registered/,
		'the folder is refused');
	like($err, qr/0002_broken\.sql:1: /, 'the problem names the file and line');
	is($node->safe_psql($db, 'SELECT count(*) FROM migrate_sources()'),
		'0', 'nothing was registered');
	($out, $err) = client_is(2, 'a bad file, --json', '-d', $db, '--json', 'sync', $bad);
	my $doc = json_ok($out, 'bad files');
	like($doc->{error}{problems}[0], qr/0002_broken\.sql:1:/, '"error" lists the problems');

	mkdir "$base/empty";
	($out, $err) = client_is(2, 'an empty folder', '-d', $db, 'sync', "$base/empty");
	like($err, qr/ERROR:  /, 'is refused');
	if (-d "$fixtures/bad")
	{
		for my $case (qw(duplicate_id invalid_utf8 mixed_layouts))
		{
			next unless -d "$fixtures/bad/$case";
			client_is(2, "fixture bad/$case", '-d', $db, 'sync', "$fixtures/bad/$case");
		}
		is($node->safe_psql($db, 'SELECT count(*) FROM migrate_sources()'),
			'0', 'no bad fixture registered anything');
	}
}

# a migration that fails: 1, the whole call rolled back
{
	my $db = new_db('failing');
	my $fail = write_folder(
		"$base/failing",
		[ '0001_users',  'CREATE TABLE users (id bigint PRIMARY KEY);' ],
		[ '0002_broken', "CREATE TABLE orders (id bigint);\nINSERT INTO nosuch VALUES (1);" ]);
	my ($out, $err) = client_is(1, 'a failing migration', '-d', $db, 'up', '--dir', $fail);
	like($err, qr/^${ts}ERROR:  42P01: relation "nosuch" does not exist$/m,
		'the statement\'s own error and SQLSTATE');
	like($err, qr/CONTEXT:  .*0002_broken/, 'with the server\'s context naming the revision');
	is($node->safe_psql($db, 'SELECT count(*) FROM migrate.applied'),
		'0', 'nothing is applied: the revision before it rolled back too');
	is($node->safe_psql($db, "SELECT to_regclass('users') IS NULL"), 't', 'no table was left');
	($out, $err) = client_is(1, 'a failing migration, --json', '-d', $db, '--json', 'up');
	my $doc = json_ok($out, 'failed migration');
	is($doc->{error}{sqlstate}, '42P01', '"error" has the statement\'s SQLSTATE');
	is($doc->{exit_code}, 1, '"exit_code" is 1');
}

# --per-revision: CALL migrate_run, each revision committed on its own; a
# failure keeps the revisions before it, and the next "up" goes on
{
	my $db = new_db('per_revision');
	my $dir = write_folder(
		"$base/per_revision",
		[ '0001_users',  'CREATE TABLE users (id bigint PRIMARY KEY);', 'DROP TABLE users;' ],
		[ '0002_broken', "CREATE TABLE orders (id bigint);\nINSERT INTO nosuch VALUES (1);" ],
		[ '0003_names',  'CREATE TABLE names (id int);' ]);
	my ($out, $err) = client_is(1, '--per-revision, failing at the 2nd', '-d', $db,
		'up', '--per-revision', '--dir', $dir);
	like($err, qr/^${ts}ERROR:  42P01: relation "nosuch" does not exist$/m,
		'the statement\'s own error and SQLSTATE');
	like($err, qr/^${ts}NOTICE:  applying 0001_users \(1\/3\)$/m, 'progress NOTICEs');
	is($node->safe_psql($db, 'SELECT string_agg(revision, \' \') FROM migrate.applied'),
		'0001_users', 'the revision before the failure stays applied');
	is($node->safe_psql($db, "SELECT to_regclass('orders') IS NULL"),
		't', 'nothing of the failed revision is left');

	write_folder("$base/per_revision",
		[ '0002_broken', "CREATE TABLE orders (id bigint);\nINSERT INTO orders VALUES (1);" ]);
	($out, $err) = client_is(0, '--per-revision, fixed', '-d', $db, '--json',
		'up', '--per-revision', '--dir', $dir);
	my $doc = json_ok($out, '--per-revision');
	is($doc->{per_revision}, JSON::PP::true, '"per_revision" is true');
	is(join(' ', map { "$_->{revision} $_->{action}" } @{ $doc->{steps} }),
		'0002_broken applied 0003_names applied', '"steps" are the revisions applied');
	($out, $err) = client_is(0, '--per-revision at head', '-d', $db,
		'up', '--per-revision');
	like($out, qr/nothing to do: already at head/, 'nothing to do');

	# "up" never goes down, whichever function applies
	($out, $err) = client_is(0, '--per-revision to a revision below the head',
		'-d', $db, 'up', '--per-revision', '0001_users');
	is($node->safe_psql($db, 'SELECT count(*) FROM migrate.applied'),
		'3', 'nothing reverted');
	($out, $err) = client_is(2, '--per-revision to base', '-d', $db,
		'up', '--per-revision', 'base');
}

# drift: an applied file edited; sync says so, validate and check fail
{
	my $db = new_db('drift');
	my $d = write_folder("$base/drift", [ '0001_t', 'CREATE TABLE t (id int);' ]);
	client_is(0, 'drift: first up', '-d', $db, 'up', '--dir', $d);
	write_folder($d, [ '0001_t', 'CREATE TABLE t (id bigint);' ]);
	my ($out, $err) = client_is(0, 'sync of an edited applied file', '-d', $db, 'sync', $d);
	like($out, qr/^0001_t\s+drifted$/m, 'sync reports the drift');
	like($err, qr/WARNING:  revision "0001_t" is applied, and its up script in the folder has changed/,
		'with a warning');
	($out, $err) = client_is(1, 'validate with drift', '-d', $db, 'validate');
	like($out, qr/^error\s+0001_t\s+checksum drift/m, 'validate lists it');
	($out, $err) = client_is(1, 'check with drift', '-d', $db, 'check');
	like($out, qr/^not ok: .*drift/, 'check names the drift');
	client_is(1, 'up with drift', '-d', $db, 'up');
}

# the commands that change nothing answer for a folder and leave the
# registry as it was
{
	my $db = new_db('dryrun');
	my ($out, $err) = client_is(0, 'plan --dir', '-d', $db, 'plan', '--dir', $dir);
	like($out, qr/would apply 3 revisions/, 'plan --dir plans the folder');
	is($node->safe_psql($db, 'SELECT count(*) FROM migrate_sources()'),
		'0', 'and registers nothing');
	($out, $err) = client_is(1, 'check --dir', '-d', $db, 'check', '--dir', $dir);
	like($out, qr/^not ok: project "default" has 3 pending revisions$/, 'check --dir checks the folder');
	($out, $err) = client_is(0, 'up --dry-run --dir', '-d', $db, 'up', '--dry-run', '--dir', $dir);
	like($out, qr/would apply 3 revisions/, 'up --dry-run is plan');
	client_is(0, 'validate --dir', '-d', $db, 'validate', '--dir', $dir);
	is($node->safe_psql($db, 'SELECT count(*) FROM migrate_sources()'),
		'0', 'none of them registered anything');
	is($node->safe_psql($db, 'SELECT count(*) FROM migrate.history'),
		'0', 'or wrote history');
	if (-d "$fixtures/flyway")
	{
		($out, $err) = client_is(0, '--layout', '-d', $db, '--layout', 'flyway',
			'sync', "$fixtures/flyway");
		like($err, qr/\(flyway layout\)/, 'reads the layout named');
	}
}

# --project
{
	my $db = new_db('projects');
	client_is(0, '--project', '-d', $db, '--project', 'billing', 'up', '--dir', $dir);
	is($node->safe_psql($db, "SELECT applied FROM migrate_status('billing')"),
		'3', 'the project given is migrated');
	is($node->safe_psql($db, "SELECT applied FROM migrate_status('default')"),
		'0', 'and no other');
	my ($out) = client_is(0, '--project check', '-d', $db, '--project', 'billing', 'check');
	like($out, qr/^ok: project "billing"/, 'every command takes it');
}

# --------------------------------------------------- cannot connect: 3

{
	my ($out, $err) = client_is(3, 'nothing listens',
		'-h', $host, '-p', $dead_port, '-d', 'app', 'status');
	like($err, qr/ERROR:  could not connect to /, 'says so');
	($out, $err) = client_is(3, 'nothing listens, retried',
		'-h', $host, '-p', $dead_port, '-d', 'app', '--connect-retries', '2', 'status');
	like($err, qr/connecting to .* \(attempt 1 of 3\)/, 'each attempt is reported');
	like($err, qr/attempt 1 of 3 failed, retrying in 0\.25 s/, 'with its pause');
	like($err, qr/attempt 2 of 3 failed, retrying in 0\.50 s/, 'which doubles');
	like($err, qr/connecting to .* \(attempt 3 of 3\)/, 'up to the last');

	my $t0 = time();
	($out, $err) = client_is(3, 'no such database, not retried',
		'-d', 'nosuchdb', '--connect-retries', '5', 'status');
	like($err, qr/database "nosuchdb" does not exist/, 'the server\'s reason');
	like($err, qr/not retrying: the server is up and refused the connection/,
		'a server that answers and refuses is not retried');
	unlike($err, qr/attempt 2 of 6/, 'no second attempt');
	cmp_ok(time() - $t0, '<', 5, 'and no waiting');

	($out, $err) = client_is(3, 'cannot connect, --json',
		'-h', $host, '-p', $dead_port, '--json', 'status');
	my $doc = json_ok($out, 'no connection');
	is($doc->{exit_code}, 3, '"exit_code" is 3');
	like($doc->{error}{message}, qr/could not connect/, '"error" says why');
}

# a server started 3 s after the client: the retries wait for it
{
	my $late = PostgreSQL::Test::Cluster->new('late');
	$late->init;
	$late->start;
	$late->safe_psql('postgres', 'CREATE EXTENSION pg_migrate');
	$late->stop;

	my ($stdout, $stderr) = ('', '');
	my $t0 = time();
	my $h = IPC::Run::start(
		[
			'pg_migrate', '-h', $late->host, '-p', $late->port, '-d', 'postgres',
			'--connect-retries', '8', 'up', '--dir', $dir
		],
		'<', \undef, '>', \$stdout, '2>', \$stderr);
	sleep 3;
	$late->start;
	$h->finish;
	my $rc = $h->full_result(0) >> 8;
	is($rc, 0, 'a server started 3 s after the client: the client succeeds')
	  or diag("stdout:\n$stdout\nstderr:\n$stderr");
	cmp_ok(time() - $t0, '>=', 3, 'after waiting for it');
	like($stderr, qr/attempt 1 of 9 failed, retrying in 0\.25 s: .*/,
		'the failed attempts are reported');
	like($stderr, qr/^${ts}connected to host=/m, 'then the connection');
	like($stdout, qr/applied 3 revisions/, 'and the upgrade ran');
	is($late->safe_psql('postgres', 'SELECT count(*) FROM migrate.applied'),
		'3', 'the late server is at head');
	$late->stop;
}

# ------------------------------------------------------------- masking

{
	# key=value and URI, nothing listening: every line says ****
	my @cases = (
		[ 'key=value', "host=$host port=$dead_port user=regress_u password=$secret dbname=app",
		  qr/password=\*\*\*\*/ ],
		[ 'key=value, quoted', "host=$host port=$dead_port password='$secret x' dbname=app",
		  qr/password=\*\*\*\*/ ],
		[ 'URI', "postgresql://regress_u:$secret\@localhost:$dead_port/app",
		  qr{postgresql://regress_u:\*\*\*\*\@localhost} ],
		[ 'URI, password in the query', "postgresql:///app?host=$host&port=$dead_port&password=$secret",
		  qr/password=\*\*\*\*/ ]);
	for my $case (@cases)
	{
		my ($name, $conninfo, $shown) = @$case;
		for my $json (0, 1)
		{
			my ($rc, $out, $err) = client('-d', $conninfo, '--connect-retries', '1',
				$json ? ('--json') : (), 'status');
			is($rc, 3, "$name: cannot connect (exit 3)");
			like($err . $out, $shown, "$name: the password is shown as ****");
			unlike($err . $out, qr/\Q$secret\E|s3cr3t/, "$name: the password is never printed")
			  or diag($err . $out);
		}
	}

	# a malformed URI: libpq quotes it back, the client masks it
	my ($rc, $out, $err) = client('-d', "postgresql://regress_u:s3cr3t%zzword\@localhost/app", 'status');
	is($rc, 2, 'a malformed connection string is bad usage (exit 2)');
	like($err, qr/invalid connection string/, 'and says so');
	unlike($err, qr/s3cr3t/, 'without the password');

	# connected: the password from the URI, PGPASSWORD, and a role that
	# needs one
	$node->safe_psql('postgres',
		"CREATE ROLE regress_pw LOGIN PASSWORD '$secret'; GRANT ALL ON DATABASE app TO regress_pw");
	$node->safe_psql('app', 'GRANT USAGE ON SCHEMA public TO regress_pw;
		GRANT EXECUTE ON FUNCTION migrate_status(text) TO regress_pw');
	my $hba = $node->data_dir . '/pg_hba.conf';
	my $old_hba = PostgreSQL::Test::Utils::slurp_file($hba);
	open(my $fh, '>', $hba) or die;
	print $fh "local all regress_pw scram-sha-256\n$old_hba";
	close($fh);
	$node->reload;

	($rc, $out, $err) = client('-d', "postgresql://regress_pw:$secret\@/app?host=$host&port=$port",
		'status');
	is($rc, 0, 'a password in the URI: connected') or diag($err);
	like($err, qr{connecting to postgresql://regress_pw:\*\*\*\*\@/app}, 'the URI is shown masked');
	like($err, qr/connected to host=\S+ port=$port dbname=app user=regress_pw password=\*\*\*\*/,
		'the connection in effect too');
	unlike($err . $out, qr/\Q$secret\E/, 'the password is never printed');

	{
		local $ENV{PGPASSWORD} = $secret;
		($rc, $out, $err) = client('-U', 'regress_pw', '-d', 'app', '--json', 'status');
		is($rc, 0, 'PGPASSWORD: connected');
		like($err, qr/connecting to host=\S+ port=$port dbname=app user=regress_pw password=\*\*\*\*/,
			'the parameters in effect, password masked');
		unlike($err . $out, qr/\Q$secret\E/, 'the password is never printed');
	}
	{
		local $ENV{PGPASSWORD} = 'wrong-password';
		($rc, $out, $err) = client('-U', 'regress_pw', '-d', 'app', '--connect-retries', '3',
			'status');
		is($rc, 3, 'a wrong password: exit 3');
		like($err, qr/password authentication failed/, 'with the server\'s reason');
		unlike($err, qr/attempt 2 of 4/, 'not retried');
		unlike($err, qr/wrong-password/, 'and the wrong password is masked as well');
	}
	open($fh, '>', $hba) or die;
	print $fh $old_hba;
	close($fh);
	$node->reload;
	$node->safe_psql('app', 'REVOKE ALL ON FUNCTION migrate_status(text) FROM regress_pw;
		REVOKE ALL ON SCHEMA public FROM regress_pw');
	$node->safe_psql('postgres', 'REVOKE ALL ON DATABASE app FROM regress_pw; DROP ROLE regress_pw');
}

# ----------------------------------- SIGINT and SIGTERM mid-migration

# A folder whose second revision creates a table, then sleeps.
my $slow = write_folder(
	"$base/slow",
	[ '0001_first', 'CREATE TABLE first_table (id int);' ],
	[ '0002_sleepy', "CREATE TABLE sleepy_table (id int);\nSELECT pg_sleep(600);" ]);

for my $sig ([ 'INT', 130 ], [ 'TERM', 143 ])
{
	my ($name, $status) = @$sig;
	my $db = new_db('cancel_' . lc $name);
	my ($stdout, $stderr) = ('', '');
	my $h = IPC::Run::start([ 'pg_migrate', '-d', $db, 'up', '--dir', $slow ],
		'<', \undef, '>', \$stdout, '2>', \$stderr);

	# wait for the backend to sleep inside 0002
	my $pid = '';
	for (my $i = 0; $i < 600 && $pid eq ''; $i++)
	{
		$pid = $node->safe_psql('postgres',
			"SELECT pid FROM pg_stat_activity WHERE datname = '$db'
			   AND wait_event = 'PgSleep'");
		usleep(100_000) if $pid eq '';
	}
	isnt($pid, '', "SIG$name: the migration is asleep in its second revision");

	$h->signal($name);
	$h->finish;
	my $wait = $h->full_result(0);
	is($wait & 127, 0, "SIG$name: the client was not killed by it");
	is($wait >> 8, $status, "SIG$name: exit status $status")
	  or diag("stdout:\n$stdout\nstderr:\n$stderr");
	like($stderr, qr/ERROR:  interrupted by SIG$name: the upgrade was cancelled and rolled back/,
		"SIG$name: says what became of the migration");

	# by the time the client has exited the rollback is done
	is( $node->safe_psql($db,
			"SELECT count(*) FROM pg_locks WHERE locktype = 'object' AND classid = 'migrate.project'::regclass"),
		'0', "SIG$name: no migration lock is held");
	is( $node->safe_psql('postgres',
			"SELECT count(*) FROM pg_stat_activity WHERE pid = $pid AND state = 'active'"),
		'0', "SIG$name: the backend runs nothing");
	is($node->safe_psql($db, 'SELECT count(*) FROM migrate.applied'),
		'0', "SIG$name: nothing is applied");
	is( $node->safe_psql($db,
			"SELECT to_regclass('first_table') IS NULL AND to_regclass('sleepy_table') IS NULL"),
		't', "SIG$name: neither revision left a table");
	is($node->safe_psql($db, 'SELECT count(*) FROM migrate_sources()'),
		'2', "SIG$name: the sync before the upgrade had committed");
}

# ------------------------------------------ other tools' folders

# Each fixture folder loads (every revision registered, with the hash the
# reader gives) and upgrades.  A revision marked non-transactional
# (CREATE INDEX CONCURRENTLY) cannot run inside migrate_upgrade (MG012), so
# for a folder that has one, "plan" to head is refused, and "up" applies
# with CALL migrate_run instead, each revision in a transaction of its own
# and that one at top level.
for my $tool (qw(dbmate golang-migrate flyway diesel sqlx pg_migrate))
{
	my $folder = "$fixtures/$tool";
	my $expected = "$fixtures/$tool.out";
  SKIP:
	{
		skip "no fixture $folder", 1 unless -d $folder && -f $expected;
		my @revs;
		my $first_nontx;
		for my $line (split /\n/, PostgreSQL::Test::Utils::slurp_file($expected))
		{
			push @revs, { id => $1 } if $line =~ /^revision (\S+)$/;
			$revs[-1]{hash} = $1 if $line =~ /^  hash: (\S+)$/;
			$first_nontx //= $#revs if $line =~ /^  transaction: no$/;
		}
		my $db = new_db('fixture_' . ($tool =~ s/-/_/gr));

		my ($out, $err) = client_is(0, "$tool: sync", '-d', $db, 'sync', $folder);
		is( $node->safe_psql($db,
				'SELECT string_agg(revision || \' \' || source_hash, E\'\n\' ORDER BY revision) FROM migrate_sources()'),
			join("\n", map { "$_->{id} $_->{hash}" } sort { $a->{id} cmp $b->{id} } @revs),
			"$tool: every revision registered, with the reader's hash");
		($out, $err) = client_is(0, "$tool: sync again", '-d', $db, '--json', 'sync', $folder);
		is(json_ok($out, "$tool: sync")->{sync}{sent}, 0, "$tool: the second sync sends nothing");

		if (!defined $first_nontx)
		{
			($out, $err) = client_is(0, "$tool: plan", '-d', $db, 'plan');
			is(scalar(() = $out =~ /^\S+\s+pending\b/mg),
				scalar @revs, "$tool: plan lists every revision");
			client_is(0, "$tool: up", '-d', $db, 'up', '--dir', $folder);
			is($node->safe_psql($db, 'SELECT count(*) FROM migrate.applied'),
				scalar @revs, "$tool: every revision applied");
			client_is(0, "$tool: check", '-d', $db, 'check');
		}
		else
		{
			my $nontx = $revs[$first_nontx]{id};
			($out, $err) = client_is(1, "$tool: plan to head", '-d', $db, 'plan');
			like($err, qr/MG012: revision "\Q$nontx\E" is marked non-transactional/,
				"$tool: refused for its non-transactional revision");
			($out, $err) = client_is(0, "$tool: up to head", '-d', $db, 'up', '--dir', $folder);
			like($err, qr/applying each revision in a transaction of its own \(CALL migrate_run\)/,
				"$tool: up says it applies per revision");
			like($err, qr/NOTICE:  applying \Q$nontx\E \(\d+\/\d+\) at top level/,
				"$tool: the non-transactional revision runs at top level");
			like($out, qr/^applied ${\ scalar @revs} revisions, each in a transaction of its own/m,
				"$tool: up says what it applied");
			is($node->safe_psql($db, 'SELECT count(*) FROM migrate.applied'),
				scalar @revs, "$tool: every revision applied");
			client_is(0, "$tool: check", '-d', $db, 'check');
		}
	}
}

$node->stop;
done_testing();
