
# The pg_migrate client, tried as an attacker or an unlucky deploy would:
#
# - passwords written with libpq's backslash escapes, quoted or not, in
#   -d: no part of them is printed, on stderr or in --json, whether the
#   connection fails, the string is malformed, or it succeeds (which shows
#   that libpq reads each form as this test means it); and none reaches
#   the server log when a migration quotes them in its messages and its
#   error, or the client sends them in migrate_sync's parameter;
# - a masked password keeps the ": " that follows it in the client's
#   error ("could not connect to ...password=****: reason");
# - exit status 2 means pg_migrate refused before running anything: a
#   migration script that raises MG002, MG005 or MG012 after an earlier
#   revision committed gets 1, its error printed; a bad target still gets
#   2, for up and down, with and without --per-revision;
# - "down" reverts what "up" applied: down scripts that cannot run in a
#   transaction block (DROP INDEX CONCURRENTLY) fall back to CALL
#   migrate_run(target, direction => 'down'), and --per-revision is
#   accepted for down.

use strict;
use warnings FATAL => 'all';

use IPC::Run;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my %logging = (
	log_statement => "'all'",
	log_min_duration_statement => '0',
	log_min_messages => 'debug1',
	log_min_error_statement => 'debug1',
	log_error_verbosity => 'verbose',
	log_parameter_max_length => '-1',
	log_parameter_max_length_on_error => '-1',
	log_connections => 'off',
	session_preload_libraries => "'pg_migrate'");

my $node = PostgreSQL::Test::Cluster->new('hostile_client');
$node->init;
$node->append_conf('postgresql.conf',
	join('', map { "$_ = $logging{$_}\n" } sort keys %logging));
$node->start;
my $host = $node->host;
my $port = $node->port;
$ENV{PGHOST} = $host;
$ENV{PGPORT} = $port;
delete $ENV{PGPASSWORD};
delete $ENV{PGDATABASE};

my $dead_port = PostgreSQL::Test::Cluster::get_free_port();
my $base = PostgreSQL::Test::Utils::tempdir('hostile_client');

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

sub new_db
{
	my ($db) = @_;
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, 'CREATE EXTENSION pg_migrate');
	return $db;
}

# A folder of migration files in pg_migrate's format: [name, up, down,
# transaction] each; transaction 0 marks both scripts transaction:false.
sub write_folder
{
	my ($dir, @files) = @_;
	mkdir $dir unless -d $dir;
	unlink glob("$dir/*.sql");
	for my $f (@files)
	{
		my ($name, $up, $down, $tx) = @$f;
		my $opt = defined $tx && !$tx ? ' transaction:false' : '';
		open(my $fh, '>', "$dir/$name.sql") or die "cannot write $dir/$name.sql: $!";
		print $fh "-- migrate:up$opt\n$up\n";
		print $fh "-- migrate:down$opt\n$down\n" if defined $down;
		close($fh);
	}
	return $dir;
}

sub applied
{
	my ($db) = @_;
	return $node->safe_psql($db,
		'SELECT coalesce(string_agg(revision, \' \' ORDER BY revision), \'\') FROM migrate.applied');
}

# ------------------------------------------ passwords with libpq escapes

# Each part written HIDDEN... is inside the password as libpq reads it.
# libpq 18 and later refuse a URI with a space in it (exit 2) where 17 and
# before take the space into the value (and then cannot connect, exit 3);
# either way no part of the password may be printed.
my $uri_spaces_refused = $node->pg_version->major >= 18;    # 18beta1 too
{
	my @cases = (
		[ 'an escaped space', "host=$host port=$dead_port password=SEC\\ HIDDEN1 dbname=app" ],
		[ 'an escaped quote, quoted',
			"host=$host port=$dead_port password='SEC\\' HIDDEN2' dbname=app" ],
		[ 'an escaped backslash, quoted', "host=$host port=$dead_port password='HIDDEN3\\\\' dbname=app" ],
		[ 'an escaped backslash and space',
			"host=$host port=$dead_port password=HIDDEN4\\\\\\ HIDDEN4 dbname=app" ],
		[ 'a trailing backslash', "host=$host port=$dead_port dbname=app password=HIDDEN5\\" ],
		[ 'several keywords',
			"host=$host port=$dead_port sslpassword=SEC\\ HIDDEN6 password='SEC\\' HIDDEN7' dbname=app" ],
		[ 'a space in a URI query\'s password, which libpq takes',
			"postgresql:///app?host=$host&port=$dead_port&password=SEC HIDDEN8" ]);
	for my $case (@cases)
	{
		my ($name, $conninfo) = @$case;
		for my $json (0, 1)
		{
			my ($rc, $out, $err) = client('-d', $conninfo, $json ? ('--json') : (), 'status');
			if ($conninfo =~ /^postgresql:.* / && $uri_spaces_refused)
			{
				is($rc, 2, "$name: refused by libpq 18 (exit 2)");
				like($err . $out, qr/unexpected spaces found/, "$name: refused, saying why");
			}
			else
			{
				is($rc, 3, "$name: cannot connect (exit 3)");
			}
			like($err . $out, qr/password=\*\*\*\*|password='\*\*\*\*'/,
				"$name: the password is shown as ****");
			unlike($err . $out, qr/HIDDEN/, "$name: no part of the password is printed")
			  or diag($err . $out);
		}
	}

	# an unterminated quote: libpq refuses the string (exit 2), and its
	# rest is the password
	my ($out, $err) = client_is(2, 'an unterminated quote', '-d',
		"host=$host port=$dead_port password='SEC HIDDEN8 dbname=app", 'status');
	like($err, qr/invalid connection string .*unterminated quoted string/, 'says why');
	unlike($err, qr/HIDDEN/, 'an unterminated quote: no part of the password is printed');

	# a space left unescaped: libpq reads SEC and refuses the key HIDDEN9,
	# quoting it; what was meant is not known, so all of it is hidden
	($out, $err) = client_is(2, 'an unescaped space', '-d',
		"host=$host port=$dead_port password=SEC HIDDEN9 dbname=app", 'status');
	like($err, qr/invalid connection string .*missing "=" after/, 'says why');
	unlike($err, qr/HIDDEN/, 'an unescaped space: no part of the password is printed');
	($out, $err) = client_is(2, 'a URI with a space and a bad parameter', '-d',
		"postgresql://u:SEC HIDDEN9\@localhost:$dead_port/app?nosuch=1", '--json', 'status');
	like($out,
		$uri_spaces_refused ? qr/unexpected spaces found/ : qr/invalid URI query parameter/,
		'says why');
	unlike($err . $out, qr/HIDDEN/, 'a URI with a space: no part of the password is printed');
}

# ------------------------------- item 15: the ": " after a masked password

{
	my @cases = (
		[ 'a URI, the password last in its query',
			"postgresql:///app?host=$host&port=$dead_port&password=HIDDEN9" ],
		[ 'a URI with a password', "postgresql://u:HIDDEN9\@localhost:$dead_port" ],
		[ 'key=value, the password last', "host=$host port=$dead_port dbname=app password=HIDDEN9" ],
		[ 'key=value, a short password last', "host=$host port=$dead_port dbname=app password=ab" ],
		[ 'key=value, an escaped password last',
			"host=$host port=$dead_port dbname=app password='HID\\' DEN9'" ]);
	for my $case (@cases)
	{
		my ($name, $conninfo) = @$case;
		my ($rc, $out, $err) = client('-d', $conninfo, 'status');
		is($rc, 3, "$name: cannot connect (exit 3)");
		like($err, qr/ERROR:  could not connect to .*\*\*\*\*\S*: \S/,
			"$name: the masked password is followed by \": \" and the reason")
		  or diag($err);
		unlike($err, qr/HIDDEN|HID|password=ab/, "$name: no part of the password is printed");
	}
}

# ------------------- connected with such passwords: libpq reads them so

{
	my $secret = q{Se c'r\et HIDDEN10};
	(my $sql_secret = $secret) =~ s/'/''/g;
	$node->safe_psql('postgres',
		"CREATE ROLE regress_hostile_pw LOGIN PASSWORD '$sql_secret'");
	my $db = new_db('pwdb');
	$node->safe_psql($db,
		'GRANT USAGE ON SCHEMA public TO regress_hostile_pw; GRANT EXECUTE ON FUNCTION migrate_status(text) TO regress_hostile_pw');
	my $hba = $node->data_dir . '/pg_hba.conf';
	my $old_hba = slurp_file($hba);
	open(my $fh, '>', $hba) or die;
	print $fh "local all regress_hostile_pw scram-sha-256\n$old_hba";
	close($fh);
	$node->reload;

	my $quoted = q{'Se c\'r\\\\et HIDDEN10'};
	my $unquoted = q{Se\ c\'r\\\\et\ HIDDEN10};
	for my $form ([ 'quoted', $quoted ], [ 'unquoted', $unquoted ])
	{
		my ($name, $value) = @$form;
		my ($rc, $out, $err) = client('-d',
			"host=$host port=$port dbname=$db user=regress_hostile_pw password=$value",
			'--json', 'status');
		is($rc, 0, "a password with a space, a quote and a backslash, $name: connected")
		  or diag($err);
		like($err, qr/connecting to .*password=\*\*\*\*|password='\*\*\*\*'/,
			"$name: the connection string is shown masked");
		unlike($err . $out, qr/HIDDEN|c'r|r\\et/, "$name: no part of the password is printed")
		  or diag($err . $out);
	}
	open($fh, '>', $hba) or die;
	print $fh $old_hba;
	close($fh);
	$node->reload;
	$node->safe_psql('postgres', "DROP DATABASE $db");
	$node->safe_psql('postgres', 'DROP ROLE regress_hostile_pw');
}

# ------------------------ the server log: a migration quoting them

{
	my $db = new_db('logdb');
	my $offset = -s $node->logfile;
	my $dir = write_folder(
		"$base/log",
		[
			'0001_conninfo',
			join("\n",
				'DO $$',
				'BEGIN',
				q{  RAISE NOTICE 'connecting with %', 'host=h password=SEC\ HIDDEN11 user=u';},
				q{  RAISE NOTICE 'and with %', $q$password='SEC\' HIDDEN12' sslpassword='HIDDEN13\\\\'$q$;},
				q{  RAISE EXCEPTION 'could not connect with %', 'password=SEC\\\\\\ HIDDEN14 user=u'},
				q{    USING DETAIL = $q$password='SEC\' HIDDEN15$q$;},
				'END',
				'$$;')
		]);
	my ($out, $err) = client_is(1, 'a migration quoting escaped passwords',
		'-d', $db, 'up', '--dir', $dir);
	like($err, qr/NOTICE:  connecting with host=h password=\*\*\*\* user=u/,
		'the client gets the NOTICE masked');
	like($err, qr/ERROR:  P0001: could not connect with password=\*\*\*\* user=u/,
		'and the error');
	unlike($err . $out, qr/HIDDEN/, 'the client prints no part of a password')
	  or diag($err);

	# by hand too, in SQL: the statement as logged, and migrate_mask
	$node->psql($db, q{SELECT migrate_mask($$host=h password='SEC\' HIDDEN16' user=u$$)});
	$node->psql($db, q{SELECT 'host=h password=SEC\ HIDDEN17', no_such_column});

	my $log = slurp_file($node->logfile, $offset);
	like($log, qr/password=\*\*\*\*/, 'the server log has the masked passwords');
	like($log, qr/[Pp]arameters: .*password=/, 'and migrate_sync\'s parameter, masked');
	unlike($log, qr/HIDDEN/, 'and no part of any password')
	  or diag(join("\n", grep { /HIDDEN/ } split /\n/, $log));
	unlike($log, qr/terminated by signal/, 'no process died');
}

# ---------------------- item 11: exit 2 only when pg_migrate refused

{
	my $db = new_db('exits');
	my $dir = write_folder(
		"$base/exits",
		[ '0001_ok', 'CREATE TABLE ok1 (id int);', 'DROP TABLE ok1;' ],
		[
			'0002_raises',
			q{DO $$ BEGIN RAISE EXCEPTION 'a script of the user' USING ERRCODE = 'MG002'; END $$;},
			q{DO $$ BEGIN RAISE EXCEPTION 'a down script of the user' USING ERRCODE = 'MG005'; END $$;}
		]);
	client_is(0, 'sync', '-d', $db, 'sync', $dir);

	# all or nothing: nothing stays applied, but a script ran and failed
	my ($out, $err) = client_is(1, 'a script raising MG002 in migrate_upgrade', '-d', $db, 'up');
	like($err, qr/ERROR:  MG002: a script of the user/, 'its error is printed');
	like($err, qr/CONTEXT:  .*\n.*revision "0002_raises"/, 'naming the revision');

	# per revision: the first revision committed before the script failed
	($out, $err) = client_is(1, 'a script raising MG002 after a revision committed',
		'-d', $db, '--json', 'up', '--per-revision');
	my $doc = decode_json($out);
	is($doc->{exit_code}, 1, '"exit_code" is 1');
	is($doc->{error}{sqlstate}, 'MG002', '"error" keeps the script\'s SQLSTATE');
	is(applied($db), '0001_ok', 'the revision before it stays applied');

	# MG005 from a down script, after the revision above it was reverted
	$node->safe_psql($db, q{SELECT migrate_stamp('0002_raises')});
	$node->safe_psql($db, q{SELECT migrate_register('0003_top', 'SELECT 3', 'SELECT 3', parents => '{0002_raises}')});
	client_is(0, 'up to the new head', '-d', $db, 'up', '--per-revision');
	($out, $err) = client_is(1, 'a down script raising MG005', '-d', $db, 'down', 'base');
	like($err, qr/ERROR:  MG005: a down script of the user/, 'its error is printed');
	($out, $err) = client_is(1, 'a down script raising MG005 after a revision was reverted',
		'-d', $db, 'down', '--per-revision', 'base');
	is(applied($db), '0001_ok 0002_raises', 'the revision above it stays reverted');

	# a script raising MG012 in migrate_upgrade is the script's error, not
	# the dry run's refusal: printed, exit 1, and no CALL migrate_run
	my $db12 = new_db('exits12');
	my $dir12 = write_folder(
		"$base/exits12",
		[ '0001_ok', 'CREATE TABLE ok1 (id int);' ],
		[
			'0002_raises',
			q{DO $$ BEGIN RAISE EXCEPTION 'not really' USING ERRCODE = 'MG012'; END $$;}
		]);
	($out, $err) = client_is(1, 'a script raising MG012', '-d', $db12, 'up', '--dir', $dir12);
	like($err, qr/ERROR:  MG012: not really/, 'its error is printed');
	unlike($err, qr/CALL migrate_run/, 'and the client does not fall back to migrate_run');
	is(applied($db12), '', 'nothing is applied');

	# pg_migrate's own refusals, before anything ran, are still 2
	client_is(2, 'up to an unknown target', '-d', $db, 'up', 'nosuch');
	client_is(2, 'up --per-revision to an unknown target', '-d', $db, 'up', '--per-revision', 'nosuch');
	client_is(2, 'down to an unknown target', '-d', $db, 'down', 'nosuch');
	client_is(2, 'down --per-revision to an unknown target', '-d', $db, 'down', '--per-revision', 'nosuch');
	client_is(2, 'down to head', '-d', $db, 'down', 'head');
	client_is(2, 'down --dry-run to an unknown target', '-d', $db, 'down', '--dry-run', 'nosuch');
	client_is(2, 'stamp an unknown target', '-d', $db, 'stamp', 'nosuch');
	is(applied($db), '0001_ok 0002_raises', 'none of them changed anything');
}

# ------------------------ item 14: down reverts what up applied

{
	my $db = new_db('downconc');
	my $dir = write_folder(
		"$base/concurrently",
		[ '0001_t', 'CREATE TABLE t (id int);', 'DROP TABLE t;' ],
		[
			'0002_idx', 'CREATE INDEX CONCURRENTLY t_idx ON t (id);',
			'DROP INDEX CONCURRENTLY t_idx;', 0
		],
		[ '0003_u', 'CREATE TABLE u (id int);', 'DROP TABLE u;' ]);
	my ($out, $err) = client_is(0, 'up with a CONCURRENTLY revision', '-d', $db, 'up', '--dir', $dir);
	is(applied($db), '0001_t 0002_idx 0003_u', 'every revision applied');

	($out, $err) = client_is(1, 'down --dry-run through a DROP INDEX CONCURRENTLY',
		'-d', $db, 'down', '--dry-run', '0001_t');
	like($err, qr/MG012: DROP INDEX CONCURRENTLY cannot run inside migrate_downgrade/,
		'the dry run of migrate_downgrade refuses it');

	($out, $err) = client_is(0, 'down through a DROP INDEX CONCURRENTLY', '-d', $db, 'down', '0001_t');
	like($err, qr/reverting each revision in a transaction of its own \(CALL migrate_run\)/,
		'down says it reverts per revision');
	like($err, qr/NOTICE:  reverting 0002_idx \(2\/2\) at top level/,
		'the down script runs at top level');
	like($out, qr/^0003_u\s+reverted.*\n0002_idx\s+reverted/m, 'the steps, children first');
	like($out, qr/^reverted 2 revisions, each in a transaction of its own/m, 'and says so');
	is(applied($db), '0001_t', 'both revisions are reverted');
	is($node->safe_psql($db, q{SELECT to_regclass('t_idx') IS NULL AND to_regclass('u') IS NULL}),
		't', 'the index and the table are gone');
	unlike($err, qr/ERROR/, 'no error');

	# --per-revision is accepted for down; --json shows the steps
	client_is(0, 'up again', '-d', $db, 'up');
	($out, $err) = client_is(0, 'down --per-revision', '-d', $db, '--json',
		'down', '--per-revision', 'base');
	my $doc = decode_json($out);
	is($doc->{per_revision}, JSON::PP::true, '"per_revision" is true');
	is(join(' ', map { "$_->{revision} $_->{action}" } @{ $doc->{steps} }),
		'0003_u reverted 0002_idx reverted 0001_t reverted', '"steps" are the revisions reverted');
	is(applied($db), '', 'everything is reverted');
	($out, $err) = client_is(0, 'down --per-revision at base', '-d', $db,
		'down', '--per-revision', 'base');
	like($out, qr/nothing to revert: already at base/, 'nothing to do');

	# "down" never goes up, even through migrate_run
	client_is(0, 'up to 0001_t', '-d', $db, 'up', '0001_t');
	($out, $err) = client_is(2, 'down --per-revision to a pending revision', '-d', $db,
		'down', '--per-revision', '0003_u');
	is(applied($db), '0001_t', 'nothing applied');
	client_is(2, '--per-revision on stamp', '-d', $db, '--per-revision', 'stamp', 'base');
	client_is(2, '--per-revision with --dry-run on down', '-d', $db,
		'--per-revision', '--dry-run', 'down', 'base');
}

unlike(slurp_file($node->logfile), qr/terminated by signal/, 'no process died on a signal');
$node->stop;
done_testing();
