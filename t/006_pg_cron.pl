
# Scheduled checks with a real pg_cron (Debian's postgresql-15-cron): a job
# running SELECT migrate_check() every minute shows in cron.job_run_details
# as succeeded while the database is at head, as failed, with the check's
# message, once a new revision is registered, and as succeeded again after
# migrate_upgrade('head').  A job scheduling migrate_upgrade('head') itself,
# the maintenance-window recipe, applies a pending revision.
#
# pg_cron runs a job either through a libpq connection to the server (the
# default) or in a background worker (cron.use_background_workers); two
# servers, one for each, go through the same steps side by side.  The jobs
# are owned by roles with only the grants the README gives a monitoring
# role and a migrator.  pg_cron 1.4 (Debian 12) schedules by the minute, so
# each step waits for the next minute; every wait is bounded by
# poll_query_until's timeout.

use strict;
use warnings FATAL => 'all';

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $db = 'app';

# A server with pg_cron preloaded, jobs running in $db, in the given mode.
sub cron_node
{
	my ($name, $background_workers) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);

	$node->init;
	$node->start;
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->stop;
	$node->append_conf(
		'postgresql.conf', qq{
shared_preload_libraries = 'pg_cron'
cron.database_name = '$db'
cron.host = '@{[ $node->host ]}'
cron.use_background_workers = @{[ $background_workers ? 'on' : 'off' ]}
});
	$node->start;
	$node->safe_psql(
		$db, q{
CREATE EXTENSION pg_cron;
CREATE EXTENSION pg_migrate;
-- the README's grants: a monitoring role that owns the check's job, and a
-- migrator that owns the upgrade's
CREATE ROLE regress_monitor LOGIN;
CREATE ROLE regress_migrator LOGIN;
GRANT EXECUTE ON FUNCTION migrate_check(text), migrate_status(text)
  TO regress_monitor;
GRANT EXECUTE ON FUNCTION
    migrate_register(text, text, text, text[], text, boolean, text),
    migrate_upgrade(text, boolean, text),
    migrate_status(text),
    migrate_check(text)
  TO regress_migrator;
GRANT CREATE ON SCHEMA public TO regress_migrator;
GRANT USAGE ON SCHEMA cron TO regress_monitor, regress_migrator;
});
	return $node;
}

# Register a revision as the migrator.
sub register
{
	my ($node, $id, $up) = @_;
	$node->safe_psql($db,
		"SET ROLE regress_migrator; SELECT migrate_register('$id', \$up\$$up\$up\$)");
	return;
}

# Schedule $command every minute as $role; return the job id.
sub schedule
{
	my ($node, $role, $name, $command) = @_;
	return $node->safe_psql($db,
		"SET ROLE $role; SELECT cron.schedule('$name', '* * * * *', \$c\$$command\$c\$)");
}

# Wait for a run of $jobid that started after $since and ended with
# $status; return its return_message.  Dies after the timeout, showing the
# job's runs.
sub wait_for_run
{
	my ($node, $jobid, $since, $status) = @_;
	my $cond = "jobid = $jobid AND start_time > '$since' AND status = '$status'";

	if (!$node->poll_query_until($db,
			"SELECT count(*) > 0 FROM cron.job_run_details WHERE $cond"))
	{
		diag $node->safe_psql($db,
			"SELECT jobid, status, start_time, return_message FROM cron.job_run_details ORDER BY runid"
		);
		die $node->name . ": no $status run of job $jobid after $since";
	}
	return $node->safe_psql($db,
		"SELECT return_message FROM cron.job_run_details WHERE $cond ORDER BY runid DESC LIMIT 1"
	);
}

sub now_on { my ($node) = @_; return $node->safe_psql($db, 'SELECT clock_timestamp()'); }

my @nodes = (cron_node('libpq', 0), cron_node('bgworker', 1));
my (%check_job, %since);

for my $node (@nodes)
{
	register($node, '0001_users', 'CREATE TABLE users (id bigint PRIMARY KEY);');
	$node->safe_psql($db,
		"SET ROLE regress_migrator; SELECT count(*) FROM migrate_upgrade('head')");
	is( $node->safe_psql($db, 'SET ROLE regress_monitor; SELECT migrate_check()'),
		'ok: project "default" at head 0001_users (1 applied, none pending, no drift)',
		$node->name . ': at head, the check is ok');
	$since{ $node->name } = now_on($node);
	$check_job{ $node->name } =
	  schedule($node, 'regress_monitor', 'pg_migrate check', 'SELECT migrate_check()');
}

# 1. At head: the scheduled check succeeds.
for my $node (@nodes)
{
	wait_for_run($node, $check_job{ $node->name }, $since{ $node->name }, 'succeeded');
	pass($node->name . ': the scheduled check succeeded at head');
}

# 2. A new revision is registered: the next run fails, saying why.
for my $node (@nodes)
{
	register($node, '0002_orders', 'CREATE TABLE orders (id bigint PRIMARY KEY);');
	$since{ $node->name } = now_on($node);
}
for my $node (@nodes)
{
	my $message =
	  wait_for_run($node, $check_job{ $node->name }, $since{ $node->name }, 'failed');
	note $node->name . ": return_message: $message";
	like(
		$message,
		qr/project "default" has 1 pending revision/,
		$node->name . ': the scheduled check failed with the check\'s message');
}

# 3. migrate_upgrade('head'): the next run succeeds again.
for my $node (@nodes)
{
	$node->safe_psql($db,
		"SET ROLE regress_migrator; SELECT count(*) FROM migrate_upgrade('head')");
	$since{ $node->name } = now_on($node);
}
for my $node (@nodes)
{
	wait_for_run($node, $check_job{ $node->name }, $since{ $node->name }, 'succeeded');
	pass($node->name . ': the scheduled check succeeded again after the upgrade');
}

# 4. The maintenance window: a job owned by the migrator runs
# migrate_upgrade('head') and applies what is pending.
my %upgrade_job;
for my $node (@nodes)
{
	register($node, '0003_users_email', 'ALTER TABLE users ADD COLUMN email text;');
	$since{ $node->name } = now_on($node);
	$upgrade_job{ $node->name } = schedule($node, 'regress_migrator',
		'pg_migrate upgrade', "SELECT migrate_upgrade('head')");
}
for my $node (@nodes)
{
	wait_for_run($node, $upgrade_job{ $node->name }, $since{ $node->name },
		'succeeded');
	$node->safe_psql($db,
		"SET ROLE regress_migrator; SELECT cron.unschedule('pg_migrate upgrade')");
	is( $node->safe_psql(
			$db, q{SELECT event, revision, role FROM migrate_history(1)}),
		'upgrade|0003_users_email|regress_migrator',
		$node->name . ': the scheduled upgrade applied the pending revision as its owner');
	is( $node->safe_psql(
			$db, q{SELECT count(*) FROM pg_attribute
			        WHERE attrelid = 'users'::regclass AND attname = 'email'}),
		'1',
		$node->name . ': its script ran');
	is( $node->safe_psql($db, 'SET ROLE regress_monitor; SELECT migrate_check()'),
		'ok: project "default" at head 0003_users_email (3 applied, none pending, no drift)',
		$node->name . ': the check is ok after it');
	$node->safe_psql($db,
		"SET ROLE regress_monitor; SELECT cron.unschedule('pg_migrate check')");
}

$_->stop for @nodes;
done_testing();
