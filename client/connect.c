/*-------------------------------------------------------------------------
 *
 * connect.c
 *	  Connecting to the server, and waiting for it to come up.
 *
 * The connection takes libpq's usual inputs, in psql's order of
 * precedence: -h, -p and -U, then -d (a database name, a key=value
 * connection string or a URI, whose values win over the options), then the
 * PG* environment variables and libpq's defaults.  client_encoding is
 * UTF8 unless PGCLIENTENCODING or the connection string says otherwise:
 * migration files are read as UTF-8.
 *
 * A deploy job often starts with its database, so the *connection* (never
 * a migration) is retried, --connect-retries times, with a pause that
 * starts at RETRY_FIRST_MS and doubles up to RETRY_MAX_MS.  Only failures
 * that waiting can cure are retried: no answer at all (nothing listens
 * yet, the host is unreachable, the attempt timed out) and a server that
 * answers that it is not accepting connections yet (starting up, shutting
 * down, in recovery without hot standby).  A server that answers and
 * refuses us (wrong password, no such database or role) is not: libpq's
 * PQpingParams tells the two apart without our parsing its messages.
 * Each attempt is reported with the connection string as given, or the
 * parameters in effect, the password always shown as ****.
 *
 * Each attempt runs libpq's non-blocking connect under our own deadline,
 * --connect-timeout seconds for the attempt as a whole.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <poll.h>
#include <time.h>
#include <unistd.h>

#include "common/string.h"

#include "client.h"

#define RETRY_FIRST_MS	250
#define RETRY_MAX_MS	10000
#define MAX_PARAMS		12

typedef struct ConnParams
{
	const char *keywords[MAX_PARAMS + 1];
	const char *values[MAX_PARAMS + 1];
	int			n;
} ConnParams;

static void build_params(ConnParams *params, const ClientOptions *opts,
						 const char *password);
static void add_param(ConnParams *params, const char *keyword, const char *value);
static bool is_conninfo(const char *s);
static void check_conninfo(const char *conninfo);
static char *describe_target(const ClientOptions *opts, PGconn *conn);
static void append_param(StringInfo buf, const char *keyword, const char *value);
static void start_attempt(void);
static void advance_attempt(void);
static bool wait_connected(bool *timed_out);
static PGPing ping_server(const ConnParams *params, int timeout_s);
static char *trimmed_error(PGconn *conn);
static void sleep_ms(long ms);
static long now_ms(void);

/* The connection being made: one per process. */
typedef struct Connecting
{
	const ClientOptions *opts;
	ConnParams	params;
	char	   *password;		/* prompted for, or NULL */
	int			attempts;		/* 1 + --connect-retries */
	int			attempt;		/* the current one, from 1 */
	PGconn	   *conn;			/* the current attempt */
	char	   *target;			/* what it connects to, for messages */
	PostgresPollingStatusType status;	/* PQconnectPoll's last word */
	long		deadline;		/* now_ms() when the attempt times out, or 0 */
} Connecting;

static Connecting cx;

/*
 * Start connecting as the options say: check the connection string, ask
 * for a password if -W says so, and start the first attempt, taking it as
 * far as it goes without waiting for the server.  The caller can then do
 * its own work (read the migration folder) while the server starts a
 * backend for us, and call connect_finish to wait for it.  Exits with
 * EXIT_BAD_INPUT on a malformed connection string.
 */
void
connect_start(const ClientOptions *opts)
{
	cx.opts = opts;
	cx.attempts = opts->connect_retries + 1;

	/* learn every password before anything is printed */
	mask_add_secret(getenv("PGPASSWORD"));
	if (opts->dbname != NULL && is_conninfo(opts->dbname))
	{
		mask_add_conninfo_secrets(opts->dbname);
		check_conninfo(opts->dbname);
	}
	if (opts->prompt == PROMPT_ALWAYS)
	{
		cx.password = simple_prompt("Password: ", false);
		mask_add_secret(cx.password);
	}
	build_params(&cx.params, opts, cx.password);
	cx.attempt = 1;
	start_attempt();
}

/*
 * Finish what connect_start began, retrying as the options say, and
 * return the connection.  Exits with EXIT_NO_CONNECTION when every
 * attempt failed.
 */
PGconn *
connect_finish(void)
{
	const ClientOptions *opts = cx.opts;
	long		delay = RETRY_FIRST_MS;

	for (;;)
	{
		bool		timed_out;
		char	   *reason;
		PGPing		ping;

		if (wait_connected(&timed_out))
			break;

		/* like psql: ask for a password the server wants, if we may */
		if (PQconnectionNeedsPassword(cx.conn) && cx.password == NULL &&
			opts->prompt != PROMPT_NEVER && isatty(STDIN_FILENO))
		{
			PQfinish(cx.conn);
			cx.password = simple_prompt("Password: ", false);
			mask_add_secret(cx.password);
			build_params(&cx.params, opts, cx.password);
			start_attempt();
			continue;
		}

		reason = timed_out ?
			psprintf("timeout expired after %d s", opts->connect_timeout) :
			trimmed_error(cx.conn);
		PQfinish(cx.conn);
		cx.conn = NULL;
		ping = PQPING_NO_RESPONSE;
		if (cx.attempt < cx.attempts && !timed_out)
			ping = ping_server(&cx.params, opts->connect_timeout);
		if (cx.attempt >= cx.attempts ||
			(ping != PQPING_REJECT && ping != PQPING_NO_RESPONSE))
		{
			char	   *msg = psprintf("could not connect to %s: %s", cx.target, reason);

			out_message("ERROR", msg);
			if (ping == PQPING_OK)
				out_progress("not retrying: the server is up and refused the connection");
			else if (ping == PQPING_NO_ATTEMPT)
				out_progress("not retrying: the connection parameters are unusable");
			out_set_client_error(msg);
			client_exit(EXIT_NO_CONNECTION);
		}
		out_progress("attempt %d of %d failed, retrying in %.2f s: %s",
					 cx.attempt, cx.attempts, delay / 1000.0, reason);
		pfree(reason);
		sleep_ms(delay);
		delay = Min(delay * 2, RETRY_MAX_MS);
		cx.attempt++;
		start_attempt();
	}

	{
		StringInfoData buf;

		initStringInfo(&buf);
		append_param(&buf, "host", PQhost(cx.conn));
		append_param(&buf, "port", PQport(cx.conn));
		append_param(&buf, "dbname", PQdb(cx.conn));
		append_param(&buf, "user", PQuser(cx.conn));
		if (PQconnectionUsedPassword(cx.conn))
			append_param(&buf, "password", "****");
		out_progress("connected to %s (server %s)", buf.data,
					 PQparameterStatus(cx.conn, "server_version"));
		pfree(buf.data);
	}
	return cx.conn;
}

/*
 * Start attempt cx.attempt: report it, and drive it without waiting as far
 * as it goes (with trust or peer authentication, until the startup packet
 * is sent and the server is starting our backend).
 */
static void
start_attempt(void)
{
	PQconninfoOption *info;
	PQconninfoOption *o;

	cx.conn = PQconnectStartParams(cx.params.keywords, cx.params.values, true);
	if (cx.conn == NULL)
	{
		out_message("ERROR", "could not connect: out of memory");
		out_set_client_error("could not connect: out of memory");
		client_exit(EXIT_NO_CONNECTION);
	}
	/* a password from a service file or the environment */
	info = PQconninfo(cx.conn);
	for (o = info; o != NULL && o->keyword != NULL; o++)
		if (strcmp(o->keyword, "password") == 0)
			mask_add_secret(o->val);
	PQconninfoFree(info);

	if (cx.target != NULL)
		pfree(cx.target);
	cx.target = describe_target(cx.opts, cx.conn);
	if (cx.attempts > 1)
		out_progress("connecting to %s (attempt %d of %d)", cx.target,
					 cx.attempt, cx.attempts);
	else
		out_progress("connecting to %s", cx.target);

	cx.deadline = cx.opts->connect_timeout > 0 ?
		now_ms() + cx.opts->connect_timeout * 1000L : 0;
	cx.status = PGRES_POLLING_WRITING;
	if (PQstatus(cx.conn) == CONNECTION_BAD)
	{
		cx.status = PGRES_POLLING_FAILED;
		return;
	}
	advance_attempt();
}

/* Drive the current attempt as far as it goes without waiting. */
static void
advance_attempt(void)
{
	while (cx.status == PGRES_POLLING_READING ||
		   cx.status == PGRES_POLLING_WRITING)
	{
		struct pollfd pfd;

		pfd.fd = PQsocket(cx.conn);
		pfd.events = cx.status == PGRES_POLLING_READING ? POLLIN : POLLOUT;
		pfd.revents = 0;
		if (poll(&pfd, 1, 0) != 1)
			break;
		cx.status = PQconnectPoll(cx.conn);
	}
}

/*
 * For work done while connecting (reading the folder): drive the attempt
 * connect_start began as far as it goes without waiting, and return the
 * connection if it is ready, else NULL.  A failed attempt is left for
 * connect_finish, which reports it and retries.
 */
PGconn *
connect_poll(void)
{
	if (cx.conn == NULL)
		return NULL;
	advance_attempt();
	return cx.status == PGRES_POLLING_OK ? cx.conn : NULL;
}

/*
 * The connection parameters, in psql's order: later ones win, so values in
 * a connection string given with -d override -h, -p and -U.
 */
static void
build_params(ConnParams *params, const ClientOptions *opts, const char *password)
{
	params->n = 0;
	if (getenv("PGCLIENTENCODING") == NULL)
		add_param(params, "client_encoding", "UTF8");
	add_param(params, "host", opts->host);
	add_param(params, "port", opts->port);
	add_param(params, "user", opts->username);
	add_param(params, "password", password);
	add_param(params, "dbname", opts->dbname);
	add_param(params, "fallback_application_name", "pg_migrate");
}

/* append keyword = value to params, unless value is NULL */
static void
add_param(ConnParams *params, const char *keyword, const char *value)
{
	if (value == NULL)
		return;
	Assert(params->n < MAX_PARAMS);
	params->keywords[params->n] = keyword;
	params->values[params->n] = value;
	params->n++;
	params->keywords[params->n] = NULL;
	params->values[params->n] = NULL;
}

/* Is s a connection string or URI, rather than a database name? */
static bool
is_conninfo(const char *s)
{
	return strchr(s, '=') != NULL ||
		strncmp(s, "postgresql://", 13) == 0 ||
		strncmp(s, "postgres://", 11) == 0;
}

/*
 * Refuse a connection string libpq cannot parse, as bad usage, with its
 * reason (masked: libpq may quote a piece of the string).
 */
static void
check_conninfo(const char *conninfo)
{
	char	   *err = NULL;
	PQconninfoOption *parsed = PQconninfoParse(conninfo, &err);
	PQconninfoOption *o;

	if (parsed == NULL)
	{
		char	   *reason = err != NULL ? pg_strdup(err) : pg_strdup("out of memory");
		char	   *msg;
		char	   *masked;
		size_t		len = strlen(reason);

		while (len > 0 && reason[len - 1] == '\n')
			reason[--len] = '\0';
		/* all that may be the password: the reason may quote part of it */
		masked = mask_unparsable_conninfo(conninfo);
		msg = psprintf("invalid connection string \"%s\": %s", masked, reason);
		out_message("ERROR", msg);
		out_set_client_error(msg);
		if (err != NULL)
			PQfreemem(err);
		client_exit(EXIT_BAD_INPUT);
	}
	for (o = parsed; o->keyword != NULL; o++)
		if (strcmp(o->keyword, "password") == 0 ||
			strcmp(o->keyword, "sslpassword") == 0)
			mask_add_secret(o->val);
	PQconninfoFree(parsed);
}

/*
 * What we connect to, for the progress line: the connection string or URI
 * as given with -d, masked, else the parameters in effect (from the
 * options, the environment and the defaults), the password as ****.
 * Masked here, on its own, rather than only in the line that quotes it:
 * an unquoted password=value runs to the next white space, so in "could
 * not connect to TARGET: reason" the ": " would be taken for part of it
 * (mask_text leaves a mask alone, and what follows it).
 */
static char *
describe_target(const ClientOptions *opts, PGconn *conn)
{
	StringInfoData buf;
	PQconninfoOption *info;
	PQconninfoOption *o;
	static const char *const shown[] = {
		"host", "hostaddr", "port", "dbname", "user", "password", NULL
	};
	int			i;

	if (opts->dbname != NULL && is_conninfo(opts->dbname))
		return mask_text(opts->dbname);

	initStringInfo(&buf);
	info = PQconninfo(conn);
	for (i = 0; shown[i] != NULL; i++)
		for (o = info; o != NULL && o->keyword != NULL; o++)
			if (strcmp(o->keyword, shown[i]) == 0 && o->val != NULL &&
				o->val[0] != '\0')
				append_param(&buf, o->keyword,
							 strcmp(o->keyword, "password") == 0 ? "****" : o->val);
	PQconninfoFree(info);
	return buf.data;
}

/* append "keyword=value", quoting the value as libpq reads it if needed */
static void
append_param(StringInfo buf, const char *keyword, const char *value)
{
	const char *p;

	if (value == NULL)
		return;
	if (buf->len > 0)
		appendStringInfoChar(buf, ' ');
	appendStringInfo(buf, "%s=", keyword);
	if (value[0] != '\0' && strpbrk(value, " \t\n\r'\\") == NULL)
	{
		appendStringInfoString(buf, value);
		return;
	}
	appendStringInfoChar(buf, '\'');
	for (p = value; *p; p++)
	{
		if (*p == '\'' || *p == '\\')
			appendStringInfoChar(buf, '\\');
		appendStringInfoChar(buf, *p);
	}
	appendStringInfoChar(buf, '\'');
}

/*
 * Drive the current attempt to its end, until its deadline.  True when
 * connected; otherwise *timed_out says whether the deadline passed.
 */
static bool
wait_connected(bool *timed_out)
{
	*timed_out = false;
	for (;;)
	{
		struct pollfd pfd;
		int			wait_ms = -1;
		int			rc;

		if (cx.status == PGRES_POLLING_OK)
			return true;
		if (cx.status == PGRES_POLLING_FAILED)
			return false;
		if (cx.deadline != 0)
		{
			long		left = cx.deadline - now_ms();

			if (left <= 0)
			{
				*timed_out = true;
				return false;
			}
			wait_ms = (int) left;
		}
		pfd.fd = PQsocket(cx.conn);
		pfd.events = cx.status == PGRES_POLLING_READING ? POLLIN : POLLOUT;
		pfd.revents = 0;
		rc = poll(&pfd, 1, wait_ms);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc == 0)
		{
			*timed_out = true;
			return false;
		}
		cx.status = PQconnectPoll(cx.conn);
	}
}

/*
 * After a failed attempt: could waiting help?  Ask the server as
 * PQpingParams does: waiting helps when it did not answer
 * (PQPING_NO_RESPONSE) or answered that it does not accept connections yet
 * (PQPING_REJECT); not when it is up and refused us (PQPING_OK), or the
 * parameters are unusable (PQPING_NO_ATTEMPT).
 */
static PGPing
ping_server(const ConnParams *params, int timeout_s)
{
	ConnParams	ping = *params;
	char		timeout[16];

	if (timeout_s > 0)
	{
		snprintf(timeout, sizeof(timeout), "%d", Max(timeout_s, 2));
		add_param(&ping, "connect_timeout", timeout);
	}
	return PQpingParams(ping.keywords, ping.values, true);
}

/* libpq's error message for conn, without its final line break */
static char *
trimmed_error(PGconn *conn)
{
	char	   *msg = pg_strdup(PQerrorMessage(conn));
	size_t		len = strlen(msg);

	while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
		msg[--len] = '\0';
	if (len == 0)
	{
		pfree(msg);
		msg = pg_strdup("unknown error");
	}
	return msg;
}

/* Sleep for ms milliseconds; a signal ends the process (query.c). */
static void
sleep_ms(long ms)
{
	struct timespec ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}
