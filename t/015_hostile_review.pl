
# Reviewing runs no user code, through the client too: "pg_migrate plan",
# run by a superuser, reviews the pending scripts of a deploy role whose
# table has a CHECK constraint, a domain and a cast that call an IMMUTABLE
# wrapper around a VOLATILE function trying to make the role superuser.
# Afterwards the function has not run and the role is not superuser.  The
# server log shows that plan's statement is migrate_upgrade's dry run, the
# call sql/hostile_review.sql checks for every hook.
#
# The client is the installed one, found on PATH (pg_config --bindir).

use strict;
use warnings FATAL => 'all';

use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('hostile_review');
$node->init;
$node->append_conf('postgresql.conf',
	"log_statement = 'all'\nlog_min_messages = info\npg_migrate.lint_large_table_size = 0\n");
$node->start;
$ENV{PGHOST} = $node->host;
$ENV{PGPORT} = $node->port;
delete $ENV{PGPASSWORD};
delete $ENV{PGDATABASE};

$node->safe_psql('postgres', q{
CREATE EXTENSION pg_migrate;
CREATE ROLE regress_hostile LOGIN;
CREATE TABLE public.hostile_log (role name, hook text);
GRANT INSERT ON public.hostile_log TO regress_hostile;
CREATE SCHEMA hostile AUTHORIZATION regress_hostile;
SET ROLE regress_hostile;
CREATE FUNCTION hostile.payload(hook text) RETURNS int
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  INSERT INTO public.hostile_log VALUES (current_user, hook);
  BEGIN
    EXECUTE 'ALTER ROLE regress_hostile SUPERUSER';
  EXCEPTION WHEN insufficient_privilege THEN NULL;
  END;
  RETURN 0;
END $$;
CREATE FUNCTION hostile.hook(i int) RETURNS int
LANGUAGE sql IMMUTABLE AS $$ SELECT hostile.payload('hook') + i $$;
CREATE DOMAIN hostile.dom AS int CHECK (VALUE > hostile.hook(0));
CREATE TYPE hostile.mood AS ENUM ('calm', 'angry');
CREATE FUNCTION hostile.mood_text(hostile.mood) RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT CASE WHEN hostile.hook(0) = 0 THEN 'mood' END $$;
CREATE CAST (hostile.mood AS text) WITH FUNCTION hostile.mood_text(hostile.mood)
  AS ASSIGNMENT;
CREATE TABLE hostile.t (c int CHECK (c > hostile.hook(0)), m hostile.mood);
RESET ROLE;
TRUNCATE hostile_log;
SELECT migrate_register('h1', 'ALTER TABLE hostile.t ALTER COLUMN c SET NOT NULL;');
SELECT migrate_register('h2', $$ALTER TABLE hostile.t ADD COLUMN e hostile.dom[] DEFAULT '{1}'::hostile.dom[];$$,
                        parents => ARRAY['h1']);
SELECT migrate_register('h3', 'ALTER TABLE hostile.t ALTER COLUMN c TYPE hostile.dom;',
                        parents => ARRAY['h2']);
SELECT migrate_register('h4', 'ALTER TABLE hostile.t ALTER COLUMN m TYPE text;',
                        parents => ARRAY['h3']);
});

# the superuser plans
my ($stdout, $stderr) = ('', '');
my $log_offset = -s $node->logfile;
IPC::Run::run([ 'pg_migrate', '-d', 'postgres', 'plan' ],
	'<', \undef, '>', \$stdout, '2>', \$stderr);
my $rc = $? >> 8;
is($rc, 0, 'plan exits 0');
like($stdout, qr/would apply 4 revisions \(dry run: nothing changed\)/,
	'plan lists the pending revisions');
like($stderr, qr/SET NOT NULL on column "c" scans/, 'plan prints the lint findings');

# plan's statement is migrate_upgrade's dry run
my $log = slurp_file($node->logfile, $log_offset);
like($log,
	qr/(?:statement|execute [^:]*): SELECT revision, action,.* FROM migrate_upgrade\(\$1, \$2::boolean\)/,
	'plan calls migrate_upgrade');
like($log, qr/[Pp]arameters: \$1 = 'head', \$2 = 't(?:rue)?'/, 'with dry_run => true');

# nothing of the deploy role's ran
is($node->safe_psql('postgres', 'SELECT count(*) FROM hostile_log'),
	'0', 'no hook ran');
is($node->safe_psql('postgres',
		"SELECT rolsuper FROM pg_roles WHERE rolname = 'regress_hostile'"),
	'f', 'the deploy role is not superuser');

$node->safe_psql('postgres', q{
SELECT migrate_unregister('h4');
SELECT migrate_unregister('h3');
SELECT migrate_unregister('h2');
SELECT migrate_unregister('h1');
DROP SCHEMA hostile CASCADE;
DROP TABLE hostile_log;
DROP ROLE regress_hostile;
});
$node->stop;

done_testing();
