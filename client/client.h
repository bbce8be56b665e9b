/*-------------------------------------------------------------------------
 *
 * client.h
 *	  Declarations shared by the files of the pg_migrate client program:
 *	  its options, exit statuses, and the interfaces of its parts.
 *
 * The client is a thin shell around the extension's SQL functions: it
 * reads a migration folder with the extension's own file reader
 * (../src/reader.c, compiled with -DFRONTEND), sends what changed, calls
 * one function per command, and prints what comes back.  Its parts, leaves
 * first:
 *
 *	mask.c		passwords out of every connection string and message
 *	output.c	stderr lines with timestamps, aligned tables, JSON, exit
 *	connect.c	connecting, with retries and backoff
 *	query.c		running one statement: NOTICE progress, errors, and the
 *				query cancel that SIGINT and SIGTERM send
 *	sync.c		folder to registry: only new and changed revisions
 *	commands.c	one function per command
 *	pg_migrate.c	options, --help, dispatch
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGM_CLIENT_H
#define PGM_CLIENT_H

#include "libpq-fe.h"
#include "lib/stringinfo.h"

#include "compat.h"
#include "reader.h"

/*
 * Exit statuses.  A signal adds 128 to its number (130 for SIGINT, 143 for
 * SIGTERM), as a shell reports a process killed by it.
 */
#define EXIT_OK				0	/* success (check: at head; validate: no
								 * error) */
#define EXIT_FAILED			1	/* a migration or other database operation
								 * failed, check found a problem, validate
								 * an error */
#define EXIT_BAD_INPUT		2	/* bad usage, target, connection string or
								 * migration files: pg_migrate refused
								 * before it ran anything (commands.c) */
#define EXIT_NO_CONNECTION	3	/* could not connect */

/* -W / -w, as in psql */
typedef enum PromptMode
{
	PROMPT_DEFAULT,				/* prompt when the server asks and stdin is a
								 * terminal */
	PROMPT_ALWAYS,
	PROMPT_NEVER
} PromptMode;

typedef struct ClientOptions
{
	const char *command;		/* "up", "sync", ... */
	const char *target;			/* the command's TARGET, or NULL */
	const char *dir;			/* migration folder, or NULL */
	MgLayout	layout;			/* --layout, or MG_LAYOUT_DETECT */
	const char *project;		/* --project, or NULL: the server's
								 * pg_migrate.project */
	bool		dry_run;
	bool		per_revision;	/* up, down: CALL migrate_run */
	int			limit;			/* history --limit, or -1 */
	bool		json;
	bool		quiet;

	/* connection */
	const char *dbname;			/* -d: a name, key=value string or URI */
	const char *host;
	const char *port;
	const char *username;
	PromptMode	prompt;
	int			connect_retries;
	int			connect_timeout;	/* seconds per attempt, 0 = none */
} ClientOptions;

/* mask.c */
extern void mask_add_secret(const char *secret);
extern void mask_add_conninfo_secrets(const char *conninfo);
extern char *mask_text(const char *text);
extern char *mask_unparsable_conninfo(const char *conninfo);

/* output.c */
extern char *out_format(const char *fmt, va_list args) pg_attribute_printf(1, 0);
extern void out_init(const ClientOptions *opts);
extern void out_progress(const char *fmt,...) pg_attribute_printf(1, 2);
extern void out_message(const char *level, const char *text);
extern void out_usage_error(const char *fmt,...) pg_attribute_printf(1, 2);
extern void out_set_error(const char *json_object);
extern void out_set_client_error(const char *message);
extern void out_field_raw(const char *key, const char *json);
extern void out_field_string(const char *key, const char *value);
extern void out_field_int(const char *key, long value);
extern void out_json_string(StringInfo buf, const char *s);
extern void json_quote(StringInfo buf, const char *s);
extern char *out_rows_json(const PGresult *res);
extern char *out_row_json(const PGresult *res, int row);
extern void out_table(const PGresult *res);
extern void out_line(const char *fmt,...) pg_attribute_printf(1, 2);
pg_noreturn extern void client_exit(int status);

/* connect.c */
extern void connect_start(const ClientOptions *opts);
extern PGconn *connect_poll(void);
extern PGconn *connect_finish(void);

/* query.c */
extern void query_install_signals(void);
extern void query_attach(PGconn *conn, const ClientOptions *opts);
extern PGresult *query_run_expecting(const char *what, const char *sql,
									 int nparams, const char *const *params,
									 const char *sqlstate);
extern PGresult *query_run_probed(const char *what, const char *sql,
								  const char *quiet);
extern char *query_literal(const char *s);
extern PGresult *query_run(const char *what, const char *sql,
						   int nparams, const char *const *params);
extern bool query_send(const char *what, const char *sql,
					   int nparams, const char *const *params);
extern PGresult *query_wait(const char *what);
extern const char *query_error_sqlstate(void);
extern int	query_error_statement(void);
extern const char *query_error_message(void);
extern void query_rollback_quietly(void);

/* sync.c */
typedef struct SyncResult
{
	int			revisions;		/* in the folder */
	int			added;
	int			updated;
	int			drifted;
	int			unchanged;
	int			sent;			/* sent to the server */
	char	   *json;			/* the JSON object for --json */
	PGresult   *changes;		/* migrate_sync's rows, NULL if not called */
} SyncResult;

/* a migration folder, read and hashed */
typedef struct Folder
{
	MgFolderFiles *files;		/* as read */
	char	   *key;			/* its fingerprint, with what else decides how it
								 * is read (sync.c) */
	/* when parsed */
	MgFileSet  *set;
	char	  **hashes;			/* mg_file_revision_hash of each revision */
	char	   *record;			/* what migrate_sync keeps for it: "LAYOUT
								 * KEY" */
	/* what the registry holds (sync_read_registry) */
	bool		state_known;	/* migrate_synced_folder() answered */
	bool		unchanged;		/* the registry holds this folder as it is */
	int			nrevisions;		/* when unchanged: how many revisions */
	char	   *layout;			/* when unchanged: the layout recorded */
	PGresult   *registered;		/* otherwise migrate_sources(), until
								 * sync_folder */
} Folder;

extern Folder *sync_read_folder(const ClientOptions *opts);
extern bool sync_read_registry(const ClientOptions *opts, Folder *folder);
extern bool sync_folder(const ClientOptions *opts, Folder *folder, bool keep,
						SyncResult *result);

/* commands.c */
typedef enum CommandArg
{
	ARG_NONE,					/* status, check, history, validate */
	ARG_TARGET_OPTIONAL,		/* up, plan: head by default */
	ARG_TARGET_REQUIRED,		/* down, stamp */
	ARG_DIR						/* sync */
} CommandArg;

typedef struct CommandInfo
{
	const char *name;
	CommandArg	arg;
	bool		takes_dir;		/* accepts --dir */
	bool		takes_dry_run;	/* accepts --dry-run */
	int			(*run) (const ClientOptions *opts);
} CommandInfo;

extern const CommandInfo *find_command(const char *name);
extern int	run_command(ClientOptions *opts);

#endif							/* PGM_CLIENT_H */
