/*-------------------------------------------------------------------------
 *
 * query.c
 *	  Running one statement: its progress, its errors, and interruption.
 *
 * Every statement the client sends goes through query_run, which sends it
 * and waits for it while the server's NOTICEs (the migration's progress)
 * stream to stderr as they arrive, each with a timestamp; or through its
 * two halves, query_send and query_wait, when the client has work of its
 * own to do while the statement runs.
 *
 * Ctrl-C and SIGTERM do not kill the client.  The first one sends a query
 * cancel from the signal handler (PQcancel is safe there) and lets
 * query_run wait for the outcome: the statement fails with 57014 and the
 * server rolls its transaction back before it reports ready for the next
 * query, which is the moment PQgetResult returns NULL, so that when the
 * client exits (130 for SIGINT, 143 for SIGTERM) the rollback is done.  A
 * second signal exits at once; the server still rolls back when it
 * notices the connection gone, but nobody waits to say so.  A signal
 * before the connection exists ends the process at once; one between
 * statements has nothing to cancel, and the client exits before it sends
 * the next.
 *
 * The race of a signal arriving between the check before sending and the
 * send itself (the cancel would reach an idle backend, which ignores it) is
 * closed by checking again after sending and cancelling from there.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <signal.h>
#include <unistd.h>

#include "client.h"

static volatile sig_atomic_t got_signal = 0;
static PGcancel *volatile cancel_handle = NULL;
static PGconn *conn = NULL;
static const ClientOptions *options = NULL;
static char last_sqlstate[6] = "";
static char *last_message = NULL;

/*
 * Of the statements of the last query (several with query_run_probed),
 * how many had succeeded before the one that failed: 0 when the first
 * failed.
 */
static int	last_failed_statement = 0;

/* an SQLSTATE whose error query_run_expecting keeps quiet, or NULL */
static const char *quiet_sqlstate = NULL;

/* drop the server's messages until the first result (query_run_probed) */
static bool discard_notices = false;

static void handle_signal(int signo);
static bool send_statement(const char *what, const char *sql, bool simple,
						   int nparams, const char *const *params);
static void notice_receiver(void *arg, const PGresult *res);
static void report_error(const PGresult *res);
pg_noreturn static void interrupted(const char *what, const PGresult *res, bool sent);
static const char *signal_name(int signo);

/*
 * Catch SIGINT and SIGTERM.  Call once, first thing: until a connection
 * is attached, a signal simply ends the process.
 */
void
query_install_signals(void)
{
	struct sigaction act;

	memset(&act, 0, sizeof(act));
	act.sa_handler = handle_signal;
	sigemptyset(&act.sa_mask);
	sigaddset(&act.sa_mask, SIGINT);
	sigaddset(&act.sa_mask, SIGTERM);
	act.sa_flags = 0;
	sigaction(SIGINT, &act, NULL);
	sigaction(SIGTERM, &act, NULL);
}

/*
 * Use c for the statements to come: its NOTICEs go to stderr, and a
 * signal cancels what it is running.  Attaching it again does nothing.
 */
void
query_attach(PGconn *c, const ClientOptions *opts)
{
	if (conn == c)
		return;					/* attached while the folder was read */
	conn = c;
	options = opts;
	PQsetNoticeReceiver(conn, notice_receiver, NULL);
	cancel_handle = PQgetCancel(conn);
}

/*
 * The handler for SIGINT and SIGTERM.  Only async-signal-safe calls:
 * PQcancel, write, _exit.
 */
static void
handle_signal(int signo)
{
	int			save_errno = errno;
	char		errbuf[256];

	if (got_signal != 0 || cancel_handle == NULL)
	{
		static const char again[] =
			"pg_migrate: interrupted again; exiting without waiting for the rollback\n";
		static const char idle[] = "pg_migrate: interrupted\n";

		if (got_signal != 0)
		{
			if (write(STDERR_FILENO, again, sizeof(again) - 1) < 0)
				_exit(128 + signo);
		}
		else if (write(STDERR_FILENO, idle, sizeof(idle) - 1) < 0)
			_exit(128 + signo);
		_exit(128 + signo);
	}
	got_signal = signo;
	(void) PQcancel(cancel_handle, errbuf, sizeof(errbuf));
	errno = save_errno;
}

static const char *
signal_name(int signo)
{
	return signo == SIGINT ? "SIGINT" : signo == SIGTERM ? "SIGTERM" : "a signal";
}

/*
 * Run sql with nparams text parameters; return its result (rows or a
 * command's completion), for the caller to PQclear.  On an error, print
 * it and return NULL (query_error_sqlstate tells which).  what names the
 * statement in messages ("the upgrade").  On SIGINT or SIGTERM this does
 * not return: see the file header.
 */
PGresult *
query_run(const char *what, const char *sql, int nparams,
		  const char *const *params)
{
	if (!query_send(what, sql, nparams, params))
		return NULL;
	return query_wait(what);
}

/*
 * query_run, except that an error with SQLSTATE sqlstate, which the caller
 * expects and handles, is neither printed nor kept for --json;
 * query_error_sqlstate still tells it.
 */
PGresult *
query_run_expecting(const char *what, const char *sql, int nparams,
					const char *const *params, const char *sqlstate)
{
	PGresult   *res;

	quiet_sqlstate = sqlstate;
	res = query_run(what, sql, nparams, params);
	quiet_sqlstate = NULL;
	return res;
}

/*
 * Run sql, a probe and the statement it guards, two statements in one
 * simple query (one round trip, one implicit transaction): the server runs
 * the second only when the first succeeds.  The probe's NOTICEs are not
 * shown.  Returns the second statement's result, or NULL after an error
 * of either, printed as query_run does unless it is the probe's and its
 * SQLSTATE is quiet; query_error_statement tells which one failed.
 * Parameters must be in sql already, as literals (query_literal).
 */
PGresult *
query_run_probed(const char *what, const char *sql, const char *quiet)
{
	PGresult   *res;

	if (!send_statement(what, sql, true, 0, NULL))
		return NULL;
	discard_notices = true;
	quiet_sqlstate = quiet;
	res = query_wait(what);
	quiet_sqlstate = NULL;
	discard_notices = false;
	return res;
}

/* s as an SQL literal, for query_run_probed; pfree the result */
char *
query_literal(const char *s)
{
	char	   *lit = PQescapeLiteral(conn, s, strlen(s));
	char	   *copy;

	if (lit == NULL)
	{
		out_message("ERROR", PQerrorMessage(conn));
		client_exit(EXIT_BAD_INPUT);
	}
	copy = pg_strdup(lit);
	PQfreemem(lit);
	return copy;
}

/*
 * The first half of query_run: send the statement and return without
 * waiting for it, true if it was sent (else its error was printed).  The
 * caller gets its result with query_wait(what) before it sends another.
 */
bool
query_send(const char *what, const char *sql, int nparams,
		   const char *const *params)
{
	return send_statement(what, sql, false, nparams, params);
}

/*
 * Send sql, with the simple query protocol (several statements, no
 * parameters) or the extended one (one statement, nparams text
 * parameters), closing the race with a signal (see the file header).
 * True if it was sent, else its error was printed.
 */
static bool
send_statement(const char *what, const char *sql, bool simple, int nparams,
			   const char *const *params)
{
	last_sqlstate[0] = '\0';
	last_failed_statement = 0;
	if (last_message != NULL)
		pg_free(last_message);
	last_message = NULL;
	if (got_signal != 0)
		interrupted(what, NULL, false);
	if (simple ? !PQsendQuery(conn, sql) :
		!PQsendQueryParams(conn, sql, nparams, NULL, params, NULL, NULL, 0))
	{
		char	   *msg = psprintf("could not send %s: %s", what, PQerrorMessage(conn));

		out_message("ERROR", msg);
		out_set_client_error(msg);
		return false;
	}
	if (got_signal != 0)
	{
		char		errbuf[256];

		(void) PQcancel(cancel_handle, errbuf, sizeof(errbuf));
	}
	return true;
}

/*
 * The second half of query_run: wait for the statement query_send sent,
 * and return its result as query_run does.
 */
PGresult *
query_wait(const char *what)
{
	PGresult   *res;
	PGresult   *last = NULL;
	int			nresults = 0;

	while ((res = PQgetResult(conn)) != NULL)
	{
		/* libpq stops reading at a result: what follows is the next's */
		discard_notices = false;
		if (last != NULL)
			PQclear(last);
		last = res;
		nresults++;
	}
	/* an error ends a simple query: the last result is the failed one's */
	last_failed_statement = Max(nresults - 1, 0);
	if (got_signal != 0)
		interrupted(what, last, true);
	if (last == NULL)
	{
		out_message("ERROR", "no result from the server");
		out_set_client_error("no result from the server");
		return NULL;
	}
	if (PQresultStatus(last) == PGRES_TUPLES_OK ||
		PQresultStatus(last) == PGRES_COMMAND_OK)
		return last;
	report_error(last);
	PQclear(last);
	return NULL;
}

/* The SQLSTATE of the last failed query_run, or "" (no SQLSTATE: lost). */
const char *
query_error_sqlstate(void)
{
	return last_sqlstate;
}

/*
 * Which statement of the last failed query failed: 0 for the first (the
 * only one but for query_run_probed, whose probe it is), 1 for the one
 * after it.
 */
int
query_error_statement(void)
{
	return last_failed_statement;
}

/* The primary message of the last failed query_run's error, or "". */
const char *
query_error_message(void)
{
	return last_message != NULL ? last_message : "";
}

/* End the transaction the client opened, if any, undoing it. */
void
query_rollback_quietly(void)
{
	if (conn != NULL && PQtransactionStatus(conn) != PQTRANS_IDLE &&
		PQtransactionStatus(conn) != PQTRANS_UNKNOWN)
		PQclear(PQexec(conn, "ROLLBACK"));
}

/*
 * A signal arrived: say what became of the statement (res is its last
 * result, NULL if it was not sent), undo the client's own transaction if
 * one is open, and exit with 128 + the signal's number.
 */
static void
interrupted(const char *what, const PGresult *res, bool sent)
{
	int			signo = got_signal;
	char	   *msg;

	if (!sent)
		msg = psprintf("interrupted by %s before %s started", signal_name(signo), what);
	else if (res != NULL && (PQresultStatus(res) == PGRES_TUPLES_OK ||
							 PQresultStatus(res) == PGRES_COMMAND_OK))
		msg = psprintf("interrupted by %s after %s had completed", signal_name(signo), what);
	else
		msg = psprintf("interrupted by %s: %s was cancelled and rolled back",
					   signal_name(signo), what);
	query_rollback_quietly();
	out_message("ERROR", msg);
	out_set_client_error(msg);
	PQfinish(conn);
	client_exit(128 + signo);
}

/* Print a failed statement's error on stderr and keep it for --json. */
static void
report_error(const PGresult *res)
{
	const char *severity = PQresultErrorField(res, PG_DIAG_SEVERITY);
	const char *sqlstate = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
	const char *hint = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT);
	const char *context = PQresultErrorField(res, PG_DIAG_CONTEXT);
	StringInfoData text;
	StringInfoData json;
	char	   *fallback = NULL;

	if (primary == NULL)
	{
		size_t		len;

		fallback = pg_strdup(PQresultErrorMessage(res)[0] != '\0' ?
							 PQresultErrorMessage(res) : PQerrorMessage(conn));
		len = strlen(fallback);
		while (len > 0 && fallback[len - 1] == '\n')
			fallback[--len] = '\0';
		if (strncmp(fallback, "ERROR:  ", 8) == 0)
			memmove(fallback, fallback + 8, len - 7);
		primary = fallback;
	}
	if (sqlstate != NULL)
		strlcpy(last_sqlstate, sqlstate, sizeof(last_sqlstate));
	if (last_message != NULL)
		pg_free(last_message);
	last_message = pg_strdup(primary);
	/*
	 * Only the probe's error is expected: the statement it guards may fail
	 * with the same SQLSTATE for reasons of its own (a script raising it).
	 */
	if (sqlstate != NULL && quiet_sqlstate != NULL &&
		last_failed_statement == 0 && strcmp(sqlstate, quiet_sqlstate) == 0)
	{
		if (fallback != NULL)
			pfree(fallback);
		return;
	}

	initStringInfo(&text);
	if (sqlstate != NULL)
		appendStringInfo(&text, "%s: ", sqlstate);
	appendStringInfoString(&text, primary);
	if (detail != NULL)
		appendStringInfo(&text, "\nDETAIL:  %s", detail);
	if (hint != NULL)
		appendStringInfo(&text, "\nHINT:  %s", hint);
	if (context != NULL)
		appendStringInfo(&text, "\nCONTEXT:  %s", context);
	if (sqlstate != NULL && strcmp(sqlstate, "42883") == 0 &&
		strstr(primary, "migrate_") != NULL)
		appendStringInfoString(&text,
							   "\nHINT:  Is the pg_migrate extension installed in this database, and updated (ALTER EXTENSION pg_migrate UPDATE)?");
	out_message(severity != NULL ? severity : "ERROR", text.data);

	initStringInfo(&json);
	appendStringInfoString(&json, "{\"sqlstate\": ");
	if (sqlstate != NULL)
		out_json_string(&json, sqlstate);
	else
		appendStringInfoString(&json, "null");
	appendStringInfoString(&json, ", \"message\": ");
	out_json_string(&json, primary);
	if (detail != NULL)
	{
		appendStringInfoString(&json, ", \"detail\": ");
		out_json_string(&json, detail);
	}
	if (hint != NULL)
	{
		appendStringInfoString(&json, ", \"hint\": ");
		out_json_string(&json, hint);
	}
	if (context != NULL)
	{
		appendStringInfoString(&json, ", \"context\": ");
		out_json_string(&json, context);
	}
	appendStringInfoChar(&json, '}');
	out_set_error(json.data);

	pfree(text.data);
	pfree(json.data);
	if (fallback != NULL)
		pfree(fallback);
}

/*
 * The server's NOTICEs, WARNINGs and the like, as they arrive, on stderr
 * with a timestamp.  --quiet keeps the ones below WARNING.
 */
static void
notice_receiver(void *arg, const PGresult *res)
{
	const char *severity = PQresultErrorField(res, PG_DIAG_SEVERITY);
	const char *level = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
	const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
	const char *hint = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT);
	StringInfoData text;

	if (discard_notices)
		return;
	if (options != NULL && options->quiet && level != NULL &&
		strcmp(level, "WARNING") != 0)
		return;
	initStringInfo(&text);
	appendStringInfoString(&text, primary != NULL ? primary : PQresultErrorMessage(res));
	if (detail != NULL)
		appendStringInfo(&text, "\nDETAIL:  %s", detail);
	if (hint != NULL)
		appendStringInfo(&text, "\nHINT:  %s", hint);
	out_message(severity != NULL ? severity : "NOTICE", text.data);
	pfree(text.data);
}
