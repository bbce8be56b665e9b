
# INVALID indexes left by interrupted concurrent builds (issue 13, item 7).
#
# CALL migrate_run runs CREATE INDEX CONCURRENTLY and REINDEX CONCURRENTLY
# at top level (src/toplevel.c).  A build interrupted after its first
# commit leaves an INVALID index, which the next run of the same revision
# drops before building again.  When the revision is edited or reverted
# before it runs again, nothing runs it again: the index stayed forever,
# and migrate_check said ok.  pg_migrate now records each build before it
# starts (migrate.index_build), and migrate_status, migrate_validate and
# migrate_check name every INVALID index such a build left:
#
# 1. a build interrupted by a pg_terminate_backend of the worker is not
#    reported while it runs, is reported once interrupted, and still after
#    its revision is edited (to build on another table) and applied;
# 2. a build in a down script, interrupted by a cancel of the caller, and
#    the revert abandoned: reported too (an unnamed index, by the name the
#    server gave it); a REINDEX CONCURRENTLY's "_ccnew" copy, after its
#    revision was reverted to a script that builds nothing, is reported;
# 3. dropped by hand, they are no longer reported, and the next build
#    clears the stale records;
# 4. an unchanged revision: the next run drops the leftover and builds
#    again, and nothing is reported after it; for an unnamed index too,
#    whose name the statement does not give (the next run used to leave
#    it, and build another under a new name); and for a statement edited
#    to build another index on the same table.

use strict;
use warnings FATAL => 'all';

use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

my $node = PostgreSQL::Test::Cluster->new('invalid_index');
$node->init;
$node->start;

my $db = 'invalid_index';
my $appname = 'pgm_migrating';
my $worker_filter = q{backend_type = 'pg_migrate top-level'};
my $caller = qq{SELECT pid FROM pg_stat_activity WHERE application_name = '$appname'};

$node->safe_psql('postgres', "CREATE DATABASE $db");
$node->safe_psql(
	$db, q{
CREATE EXTENSION pg_migrate;
-- migrate_check's outcome as one value: "ok: ...", or SQLSTATE, message, detail
CREATE FUNCTION check_result() RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	state text;
	message text;
	detail text;
BEGIN
	RETURN migrate_check();
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
		detail = PG_EXCEPTION_DETAIL;
	RETURN state || ': ' || message || E'\n' || detail;
END
$$;
});

# Run a query that may fail (before the fix, migrate_status has no column
# invalid_indexes); returns its output, or its error.
sub query
{
	my ($sql) = @_;
	my ($ret, $stdout, $stderr) = $node->psql($db, $sql);
	return $ret == 0 ? $stdout : "ERROR: $stderr";
}

# What migrate_status, migrate_validate and migrate_check say about INVALID
# indexes.
sub status_invalid
{
	return query('SELECT invalid_indexes FROM migrate_status()');
}

sub validate_invalid
{
	return query(
		q{SELECT string_agg(severity || '|' || revision || '|' || detail, E'\n' ORDER BY detail)
		    FROM migrate_validate() WHERE problem = 'invalid index'});
}

sub check_result
{
	return query('SELECT check_result()');
}

# Whether index $name is INVALID: 'f' when it is, '' when it is gone.
sub index_valid
{
	my ($name) = @_;
	return $node->safe_psql($db,
		"SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass('$name')");
}

# CALL $call in psql; returns (success, stdout, stderr).
sub run_migrate
{
	my ($call, @sets) = @_;
	my ($stdout, $stderr) = ('', '');
	my @cmd = (
		$node->installed_command('psql'), '-X', '-At', '-v', 'ON_ERROR_STOP=1',
		'-d', $node->connstr($db) . " application_name=$appname",
		(map { ('-c', $_) } @sets), '-c', $call);
	my $ok = IPC::Run::run(\@cmd, '<', \undef, '>', \$stdout, '2>', \$stderr);
	return ($ok, $stdout, $stderr);
}

# Start CALL $call in psql, with a long transaction holding a snapshot so
# that a concurrent build waits for it; once the worker waits, check that
# the build in progress is not reported (migrate_status reports $before,
# what earlier builds left), then interrupt it ($how: 'worker' terminates
# the worker, 'caller' cancels the calling session), end the long
# transaction, and return psql's stderr.
sub interrupt_build
{
	my ($call, $how, $what, $before) = @_;
	my $long = $node->background_psql($db);
	$long->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
	$long->query_safe('SELECT count(*) FROM items');

	my ($stdout, $stderr) = ('', '');
	my @cmd = (
		$node->installed_command('psql'), '-X', '-At', '-v', 'ON_ERROR_STOP=1',
		'-d', $node->connstr($db) . " application_name=$appname",
		'-c', 'SET pg_migrate.lock_timeout = 0', '-c', $call);
	my $h = IPC::Run::start(\@cmd, '<', \undef, '>', \$stdout, '2>', \$stderr);

	my $deadline = time() + $PostgreSQL::Test::Utils::timeout_default;
	my $worker;
	while (1)
	{
		$worker = $node->safe_psql($db,
			"SELECT pid FROM pg_stat_activity WHERE $worker_filter AND wait_event = 'virtualxid'");
		last if $worker ne '';
		$h->pump_nb;
		BAIL_OUT("the run ended before the build waited ($what): $stderr")
		  if !$h->pumpable;
		BAIL_OUT("timed out waiting for the build ($what)") if time() > $deadline;
		usleep(50_000);
	}
	is(status_invalid(), $before, "$what: the build in progress is not reported as left");

	if ($how eq 'worker')
	{
		$node->safe_psql($db, "SELECT pg_terminate_backend($worker)");
	}
	else
	{
		my $caller_pid = $node->safe_psql($db, $caller);
		$node->safe_psql($db, "SELECT pg_cancel_backend($caller_pid)");
	}
	ok(!$h->finish, "$what: the interrupted run fails");
	$long->query_safe('COMMIT');
	$long->quit;
	$node->poll_query_until($db, "SELECT count(*) = 0 FROM pg_stat_activity WHERE $worker_filter")
	  or die 'the worker did not exit';
	return $stderr;
}

$node->safe_psql(
	$db, q{
SELECT migrate_register('0001_items', $$
CREATE TABLE items (id int PRIMARY KEY, code int NOT NULL, note text);
INSERT INTO items SELECT g, g % 50, 'n' || g FROM generate_series(1, 2000) g;
$$);
CALL migrate_run();
});
like(check_result(), qr/^ok: /, 'at the start, the check is ok');
is(status_invalid(), '{}', 'at the start, no INVALID index is reported');

# ------------------------------------------------------------------
# 1. A build interrupted by terminating the worker, then its revision
#    edited and applied.

$node->safe_psql($db,
	q{SELECT migrate_register('0002_code_idx', 'CREATE INDEX CONCURRENTLY items_code_idx ON items (code);')});
my $err = interrupt_build('CALL migrate_run()', 'worker', 'worker terminated', '{}');
like($err, qr/MG037|background worker running revision "0002_code_idx" at top level stopped/,
	'the run says its worker stopped');
is(index_valid('items_code_idx'), 'f', 'the interrupted build left an INVALID index');
is(status_invalid(), '{public.items_code_idx}',
	'migrate_status names the INVALID index while its revision is pending');

# the index moves to another table
is( $node->safe_psql(
		$db,
		q{SELECT migrate_register('0002_code_idx', 'CREATE TABLE tags (id int, code int);
CREATE INDEX CONCURRENTLY tags_code_idx ON tags (code);')}),
	'updated', 'the revision is edited');
my ($ok, $out);
($ok, $out, $err) = run_migrate('CALL migrate_run()');
ok($ok, 'the edited revision applies') or diag $err;
unlike($err, qr/dropping invalid index/, 'the edited revision drops nothing');
is(index_valid('items_code_idx'), 'f', 'the INVALID index is still there');

is(status_invalid(), '{public.items_code_idx}', 'after the edit, migrate_status names it');
is( validate_invalid(),
	q{warning|0002_code_idx|Index "public.items_code_idx" on table "public.items" was left INVALID by an interrupted concurrent build (statement 1 of the up script of revision "0002_code_idx"). Drop it with DROP INDEX CONCURRENTLY public.items_code_idx.},
	'after the edit, migrate_validate names it and says how to drop it');
is( check_result(),
	q{MG040: project "default" has 1 invalid index left by an interrupted build
Invalid indexes left by interrupted concurrent builds: public.items_code_idx (up script of 0002_code_idx).},
	'after the edit, migrate_check is not ok, and names it');

# ------------------------------------------------------------------
# 2. A build in a down script, interrupted by a cancel of the caller; the
#    revert is abandoned, and the revision stays applied.  The index has no
#    name in the script: the server's is reported.

$node->safe_psql(
	$db, q{
SELECT migrate_register('0003_drop_tags_idx', 'DROP INDEX CONCURRENTLY tags_code_idx;',
                        'CREATE INDEX CONCURRENTLY ON tags (code);');
CALL migrate_run();
});
is(index_valid('tags_code_idx'), '', 'the up script dropped the index');
$err = interrupt_build(q{CALL migrate_run('0002_code_idx', direction => 'down')},
	'caller', 'caller cancelled while reverting', '{public.items_code_idx}');
like($err, qr/canceling statement due to user request/, 'the revert reports the cancel');
is(index_valid('tags_code_idx'), 'f', 'the interrupted down build left an INVALID index');
is($node->safe_psql($db, q{SELECT count(*) FROM migrate.applied WHERE revision = '0003_drop_tags_idx'}),
	'1', 'the revision whose revert was interrupted is still applied');

is(status_invalid(), '{public.items_code_idx,public.tags_code_idx}',
	'migrate_status names both INVALID indexes');
is( validate_invalid(),
	q{warning|0002_code_idx|Index "public.items_code_idx" on table "public.items" was left INVALID by an interrupted concurrent build (statement 1 of the up script of revision "0002_code_idx"). Drop it with DROP INDEX CONCURRENTLY public.items_code_idx.
warning|0003_drop_tags_idx|Index "public.tags_code_idx" on table "public.tags" was left INVALID by an interrupted concurrent build (statement 1 of the down script of revision "0003_drop_tags_idx"). Drop it with DROP INDEX CONCURRENTLY public.tags_code_idx.},
	'migrate_validate names both');
is( check_result(),
	q{MG040: project "default" has 2 invalid indexes left by interrupted builds
Invalid indexes left by interrupted concurrent builds: public.items_code_idx (up script of 0002_code_idx), public.tags_code_idx (down script of 0003_drop_tags_idx).},
	'migrate_check names both');

# A REINDEX CONCURRENTLY interrupted, then its revision reverted to a
# script that builds nothing.
$node->safe_psql($db,
	q{SELECT migrate_register('0004_reindex', 'REINDEX INDEX CONCURRENTLY items_pkey;')});
interrupt_build('CALL migrate_run()', 'worker', 'REINDEX worker terminated',
	'{public.items_code_idx,public.tags_code_idx}');
is(index_valid('items_pkey_ccnew'), 'f', 'the interrupted REINDEX left its INVALID copy');
$node->safe_psql($db,
	q{SELECT migrate_register('0004_reindex', 'ANALYZE items;')});
($ok, $out, $err) = run_migrate('CALL migrate_run()');
ok($ok, 'the reverted revision applies') or diag $err;
is(status_invalid(), '{public.items_code_idx,public.items_pkey_ccnew,public.tags_code_idx}',
	'migrate_status names the REINDEX copy too');
like(validate_invalid(),
	qr/^warning\|0004_reindex\|Index "public\.items_pkey_ccnew" on table "public\.items" was left INVALID by an interrupted concurrent build \(statement 1 of the up script of revision "0004_reindex"\)\. Drop it with DROP INDEX CONCURRENTLY public\.items_pkey_ccnew\.$/m,
	'migrate_validate names the REINDEX copy');
like(check_result(), qr/^MG040: project "default" has 3 invalid indexes left by interrupted builds$/m,
	'migrate_check counts three');

# ------------------------------------------------------------------
# 3. Dropped by hand: nothing is reported.

$node->safe_psql($db, 'DROP INDEX CONCURRENTLY items_code_idx');
$node->safe_psql($db, 'DROP INDEX CONCURRENTLY tags_code_idx');
$node->safe_psql($db, 'DROP INDEX CONCURRENTLY items_pkey_ccnew');
is(status_invalid(), '{}', 'dropped by hand, they are no longer in migrate_status');
is(validate_invalid(), '', 'nor in migrate_validate');
like(check_result(), qr/^ok: project "default" at head 0004_reindex /,
	'and migrate_check is ok again');

# ------------------------------------------------------------------
# 4. An unchanged revision: the next run drops the leftover and builds
#    again; the build also clears the stale records of the builds above.

$node->safe_psql($db,
	q{SELECT migrate_register('0005_note_idx', 'CREATE INDEX CONCURRENTLY items_note_idx ON items (note);')});
interrupt_build('CALL migrate_run()', 'caller', 'caller cancelled', '{}');
is(index_valid('items_note_idx'), 'f', 'the cancelled build left an INVALID index');
is(status_invalid(), '{public.items_note_idx}', 'migrate_status names it');
is( check_result(),
	q{MG040: project "default" has 1 invalid index left by an interrupted build and 1 pending revision
Invalid indexes left by interrupted concurrent builds: public.items_note_idx (up script of 0005_note_idx).
Pending revisions, in the order an upgrade applies them: 0005_note_idx.},
	'migrate_check names it before the pending revision');

($ok, $out, $err) = run_migrate('CALL migrate_run()');
ok($ok, 'the unchanged revision applies') or diag $err;
like($err, qr/dropping invalid index "public\.items_note_idx" left by an earlier failed build/,
	'the next run drops the leftover first, by name');
is(index_valid('items_note_idx'), 't', 'the index is built again, valid');
is(status_invalid(), '{}', 'migrate_status reports nothing');
is(validate_invalid(), '', 'migrate_validate reports nothing');
like(check_result(), qr/^ok: project "default" at head 0005_note_idx /, 'migrate_check is ok');
is($node->safe_psql($db, 'SELECT count(*) FROM migrate.index_build'),
	'0', 'no record of a build is left');

# The same with an unnamed index: the record of its build names it.
$node->safe_psql($db,
	q{SELECT migrate_register('0006_code_any', 'CREATE INDEX CONCURRENTLY ON items (code);')});
interrupt_build('CALL migrate_run()', 'worker', 'unnamed build worker terminated', '{}');
is(index_valid('items_code_idx'), 'f', 'the unnamed build left an INVALID index');
is(status_invalid(), '{public.items_code_idx}', 'migrate_status names it');
($ok, $out, $err) = run_migrate('CALL migrate_run()');
ok($ok, 'the unchanged revision applies') or diag $err;
like($err, qr/dropping invalid index "public\.items_code_idx" left by an earlier failed build/,
	'the next run drops the unnamed leftover first, by name');
is(index_valid('items_code_idx'), 't', 'the index is built again under the same name, valid');
is(index_valid('items_code_idx1'), '', 'and no second index is built beside it');
is(status_invalid(), '{}', 'migrate_status reports nothing');
is($node->safe_psql($db, 'SELECT count(*) FROM migrate.index_build'),
	'0', 'no record of a build is left');

# An edited statement that builds on the same table drops what the
# statement it replaces left.
$node->safe_psql($db,
	q{SELECT migrate_register('0007_id_note', 'CREATE INDEX CONCURRENTLY items_id_note_idx ON items (id, note);')});
interrupt_build('CALL migrate_run()', 'worker', 'edited statement worker terminated', '{}');
is(status_invalid(), '{public.items_id_note_idx}', 'migrate_status names the leftover');
$node->safe_psql($db,
	q{SELECT migrate_register('0007_id_note', 'CREATE INDEX CONCURRENTLY items_note_id_idx ON items (note, id);')});
($ok, $out, $err) = run_migrate('CALL migrate_run()');
ok($ok, 'the edited revision applies') or diag $err;
like($err, qr/dropping invalid index "public\.items_id_note_idx" left by an earlier failed build/,
	'the edited statement drops the leftover of the statement it replaces');
is(index_valid('items_id_note_idx'), '', 'the leftover is gone');
is(status_invalid(), '{}', 'migrate_status reports nothing');
is($node->safe_psql($db, 'SELECT count(*) FROM migrate.index_build'),
	'0', 'no record of a build is left');

ok(!$node->log_contains('terminated by signal'), 'no process died on a signal');
$node->stop;
done_testing();
