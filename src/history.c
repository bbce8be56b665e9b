/*-------------------------------------------------------------------------
 *
 * history.c
 *	  Append rows to the audit log, migrate.history.
 *
 * Rows are written in the caller's transaction, so they commit or roll
 * back with the work they describe.  The role recorded is the one the work
 * was done for (the caller), never the owner the bookkeeping runs as.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "catalog.h"
#include "history.h"

static Datum text_or_null(const char *s, char *null);

/*
 * Append entry.  Must be called inside an owner scope (catalog.h).
 */
void
mg_history_record(const MgHistoryEntry *entry)
{
	Datum		values[14];
	char		nulls[14];

	memset(nulls, ' ', sizeof(nulls));
	values[0] = CStringGetTextDatum(entry->project);
	values[1] = CStringGetTextDatum(entry->event);
	values[2] = text_or_null(entry->revision, &nulls[2]);
	values[3] = text_or_null(entry->target, &nulls[3]);
	values[4] = text_or_null(entry->checksum, &nulls[4]);
	values[5] = text_or_null(entry->previous_checksum, &nulls[5]);
	values[6] = TimestampTzGetDatum(entry->started_at);
	values[7] = TimestampTzGetDatum(entry->finished_at);
	values[8] = Int32GetDatum(entry->statements);
	nulls[8] = entry->statements < 0 ? 'n' : ' ';
	values[9] = Int32GetDatum(entry->attempts);
	nulls[9] = entry->attempts < 0 ? 'n' : ' ';
	values[10] = DirectFunctionCall1(namein, CStringGetDatum(entry->role));
	values[11] = text_or_null(application_name && application_name[0] ? application_name : NULL,
							  &nulls[11]);
	values[12] = Int32GetDatum(MyProcPid);
	values[13] = text_or_null(entry->detail, &nulls[13]);

	mg_catalog_exec(MGQ_INSERT_HISTORY, values, nulls);
}

static Datum
text_or_null(const char *s, char *null)
{
	*null = s ? ' ' : 'n';
	return s ? CStringGetTextDatum(s) : (Datum) 0;
}
