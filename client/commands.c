/*-------------------------------------------------------------------------
 *
 * commands.c
 *	  The client's commands, each one call of the extension's functions.
 *
 * run_command does what they share: it starts connecting, reads the
 * folder while the server starts a backend for it (reading a thousand
 * files takes as long as that, or longer: a no-op deploy should not pay
 * both one after the other), finishes connecting (exit 3 if it cannot),
 * syncs the folder and runs the command.  Bad files exit 2 before
 * anything is changed: the server has seen at most the sync's first
 * statement, which only reads (sync.c).
 *
 * With --dir, "up" commits the sync before it upgrades, so a failed
 * upgrade still leaves the folder registered, as "sync" would.  "up"
 * applies with migrate_upgrade, all or nothing, and "down" reverts with
 * migrate_downgrade, unless a revision to run cannot run in a transaction
 * block or --per-revision is given: then both use CALL migrate_run, a
 * transaction per revision, with direction 'up' or 'down'.  The
 * commands that change nothing (plan, up/down --dry-run, status, check,
 * validate) run the sync and themselves in one transaction that they roll
 * back: they answer for the folder as it is, and leave the registry as it
 * was.
 *
 * Exit statuses (client.h): 0 done; 1 the database refused or failed the
 * operation, check found a problem, validate an error; 2 nothing ran
 * because of what was given: a bad target or argument (MG001, MG002,
 * MG003, MG005, MG018) or, during the sync, bad files (any other MG
 * error but the lock and read-only conditions, or bad data, class 22).
 *
 * Telling "pg_migrate refused" from "a script failed".  A user's script
 * may raise any SQLSTATE, MG002 included, so the SQLSTATE alone cannot say
 * that nothing ran.  The client knows instead which of its statements can
 * run a script at all: migrate_upgrade and migrate_downgrade (not their
 * dry runs) and CALL migrate_run.  Each of those is sent only after a dry
 * run of the same target has passed (in the same simple query, or just
 * before it), and the dry run runs no script: it loads, validates, plans,
 * parses and lints.  So a bad target is refused by the dry run, and 2 is
 * given only for an error of a statement that runs no script (a dry run,
 * the sync, stamp, status, check, history, validate); an error of a
 * statement that runs scripts gives 1, whatever its SQLSTATE.  (Reading
 * the error's context lines instead would not do: pg_migrate's own
 * refusals name a revision and statement too, MG012 for one, and an error
 * raised as a revision's transaction commits names none.)
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <time.h>

#include "catalog/pg_type_d.h"

#include "client.h"

static int	cmd_sync(const ClientOptions *opts);
static int	cmd_up(const ClientOptions *opts);
static int	cmd_down(const ClientOptions *opts);
static int	cmd_plan(const ClientOptions *opts);
static int	cmd_status(const ClientOptions *opts);
static int	cmd_check(const ClientOptions *opts);
static int	cmd_history(const ClientOptions *opts);
static int	cmd_validate(const ClientOptions *opts);
static int	cmd_stamp(const ClientOptions *opts);
static int	run_steps(const ClientOptions *opts, bool up, const char *target,
					  bool dry_run);

/* What an upgrade or a downgrade would do, as probe_plan finds out. */
typedef enum PlanKind
{
	PLAN_FAILED,				/* the dry run failed (printed) */
	PLAN_EMPTY,					/* nothing to apply or revert */
	PLAN_PENDING,				/* revisions to apply or revert */
	PLAN_NON_TRANSACTIONAL		/* one cannot run in a transaction block */
} PlanKind;

/* What the statement that failed was doing, for its exit status */
typedef enum FailedPhase
{
	PHASE_SYNC,					/* syncing the folder: bad files are bad input */
	PHASE_NO_SCRIPT,			/* a statement that runs no script */
	PHASE_SCRIPTS				/* a statement that runs scripts */
} FailedPhase;

static PlanKind probe_plan(const ClientOptions *opts, bool up, const char *target,
						   int *status);
static int	run_probed(const ClientOptions *opts, bool up, const char *target);
static int	print_steps(const ClientOptions *opts, PGresult *res, const char *target,
						bool up, bool dry_run, double ms);
static int	per_revision(const ClientOptions *opts, bool up, const char *target);
static int	run_per_revision(const ClientOptions *opts, bool up, const char *target);
static int	failure_status(FailedPhase phase);
static char *with_project(const ClientOptions *opts, const char *sql_before,
						  int param, const char *sql_after);
static char *human_list(const char *array_literal);
static double elapsed_ms(const struct timespec *start);

static const CommandInfo commands[] = {
	{"sync", ARG_DIR, false, false, cmd_sync},
	{"up", ARG_TARGET_OPTIONAL, true, true, cmd_up},
	{"down", ARG_TARGET_REQUIRED, false, true, cmd_down},
	{"plan", ARG_TARGET_OPTIONAL, true, false, cmd_plan},
	{"status", ARG_NONE, true, false, cmd_status},
	{"check", ARG_NONE, true, false, cmd_check},
	{"history", ARG_NONE, false, false, cmd_history},
	{"validate", ARG_NONE, true, false, cmd_validate},
	{"stamp", ARG_TARGET_REQUIRED, false, false, cmd_stamp},
	{NULL, ARG_NONE, false, false, NULL}
};

static SyncResult sync_result;

/* The command called name, or NULL. */
const CommandInfo *
find_command(const char *name)
{
	const CommandInfo *c;

	for (c = commands; c->name != NULL; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

/*
 * Run the command opts names (checked by the caller), and return its exit
 * status.  Exits by itself on bad files (2), no connection (3) and
 * signals (128 + the signal).
 */
int
run_command(ClientOptions *opts)
{
	const CommandInfo *cmd = find_command(opts->command);
	Folder	   *folder = NULL;
	PGconn	   *conn;
	bool		in_transaction;
	int			status;

	if (cmd->arg == ARG_DIR)
		opts->dir = opts->target;
	connect_start(opts);
	if (opts->dir != NULL)
		folder = sync_read_folder(opts);
	conn = connect_finish();
	query_attach(conn, opts);
	if (folder != NULL && !sync_read_registry(opts, folder))
	{
		status = failure_status(PHASE_SYNC);
		PQfinish(conn);
		return status;
	}

	/* a folder for a command that changes nothing: sync, answer, undo */
	in_transaction = folder != NULL && cmd->arg != ARG_DIR &&
		!(strcmp(cmd->name, "up") == 0 && !opts->dry_run);
	if (in_transaction)
	{
		PGresult   *res = query_run("BEGIN", "BEGIN", 0, NULL);

		if (res == NULL)
			return EXIT_FAILED;
		PQclear(res);
	}
	if (folder != NULL)
	{
		if (!sync_folder(opts, folder, !in_transaction, &sync_result))
		{
			status = failure_status(PHASE_SYNC);
			query_rollback_quietly();
			PQfinish(conn);
			return status;
		}
		out_field_raw("sync", sync_result.json);
	}

	status = cmd->run(opts);

	if (in_transaction)
		query_rollback_quietly();
	PQfinish(conn);
	return status;
}

/*
 * The exit status for the statement that just failed, doing phase:
 * EXIT_BAD_INPUT when pg_migrate refused what the user gave before
 * anything ran, else EXIT_FAILED.  An error of a statement that runs
 * scripts is EXIT_FAILED whatever its SQLSTATE: see the file header.
 */
static int
failure_status(FailedPhase phase)
{
	const char *s = query_error_sqlstate();
	static const char *const bad_argument[] = {
		"MG001", "MG002", "MG003", "MG005", "MG018", NULL
	};
	static const char *const not_the_files[] = {
		"MG013", "MG014", "MG015", "MG016", "MG017", NULL
	};
	int			i;

	if (phase == PHASE_SCRIPTS)
		return EXIT_FAILED;
	for (i = 0; bad_argument[i] != NULL; i++)
		if (strcmp(s, bad_argument[i]) == 0)
			return EXIT_BAD_INPUT;
	if (phase == PHASE_SYNC)
	{
		if (strncmp(s, "22", 2) == 0)
			return EXIT_BAD_INPUT;
		if (strncmp(s, "MG", 2) == 0)
		{
			for (i = 0; not_the_files[i] != NULL; i++)
				if (strcmp(s, not_the_files[i]) == 0)
					return EXIT_FAILED;
			return EXIT_BAD_INPUT;
		}
	}
	return EXIT_FAILED;
}

/*
 * sql_before || "project => $param" || sql_after with --project, else with
 * nothing in between; sql_before ends with ", " when other arguments come
 * first, which is dropped without --project.
 */
static char *
with_project(const ClientOptions *opts, const char *sql_before, int param,
			 const char *sql_after)
{
	size_t		len = strlen(sql_before);

	if (opts->project != NULL)
		return psprintf("%sproject => $%d%s", sql_before, param, sql_after);
	if (len >= 2 && strcmp(sql_before + len - 2, ", ") == 0)
		len -= 2;
	return psprintf("%.*s%s", (int) len, sql_before, sql_after);
}

static double
elapsed_ms(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - start->tv_sec) * 1000.0 +
		(now.tv_nsec - start->tv_nsec) / 1000000.0;
}

/* "{a,b}" as "a, b"; "{}" as "(none)" */
static char *
human_list(const char *array_literal)
{
	StringInfoData buf;
	const char *p;

	if (array_literal == NULL || strcmp(array_literal, "{}") == 0)
		return pg_strdup("(none)");
	initStringInfo(&buf);
	for (p = array_literal; *p; p++)
	{
		if (*p == '{' || *p == '}' || *p == '"')
			continue;
		if (*p == ',')
			appendStringInfoString(&buf, ", ");
		else
			appendStringInfoChar(&buf, *p);
	}
	return buf.data;
}

/* sync DIR: the table of what changed, and the counts */
static int
cmd_sync(const ClientOptions *opts)
{
	SyncResult *r = &sync_result;

	if (!opts->json)
	{
		if (r->changes != NULL)
			out_table(r->changes);
		out_line("synced %d revision%s from %s: %d added, %d updated, %d drifted, %d unchanged",
				 r->revisions, r->revisions == 1 ? "" : "s", opts->dir,
				 r->added, r->updated, r->drifted, r->unchanged);
	}
	return EXIT_OK;
}

/*
 * Call migrate_upgrade (up) or migrate_downgrade and print its steps:
 * revision, action, duration, statements, attempts.
 */
static int
run_steps(const ClientOptions *opts, bool up, const char *target, bool dry_run)
{
	const char *params[3] = {target, dry_run ? "true" : "false", opts->project};
	const char *function = up ? "migrate_upgrade" : "migrate_downgrade";
	const char *what = dry_run ? "the plan" : up ? "the upgrade" : "the downgrade";
	struct timespec start;
	PGresult   *res;
	char	   *sql;

	sql = with_project(opts,
					   psprintf("SELECT revision, action,"
								" round(extract(epoch FROM duration) * 1000, 1) AS duration_ms,"
								" statements, attempts"
								" FROM %s($1, $2::boolean, ", function),
					   3, ")");
	clock_gettime(CLOCK_MONOTONIC, &start);
	res = query_run(what, sql, opts->project != NULL ? 3 : 2, params);
	if (res == NULL)
		return failure_status(dry_run ? PHASE_NO_SCRIPT : PHASE_SCRIPTS);
	return print_steps(opts, res, target, up, dry_run, elapsed_ms(&start));
}

/*
 * Print the steps of migrate_upgrade or migrate_downgrade (up) in res,
 * which took ms, and free res.
 */
static int
print_steps(const ClientOptions *opts, PGresult *res, const char *target,
			bool up, bool dry_run, double ms)
{
	int			n = PQntuples(res);

	out_field_string("target", target);
	out_field_raw("dry_run", dry_run ? "true" : "false");
	out_field_raw("steps", out_rows_json(res));
	if (!opts->json)
	{
		out_table(res);
		if (n == 0)
			out_line(up ? "nothing to do: already at %s" : "nothing to revert: already at %s",
					 target);
		else if (dry_run)
			out_line("%s %d revision%s (dry run: nothing changed)",
					 up ? "would apply" : "would revert", n, n == 1 ? "" : "s");
		else
			out_line("%s %d revision%s in %.3f s", up ? "applied" : "reverted",
					 n, n == 1 ? "" : "s", ms / 1000.0);
	}
	PQclear(res);
	return EXIT_OK;
}

/*
 * up: migrate_upgrade, all or nothing in one transaction; or CALL
 * migrate_run, each revision committed on its own, when a pending revision
 * cannot run in a transaction block or --per-revision asks for it.  "up"
 * never goes down, whichever function runs it: a dry run of
 * migrate_upgrade plans first.  Without --per-revision, that dry run and
 * the upgrade go in one round trip (run_probed), so a deploy with
 * nothing to do costs what it did before migrate_run existed.
 */
static int
cmd_up(const ClientOptions *opts)
{
	const char *target = opts->target != NULL ? opts->target : "head";

	if (opts->dry_run)
		return run_steps(opts, true, target, true);
	if (!opts->per_revision)
		return run_probed(opts, true, target);
	return per_revision(opts, true, target);
}

/*
 * down: migrate_downgrade, all or nothing in one transaction; or CALL
 * migrate_run(target, direction => 'down') when a revision to revert has
 * a down script that cannot run in a transaction block (DROP INDEX
 * CONCURRENTLY) or --per-revision asks for it, as "up" does.  "down"
 * never goes up: migrate_downgrade cannot, and neither can migrate_run
 * with direction 'down'.
 */
static int
cmd_down(const ClientOptions *opts)
{
	if (opts->dry_run)
		return run_steps(opts, false, opts->target, true);
	if (!opts->per_revision)
		return run_probed(opts, false, opts->target);
	return per_revision(opts, false, opts->target);
}

/*
 * --per-revision, up or down: the dry run of migrate_upgrade or
 * migrate_downgrade first, which refuses a bad target before anything
 * runs; then CALL migrate_run when there is anything to do.
 */
static int
per_revision(const ClientOptions *opts, bool up, const char *target)
{
	int			status;

	switch (probe_plan(opts, up, target, &status))
	{
		case PLAN_FAILED:
			return status;
		case PLAN_PENDING:
		case PLAN_NON_TRANSACTIONAL:
			return run_per_revision(opts, up, target);
		case PLAN_EMPTY:
			break;
	}
	return run_steps(opts, up, target, false);
}

/*
 * migrate_upgrade(target) (up) or migrate_downgrade(target), after its dry
 * run in the same simple query: when the dry run refuses a revision that
 * cannot run in a transaction block (MG012, not printed), the real call
 * does not run (nor leave a failure row), and CALL migrate_run runs
 * instead.  Only the dry run's MG012 means that: the same SQLSTATE from the
 * real call is a script's, printed, and exit 1.  The dry run's NOTICEs,
 * which the real call repeats, are not shown.
 */
static int
run_probed(const ClientOptions *opts, bool up, const char *target)
{
	const char *function = up ? "migrate_upgrade" : "migrate_downgrade";
	const char *what = up ? "the upgrade" : "the downgrade";
	char	   *lit = query_literal(target);
	char	   *project = "";
	struct timespec start;
	PGresult   *res;
	char	   *sql;

	if (opts->project != NULL)
		project = psprintf(", project => %s", query_literal(opts->project));
	sql = psprintf("SELECT count(*) FROM %s(%s, true%s);"
				   " SELECT revision, action,"
				   " round(extract(epoch FROM duration) * 1000, 1) AS duration_ms,"
				   " statements, attempts FROM %s(%s, false%s)",
				   function, lit, project, function, lit, project);
	clock_gettime(CLOCK_MONOTONIC, &start);
	res = query_run_probed(what, sql, "MG012");
	if (res != NULL)
		return print_steps(opts, res, target, up, false, elapsed_ms(&start));
	if (query_error_statement() > 0)
		return failure_status(PHASE_SCRIPTS);
	if (strcmp(query_error_sqlstate(), "MG012") != 0)
		return failure_status(PHASE_NO_SCRIPT);
	out_progress(up ?
				 "a pending revision cannot run in a transaction block: applying each revision in a transaction of its own (CALL migrate_run)" :
				 "a revision's down script cannot run in a transaction block: reverting each revision in a transaction of its own (CALL migrate_run)");
	return run_per_revision(opts, up, target);
}

/*
 * What an upgrade (up) or a downgrade to target would do, as the dry run
 * of migrate_upgrade or migrate_downgrade says: nothing, run revisions, or
 * nothing in one transaction because a revision cannot run in a
 * transaction block (the dry run refuses it with MG012, which is not
 * printed).  The dry run's NOTICEs (lint findings, which the real run
 * repeats) are held back: client_min_messages is set for its transaction
 * only.  On any other error, print it and set *status.
 */
static PlanKind
probe_plan(const ClientOptions *opts, bool up, const char *target, int *status)
{
	const char *params[2] = {target, opts->project};
	PGresult   *res;
	char	   *sql;
	PlanKind	kind;

	sql = with_project(opts,
					   psprintf("SELECT count(*) FROM"
								" (SELECT pg_catalog.set_config('client_min_messages', 'warning', true) AS quiet) AS q,"
								" LATERAL %s(CASE WHEN q.quiet IS NOT NULL THEN $1::text END, true, ",
								up ? "migrate_upgrade" : "migrate_downgrade"),
					   2, ")");
	res = query_run_expecting("the plan", sql, opts->project != NULL ? 2 : 1, params,
							  "MG012");
	if (res == NULL)
	{
		if (strcmp(query_error_sqlstate(), "MG012") == 0)
			return PLAN_NON_TRANSACTIONAL;
		*status = failure_status(PHASE_NO_SCRIPT);
		return PLAN_FAILED;
	}
	kind = strcmp(PQgetvalue(res, 0, 0), "0") == 0 ? PLAN_EMPTY : PLAN_PENDING;
	PQclear(res);
	return kind;
}

/*
 * CALL migrate_run(target, direction => 'up' or 'down'): each revision in
 * a transaction of its own, those that cannot run in one at top level; the
 * server's NOTICEs show the progress.  Then print the steps, from the
 * history rows this session wrote (migrate_history), as "up" and "down"
 * print migrate_upgrade's and migrate_downgrade's.  Any error of the call
 * is exit 1: it runs scripts, and its refusals of a bad target came first,
 * from the dry run.
 */
static int
run_per_revision(const ClientOptions *opts, bool up, const char *target)
{
	const char *params[2] = {target, opts->project};
	struct timespec start;
	PGresult   *res;
	char	   *sql;
	int			n;
	double		ms;

	/*
	 * A direction, always: "up" must never revert what another deploy
	 * applied since the plan, nor "down" apply what it registered.
	 */
	sql = with_project(opts,
					   up ? "CALL migrate_run($1, direction => 'up', " :
					   "CALL migrate_run($1, direction => 'down', ",
					   2, ")");
	clock_gettime(CLOCK_MONOTONIC, &start);
	res = query_run(up ? "the upgrade" : "the downgrade", sql,
					opts->project != NULL ? 2 : 1, params);
	if (res == NULL)
		return failure_status(PHASE_SCRIPTS);
	ms = elapsed_ms(&start);
	PQclear(res);

	out_field_string("target", target);
	out_field_raw("dry_run", "false");
	out_field_raw("per_revision", "true");

	sql = with_project(opts,
					   psprintf("SELECT revision, '%s' AS action,"
								" round(extract(epoch FROM duration) * 1000, 1) AS duration_ms,"
								" statements, attempts"
								" FROM migrate_history(2147483647, ",
								up ? "applied" : "reverted"),
					   1,
					   psprintf(") WHERE event = '%s' AND backend_pid = pg_backend_pid()"
								" AND started_at >= (SELECT backend_start FROM pg_stat_activity"
								" WHERE pid = pg_backend_pid()) ORDER BY id",
								up ? "upgrade" : "downgrade"));
	res = query_run_expecting("the steps", sql, opts->project != NULL ? 1 : 0,
							  &params[1], "42501");
	if (res == NULL)
	{
		if (strcmp(query_error_sqlstate(), "42501") != 0)
			return failure_status(PHASE_SCRIPTS);
		if (!opts->json)
			out_line("%s the revisions, each in a transaction of its own, in %.3f s (the steps need EXECUTE on migrate_history)",
					 up ? "applied" : "reverted", ms / 1000.0);
		return EXIT_OK;
	}
	n = PQntuples(res);
	out_field_raw("steps", out_rows_json(res));
	if (!opts->json)
	{
		out_table(res);
		out_line("%s %d revision%s, each in a transaction of its own, in %.3f s",
				 up ? "applied" : "reverted", n, n == 1 ? "" : "s", ms / 1000.0);
	}
	PQclear(res);
	return EXIT_OK;
}

static int
cmd_plan(const ClientOptions *opts)
{
	return run_steps(opts, true, opts->target != NULL ? opts->target : "head", true);
}

/* stamp TARGET: the revisions marked applied or taken off */
static int
cmd_stamp(const ClientOptions *opts)
{
	const char *params[2] = {opts->target, opts->project};
	PGresult   *res;
	int			stamped = 0;
	int			unstamped = 0;
	int			i;

	res = query_run("the stamp",
					with_project(opts, "SELECT revision, action FROM migrate_stamp($1, ", 2, ")"),
					opts->project != NULL ? 2 : 1, params);
	if (res == NULL)
		return failure_status(PHASE_NO_SCRIPT);
	for (i = 0; i < PQntuples(res); i++)
	{
		if (strcmp(PQgetvalue(res, i, 1), "stamped") == 0)
			stamped++;
		else
			unstamped++;
	}
	out_field_string("target", opts->target);
	out_field_raw("changes", out_rows_json(res));
	if (!opts->json)
	{
		out_table(res);
		if (PQntuples(res) == 0)
			out_line("nothing to change: the applied set is already %s", opts->target);
		else
			out_line("%d stamped, %d unstamped", stamped, unstamped);
	}
	PQclear(res);
	return EXIT_OK;
}

/* status: migrate_status()'s row, one line a column */
static int
cmd_status(const ClientOptions *opts)
{
	const char *params[1] = {opts->project};
	PGresult   *res;
	int			col;

	res = query_run("the status",
					with_project(opts, "SELECT * FROM migrate_status(", 1, ")"),
					opts->project != NULL ? 1 : 0, params);
	if (res == NULL)
		return failure_status(PHASE_NO_SCRIPT);
	if (PQntuples(res) > 0)
	{
		out_field_raw("status", out_row_json(res, 0));
		if (!opts->json)
		{
			int			width = 0;

			for (col = 0; col < PQnfields(res); col++)
				width = Max(width, (int) strlen(PQfname(res, col)));
			for (col = 0; col < PQnfields(res); col++)
			{
				const char *v = PQgetisnull(res, 0, col) ? "" : PQgetvalue(res, 0, col);

				if (PQftype(res, col) == TEXTARRAYOID)
					v = human_list(v);
				out_line("%-*s  %s", width, PQfname(res, col), v);
			}
		}
	}
	PQclear(res);
	return EXIT_OK;
}

/* history: the audit log, newest first */
static int
cmd_history(const ClientOptions *opts)
{
	char		limit[16];
	const char *params[2] = {limit, opts->project};
	const char *columns = opts->json ? "*" :
		"id, event, revision, target, finished_at,"
		" round(extract(epoch FROM duration) * 1000, 1) AS duration_ms,"
		" statements, attempts, role, detail";
	PGresult   *res;

	snprintf(limit, sizeof(limit), "%d", opts->limit >= 0 ? opts->limit : 100);
	res = query_run("the history",
					with_project(opts,
								 psprintf("SELECT %s FROM migrate_history(\"limit\" => $1::integer, ",
										  columns),
								 2, ")"),
					opts->project != NULL ? 2 : 1, params);
	if (res == NULL)
		return failure_status(PHASE_NO_SCRIPT);
	out_field_raw("history", out_rows_json(res));
	if (!opts->json)
	{
		out_table(res);
		if (PQntuples(res) == 0)
			out_line("no history");
	}
	PQclear(res);
	return EXIT_OK;
}

/* validate: every problem; exit 1 when one is an error */
static int
cmd_validate(const ClientOptions *opts)
{
	const char *params[1] = {opts->project};
	PGresult   *res;
	int			errors = 0;
	int			warnings = 0;
	int			i;

	res = query_run("the validation",
					with_project(opts,
								 "SELECT severity, revision, problem, detail FROM migrate_validate(",
								 1, ")"),
					opts->project != NULL ? 1 : 0, params);
	if (res == NULL)
		return failure_status(PHASE_NO_SCRIPT);
	for (i = 0; i < PQntuples(res); i++)
	{
		if (strcmp(PQgetvalue(res, i, 0), "error") == 0)
			errors++;
		else
			warnings++;
	}
	out_field_raw("problems", out_rows_json(res));
	out_field_int("errors", errors);
	out_field_int("warnings", warnings);
	if (!opts->json)
	{
		out_table(res);
		if (PQntuples(res) == 0)
			out_line("no problems found");
		else
			out_line("%d error%s, %d warning%s", errors, errors == 1 ? "" : "s",
					 warnings, warnings == 1 ? "" : "s");
	}
	PQclear(res);
	return errors > 0 ? EXIT_FAILED : EXIT_OK;
}

/*
 * check: migrate_check(), in one line: its "ok: ..." and exit 0; otherwise
 * "not ok: " and the message of its error, which counts every problem
 * (the whole error, detail and hint, went to stderr), exit 1 (2 for a bad
 * project name).
 */
static int
cmd_check(const ClientOptions *opts)
{
	const char *params[1] = {opts->project};
	char	   *sql = with_project(opts, "SELECT migrate_check(", 1, ")");
	PGresult   *res;
	char	   *message;
	int			status;

	res = query_run("the check", sql, opts->project != NULL ? 1 : 0, params);
	if (res != NULL)
	{
		message = pg_strdup(PQgetvalue(res, 0, 0));
		status = EXIT_OK;
		PQclear(res);
	}
	else
	{
		message = psprintf("not ok: %s", query_error_message());
		status = failure_status(PHASE_NO_SCRIPT);
	}
	out_field_string("message", message);
	out_line("%s", message);
	return status;
}
