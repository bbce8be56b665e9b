/*-------------------------------------------------------------------------
 *
 * history.c
 *	  Append rows to the audit log, migrate.history.
 *
 * Rows are written in the caller's transaction, so they commit or roll
 * back with the work they describe.  One statement appends any number of
 * rows: an upgrade writes the rows of all its revisions at once, at the
 * end.  The role recorded is the one the work was done for (the caller),
 * never the owner the bookkeeping runs as.
 *
 * The one exception is the row of a failed upgrade or downgrade, which
 * must outlive the rollback of the transaction that failed: failure.c has
 * it written by a background worker, in a transaction of its own, with
 * mg_history_record_failure.
 *
 * What a row keeps is bounded.  Its identifiers are short by the rules
 * they follow (a revision id, a project name, a target: see
 * pg_migrate.c); the texts that are not, an error's message and detail,
 * and a row's detail (a registration lists its parents), are kept to
 * MG_MAX_STORED_TEXT bytes each, cut with a marker (mg_bounded_text), so
 * that nothing a caller sends can make the history, or a tool that prints
 * it, grow without bound.
 *
 * Each applied or reverted revision also gets one line in the server log
 * (LOG, never sent to the client):
 *
 *	 applied revision "0004_x" of project "default" in 12.345 ms (1 attempt)
 *
 * A line is a claim that the revision is applied (or reverted) in the
 * database, so it is written when the transaction that did the work
 * commits, not when the script finishes: a revision whose call, savepoint
 * or transaction is later rolled back never gets one.  The lines wait in
 * the transaction's memory, tagged with the subtransaction that queued
 * them; a subtransaction abort drops its own and its children's lines, a
 * commit (or PREPARE TRANSACTION, after which the work is durable and only
 * COMMIT PREPARED can follow) writes them, a top-level abort drops them
 * all.  The duration is the script's own, retries and pauses included.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "nodes/pg_list.h"
#include "utils/memutils.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "catalog.h"
#include "history.h"
#include "pg_migrate.h"

#define HISTORY_COLUMNS 9		/* per-entry columns */

/* A server log line waiting for its transaction to commit. */
typedef struct PendingLogLine
{
	SubTransactionId subid;		/* the subtransaction that queued it */
	bool		applied;		/* applied, else reverted */
	char	   *project;
	char	   *revision;
	int64		duration_us;
	int			attempts;
} PendingLogLine;

/* the lines of the current transaction, in TopTransactionContext */
static List *pending_lines = NIL;
static bool callbacks_registered = false;

static void history_xact_callback(XactEvent event, void *arg);
static void history_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
									 SubTransactionId parentSubid, void *arg);
static void write_log_lines(void);

/*
 * Append n entries for project, done for role, with target (may be NULL).
 * Must be called inside an owner scope (catalog.h).
 */
void
mg_history_record(const char *project, const char *target, const char *role,
				  const MgHistoryEntry *entries, int n)
{
	Datum		values[5 + HISTORY_COLUMNS];
	char		nulls[5 + HISTORY_COLUMNS];
	Datum	   *cols[HISTORY_COLUMNS];
	bool	   *colnulls[HISTORY_COLUMNS];
	static const Oid coltypes[HISTORY_COLUMNS] = {
		TEXTOID, TEXTOID, TEXTOID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID,
		INT4OID, INT4OID, TEXTOID
	};
	int			i,
				c;

	if (n == 0)
		return;
	for (c = 0; c < HISTORY_COLUMNS; c++)
	{
		cols[c] = palloc(sizeof(Datum) * n);
		colnulls[c] = palloc0(sizeof(bool) * n);
	}
	for (i = 0; i < n; i++)
	{
		const MgHistoryEntry *e = &entries[i];

		cols[0][i] = CStringGetTextDatum(e->event);
		cols[1][i] = mg_text_or_null(e->revision, &colnulls[1][i]);
		cols[2][i] = mg_text_or_null(e->checksum, &colnulls[2][i]);
		cols[3][i] = mg_text_or_null(e->previous_checksum, &colnulls[3][i]);
		cols[4][i] = TimestampTzGetDatum(e->started_at);
		cols[5][i] = TimestampTzGetDatum(e->finished_at);
		cols[6][i] = Int32GetDatum(e->statements);
		colnulls[6][i] = e->statements < 0;
		cols[7][i] = Int32GetDatum(e->attempts);
		colnulls[7][i] = e->attempts < 0;
		cols[8][i] = mg_text_or_null(mg_bounded_text(e->detail), &colnulls[8][i]);
	}

	memset(nulls, ' ', sizeof(nulls));
	values[0] = CStringGetTextDatum(project);
	values[1] = target ? CStringGetTextDatum(mg_bounded_text(target)) : (Datum) 0;
	nulls[1] = target ? ' ' : 'n';
	values[2] = DirectFunctionCall1(namein, CStringGetDatum(role));
	values[3] = (application_name && application_name[0]) ?
		CStringGetTextDatum(application_name) : (Datum) 0;
	nulls[3] = (application_name && application_name[0]) ? ' ' : 'n';
	values[4] = Int32GetDatum(MyProcPid);
	for (c = 0; c < HISTORY_COLUMNS; c++)
		values[5 + c] = mg_array(cols[c], colnulls[c], n, coltypes[c]);

	mg_catalog_exec(MGQ_INSERT_HISTORY, values, nulls);
}

/*
 * Insert the row of a failed upgrade or downgrade, with the caller's role,
 * application and pid as given in row.  Runs in the background worker of
 * failure.c, in its own transaction; must be called inside an owner scope
 * (catalog.h).  The failing backend has bounded row's texts already
 * (failure.c); they are bounded here again, which changes nothing then
 * and covers any other caller.
 */
void
mg_history_record_failure(const MgFailureRow *row)
{
	Datum		values[16];
	char		nulls[16];
	bool		isnull;

	memset(nulls, ' ', sizeof(nulls));
	values[0] = CStringGetTextDatum(row->project);
	values[1] = CStringGetTextDatum(row->event);
	values[2] = mg_text_or_null(row->revision, &isnull);
	nulls[2] = isnull ? 'n' : ' ';
	values[3] = mg_text_or_null(mg_bounded_text(row->target), &isnull);
	nulls[3] = isnull ? 'n' : ' ';
	values[4] = TimestampTzGetDatum(row->started_at);
	values[5] = TimestampTzGetDatum(row->finished_at);
	values[6] = Int32GetDatum(row->statements);
	nulls[6] = row->statements < 0 ? 'n' : ' ';
	values[7] = Int32GetDatum(row->attempts);
	nulls[7] = row->attempts < 0 ? 'n' : ' ';
	values[8] = DirectFunctionCall1(namein, CStringGetDatum(row->role));
	values[9] = mg_text_or_null(row->application_name, &isnull);
	nulls[9] = isnull ? 'n' : ' ';
	values[10] = Int32GetDatum(row->backend_pid);
	values[11] = mg_text_or_null(mg_bounded_text(row->detail), &isnull);
	nulls[11] = isnull ? 'n' : ' ';
	values[12] = CStringGetTextDatum(row->sqlstate);
	values[13] = CStringGetTextDatum(mg_bounded_text(row->message));
	values[14] = Int32GetDatum(row->statement);
	nulls[14] = row->statement <= 0 ? 'n' : ' ';
	values[15] = Int32GetDatum(row->line);
	nulls[15] = row->line <= 0 ? 'n' : ' ';

	mg_catalog_exec(MGQ_INSERT_FAILURE, values, nulls);
}

/*
 * Queue the server log line of a revision applied (or, with !applied,
 * reverted) in the current transaction: it is written if and when the
 * transaction commits, and dropped if the subtransaction that is current
 * now rolls back.  See the file header.
 */
void
mg_history_log_revision(bool applied, const char *project, const char *revision,
						TimestampTz started, TimestampTz finished, int attempts)
{
	MemoryContext oldcontext;
	PendingLogLine *line;

	if (!callbacks_registered)
	{
		RegisterXactCallback(history_xact_callback, NULL);
		RegisterSubXactCallback(history_subxact_callback, NULL);
		callbacks_registered = true;
	}

	oldcontext = MemoryContextSwitchTo(TopTransactionContext);
	line = palloc(sizeof(PendingLogLine));
	line->subid = GetCurrentSubTransactionId();
	line->applied = applied;
	line->project = pstrdup(project);
	line->revision = pstrdup(revision);
	line->duration_us = finished - started;
	line->attempts = attempts;
	pending_lines = lappend(pending_lines, line);
	MemoryContextSwitchTo(oldcontext);
}

/*
 * At commit (or PREPARE TRANSACTION) write the queued lines; at the end of
 * the transaction forget them either way.  Their memory goes with
 * TopTransactionContext.
 */
static void
history_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PREPARE:
			write_log_lines();
			pending_lines = NIL;
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PARALLEL_ABORT:
			pending_lines = NIL;
			break;
		default:
			break;
	}
}

/*
 * A subtransaction rolled back: drop the lines it queued, and those of the
 * subtransactions inside it, which have larger ids than it (ids grow, and
 * none started after it can still be running when it aborts).
 */
static void
history_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						 SubTransactionId parentSubid, void *arg)
{
	ListCell   *lc;

	if (event != SUBXACT_EVENT_ABORT_SUB)
		return;
	foreach(lc, pending_lines)
	{
		PendingLogLine *line = lfirst(lc);

		if (line->subid >= mySubid)
			pending_lines = foreach_delete_current(pending_lines, lc);
	}
}

/* Write the queued lines to the server log, in the order queued. */
static void
write_log_lines(void)
{
	ListCell   *lc;

	foreach(lc, pending_lines)
	{
		PendingLogLine *line = lfirst(lc);
		double		ms = line->duration_us / 1000.0;

		if (line->applied)
			ereport(LOG_SERVER_ONLY,
					(errmsg_plural("applied revision \"%s\" of project \"%s\" in %.3f ms (%d attempt)",
								   "applied revision \"%s\" of project \"%s\" in %.3f ms (%d attempts)",
								   line->attempts,
								   line->revision, line->project, ms, line->attempts),
					 errhidestmt(true), errhidecontext(true)));
		else
			ereport(LOG_SERVER_ONLY,
					(errmsg_plural("reverted revision \"%s\" of project \"%s\" in %.3f ms (%d attempt)",
								   "reverted revision \"%s\" of project \"%s\" in %.3f ms (%d attempts)",
								   line->attempts,
								   line->revision, line->project, ms, line->attempts),
					 errhidestmt(true), errhidecontext(true)));
	}
}
