/*-------------------------------------------------------------------------
 *
 * sync.c
 *	  Bringing a migration folder into the registry, sending only what
 *	  changed.
 *
 * The folder is read with the extension's own reader (../src/reader.c,
 * compiled here with -DFRONTEND), so the client and a server-side sync
 * can never disagree on what a file means.  A folder with any bad file is
 * refused whole, every problem listed, before any statement is sent.  The
 * folder is read while the connection is being made (commands.c).
 *
 * Then, in two statements at most:
 *
 *	1. migrate_sources() returns each registered revision's source hash,
 *	   mg_file_revision_hash() of what is registered for it;
 *	2. the revisions whose local hash is missing from that list or differs
 *	   from it go to migrate_sync() as one JSON array, registered in one
 *	   transaction under the migration lock.
 *
 * When every hash matches, the second statement is not sent at all: a
 * deploy that changes nothing costs one small query, however many files
 * there are, and no script crosses the network.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include "client.h"

typedef struct Registered
{
	const char *revision;
	const char *hash;
	bool		in_folder;
} Registered;

static int	registered_cmp(const void *a, const void *b);
static void append_revision_json(StringInfo buf, const MgFileRevision *rev);
static const char *project_arg(const ClientOptions *opts, int param);

/*
 * Read the folder named by --dir (or the sync command's DIR), and hash
 * each revision.  Exits with EXIT_BAD_INPUT, every problem listed, when
 * any file is bad or there are no migrations.
 */
Folder *
sync_read_folder(const ClientOptions *opts)
{
	MgFileSet  *set = mg_read_directory(opts->dir, opts->layout);
	StringInfoData text;
	StringInfoData json;
	int			i;

	if (set->nerrors == 0 && set->nrevisions > 0)
	{
		Folder	   *folder = pg_malloc(sizeof(Folder));

		folder->set = set;
		folder->hashes = pg_malloc(sizeof(char *) * set->nrevisions);
		for (i = 0; i < set->nrevisions; i++)
			folder->hashes[i] = mg_file_revision_hash(&set->revisions[i]);
		out_progress("read %d revision%s from %s (%s layout)",
					 set->nrevisions, set->nrevisions == 1 ? "" : "s",
					 opts->dir, mg_layout_name(set->layout));
		return folder;
	}

	initStringInfo(&text);
	initStringInfo(&json);
	if (set->nerrors == 0)
		appendStringInfo(&text, "no migration files in \"%s\"", opts->dir);
	else
		appendStringInfo(&text, "the migration folder \"%s\" has %d problem%s; nothing was registered",
						 opts->dir, set->nerrors, set->nerrors == 1 ? "" : "s");
	appendStringInfoString(&json, "{\"message\": ");
	out_json_string(&json, text.data);
	appendStringInfoString(&json, ", \"problems\": [");
	for (i = 0; i < set->nerrors; i++)
	{
		appendStringInfo(&text, "\n%s", set->errors[i]);
		if (i > 0)
			appendStringInfoString(&json, ", ");
		out_json_string(&json, set->errors[i]);
	}
	appendStringInfoString(&json, "]}");
	out_message("ERROR", text.data);
	out_set_error(json.data);
	client_exit(EXIT_BAD_INPUT);
}

/*
 * The SQL for the project argument: ", project => $N" with --project,
 * else nothing (the server's pg_migrate.project).
 */
static const char *
project_arg(const ClientOptions *opts, int param)
{
	if (opts->project == NULL)
		return "";
	return psprintf("project => $%d", param);
}

/*
 * Register the folder's new and changed revisions (see the file header).
 * Fills *result and returns true, or returns false after a failed
 * statement, whose error has been printed.
 */
bool
sync_folder(const ClientOptions *opts, const Folder *folder, SyncResult *result)
{
	MgFileSet  *set = folder->set;
	char	  **hashes = folder->hashes;
	const char *params[2];
	Registered *reg;
	int			nreg;
	PGresult   *res;
	PGresult   *synced = NULL;
	StringInfoData payload;
	StringInfoData json;
	StringInfoData missing;
	int			nmissing = 0;
	int			i;
	char	   *sql;

	memset(result, 0, sizeof(*result));
	result->revisions = set->nrevisions;

	/* 1. what is registered, as hashes */
	params[0] = opts->project;
	sql = psprintf("SELECT revision, source_hash FROM migrate_sources(%s)",
				   project_arg(opts, 1));
	res = query_run("reading the registered revisions", sql,
					opts->project != NULL ? 1 : 0, params);
	if (res == NULL)
		return false;
	nreg = PQntuples(res);
	reg = pg_malloc0(sizeof(Registered) * (nreg + 1));
	for (i = 0; i < nreg; i++)
	{
		reg[i].revision = PQgetvalue(res, i, 0);
		reg[i].hash = PQgetvalue(res, i, 1);
	}
	qsort(reg, nreg, sizeof(Registered), registered_cmp);

	/* 2. the revisions to send: new, or registered with another hash */
	initStringInfo(&payload);
	appendStringInfoChar(&payload, '[');
	for (i = 0; i < set->nrevisions; i++)
	{
		Registered	key = {set->revisions[i].id, NULL, false};
		Registered *found = bsearch(&key, reg, nreg, sizeof(Registered),
									registered_cmp);

		if (found != NULL)
		{
			found->in_folder = true;
			if (strcmp(found->hash, hashes[i]) == 0)
			{
				result->unchanged++;
				continue;
			}
		}
		if (result->sent > 0)
			appendStringInfoString(&payload, ",\n");
		append_revision_json(&payload, &set->revisions[i]);
		result->sent++;
	}
	appendStringInfoChar(&payload, ']');

	initStringInfo(&missing);
	for (i = 0; i < nreg; i++)
	{
		if (reg[i].in_folder)
			continue;
		if (nmissing < 10)
			appendStringInfo(&missing, "%s%s", nmissing > 0 ? ", " : "",
							 reg[i].revision);
		nmissing++;
	}
	if (nmissing > 0)
		out_message("WARNING",
					psprintf("%d registered revision%s not in \"%s\": %s%s",
							 nmissing, nmissing == 1 ? " is" : "s are",
							 opts->dir, missing.data, nmissing > 10 ? ", ..." : ""));

	if (result->sent > 0)
	{
		params[0] = payload.data;
		params[1] = opts->project;
		sql = psprintf("SELECT revision, action FROM migrate_sync($1::pg_catalog.jsonb%s%s)",
					   opts->project != NULL ? ", " : "", project_arg(opts, 2));
		synced = query_run("the sync", sql, opts->project != NULL ? 2 : 1, params);
		if (synced == NULL)
		{
			PQclear(res);
			return false;
		}
		for (i = 0; i < PQntuples(synced); i++)
		{
			const char *rev = PQgetvalue(synced, i, 0);
			const char *action = PQgetvalue(synced, i, 1);

			if (strcmp(action, "added") == 0)
				result->added++;
			else if (strcmp(action, "updated") == 0)
				result->updated++;
			else if (strcmp(action, "unchanged") == 0)
				result->unchanged++;
			else if (strcmp(action, "drifted") == 0)
			{
				result->drifted++;
				out_message("WARNING",
							psprintf("revision \"%s\" is applied, and its up script in the folder has changed\n"
									 "HINT:  An upgrade refuses to run until the script is as it was applied;"
									 " put the change in a new revision.",
									 rev));
			}
		}
	}

	out_progress("synced %d revision%s from %s: %d added, %d updated, %d drifted, %d unchanged",
				 set->nrevisions, set->nrevisions == 1 ? "" : "s", opts->dir,
				 result->added, result->updated, result->drifted,
				 result->unchanged);

	initStringInfo(&json);
	appendStringInfoString(&json, "{\"dir\": ");
	out_json_string(&json, opts->dir);
	appendStringInfoString(&json, ", \"layout\": ");
	out_json_string(&json, mg_layout_name(set->layout));
	appendStringInfo(&json,
					 ", \"revisions\": %d, \"sent\": %d, \"added\": %d, \"updated\": %d, \"drifted\": %d, \"unchanged\": %d, \"changes\": ",
					 result->revisions, result->sent, result->added,
					 result->updated, result->drifted, result->unchanged);
	if (synced != NULL)
	{
		char	   *rows = out_rows_json(synced);

		appendStringInfoString(&json, rows);
		pfree(rows);
	}
	else
		appendStringInfoString(&json, "[]");
	appendStringInfoString(&json, ", \"not_in_folder\": [");
	nmissing = 0;
	for (i = 0; i < nreg; i++)
	{
		if (reg[i].in_folder)
			continue;
		if (nmissing++ > 0)
			appendStringInfoString(&json, ", ");
		out_json_string(&json, reg[i].revision);
	}
	appendStringInfoString(&json, "]}");
	result->json = json.data;
	result->changes = synced;

	PQclear(res);
	pg_free(reg);
	pfree(payload.data);
	pfree(missing.data);
	return true;
}

static int
registered_cmp(const void *a, const void *b)
{
	return strcmp(((const Registered *) a)->revision,
				  ((const Registered *) b)->revision);
}

/* append one revision as migrate_sync() takes it, a JSON object */
static void
append_revision_json(StringInfo buf, const MgFileRevision *rev)
{
	int			i;

	appendStringInfoString(buf, "{\"revision\": ");
	json_quote(buf, rev->id);
	appendStringInfoString(buf, ", \"parents\": [");
	for (i = 0; i < rev->nparents; i++)
	{
		if (i > 0)
			appendStringInfoString(buf, ", ");
		json_quote(buf, rev->parents[i]);
	}
	appendStringInfoString(buf, "], \"description\": ");
	if (rev->description != NULL)
		json_quote(buf, rev->description);
	else
		appendStringInfoString(buf, "null");
	appendStringInfoString(buf, ", \"up\": ");
	json_quote(buf, rev->up);
	appendStringInfoString(buf, ", \"down\": ");
	if (rev->down != NULL)
		json_quote(buf, rev->down);
	else
		appendStringInfoString(buf, "null");
	appendStringInfo(buf, ", \"nontransactional\": %s}",
					 rev->nontransactional ? "true" : "false");
}
