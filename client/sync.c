/*-------------------------------------------------------------------------
 *
 * sync.c
 *	  Bringing a migration folder into the registry, sending only what
 *	  changed.
 *
 * The folder is read with the extension's own reader (../src/reader.c,
 * compiled here with -DFRONTEND), so the client and a server-side sync
 * can never disagree on what a file means.  A folder with any bad file is
 * refused whole, every problem listed, before anything is changed.
 *
 * A deploy that changes nothing is the common case, and must cost little
 * more than connecting.  The reader gives a fingerprint of the folder's
 * files as they are read (names and bytes), and after a sync that leaves
 * the registry holding exactly the folder's revisions the client records
 * its key for the folder, that fingerprint with the client's version and
 * the layout asked for, through migrate_sync(folder => ...).  Any later
 * change to the project's registered revisions makes the server forget
 * it.  So a deploy starts with migrate_synced_folder(): when it returns
 * the key of the folder just read, the registry holds that folder already,
 * and nothing is parsed, hashed or compared.
 *
 * Otherwise, in two statements at most:
 *
 *	1. migrate_sources() returns each registered revision's source hash,
 *	   mg_file_revision_hash() of what is registered for it;
 *	2. the revisions whose local hash is missing from that list or differs
 *	   from it go to migrate_sync() as one JSON array, registered in one
 *	   transaction under the migration lock, with the folder's key when
 *	   every registered revision is in the folder.  When there is nothing
 *	   to send and the key was not recorded, only the key goes.
 *
 * Nothing waits for anything that it need not wait for.  The folder is
 * read while the server starts a backend for the connection (commands.c),
 * and migrate_synced_folder() is sent as soon as the connection is ready,
 * from the reader's hook between two files: its answer is usually in
 * before the last file is read, and when it is not, the client waits for
 * it rather than parse a folder that may need no parsing.  That statement only reads; when the folder turns out
 * to be bad it is abandoned with the connection.  When the connection is
 * not ready by the time the folder is read, the client parses and hashes
 * the folder while it waits (and refuses a bad one without waiting).
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

/* the statements, in messages */
#define STATE_WHAT "reading the state of the registry"
#define SOURCES_WHAT "reading the registered revisions"

/* hash this many revisions between two turns of the connection */
#define HASH_BATCH 64

/* migrate_synced_folder(), sent while the folder is still being read */
static struct
{
	const ClientOptions *opts;
	bool		sent;			/* its result is to be read */
	bool		failed;			/* could not be sent; the error was shown */
} early;

static char *folder_key(const ClientOptions *opts, const MgFolderFiles *files);
static void refuse_folder(const ClientOptions *opts, int nerrors, char **errors);
static void parse_folder(const ClientOptions *opts, Folder *folder);
static bool take_state(Folder *folder, PGresult *res);
static void send_state_early(void);
static bool send_query(const ClientOptions *opts, const char *what,
					   const char *function, bool wait, PGresult **res);
static int	registered_cmp(const void *a, const void *b);
static void append_revision_json(StringInfo buf, const MgFileRevision *rev);
static const char *project_arg(const ClientOptions *opts, int param);

/*
 * Read the folder named by --dir (or the sync command's DIR), sending
 * migrate_synced_folder() as soon as the connection connect_start began is
 * ready, and parse and hash it unless the answer is already in and says
 * the registry holds this folder (see the file header).  Exits with
 * EXIT_BAD_INPUT, every problem listed, when any file is bad or there are
 * no migrations.
 */
Folder *
sync_read_folder(const ClientOptions *opts)
{
	Folder	   *folder = pg_malloc0(sizeof(Folder));

	early.opts = opts;
	mg_reader_file_hook = send_state_early;
	folder->files = mg_read_folder_files(opts->dir);
	mg_reader_file_hook = NULL;
	if (folder->files->nerrors > 0)
		refuse_folder(opts, folder->files->nerrors, folder->files->errors);
	folder->key = folder_key(opts, folder->files);

	/*
	 * Connected and asked: the answer is due within a few milliseconds, and
	 * most deploys change nothing, so wait for it rather than parse what
	 * may need no parsing.  Not connected yet: parse now, so that a bad
	 * folder is refused without waiting for the server.
	 */
	send_state_early();
	if (early.sent)
	{
		PGresult   *res = query_wait(STATE_WHAT);

		early.sent = false;
		if (res == NULL)
			early.failed = true;
		else if (take_state(folder, res))
			return folder;
	}
	parse_folder(opts, folder);
	return folder;
}

/*
 * The key the client records for a folder: what decides how its files
 * are read (this client's version, whose reader may read the same bytes
 * differently, and the layout asked for) and the reader's fingerprint of
 * the files.  The record kept by the server is "LAYOUT KEY", with the
 * layout the files were read with, for messages (parse_folder).
 */
static char *
folder_key(const ClientOptions *opts, const MgFolderFiles *files)
{
	return psprintf("%s %s %s", PGM_VERSION, mg_layout_name(opts->layout),
					files->fingerprint);
}

/*
 * Parse the folder's files and hash each revision, turning the
 * connection between batches.  Exits with EXIT_BAD_INPUT when a file is
 * bad or there are no migrations.
 */
static void
parse_folder(const ClientOptions *opts, Folder *folder)
{
	MgFileSet  *set = mg_parse_folder_files(folder->files, opts->layout, opts->dir);
	int			i;

	if (set->nerrors > 0 || set->nrevisions == 0)
		refuse_folder(opts, set->nerrors, set->errors);
	folder->set = set;
	folder->hashes = pg_malloc(sizeof(char *) * set->nrevisions);
	for (i = 0; i < set->nrevisions; i++)
	{
		if (i % HASH_BATCH == 0)
			send_state_early();
		folder->hashes[i] = mg_file_revision_hash(&set->revisions[i]);
	}
	folder->record = psprintf("%s %s", mg_layout_name(set->layout), folder->key);
	out_progress("read %d revision%s from %s (%s layout)",
				 set->nrevisions, set->nrevisions == 1 ? "" : "s",
				 opts->dir, mg_layout_name(set->layout));
}

/*
 * Exit with EXIT_BAD_INPUT for a bad folder: its nerrors problems listed,
 * or none, meaning that it holds no migrations.
 */
static void
refuse_folder(const ClientOptions *opts, int nerrors, char **errors)
{
	StringInfoData text;
	StringInfoData json;
	int			i;

	initStringInfo(&text);
	initStringInfo(&json);
	if (nerrors == 0)
		appendStringInfo(&text, "no migration files in \"%s\"", opts->dir);
	else
		appendStringInfo(&text, "the migration folder \"%s\" has %d problem%s; nothing was registered",
						 opts->dir, nerrors, nerrors == 1 ? "" : "s");
	appendStringInfoString(&json, "{\"message\": ");
	out_json_string(&json, text.data);
	appendStringInfoString(&json, ", \"problems\": [");
	for (i = 0; i < nerrors; i++)
	{
		appendStringInfo(&text, "\n%s", errors[i]);
		if (i > 0)
			appendStringInfoString(&json, ", ");
		out_json_string(&json, errors[i]);
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
 * The answer of migrate_synced_folder(), res (cleared here): when the
 * folder the server recorded is this one, mark the folder unchanged, say
 * so, and return true.
 */
static bool
take_state(Folder *folder, PGresult *res)
{
	const char *recorded = PQgetisnull(res, 0, 0) ? NULL : PQgetvalue(res, 0, 0);
	const char *space = recorded ? strchr(recorded, ' ') : NULL;

	folder->state_known = true;
	if (space != NULL && strcmp(space + 1, folder->key) == 0)
	{
		folder->unchanged = true;
		folder->nrevisions = atoi(PQgetvalue(res, 0, 1));
		folder->layout = pnstrdup(recorded, space - recorded);
		if (folder->set == NULL)
			out_progress("read %d revision%s from %s (%s layout)",
						 folder->nrevisions, folder->nrevisions == 1 ? "" : "s",
						 early.opts->dir, folder->layout);
		out_progress("the registry holds this folder as it is: nothing to compare or send");
	}
	PQclear(res);
	return folder->unchanged;
}

/*
 * The reader's hook, also called between batches of hashes: once the
 * connection is ready, send migrate_synced_folder() and leave its answer
 * for later.  Does nothing after that, or while the connection is not
 * ready.
 */
static void
send_state_early(void)
{
	PGconn	   *conn;

	if (early.sent || early.failed || (conn = connect_poll()) == NULL)
		return;
	query_attach(conn, early.opts);
	if (send_query(early.opts, STATE_WHAT, "migrate_synced_folder", false, NULL))
		early.sent = true;
	else
		early.failed = true;
}

/*
 * Send "SELECT * FROM function(project)"; with wait, also wait for it and
 * set *res to its result.  False after an error, which has been printed.
 */
static bool
send_query(const ClientOptions *opts, const char *what, const char *function,
		   bool wait, PGresult **res)
{
	const char *params[1] = {opts->project};
	int			nparams = opts->project != NULL ? 1 : 0;
	char	   *sql = psprintf("SELECT * FROM %s(%s)", function, project_arg(opts, 1));
	bool		ok;

	if (wait)
	{
		*res = query_run(what, sql, nparams, params);
		ok = *res != NULL;
	}
	else
		ok = query_send(what, sql, nparams, params);
	pfree(sql);
	return ok;
}

/*
 * What the registry holds, once connected and before any other statement:
 * the answer of migrate_synced_folder() (sent early, or now); unless it
 * says the registry holds this folder, migrate_sources() into
 * folder->registered.  False after an error, which has been printed.
 */
bool
sync_read_registry(const ClientOptions *opts, Folder *folder)
{
	PGresult   *res = NULL;

	if (folder->unchanged)
		return true;
	if (early.failed)
		return false;
	if (early.sent)
	{
		early.sent = false;
		if ((res = query_wait(STATE_WHAT)) == NULL)
			return false;
	}
	else if (!folder->state_known &&
			 !send_query(opts, STATE_WHAT, "migrate_synced_folder", true, &res))
		return false;
	if (res != NULL && take_state(folder, res))
		return true;
	return send_query(opts, SOURCES_WHAT, "migrate_sources", true,
					  &folder->registered);
}

/*
 * Register the folder's new and changed revisions (see the file header),
 * given what sync_read_registry found.  With keep (the sync will be
 * committed), record the folder's key when every registered revision is
 * in the folder, even when nothing else is sent.  Fills *result and
 * returns true, or returns false after a failed statement, whose error
 * has been printed.
 */
bool
sync_folder(const ClientOptions *opts, Folder *folder, bool keep,
			SyncResult *result)
{
	MgFileSet  *set = folder->set;
	char	  **hashes = folder->hashes;
	const char *params[3];
	Registered *reg = NULL;
	int			nreg = 0;
	PGresult   *res = folder->registered;
	PGresult   *synced = NULL;
	StringInfoData payload;
	StringInfoData json;
	StringInfoData missing;
	const char *record = NULL;
	int			nmissing = 0;
	int			i;
	char	   *sql;

	memset(result, 0, sizeof(*result));
	initStringInfo(&payload);
	initStringInfo(&missing);
	folder->registered = NULL;
	if (folder->unchanged)
	{
		result->revisions = result->unchanged = folder->nrevisions;
		goto done;
	}
	result->revisions = set->nrevisions;

	/* 1. what is registered, as hashes */
	Assert(res != NULL);
	nreg = PQntuples(res);
	reg = pg_malloc0(sizeof(Registered) * (nreg + 1));
	for (i = 0; i < nreg; i++)
	{
		reg[i].revision = PQgetvalue(res, i, 0);
		reg[i].hash = PQgetvalue(res, i, 1);
	}
	qsort(reg, nreg, sizeof(Registered), registered_cmp);

	/* 2. the revisions to send: new, or registered with another hash */
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
	else if (keep || result->sent > 0)
		record = folder->record;

	if (result->sent > 0 || record != NULL)
	{
		params[0] = payload.data;
		params[1] = record;
		params[2] = opts->project;
		sql = psprintf("SELECT revision, action FROM migrate_sync($1::pg_catalog.jsonb, folder => $2%s%s)",
					   opts->project != NULL ? ", " : "", project_arg(opts, 3));
		synced = query_run("the sync", sql, opts->project != NULL ? 3 : 2, params);
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

done:
	out_progress("synced %d revision%s from %s: %d added, %d updated, %d drifted, %d unchanged",
				 result->revisions, result->revisions == 1 ? "" : "s", opts->dir,
				 result->added, result->updated, result->drifted,
				 result->unchanged);

	initStringInfo(&json);
	appendStringInfoString(&json, "{\"dir\": ");
	out_json_string(&json, opts->dir);
	appendStringInfoString(&json, ", \"layout\": ");
	out_json_string(&json, folder->unchanged ? folder->layout : mg_layout_name(set->layout));
	appendStringInfo(&json,
					 ", \"compared\": %s, \"revisions\": %d, \"sent\": %d, \"added\": %d, \"updated\": %d, \"drifted\": %d, \"unchanged\": %d, \"changes\": ",
					 folder->unchanged ? "false" : "true",
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

	if (res != NULL)
		PQclear(res);
	if (reg != NULL)
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
