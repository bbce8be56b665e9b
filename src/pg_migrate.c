/*-------------------------------------------------------------------------
 *
 * pg_migrate.c
 *	  Module entry point: the GUC variables, and the errors every subsystem
 *	  raises for a name that breaks the naming rules (the rules themselves
 *	  are in reader.c, which the client program shares).
 *
 * _PG_init reads as the table of contents of the module: the GUCs first,
 * then the one subsystem that needs initialising, masking (mask.c), whose
 * emit_log_hook masks secrets in every message of the session.  The other
 * subsystems keep their state per call (the executor's and the lock's
 * timers are registered on first use: a library preloaded into the
 * postmaster cannot register timeouts there).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "fmgr.h"
#include "utils/guc.h"

#include "lint.h"
#include "mask.h"
#include "pg_migrate.h"
#include "reader.h"

PG_MODULE_MAGIC;

/* GUC variables; README.md explains how the defaults were chosen */
char	   *pg_migrate_project = NULL;
int			pg_migrate_lock_wait_timeout = 5 * 60 * 1000;
int			pg_migrate_lock_timeout = 50;
int			pg_migrate_lock_retries = 100;
int			pg_migrate_retry_delay = 50;
int			pg_migrate_retry_max_delay = 500;
int			pg_migrate_script_timeout = 0;
char	   *pg_migrate_directory = NULL;
int			pg_migrate_lint = MG_LINT_WARN;
int			pg_migrate_lint_large_table = 10000;
int			pg_migrate_lint_large_table_size = 10 * 1024;

static const struct config_enum_entry lint_options[] = {
	{"off", MG_LINT_OFF, false},
	{"warn", MG_LINT_WARN, false},
	{"error", MG_LINT_ERROR, false},
	{NULL, 0, false}
};

void		_PG_init(void);

static bool check_project(char **newval, void **extra, GucSource source);

/*
 * Module load: define the GUCs under the reserved pg_migrate prefix, then
 * install the masking hook.
 */
void
_PG_init(void)
{
	DefineCustomStringVariable("pg_migrate.project",
							   "Project whose migration history the pg_migrate functions use by default.",
							   NULL,
							   &pg_migrate_project,
							   "default",
							   PGC_USERSET,
							   0,
							   check_project, NULL, NULL);

	DefineCustomIntVariable("pg_migrate.lock_wait_timeout",
							"How long a migration waits for another one on the same project to finish; 0 waits forever.",
							NULL,
							&pg_migrate_lock_wait_timeout,
							5 * 60 * 1000, 0, INT_MAX,
							PGC_USERSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_migrate.lock_timeout",
							"lock_timeout for every statement of a migration script; 0 lets a statement wait for a lock forever.",
							NULL,
							&pg_migrate_lock_timeout,
							50, 0, INT_MAX,
							PGC_USERSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_migrate.lock_retries",
							"How many times a revision that failed on a lock timeout, deadlock or serialization failure is run again.",
							NULL,
							&pg_migrate_lock_retries,
							100, 0, 1000000,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_migrate.retry_delay",
							"Pause before the first retry of a revision; it doubles with each further retry, with random jitter.",
							NULL,
							&pg_migrate_retry_delay,
							50, 1, 3600 * 1000,
							PGC_USERSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_migrate.retry_max_delay",
							"Longest pause between two attempts of a revision.",
							NULL,
							&pg_migrate_retry_max_delay,
							500, 1, 3600 * 1000,
							PGC_USERSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_migrate.script_timeout",
							"Longest time one revision may take, all its attempts and pauses included; 0 for no limit.",
							NULL,
							&pg_migrate_script_timeout,
							0, 0, INT_MAX,
							PGC_USERSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomStringVariable("pg_migrate.directory",
							   "Folder on the server whose migration files migrate_upgrade registers first; empty for none.",
							   NULL,
							   &pg_migrate_directory,
							   "",
							   PGC_SUSET,
							   0,
							   NULL, NULL, NULL);

	DefineCustomEnumVariable("pg_migrate.lint",
							 "What migrate_upgrade does with the lint's findings on pending scripts: nothing, a NOTICE each, or refuse.",
							 NULL,
							 &pg_migrate_lint,
							 MG_LINT_WARN,
							 lint_options,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("pg_migrate.lint_large_table",
							"Estimated rows from which the lint treats an existing table as large; -1 for no row limit.",
							NULL,
							&pg_migrate_lint_large_table,
							10000, -1, INT_MAX,
							PGC_SUSET,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_migrate.lint_large_table_size",
							"Size from which the lint treats an existing table as large; -1 for no size limit.",
							NULL,
							&pg_migrate_lint_large_table_size,
							10 * 1024, -1, INT_MAX,
							PGC_SUSET,
							GUC_UNIT_KB,
							NULL, NULL, NULL);

	MarkGUCPrefixReserved("pg_migrate");

	MaskInit();
}

/*
 * Raise an error unless id is usable as a revision id.  The rule is
 * mg_revision_id_problem's in reader.c, which the client program applies
 * too: besides the character rules, ids that would read as a target keyword
 * ("head", "heads", "base") or a relative step ("+3", "-1") are refused,
 * since a target naming them would be ambiguous.  "what" names the argument
 * in the message ("revision", "parent").
 */
void
mg_check_revision_id(const char *id, const char *what)
{
	MgIdProblem problem;

	if (id == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_MG_INVALID_NAME),
				 errmsg("%s id must not be null", what),
				 errhint("Name every revision with an id such as \"0004_add_sqs_metadata\".")));

	problem = mg_revision_id_problem(id);
	if (problem == MG_ID_BAD_NAME)
		ereport(ERROR,
				(errcode(ERRCODE_MG_INVALID_NAME),
				 errmsg("invalid %s id \"%s\"", what, id),
				 errdetail("A revision id is 1 to %d characters from A-Z, a-z, 0-9, \"_\", \".\" and \"-\".",
						   MG_MAX_REVISION_LEN),
				 errhint("Name revisions after their files, for example \"0004_add_sqs_metadata\".")));

	if (problem == MG_ID_RESERVED)
		ereport(ERROR,
				(errcode(ERRCODE_MG_INVALID_NAME),
				 errmsg("invalid %s id \"%s\"", what, id),
				 errdetail("\"head\", \"heads\", \"base\" and ids starting with \"-\" are reserved for targets."),
				 errhint("Choose another id.")));
}

/*
 * The project a call works on: the argument when given, else the
 * pg_migrate.project setting.  Raises an error for an invalid name.
 */
const char *
mg_resolve_project(const char *project)
{
	if (project == NULL)
		project = pg_migrate_project;

	if (project == NULL || !mg_name_is_valid(project, MG_MAX_PROJECT_LEN))
		ereport(ERROR,
				(errcode(ERRCODE_MG_INVALID_NAME),
				 errmsg("invalid project name \"%s\"", project ? project : ""),
				 errdetail("A project name is 1 to %d characters from A-Z, a-z, 0-9, \"_\", \".\" and \"-\".",
						   MG_MAX_PROJECT_LEN),
				 errhint("Pass project => '...' or set pg_migrate.project.")));
	return project;
}

/* GUC check hook for pg_migrate.project */
static bool
check_project(char **newval, void **extra, GucSource source)
{
	if (*newval == NULL || !mg_name_is_valid(*newval, MG_MAX_PROJECT_LEN))
	{
		GUC_check_errdetail("A project name is 1 to %d characters from A-Z, a-z, 0-9, \"_\", \".\" and \"-\".",
							MG_MAX_PROJECT_LEN);
		return false;
	}
	return true;
}
