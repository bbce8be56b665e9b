
# Secrets never reach the server log: with pg_migrate preloaded into every
# session, a server that logs every statement, every message down to DEBUG1
# with its statement, and every field of every message, runs migrations
# that succeed and fail with passwords of each kind in them (CREATE/ALTER
# ROLE ... PASSWORD, OPTIONS (password ...) of a server and a user mapping,
# a connection URI, a key=value connection string), sent as literals in
# SQL, as the pg_migrate client's JSON parameter, and quoted in errors.
# None of the secret strings is in the log; their masked forms are.
#
# Without a preload, the library loads at a session's first pg_migrate
# call, after the server has logged that statement: a second node shows
# that the first statement of such a session is logged as sent, and that
# everything after the library loaded is masked; a third, with
# pg_migrate in shared_preload_libraries, that its first statement is
# masked too.

use strict;
use warnings FATAL => 'all';

use File::Temp qw(tempdir);
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
	log_connections => 'off');

# A node that logs everything; preload names the setting that preloads
# pg_migrate (session_preload_libraries, shared_preload_libraries), if any.
sub new_node
{
	my ($name, $preload) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init;
	$node->append_conf('postgresql.conf',
		join('', map { "$_ = $logging{$_}\n" } sort keys %logging));
	$node->append_conf('postgresql.conf', "$preload = 'pg_migrate'\n")
	  if $preload;
	$node->start;
	return $node;
}

# Run sql in db with psql, errors allowed; return stderr (the messages).
sub run_sql
{
	my ($node, $db, $sql) = @_;
	my ($stdout, $stderr) = ('', '');
	$node->psql($db, $sql, stdout => \$stdout, stderr => \$stderr,
		on_error_stop => 0,
		extra_params => [ '-v', 'VERBOSITY=verbose', '-v', 'SHOW_CONTEXT=always' ]);
	return $stderr;
}

# The log written since offset.
sub log_since
{
	my ($node, $offset) = @_;
	return slurp_file($node->logfile, $offset);
}

my $node = new_node('secrets', 'session_preload_libraries');
my $db = 'secrets';
$node->safe_psql('postgres', "CREATE DATABASE $db");
$node->safe_psql($db, q{
	CREATE EXTENSION pg_migrate;
	CREATE FOREIGN DATA WRAPPER regress_fdw;
	CREATE ROLE regress_exists;
});
my $offset = -s $node->logfile;
my $client_messages = '';

# (a) A migration that succeeds, registered with literals in SQL, whose
# script raises NOTICEs, an INFO and a WARNING quoting secrets.
$client_messages .= run_sql($node, $db, q{
SELECT migrate_register('0001_secrets', $up$
  CREATE ROLE regress_login LOGIN PASSWORD 'tapsecret-role1';
  ALTER ROLE regress_login ENCRYPTED PASSWORD 'tapsecret-role2';
  CREATE SERVER regress_srv FOREIGN DATA WRAPPER regress_fdw
    OPTIONS (host 'db.example', password 'tapsecret-server1');
  CREATE USER MAPPING FOR regress_login SERVER regress_srv
    OPTIONS (user 'app', password 'tapsecret-mapping1');
  CREATE USER MAPPING IF NOT EXISTS FOR regress_login SERVER regress_srv
    OPTIONS (password 'tapsecret-mapping2');
  DO $do$
  BEGIN
    RAISE NOTICE 'replica at %', 'postgres://repl:tapsecret-uri1@primary.example/app';
    RAISE INFO 'conninfo %', 'host=primary password=tapsecret-conninfo1';
    RAISE WARNING 'check the server'
      USING DETAIL = 'password=tapsecret-conninfo2',
            HINT = 'postgresql://admin:tapsecret-uri2@primary.example';
    EXECUTE 'CREATE USER MAPPING IF NOT EXISTS FOR regress_login SERVER regress_srv OPTIONS (password ''tapsecret-mapping3'')';
  END
  $do$;
$up$, 'DROP USER MAPPING FOR regress_login SERVER regress_srv; DROP SERVER regress_srv; DROP ROLE regress_login;');
SELECT migrate_register('0002_alter', 'ALTER USER regress_login PASSWORD ''tapsecret-role3''; ALTER SERVER regress_srv OPTIONS (SET password ''tapsecret-server2'')');
SELECT revision, action FROM migrate_upgrade();
});

# (b) Migrations that fail, each on the statement that holds the secret.
my @failing = (
	# the role exists
	q{CREATE ROLE regress_exists PASSWORD ''tapsecret-fail1''},
	# the server does not exist
	q{CREATE USER MAPPING FOR regress_exists SERVER regress_nosuch OPTIONS (password ''tapsecret-fail2'')},
	# a syntax error quoting the bare password
	q{CREATE ROLE regress_syntax PASSWORD tapsecret-fail3; CREATE ROLE regress_x PASSWORD ''tapsecret-fail4''},
	# an error with a position in the statement, which becomes the QUERY
	q{SELECT ''postgres://u:tapsecret-fail5@h/db'' AS uri, no_such_column FROM pg_class},
	# dynamic SQL: the context quotes the statement
	q{DO $do$ BEGIN EXECUTE ''CREATE ROLE regress_exists PASSWORD ''''tapsecret-fail6''''''; END $do$},
	# dynamic SQL with a position: the internal query is the statement
	q{DO $do$ BEGIN EXECUTE ''ALTER ROLE regress_exists PASSWORD ''''tapsecret-fail7'''' NOSUCHOPTION''; END $do$},
	# every field of the error quotes a secret
	q{DO $do$ BEGIN RAISE EXCEPTION ''cannot reach %'', ''postgres://u:tapsecret-fail8@h/db'' USING DETAIL = ''password=tapsecret-fail9'', HINT = ''mysql://a:tapsecret-fail10@h''; END $do$});
my $n = 0;
for my $script (@failing)
{
	$n++;
	$client_messages .= run_sql($node, $db,
		"SELECT migrate_register('0003_fail$n', '$script');\n"
		  . "SELECT * FROM migrate_upgrade();\n"
		  . "SELECT * FROM migrate_validate();\n"
		  . "SELECT migrate_unregister('0003_fail$n');\n");
}

# (c) Registration refused by the lexer: the error quotes the rest of the
# script; and a statement the server cannot parse, logged as STATEMENT.
$client_messages .= run_sql($node, $db, q{
SELECT migrate_register('0004_unterminated', 'ALTER ROLE regress_exists PASSWORD ''tapsecret-lex1');
SELECT migrate_register('0004_broken', 'CREATE ROLE r PASSWORD ''tapsecret-stmt1''' ;;; );
});

# (d) The same in one statement outside pg_migrate: the library is loaded,
# so the log line is masked too.
$client_messages .= run_sql($node, $db, q{
ALTER ROLE regress_exists PASSWORD 'tapsecret-direct1';
SELECT 'postgres://u:tapsecret-direct2@h/db' AS uri, no_such_column;
});

# (e) The pg_migrate client: files with secrets sent as a JSON parameter
# (logged with the statement as "parameters: $1 = '...'", "Parameters" from
# PostgreSQL 17 on), then applied.
my $dir = tempdir(CLEANUP => 1);
open(my $fh, '>', "$dir/0005_client.sql") or die "cannot write: $!";
print $fh "-- migrate:up\n"
  . "ALTER ROLE regress_exists PASSWORD 'tapsecret-client1';\n"
  . "DO \$\$ BEGIN RAISE NOTICE '%', 'postgres://c:tapsecret-client2\@h/db'; END \$\$;\n";
close($fh);
open($fh, '>', "$dir/0006_client_fails.sql") or die "cannot write: $!";
print $fh "-- migrate:up\nCREATE ROLE regress_exists PASSWORD 'tapsecret-client3';\n";
close($fh);
{
	local $ENV{PGHOST} = $node->host;
	local $ENV{PGPORT} = $node->port;
	my ($stdout, $stderr) = ('', '');
	IPC::Run::run([ 'pg_migrate', '-d', $db, 'sync', $dir ],
		'<', \undef, '>', \$stdout, '2>', \$stderr);
	is($? >> 8, 0, 'the client synced the folder') or diag($stderr);
	IPC::Run::run([ 'pg_migrate', '-d', $db, 'up' ],
		'<', \undef, '>', \$stdout, '2>', \$stderr);
	is($? >> 8, 1, 'the client reports the failed migration') or diag($stderr);
	$client_messages .= $stdout . $stderr;
}

my $log = log_since($node, $offset);

# Every piece of the work reached the log, masked.
like($log, qr/statement: .*migrate_register\('0001_secrets'/,
	'log_statement logged the registration');
like($log, qr/PASSWORD '\*\*\*\*';/, 'a role password is masked in the logged statement');
like($log, qr/password '\*\*\*\*'\)/, 'an OPTIONS password is masked in the logged statement');
like($log, qr/PASSWORD ''\*\*\*\*''/, 'a password in a quoted script is masked in the logged statement');
like($log, qr/replica at postgres:\/\/repl:\*\*\*\*\@primary/, "a script's NOTICE is masked");
like($log, qr/conninfo host=primary password=\*\*\*\*/, "a script's INFO is masked");
like($log, qr/DETAIL:  password=\*\*\*\*/, "a WARNING's detail is masked");
like($log, qr/HINT:  postgresql:\/\/admin:\*\*\*\*\@primary/, "a WARNING's hint is masked");
like($log, qr/SQL statement "CREATE USER MAPPING IF NOT EXISTS .*OPTIONS \(password '\*\*\*\*'\)"/,
	"a NOTICE's context is masked");
like($log, qr/ERROR:  42710: role "regress_exists" already exists/,
	'the failures are logged');
like($log, qr/syntax error at or near "\*\*\*\*"/, 'a bare password in a syntax error is masked');
like($log, qr/QUERY:  SELECT 'postgres:\/\/u:\*\*\*\*\@h\/db' AS uri, no_such_column/,
	'the internal query is masked');
like($log, qr/cannot reach postgres:\/\/u:\*\*\*\*\@h\/db/, "a script's error message is masked");
like($log, qr/unterminated quoted string at or near "'\*\*\*\*/,
	"the lexer's error is masked");
like($log, qr/STATEMENT:  .*migrate_register\('0004_broken', 'CREATE ROLE r PASSWORD ''\*\*\*\*'''/,
	'the STATEMENT line of an unparsable statement is masked');
like($log, qr/statement: \s*ALTER ROLE regress_exists PASSWORD '\*\*\*\*'/,
	'a statement outside pg_migrate is masked');
like($log, qr/[Pp]arameters: \$1 = '\[.*PASSWORD ''\*\*\*\*''/,
	"the client's JSON parameter is masked");
like($log, qr/postgres:\/\/c:\*\*\*\*\@h\/db/, "the client's migration NOTICE is masked");

# ... and none of the secrets did.
my @leaks = $log =~ /(tapsecret-[a-z]+\d+)/g;
is_deeply(\@leaks, [], 'no secret is in the server log')
  or diag(join("\n", grep { /tapsecret/ } split /\n/, $log));

# The client saw the messages, masked as well.
like($client_messages, qr/replica at postgres:\/\/repl:\*\*\*\*\@primary/,
	'the client received the masked NOTICE');
# psql's "LINE 1: ..." under an error with a cursor position quotes the
# query from psql's own copy, not from anything the server sent.
my $from_server = join("\n", grep { !/^(psql:\S+ )?LINE \d+: / } split /\n/, $client_messages);
my @client_leaks = $from_server =~ /(tapsecret-[a-z]+\d+)/g;
is_deeply(\@client_leaks, [], 'no secret reached the clients from the server')
  or diag($client_messages);

# The stored scripts are unchanged and ran with the real passwords.
is( $node->safe_psql(
		$db,
		"SELECT umoptions FROM pg_user_mappings WHERE srvname = 'regress_srv'"),
	'{user=app,password=tapsecret-mapping1}',
	'the user mapping got the real password');
is( $node->safe_psql(
		$db,
		"SELECT count(*) FROM migrate.revision WHERE up_script LIKE '%tapsecret-role1%'"),
	'1',
	'the registry keeps the script as registered');

$node->stop;

# Without the preload: the first statement of a session is logged before
# the library loads; after that, everything is masked.
my $plain = new_node('not_preloaded', undef);
$plain->safe_psql('postgres', 'CREATE EXTENSION pg_migrate');
$offset = -s $plain->logfile;
run_sql($plain, 'postgres', q{
SELECT migrate_register('0001_first', 'ALTER ROLE CURRENT_USER PASSWORD ''tapfirst-before-load''');
SELECT migrate_register('0002_second', 'ALTER ROLE CURRENT_USER PASSWORD ''tapsecond-after-load''');
});
$log = log_since($plain, $offset);
like($log, qr/tapfirst-before-load/,
	"without the preload, the session's first statement is logged before the library loads");
unlike($log, qr/tapsecond-after-load/, 'later statements of that session are masked');
like($log, qr/0002_second', 'ALTER ROLE CURRENT_USER PASSWORD ''\*\*\*\*'''/,
	'and show the masked form');

# With the server log at its default level (WARNING), a script's NOTICE is
# not written to the log because masking made the hook see it: the client
# alone gets it, masked.
$plain->append_conf('postgresql.conf',
	"log_min_messages = warning\nlog_min_error_statement = error\nlog_statement = none\nlog_min_duration_statement = -1\n");
$plain->reload;
$offset = -s $plain->logfile;
my $stderr = run_sql($plain, 'postgres', q{
SELECT migrate_register('0003_notice', $up$DO $do$ BEGIN RAISE NOTICE 'quiet %', 'postgres://n:tapnotice-1@h/db'; END $do$$up$);
SELECT revision, action FROM migrate_upgrade();
});
like($stderr, qr/NOTICE:  00000: quiet postgres:\/\/n:\*\*\*\*\@h\/db/,
	'the client gets the NOTICE masked')
  or diag($stderr);
$log = log_since($plain, $offset);
unlike($log, qr/quiet postgres/, 'a NOTICE stays out of a log set to WARNING');
is($plain->safe_psql('postgres', 'SHOW log_min_messages'), 'warning',
	'log_min_messages is as it was');
$plain->stop;

# In shared_preload_libraries, the library is in every backend from its
# start: a session's first statement is masked too.
my $shared = new_node('shared_preload', 'shared_preload_libraries');
$shared->safe_psql('postgres', 'CREATE EXTENSION pg_migrate');
$offset = -s $shared->logfile;
run_sql($shared, 'postgres', q{
SELECT migrate_register('0001_first', 'ALTER ROLE CURRENT_USER PASSWORD ''tapshared-first''');
});
$log = log_since($shared, $offset);
unlike($log, qr/tapshared-first/,
	"with shared_preload_libraries, a session's first statement is masked");
like($log, qr/statement: .*0001_first', 'ALTER ROLE CURRENT_USER PASSWORD ''\*\*\*\*'''/,
	'and logged in its masked form');
$shared->stop;

done_testing();
