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
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "catalog.h"
#include "history.h"

#define HISTORY_COLUMNS 9		/* per-entry columns */

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
		cols[8][i] = mg_text_or_null(e->detail, &colnulls[8][i]);
	}

	memset(nulls, ' ', sizeof(nulls));
	values[0] = CStringGetTextDatum(project);
	values[1] = target ? CStringGetTextDatum(target) : (Datum) 0;
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
