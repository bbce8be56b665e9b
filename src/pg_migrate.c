/*-------------------------------------------------------------------------
 *
 * pg_migrate.c
 *	  Module entry point: the GUC variables; the check that the installed
 *	  SQL objects are the ones this library was built for; and the rules
 *	  every subsystem applies to names, targets and user text (the id rules
 *	  themselves are in reader.c, which the client program shares).
 *
 * _PG_init reads as the table of contents of the module: the GUCs first,
 * then the one subsystem that needs initialising, masking (mask.c), whose
 * emit_log_hook masks secrets in every message of the session.  The other
 * subsystems keep their state per call (the executor's and the lock's
 * timers are registered on first use: a library preloaded into the
 * postmaster cannot register timeouts there).
 *
 * Version skew.  Installing a new build replaces the library at once, for
 * every new session, while each database keeps the SQL objects of the
 * version it has until ALTER EXTENSION pg_migrate UPDATE: functions
 * declared with fewer arguments, tables without the columns the library
 * reads.  So every SQL-callable function starts with
 * mg_check_extension_version, before it reads an argument or runs a
 * statement, and refuses with one error (MG038) naming both versions and
 * the command that fixes it.  The library's version, MG_EXTENSION_VERSION,
 * is not written anywhere in C: the Makefile reads it from
 * pg_migrate.control's default_version, the one place it is kept, so the
 * two cannot differ (and the build stops if it cannot read it).  The update
 * scripts call no pg_migrate function, so ALTER EXTENSION UPDATE works from
 * every release; PostgreSQL sets the extension's version before it runs
 * each update script, so a script that ever did would see its own version.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/pg_extension.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/rel.h"

#include "lint.h"
#include "mask.h"
#include "pg_migrate.h"
#include "reader.h"

PG_MODULE_MAGIC;

/* The version of the SQL objects this library runs with: see the file header. */
#ifndef MG_EXTENSION_VERSION
#error "MG_EXTENSION_VERSION must be pg_migrate.control's default_version (the Makefile passes it)"
#endif

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
static char *installed_version(void);
static int	compare_versions(const char *a, const char *b);
static const char *project_problem(const char *name);

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
				 errmsg("invalid %s id \"%s\"", what, mg_shown(id)),
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
 * Raise an error unless the SQL objects of pg_migrate installed in this
 * database are those of MG_EXTENSION_VERSION (see the file header).  Every
 * SQL-callable function calls this first.
 *
 * The installed version is read from pg_extension on every call, and not
 * cached, by choice.  A cache needs an invalidation, and there is none to
 * be had: PostgreSQL 15 to 17 keep no syscache of pg_extension (18 added
 * one; late 15.x minor releases have one too, which a library cannot count
 * on, as it may run on an earlier minor), so ALTER EXTENSION UPDATE, or
 * DROP and CREATE EXTENSION at another version, sends no invalidation
 * message, neither to this session nor to any other.  A cache would
 * therefore keep saying "right version" to a pooled session that loaded
 * the old library before a package upgrade, after another session ran
 * ALTER EXTENSION UPDATE: the very skew this check is for.  Reading each
 * time is exact: an update made earlier in this session, in this
 * transaction, or committed by any other session is seen by the next call.
 *
 * It is cheap: one index lookup in a catalog of a few rows, about 1 us
 * (measured: a no-op migrate_upgrade at head, called 5000 times in a loop,
 * went from about 6 to 7 us a call), where a no-op deploy's round trip
 * alone is a millisecond or more (bench/client.sh).
 */
void
mg_check_extension_version(void)
{
	char	   *installed = installed_version();

	if (installed != NULL && strcmp(installed, MG_EXTENSION_VERSION) == 0)
		return;

	if (installed == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_MG_VERSION_MISMATCH),
				 errmsg("extension \"pg_migrate\" is not installed in this database"),
				 errdetail("The library of pg_migrate %s is loaded, but this database has none of its SQL objects.",
						   MG_EXTENSION_VERSION),
				 errhint("Run CREATE EXTENSION pg_migrate.")));

	if (compare_versions(installed, MG_EXTENSION_VERSION) > 0)
		ereport(ERROR,
				(errcode(ERRCODE_MG_VERSION_MISMATCH),
				 errmsg("pg_migrate's SQL objects in this database are version %s, but its library in this session is version %s",
						installed, MG_EXTENSION_VERSION),
				 errdetail("The library is older than the SQL objects: this session loaded it before pg_migrate %s was installed, or that version's library is not installed.",
						   installed),
				 errhint("Reconnect, so that the session loads the library of the installed version.")));

	ereport(ERROR,
			(errcode(ERRCODE_MG_VERSION_MISMATCH),
			 errmsg("pg_migrate's SQL objects in this database are version %s, but its library is version %s",
					installed, MG_EXTENSION_VERSION),
			 errdetail("The library cannot run under the SQL objects of another version."),
			 errhint("Run ALTER EXTENSION pg_migrate UPDATE.")));
}

/*
 * The version of extension pg_migrate in the current database, as
 * pg_extension says now; NULL when it is not installed.
 */
static char *
installed_version(void)
{
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	char	   *version = NULL;

	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber, F_NAMEEQ,
				CStringGetDatum("pg_migrate"));
	scan = systable_beginscan(rel, ExtensionNameIndexId, true, NULL, 1, &key);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
	{
		bool		isnull;
		Datum		d = heap_getattr(tuple, Anum_pg_extension_extversion,
									 RelationGetDescr(rel), &isnull);

		if (!isnull)
			version = TextDatumGetCString(d);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return version;
}

/*
 * Compare two versions written as dot-separated numbers ("0.10.1"):
 * negative, zero or positive as a is older, the same or newer.  Anything
 * else compares as older, which gives the advice to update.
 */
static int
compare_versions(const char *a, const char *b)
{
	while (*a != '\0' || *b != '\0')
	{
		char	   *enda;
		char	   *endb;
		long		na = strtol(a, &enda, 10);
		long		nb = strtol(b, &endb, 10);

		if (enda == a || endb == b || (*enda != '.' && *enda != '\0') ||
			(*endb != '.' && *endb != '\0'))
			return -1;
		if (na != nb)
			return na < nb ? -1 : 1;
		a = *enda == '.' ? enda + 1 : enda;
		b = *endb == '.' ? endb + 1 : endb;
	}
	return 0;
}

/*
 * Is target written as a target: "head", "heads", "base", "+N" or "-N" with
 * N from 1 to INT_MAX, or something that can be a revision id or a prefix
 * of one (1 to MG_MAX_REVISION_LEN characters from the id alphabet)?
 * Whether the registry has it is the plan's business.
 */
bool
mg_target_is_valid(const char *target)
{
	const char *p;
	long		n = 0;

	if (strcmp(target, "head") == 0 || strcmp(target, "heads") == 0 ||
		strcmp(target, "base") == 0)
		return true;
	if (target[0] == '+' || target[0] == '-')
	{
		for (p = target + 1; *p >= '0' && *p <= '9' && n <= INT_MAX; p++)
			n = n * 10 + (*p - '0');
		return *p == '\0' && n >= 1 && n <= INT_MAX;
	}
	return mg_name_is_valid(target, MG_MAX_REVISION_LEN);
}

/*
 * Raise an error unless target is written as a target (mg_target_is_valid).
 * Every function that takes a target calls this first, before anything is
 * locked or recorded, so that what the history and the server log keep of
 * a target is always a short line of plain characters.
 */
void
mg_check_target(const char *target)
{
	if (mg_target_is_valid(target))
		return;
	if (target[0] == '+' || target[0] == '-')
		ereport(ERROR,
				(errcode(ERRCODE_MG_INVALID_TARGET),
				 errmsg("invalid relative target \"%s\"", mg_shown(target)),
				 errdetail("A relative target is \"+N\" or \"-N\" with N a positive integer of at most %d.",
						   INT_MAX),
				 errhint("A target is \"head\", \"heads\", \"base\", a revision id, a unique prefix of one, \"+N\" or \"-N\".")));
	ereport(ERROR,
			(errcode(ERRCODE_MG_INVALID_TARGET),
			 errmsg("invalid target \"%s\"", mg_shown(target)),
			 errdetail("A revision id, or a prefix of one, is 1 to %d characters from A-Z, a-z, 0-9, \"_\", \".\" and \"-\".",
					   MG_MAX_REVISION_LEN),
			 errhint("A target is \"head\", \"heads\", \"base\", a revision id, a unique prefix of one, \"+N\" or \"-N\".")));
}

/*
 * The project a call works on: the argument when given, else the
 * pg_migrate.project setting.  Raises an error for an invalid name (see
 * project_problem).
 */
const char *
mg_resolve_project(const char *project)
{
	const char *problem;

	if (project == NULL)
		project = pg_migrate_project;
	if (project == NULL)
		project = "";

	problem = project_problem(project);
	if (problem != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_MG_INVALID_NAME),
				 errmsg("invalid project name \"%s\"", mg_shown(project)),
				 errdetail_internal("%s", problem),
				 errhint("Pass project => '...' or set pg_migrate.project.")));
	return project;
}

/*
 * What keeps name from being a project name, as the detail of an error; NULL
 * when it is one.  A project name is a revision id that could never be
 * mistaken for anything else: 1 to MG_MAX_PROJECT_LEN characters from
 * A-Z, a-z, 0-9, "_", "." and "-"; not "head", "heads" or "base", nor
 * starting with "-" (a target, or a relative step such as "-1"); and not
 * made of dots only ("." and ".." name folders).
 */
static const char *
project_problem(const char *name)
{
	if (!mg_name_is_valid(name, MG_MAX_PROJECT_LEN))
		return psprintf("A project name is 1 to %d characters from A-Z, a-z, 0-9, \"_\", \".\" and \"-\".",
						MG_MAX_PROJECT_LEN);
	if (mg_revision_id_problem(name) == MG_ID_RESERVED)
		return "\"head\", \"heads\", \"base\" and names starting with \"-\" read as targets.";
	if (strspn(name, ".") == strlen(name))
		return "A name made of dots only reads as a folder.";
	return NULL;
}

/* GUC check hook for pg_migrate.project: the rule of project_problem */
static bool
check_project(char **newval, void **extra, GucSource source)
{
	const char *problem = project_problem(*newval ? *newval : "");

	if (problem == NULL)
		return true;
	GUC_check_errcode(ERRCODE_MG_INVALID_NAME);
	GUC_check_errmsg("invalid project name \"%s\"", mg_shown(*newval ? *newval : ""));
	GUC_check_errdetail("%s", problem);
	GUC_check_errhint("Set pg_migrate.project to a name such as \"default\" or \"billing\".");
	return false;
}

/*
 * s as a message may quote it: at most MG_MAX_SHOWN bytes of it, cut at a
 * character boundary and followed by "..." when longer, with control
 * characters written as \n, \r, \t or \xNN (and a backslash as \\), so
 * that a rejected value can neither flood a message nor start a forged
 * line in the server log.
 */
char *
mg_shown(const char *s)
{
	StringInfoData buf;
	const char *p = s;
	bool		utf8 = GetDatabaseEncoding() == PG_UTF8;

	initStringInfo(&buf);
	while (*p != '\0' && p - s < MG_MAX_SHOWN)
	{
		unsigned char c = (unsigned char) *p;
		int			len = pg_mblen(p);

		if (c == '\n')
			appendStringInfoString(&buf, "\\n");
		else if (c == '\r')
			appendStringInfoString(&buf, "\\r");
		else if (c == '\t')
			appendStringInfoString(&buf, "\\t");
		else if (c == '\\')
			appendStringInfoString(&buf, "\\\\");
		else if (c < 0x20 || c == 0x7f)
			appendStringInfo(&buf, "\\x%02x", c);
		else if (utf8 && c == 0xc2 && (unsigned char) p[1] >= 0x80 &&
				 (unsigned char) p[1] <= 0x9f)
			/* a C1 control character, such as a terminal's CSI */
			appendStringInfo(&buf, "\\u%04x", (unsigned char) p[1]);
		else
			appendBinaryStringInfo(&buf, p, len);
		p += len;
	}
	if (*p != '\0')
		appendStringInfoString(&buf, "...");
	return buf.data;
}

/*
 * s as pg_migrate stores it in a history row: unchanged when it has at
 * most MG_MAX_STORED_TEXT bytes; otherwise cut at a character boundary and
 * ended with "...[truncated from N bytes]", the whole within
 * MG_MAX_STORED_TEXT bytes.  NULL stays NULL.
 */
const char *
mg_bounded_text(const char *s)
{
	size_t		len;
	char	   *marker;
	int			keep;

	if (s == NULL)
		return NULL;
	len = strlen(s);
	if (len <= MG_MAX_STORED_TEXT)
		return s;
	marker = psprintf("...[truncated from %zu bytes]", len);
	keep = pg_mbcliplen(s, (int) Min(len, (size_t) INT_MAX),
						MG_MAX_STORED_TEXT - (int) strlen(marker));
	return psprintf("%.*s%s", keep, s, marker);
}
