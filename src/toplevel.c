/*-------------------------------------------------------------------------
 *
 * toplevel.c
 *	  Run a script's statements at top level, where PostgreSQL allows the
 *	  ones that cannot run in a transaction block (CREATE INDEX
 *	  CONCURRENTLY, DROP INDEX CONCURRENTLY, REINDEX CONCURRENTLY, VACUUM,
 *	  a CALL of a procedure that COMMITs), for the per-revision runner.
 *
 * Why a background worker.  A statement is at top level only when the
 * server runs it as a client's query: its own transaction, not inside a
 * transaction block, not under a function.  Everything a procedure runs
 * through SPI is nested: PreventInTransactionBlock refuses CREATE INDEX
 * CONCURRENTLY there, and a procedure CALLed from it may not COMMIT unless
 * every level above it is non-atomic.  The ways out are a connection to
 * the server (dblink style: needs credentials and local connections, which
 * a server need not accept) or a process of the server's own.  This file
 * uses the latter: a dynamic background worker (started on demand, no
 * shared_preload_libraries) connected to the caller's database, which runs
 * each statement the way exec_simple_query runs a client's query: a
 * transaction command of its own, parse analysis and planning with a fresh
 * snapshot, a portal run with isTopLevel = true, the transaction committed
 * after it.  A statement that manages transactions itself (CREATE INDEX
 * CONCURRENTLY commits three times, a procedure COMMITs in its loop) does
 * so inside that command, as it would for a client.
 *
 * Whose rights.  The worker connects as the caller's authenticated user
 * (who may log in; a role set with SET ROLE need not), takes on every
 * setting of the caller's session (SerializeGUCState, the way parallel
 * workers do: search_path, role, session_authorization, DateStyle,
 * client_min_messages, ...), then the caller's current user and security
 * context.  The statements thus run with exactly the caller's privileges
 * and settings, never more.  On top of those the worker sets lock_timeout
 * to pg_migrate.lock_timeout and statement_timeout to 0 (the caller's own
 * statement_timeout bounds the whole call, as it goes on running in the
 * caller; a script that SETs statement_timeout gets it for each of its
 * following statements, as a client would), log_min_messages back to what
 * the server log really takes (the caller lowered it while it masks
 * messages, mask.c), and application_name to "pg_migrate top-level:
 * REVISION", so pg_stat_activity shows who it is.
 * A script's SET lasts until the end of the script: the worker's session
 * ends with it.  A run that starts at a later statement (the executor
 * retries a lock timeout from the statement that failed, the ones before
 * it committed) first makes the script's earlier SETs (and RESETs) again,
 * so that statement runs with the settings it would have had; a setting
 * changed by other means (set_config() in a query) is not made again.
 *
 * Snapshots.  CREATE INDEX CONCURRENTLY waits for every transaction whose
 * snapshot might not see the new index, the caller's included; a caller
 * holding a snapshot while it waits for the worker would wait forever.
 * mg_toplevel_run therefore refuses a caller that holds a snapshot (a
 * programming error: the caller commits, and starts a fresh transaction
 * without one), drops the catalog snapshot (which would hold back the
 * caller's xmin just the same), and does nothing while it waits that needs
 * one again.
 *
 * Messages.  The worker's protocol output goes to a shm_mq in the shared
 * segment (pq_redirect_to_shm_mq, as parallel workers and pg_background
 * do), in the database encoding.  The caller reads it without blocking,
 * sleeping on its latch in between: a NOTICE (or WARNING, INFO) of a
 * statement is re-raised in the caller with ThrowErrorData, so the client
 * gets it as from migrate_upgrade, masked on the way (mask.c's hook); the
 * error of the failing statement comes back as ErrorData, with the script
 * context the worker added (project, revision, statement, line, column)
 * and masked with the script's secrets; for a lock timeout, its detail
 * names the lock waited for and its holders (lock.c's probe ran in the
 * worker).  The worker's own messages to the server log are masked by the
 * same hook in the worker.  The worker also sends a few messages of its
 * own: 'R' it is connected, 'P' it starts statement k (the caller shows
 * "pg_migrate: applying X (n/m), statement k/t at top level" in its
 * pg_stat_activity row), 'C' statement k committed, 'L' the statement
 * number and line of the error that follows (for the history row), 'Z'
 * all done.
 *
 * Interrupts.  The caller's wait checks for interrupts.  A query cancel,
 * statement_timeout, pg_migrate.script_timeout or a termination request
 * of the caller stops the worker first (SIGTERM, then a wait until the
 * postmaster says it has stopped), then takes its course: nothing of the
 * script goes on running after mg_toplevel_run is left, by any path.  The
 * same stop runs when the caller exits on a FATAL error (a before_shmem_exit
 * callback, PG_ENSURE_ERROR_CLEANUP).  A SIGKILL of the caller makes the
 * postmaster restart every backend, the worker included.  Statements
 * committed before the interrupt stay committed; the one interrupted is
 * rolled back as any interrupted statement is, except that an interrupted
 * concurrent index build leaves its INVALID index, which the next run of
 * the same statement drops before building it again, and which status,
 * validation and the check name until then (below).  The worker, for its
 * part, stops at the next statement when its caller has gone.
 *
 * Failed concurrent index builds.  A CREATE INDEX CONCURRENTLY that fails
 * after its first commit (a duplicate for a unique index, a lock timeout
 * while it waits for older transactions, a cancel) leaves an INVALID index
 * behind, which costs every write and blocks a retry under the same name.
 * Before such a statement the worker notes the INVALID indexes of its
 * table; after it fails, it drops the new ones with DROP INDEX
 * CONCURRENTLY, at top level too, and says so in the error's detail ("The
 * invalid index "public.t_x_idx" left by the failed build was dropped.").
 * REINDEX CONCURRENTLY is treated the same way for its "_ccnew" and
 * "_ccold" copies (of the whole database's tables for a REINDEX SCHEMA or
 * DATABASE; the indexes of a TOAST table are not looked at).  The drop
 * waits for the transactions that use the table, under the same
 * lock_timeout: behind a long transaction it fails too, and the detail
 * says the index could not be dropped.  So, before building an index of a
 * given name, the worker drops an INVALID index of that name on that table
 * (before a REINDEX CONCURRENTLY, its INVALID "_ccnew"/"_ccold" copies),
 * with a NOTICE naming it: the leftover of an earlier attempt that could
 * not be cleaned up (the drop timed out, the worker was terminated, the
 * server crashed).  A drop that fails there fails the statement with the
 * drop's own SQLSTATE, so that a lock timeout is retried like any other.
 * The migration lock keeps other pg_migrate runs away; an unnamed index
 * that someone builds by hand on the same table at the same moment is
 * INVALID while it builds, and would be taken for the failed unnamed
 * build's (its drop then waits for that build, and times out).
 *
 * Recorded builds.  No run may ever come back to an interrupted build: its
 * revision may be edited or reverted first, and a build in a down script
 * is not run again when the revert is given up.  So, before it starts,
 * each concurrent build is recorded in migrate.index_build, in a
 * transaction of its own committed before the build's first: the project,
 * revision, script and statement, its table, the index it names, and the
 * INVALID indexes the table had then (those it did not leave), with the
 * worker's pid and start time (while the worker lives, its build is in
 * progress, not left).  The row is deleted when the build succeeds, or
 * when it failed and every INVALID index it left was dropped; an
 * interrupted build keeps it, and migrate_status, migrate_validate and
 * migrate_check name the INVALID indexes it stands for (status.c).  Rows
 * of the project whose builds left nothing (dropped since, or valid) are
 * deleted as each new build is recorded.  This bookkeeping runs as the
 * owner of schema "migrate", with a fixed search_path (catalog.c), and
 * never with a user's statement in the same transaction.
 *
 * Worker failures.  No free worker slot (max_worker_processes) or no
 * dynamic shared memory segment left: MG036, nothing ran.  A worker that
 * stops before it is connected (the authenticated role may no longer log
 * in, the database is being dropped), that is terminated by someone else
 * (pg_terminate_backend of the worker: its FATAL), or that ends without
 * reporting the end of its work: MG037, with its last words when it sent
 * any; statements it committed before stay committed, and *done counts
 * them.  These are raised, not returned: they are no statement's failure,
 * and nothing is retried.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/pg_index.h"
#include "commands/defrem.h"
#include "libpq/pqformat.h"
#include "libpq/pqmq.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "parser/analyze.h"
#include "parser/parser.h"
#include "pgstat.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/shm_mq.h"
#include "tcop/dest.h"
#include "tcop/pquery.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"
#include "utils/backend_status.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/portal.h"
#include "utils/ps_status.h"
#include "utils/snapmgr.h"
#include "utils/timeout.h"
#include "utils/wait_event.h"

#include "catalog.h"
#include "executor.h"
#include "lock.h"
#include "mask.h"
#include "pg_migrate.h"
#include "script.h"
#include "status.h"
#include "toplevel.h"
#include "worker.h"

/* size of the queue carrying the worker's messages to the caller */
#define TOPLEVEL_QUEUE_SIZE 65536

/* the worker's own messages (besides NoticeResponse and ErrorResponse) */
#define MSG_READY		'R'		/* connected, settings restored */
#define MSG_PROGRESS	'P'		/* int32 index: starting that statement */
#define MSG_COMMITTED	'C'		/* int32 index: that statement committed */
#define MSG_POSITION	'L'		/* int32 statement, int32 line: of the error */
#define MSG_DONE		'Z'		/* every statement committed */

/* The dynamic shared memory segment handed to the worker. */
typedef struct ToplevelShared
{
	Oid			dboid;
	Oid			auth_user;		/* connect as: may log in */
	Oid			current_user;	/* run as */
	int			sec_context;
	int			caller_pid;
	int			first;			/* 0-based index of the first statement */
	int			lock_timeout;	/* pg_migrate.lock_timeout, ms */
	char		log_level[16];	/* log_min_messages, as masking did not lower it */
	bool		down;
	/* offsets from the start of this struct */
	Size		project;
	Size		revision;
	Size		sql;
	Size		gucs;
	Size		queue;
} ToplevelShared;

/* The caller's side of one run. */
typedef struct Toplevel
{
	dsm_segment *seg;
	BackgroundWorkerHandle *handle;
	shm_mq_handle *mqh;
	bool		stopped;		/* the worker is known to have stopped */
} Toplevel;

/* What the caller has received. */
typedef struct Received
{
	bool		ready;			/* MSG_READY */
	bool		finished;		/* MSG_DONE */
	int			statement;		/* MSG_POSITION */
	int			line;
	ErrorData  *edata;			/* the first ErrorResponse */
} Received;

/* the worker's queue to its caller, and the caller's pid */
static shm_mq_handle *worker_mqh = NULL;
static int	caller_pid = 0;

/* An index build the worker watches: see the file header. */
typedef struct IndexBuild
{
	bool		concurrent;		/* builds indexes concurrently */
	bool		reindex;		/* REINDEX CONCURRENTLY */
	bool		started;		/* the statement itself started */
	Oid			relid;			/* its table; InvalidOid for several */
	const char *idxname;		/* the index it creates, or NULL */
	List	   *before;			/* OIDs of INVALID indexes before it ran */
	int64		record;			/* its migrate.index_build row, or 0 */
} IndexBuild;

static dsm_segment *create_segment(const MgScript *script, int first);
static void receive(const MgRun *run, Toplevel *tl, Received *got, int *done);
static void stop_worker(int code, Datum arg);
static ErrorData *parse_error_message(StringInfo msg);

static void send_message(char type, int a, int b);
static MgScript *parse_script(const ToplevelShared *shared);
static void run_script_statement(MgScript *script, int index, MemoryContext stmtcontext);
static void run_toplevel(const char *sql, RawStmt *raw, const char *text,
						 MemoryContext stmtcontext);
static void describe_lock_wait(ErrorData *edata);
static void watch_index_build(IndexBuild *build, const MgScript *script, int index,
							  MemoryContext stmtcontext);
static List *recorded_leftovers(const MgScript *script, int index, Oid relid);
static bool clean_failed_build(IndexBuild *build, ErrorData *edata,
							   MemoryContext stmtcontext);
static void record_index_build(IndexBuild *build, const MgScript *script, int index);
static void forget_index_build(IndexBuild *build);
static void catalog_begin(void);
static void catalog_end(void);
static List *invalid_indexes(Oid relid, bool leftovers_only);
static bool is_reindex_leftover(const char *relname);
static char *index_name(Oid indexoid, char **relname);
static ErrorData *drop_invalid_index(Oid indexoid, MemoryContext stmtcontext);
static ErrorData *recover(MemoryContext context);
pg_noreturn static void send_error(ErrorData *edata, int statement, int line);

/*
 * Run run->script's statements from index first at top level in a
 * background worker; see toplevel.h for the contract and the file header
 * for how.  The caller must be in a transaction (or subtransaction) that
 * holds no snapshot, with mg_mask_messages_begin in force (mg_execute_plan
 * does both), so that the worker's NOTICEs are masked on their way to the
 * client.
 */
ErrorData *
mg_toplevel_run(const MgRun *run, int first, int *done)
{
	const MgScript *script = run->script;
	Toplevel	tl;
	Received	got;

	*done = 0;
	if (first >= list_length(script->stmts))
		return NULL;

	/*
	 * A snapshot held here would make a concurrent index build wait for
	 * this backend, which waits for the build: refuse rather than hang.
	 */
	Assert(IsTransactionState());
	if (HaveRegisteredOrActiveSnapshot())
		elog(ERROR, "mg_toplevel_run called while holding a snapshot");
	InvalidateCatalogSnapshot();
	if (TransactionIdIsValid(MyProc->xmin))
		elog(ERROR, "mg_toplevel_run called with an xmin");

	/*
	 * This backend's lock probe sees none of the worker's waits: forget
	 * any earlier one, so that a lock timeout is described by the error's
	 * detail, which the worker's probe wrote.
	 */
	mg_lock_probe_start(0);

	memset(&tl, 0, sizeof(tl));
	memset(&got, 0, sizeof(got));
	tl.seg = create_segment(script, first);
	if (!mg_worker_start("mg_toplevel_worker_main", "pg_migrate top-level",
						 psprintf("pg_migrate top-level runner for PID %d", MyProcPid),
						 tl.seg, &tl.handle))
	{
		dsm_detach(tl.seg);
		ereport(ERROR,
				(errcode(ERRCODE_MG_WORKER_UNAVAILABLE),
				 errmsg("could not start a background worker to run revision \"%s\" at top level",
						script->revision),
				 errdetail("No background worker slot was free."),
				 errhint("Raise max_worker_processes (a restart is needed), or run the migration when fewer background workers are busy.")));
	}

	PG_ENSURE_ERROR_CLEANUP(stop_worker, PointerGetDatum(&tl));
	{
		ToplevelShared *shared = dsm_segment_address(tl.seg);

		tl.mqh = shm_mq_attach((shm_mq *) ((char *) shared + shared->queue),
							   tl.seg, tl.handle);
		receive(run, &tl, &got, done);
		/* the worker has detached from the queue: it is exiting */
		(void) WaitForBackgroundWorkerShutdown(tl.handle);
		tl.stopped = true;
	}
	PG_END_ENSURE_ERROR_CLEANUP(stop_worker, PointerGetDatum(&tl));

	dsm_detach(tl.seg);
	InvalidateCatalogSnapshot();

	if (!got.ready)
		ereport(ERROR,
				(errcode(ERRCODE_MG_WORKER_FAILED),
				 errmsg("the background worker to run revision \"%s\" at top level stopped before it started its work",
						script->revision),
				 got.edata ? errdetail("It failed: %s.", got.edata->message) :
				 errdetail("It reported nothing."),
				 errhint("See the server log.")));

	/* terminated (by someone else), or the statement ended its session */
	if (got.edata != NULL && got.edata->elevel >= FATAL)
		ereport(ERROR,
				(errcode(ERRCODE_MG_WORKER_FAILED),
				 errmsg("the background worker running revision \"%s\" at top level stopped: %s",
						script->revision, got.edata->message),
				 errdetail("%d of its statements from statement %d on completed, and stay committed.",
						   *done, script->first_number + first),
				 errhint("See the server log for why it stopped. An INVALID index it left is dropped by the next run of this revision, and migrate_status() names it until then."),
				 got.edata->context ? errcontext("%s", got.edata->context) : 0));

	if (got.edata != NULL)
	{
		/* as errstart decides for an ERROR raised here */
		got.edata->elevel = ERROR;
		got.edata->output_to_server = (mg_log_min_messages <= ERROR);
		got.edata->output_to_client = (whereToSendOutput == DestRemote);
		mg_mask_error_script(got.edata, script->sql);
		mg_script_note_error(script->revision, script->down, got.edata->sqlerrcode,
							 got.statement, got.line);
		return got.edata;
	}

	if (!got.finished)
		ereport(ERROR,
				(errcode(ERRCODE_MG_WORKER_FAILED),
				 errmsg("the background worker running revision \"%s\" at top level stopped without finishing",
						script->revision),
				 errdetail("%d of its statements from statement %d on completed, and stay committed.",
						   *done, script->first_number + first),
				 errhint("See the server log for why it stopped. An INVALID index it left is dropped by the next run of this revision, and migrate_status() names it until then.")));
	return NULL;
}

/*
 * A new segment for running script from index first: the caller's
 * identity, settings and script, and the message queue, with this backend
 * its receiver.  Raises MG036 when no segment is left.
 */
static dsm_segment *
create_segment(const MgScript *script, int first)
{
	Size		guclen = EstimateGUCStateSpace();
	Size		size = MAXALIGN(sizeof(ToplevelShared));
	Size		project,
				revision,
				sql,
				gucs,
				queue;
	dsm_segment *seg;
	ToplevelShared *shared;
	char	   *base;
	shm_mq	   *mq;

	project = size;
	size = add_size(size, strlen(script->project) + 1);
	revision = size;
	size = add_size(size, strlen(script->revision) + 1);
	sql = size;
	size = add_size(size, strlen(script->sql) + 1);
	gucs = size;
	size = MAXALIGN(add_size(size, guclen));
	queue = size;
	size = add_size(size, TOPLEVEL_QUEUE_SIZE);

	seg = dsm_create(size, DSM_CREATE_NULL_IF_MAXSEGMENTS);
	if (seg == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_MG_WORKER_UNAVAILABLE),
				 errmsg("could not start a background worker to run revision \"%s\" at top level",
						script->revision),
				 errdetail("No dynamic shared memory segment was left to pass the script to it."),
				 errhint("Raise max_connections, which sets how many segments there are.")));

	base = dsm_segment_address(seg);
	shared = (ToplevelShared *) base;
	shared->dboid = MyDatabaseId;
	shared->auth_user = GetAuthenticatedUserId();
	GetUserIdAndSecContext(&shared->current_user, &shared->sec_context);
	shared->caller_pid = MyProcPid;
	shared->first = first;
	shared->lock_timeout = pg_migrate_lock_timeout;
	strlcpy(shared->log_level, mg_mask_log_min_messages(), sizeof(shared->log_level));
	shared->down = script->down;
	shared->project = project;
	shared->revision = revision;
	shared->sql = sql;
	shared->gucs = gucs;
	shared->queue = queue;
	strcpy(base + project, script->project);
	strcpy(base + revision, script->revision);
	strcpy(base + sql, script->sql);
	SerializeGUCState(guclen, base + gucs);

	mq = shm_mq_create(base + queue, TOPLEVEL_QUEUE_SIZE);
	shm_mq_set_receiver(mq, MyProc);
	return seg;
}

/*
 * Read the worker's messages until it detaches from the queue, sleeping on
 * the latch while there are none; see the file header for what each
 * means.  Checks for interrupts between messages: an interrupt raises its
 * error (or ends the backend) from here, and stop_worker stops the worker.
 */
static void
receive(const MgRun *run, Toplevel *tl, Received *got, int *done)
{
	const MgScript *script = run->script;
	int			total = list_length(script->stmts) + (script->unwrapped ? 2 : 0);

	for (;;)
	{
		shm_mq_result res;
		Size		nbytes;
		void	   *data;
		StringInfoData msg;
		char		type;

		CHECK_FOR_INTERRUPTS();
		res = shm_mq_receive(tl->mqh, &nbytes, &data, true);
		if (res == SHM_MQ_DETACHED)
			break;
		if (res == SHM_MQ_WOULD_BLOCK)
		{
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_EXIT_ON_PM_DEATH, -1,
							 PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
			continue;
		}

		initStringInfo(&msg);
		appendBinaryStringInfo(&msg, data, nbytes);
		type = pq_getmsgbyte(&msg);
		switch (type)
		{
			case MSG_READY:
				got->ready = true;
				break;
			case MSG_PROGRESS:
				{
					int			index = pq_getmsgint(&msg, 4);

					mg_report_progress(run, "statement %d/%d at top level",
									   script->first_number + index, total);
					break;
				}
			case MSG_COMMITTED:
				(void) pq_getmsgint(&msg, 4);
				(*done)++;
				break;
			case MSG_POSITION:
				got->statement = pq_getmsgint(&msg, 4);
				got->line = pq_getmsgint(&msg, 4);
				break;
			case MSG_DONE:
				got->finished = true;
				break;
			case 'N':
				{
					ErrorData  *notice = parse_error_message(&msg);

					/* a notice may not be raised as an error; keep it a notice */
					if (notice->elevel >= ERROR)
						notice->elevel = NOTICE;
					ThrowErrorData(notice);
					FreeErrorData(notice);
					InvalidateCatalogSnapshot();
					break;
				}
			case 'E':
				if (got->edata == NULL)
					got->edata = parse_error_message(&msg);
				break;
			default:
				/* ParameterStatus and the like: nothing for the caller */
				break;
		}
		pfree(msg.data);
	}
}

/*
 * An ErrorResponse or NoticeResponse body, past its type byte, as
 * ErrorData in CurrentMemoryContext.
 */
static ErrorData *
parse_error_message(StringInfo msg)
{
	ErrorData  *edata = palloc0(sizeof(ErrorData));

	pq_parse_errornotice(msg, edata);
	edata->assoc_context = CurrentMemoryContext;
	return edata;
}

/*
 * PG_ENSURE_ERROR_CLEANUP's callback, on an error or as the backend exits
 * while the worker may still run: stop it and wait until it has.  The
 * segment goes with the transaction's resources.
 */
static void
stop_worker(int code, Datum arg)
{
	Toplevel   *tl = (Toplevel *) DatumGetPointer(arg);

	if (!tl->stopped)
	{
		mg_worker_stop(tl->handle);
		tl->stopped = true;
	}
}

/*
 * The worker's entry point: map the segment, send every message to the
 * caller through its queue, connect as the caller and take on its
 * settings, then run the statements from shared->first on, each in a
 * transaction of its own; on the first failure clean up after it (an
 * INVALID index) and send its error.  See the file header.
 */
void
mg_toplevel_worker_main(Datum arg)
{
	dsm_segment *seg;
	ToplevelShared *shared;
	shm_mq_handle *mqh;
	MemoryContext workcontext;
	MemoryContext stmtcontext;
	MgScript   *script;
	MgScriptErrorContext ctx;
	char		value[32];
	char	   *appname;
	int			i;

	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	seg = dsm_attach(DatumGetUInt32(arg));
	if (seg == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("could not map the dynamic shared memory segment of a top-level run")));
	shared = dsm_segment_address(seg);
	caller_pid = shared->caller_pid;
	shm_mq_set_sender((shm_mq *) ((char *) shared + shared->queue), MyProc);
	mqh = shm_mq_attach((shm_mq *) ((char *) shared + shared->queue), seg, NULL);
	pq_redirect_to_shm_mq(seg, mqh);
	worker_mqh = mqh;

	BackgroundWorkerInitializeConnectionByOid(shared->dboid, shared->auth_user, 0);

	/* the caller's settings; check hooks may look at the catalogs */
	StartTransactionCommand();
	RestoreGUCState((char *) shared + shared->gucs);
	CommitTransactionCommand();
	/* the caller converts to its client's encoding */
	SetClientEncoding(GetDatabaseEncoding());
	SetUserIdAndSecContext(shared->current_user, shared->sec_context);

	snprintf(value, sizeof(value), "%d", shared->lock_timeout);
	SetConfigOption("lock_timeout", value, PGC_USERSET, PGC_S_SESSION);
	SetConfigOption("statement_timeout", "0", PGC_USERSET, PGC_S_SESSION);
	SetConfigOption("log_min_messages", shared->log_level, PGC_SUSET, PGC_S_SESSION);
	appname = psprintf("pg_migrate top-level: %s", (char *) shared + shared->revision);
	SetConfigOption("application_name", appname, PGC_USERSET, PGC_S_SESSION);

	/* a script's call of migrate_upgrade and the like is refused (MG017) */
	mg_lock_mark_migration(true);

	workcontext = AllocSetContextCreate(TopMemoryContext,
										"pg_migrate top-level context",
										ALLOCSET_DEFAULT_SIZES);
	stmtcontext = AllocSetContextCreate(TopMemoryContext,
										"pg_migrate statement context",
										ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(workcontext);
	script = parse_script(shared);
	send_message(MSG_READY, 0, 0);

	mg_script_context_push(&ctx, script);

	/*
	 * A run from a later statement (a retry after a lock timeout) continues
	 * the same script: the SETs before that statement, which ended with
	 * the earlier worker's session, are made again.
	 */
	for (i = 0; i < shared->first; i++)
	{
		Node	   *stmt = list_nth_node(RawStmt, script->stmts, i)->stmt;

		if (IsA(stmt, VariableSetStmt) && !((VariableSetStmt *) stmt)->is_local)
		{
			mg_script_context_statement(&ctx, i);
			run_script_statement(script, i, stmtcontext);
			MemoryContextReset(stmtcontext);
		}
	}

	for (i = shared->first; i < list_length(script->stmts); i++)
	{
		send_message(MSG_PROGRESS, i, 0);
		mg_script_context_statement(&ctx, i);
		run_script_statement(script, i, stmtcontext);
		send_message(MSG_COMMITTED, i, 0);
		MemoryContextReset(stmtcontext);
	}
	mg_script_context_pop(&ctx);

	send_message(MSG_DONE, 0, 0);
	pgstat_report_activity(STATE_IDLE, NULL);
	proc_exit(0);
}

/*
 * Send one of the worker's own messages, of type, with one or two int32s,
 * framed as pq_redirect_to_shm_mq frames the others (the type byte, then
 * the body), on the same queue.  When the caller has gone (it detached
 * from the queue), stop: there is no one left to run the script for.
 */
static void
send_message(char type, int a, int b)
{
	StringInfoData buf;

	initStringInfo(&buf);
	pq_sendbyte(&buf, type);
	pq_sendint32(&buf, a);
	if (type == MSG_POSITION)
		pq_sendint32(&buf, b);
	if (shm_mq_send(worker_mqh, buf.len, buf.data, false, true) != SHM_MQ_SUCCESS)
	{
		ereport(LOG,
				(errmsg("pg_migrate top-level runner stopping: its caller, PID %d, has gone",
						caller_pid)));
		proc_exit(0);
	}
	pfree(buf.data);
}

/*
 * The script, parsed as the caller parsed it (the same text, the same
 * settings, so the same statements).  The NOTICE about a removed BEGIN ...
 * COMMIT wrapper was the caller's to give, and is not repeated.
 */
static MgScript *
parse_script(const ToplevelShared *shared)
{
	MemoryContext workcontext = CurrentMemoryContext;
	MgScript   *script;
	int			nestlevel;

	StartTransactionCommand();
	MemoryContextSwitchTo(workcontext);
	nestlevel = NewGUCNestLevel();
	(void) set_config_option("client_min_messages", "warning",
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);
	script = mg_script_parse(pstrdup((char *) shared + shared->project),
							 pstrdup((char *) shared + shared->revision),
							 pstrdup((char *) shared + shared->sql),
							 shared->down);
	AtEOXact_GUC(false, nestlevel);
	CommitTransactionCommand();
	MemoryContextSwitchTo(workcontext);
	return script;
}

/*
 * Run script->stmts' index-th statement at top level, a concurrent index
 * build recorded while it runs (see the file header).  On failure, roll
 * it back, describe the lock wait of a lock timeout, drop the INVALID
 * index a concurrent build left, and send the error: the worker ends
 * there.
 */
static void
run_script_statement(MgScript *script, int index, MemoryContext stmtcontext)
{
	MemoryContext workcontext = CurrentMemoryContext;
	RawStmt    *raw = list_nth_node(RawStmt, script->stmts, index);
	int			start = mg_script_statement_start(script, index);
	int			len = raw->stmt_len > 0 ?
		raw->stmt_location + raw->stmt_len - start : (int) strlen(script->sql) - start;
	char	   *text = pnstrdup(script->sql + start, len);
	IndexBuild	build;
	ErrorData  *edata;
	int			statement;
	int			line;

	memset(&build, 0, sizeof(build));
	PG_TRY();
	{
		watch_index_build(&build, script, index, stmtcontext);
		record_index_build(&build, script, index);
		build.started = true;
		run_toplevel(script->sql, raw, text, stmtcontext);
	}
	PG_CATCH();
	{
		edata = recover(workcontext);

		/* where it failed, before the clean-up's errors could replace it */
		(void) mg_script_error_position(script->revision, script->down,
										edata->sqlerrcode, &statement, &line);
		if (edata->sqlerrcode == ERRCODE_LOCK_NOT_AVAILABLE)
			describe_lock_wait(edata);
		if (build.concurrent && build.started &&
			clean_failed_build(&build, edata, stmtcontext))
			forget_index_build(&build);
		send_error(edata, statement, line);
	}
	PG_END_TRY();
	forget_index_build(&build);
}

/*
 * Run one raw statement of sql at top level, as exec_simple_query would:
 * its own transaction command, analysis and planning with a fresh
 * snapshot, an unnamed portal run with isTopLevel, output discarded,
 * commit.  text is the statement alone, for pg_stat_activity and the
 * server log.  What must survive the statement's own commits (the parse
 * and plan trees, the portal's definition) lives in stmtcontext.
 */
static void
run_toplevel(const char *sql, RawStmt *raw, const char *text,
			 MemoryContext stmtcontext)
{
	MemoryContext callercontext = CurrentMemoryContext;
	MemoryContext oldcontext;
	CommandTag	tag;
	List	   *querytrees;
	List	   *plans;
	bool		snapshot_set = false;
	Portal		portal;
	DestReceiver *receiver;
	QueryCompletion qc;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	debug_query_string = text;
	pgstat_report_activity(STATE_RUNNING, mg_mask_secrets(text));
	tag = CreateCommandTag(raw->stmt);
	set_ps_display(GetCommandTagName(tag));
	if (StatementTimeout > 0)
		enable_timeout_after(STATEMENT_TIMEOUT, StatementTimeout);
	mg_lock_probe_start(LockTimeout);

	if (analyze_requires_snapshot(raw))
	{
		PushActiveSnapshot(GetTransactionSnapshot());
		snapshot_set = true;
	}
	oldcontext = MemoryContextSwitchTo(stmtcontext);
	/* analysis may scribble on the tree; a retry needs it intact */
	querytrees = pg_analyze_and_rewrite_fixedparams(copyObject(raw), sql, NULL, 0, NULL);
	plans = pg_plan_queries(querytrees, sql, CURSOR_OPT_PARALLEL_OK, NULL);
	if (snapshot_set)
		PopActiveSnapshot();
	CHECK_FOR_INTERRUPTS();

	portal = CreatePortal("", true, true);
	portal->visible = false;
	PortalDefineQuery(portal, NULL, sql, tag, plans, NULL);
	PortalStart(portal, NULL, 0, InvalidSnapshot);
	receiver = CreateDestReceiver(DestNone);
	MemoryContextSwitchTo(oldcontext);

	(void) mg_portal_run(portal, FETCH_ALL, true, receiver, receiver, &qc);
	receiver->rDestroy(receiver);
	PortalDrop(portal, false);

	mg_lock_probe_stop();
	if (get_timeout_active(STATEMENT_TIMEOUT))
		disable_timeout(STATEMENT_TIMEOUT, false);
	CommitTransactionCommand();
	MemoryContextSwitchTo(callercontext);
	debug_query_string = NULL;
	pgstat_report_activity(STATE_IDLE, NULL);
}

/*
 * Put what lock the timed-out statement waited for, and who held it, in
 * the error's detail, as migrate_upgrade's retry NOTICEs say it.
 */
static void
describe_lock_wait(ErrorData *edata)
{
	MemoryContext workcontext = CurrentMemoryContext;
	char	   *wait;

	StartTransactionCommand();
	MemoryContextSwitchTo(workcontext);
	wait = mg_lock_describe_last_wait();
	CommitTransactionCommand();
	MemoryContextSwitchTo(workcontext);
	if (wait != NULL)
		edata->detail = wait;
}

/*
 * Before script's index-th statement runs: if it builds indexes
 * concurrently, find its table and the INVALID indexes there, dropping
 * first the leftovers of an earlier, interrupted attempt at it (see the
 * file header): of the name it builds, REINDEX's copies, and those that
 * the recorded earlier builds of this very statement left (an unnamed
 * index's name is known only once it is built).
 */
static void
watch_index_build(IndexBuild *build, const MgScript *script, int index,
				  MemoryContext stmtcontext)
{
	MemoryContext workcontext = CurrentMemoryContext;
	Node	   *stmt = list_nth_node(RawStmt, script->stmts, index)->stmt;
	List	   *invalid;
	List	   *recorded = NIL;
	List	   *leftovers = NIL;
	ListCell   *lc;

	if (IsA(stmt, IndexStmt) && ((IndexStmt *) stmt)->concurrent)
	{
		build->concurrent = true;
		build->idxname = ((IndexStmt *) stmt)->idxname;
	}
	else if (IsA(stmt, ReindexStmt))
	{
		ReindexStmt *r = (ReindexStmt *) stmt;

		foreach(lc, r->params)
		{
			DefElem    *opt = lfirst_node(DefElem, lc);

			if (strcmp(opt->defname, "concurrently") == 0 &&
				(opt->arg == NULL || defGetBoolean(opt)))
				build->concurrent = build->reindex = true;
		}
	}
	if (!build->concurrent)
		return;

	StartTransactionCommand();
	MemoryContextSwitchTo(workcontext);
	if (IsA(stmt, IndexStmt))
		build->relid = RangeVarGetRelid(((IndexStmt *) stmt)->relation, NoLock, true);
	else
	{
		ReindexStmt *r = (ReindexStmt *) stmt;

		if (r->kind == REINDEX_OBJECT_TABLE)
			build->relid = RangeVarGetRelid(r->relation, NoLock, true);
		else if (r->kind == REINDEX_OBJECT_INDEX)
		{
			Oid			indexoid = RangeVarGetRelid(r->relation, NoLock, true);

			if (OidIsValid(indexoid))
				build->relid = IndexGetRelation(indexoid, true);
		}
	}

	invalid = (build->reindex || OidIsValid(build->relid)) ?
		invalid_indexes(build->relid, !OidIsValid(build->relid)) : NIL;
	if (invalid != NIL && OidIsValid(build->relid))
		recorded = recorded_leftovers(script, index, build->relid);
	foreach(lc, invalid)
	{
		Oid			indexoid = lfirst_oid(lc);
		char	   *relname = get_rel_name(indexoid);

		if (relname == NULL)
			continue;
		if (build->reindex ? is_reindex_leftover(relname) :
			(build->idxname != NULL && strcmp(relname, build->idxname) == 0))
			leftovers = lappend_oid(leftovers, indexoid);
		else if (list_member_oid(recorded, indexoid))
			leftovers = lappend_oid(leftovers, indexoid);
		else
			build->before = lappend_oid(build->before, indexoid);
	}
	CommitTransactionCommand();
	MemoryContextSwitchTo(workcontext);

	foreach(lc, leftovers)
	{
		Oid			indexoid = lfirst_oid(lc);
		char	   *name;
		ErrorData  *problem;

		name = index_name(indexoid, NULL);
		if (name == NULL)
			continue;
		ereport(NOTICE,
				(errmsg("dropping invalid index \"%s\" left by an earlier failed build", name)));
		problem = drop_invalid_index(indexoid, stmtcontext);

		/*
		 * Its own SQLSTATE, so that a lock timeout is retried like any
		 * other; the index must go before it is built again.
		 */
		if (problem != NULL)
			ereport(ERROR,
					(errcode(problem->sqlerrcode),
					 errmsg("could not drop invalid index \"%s\" left by an earlier failed build: %s",
							name, problem->message),
					 problem->detail ? errdetail_internal("%s", problem->detail) : 0,
					 errhint("It must be dropped before the index is built again; end the sessions that keep DROP INDEX CONCURRENTLY waiting, or drop it yourself.")));
	}
}

/*
 * The OIDs of the INVALID indexes of table relid that earlier recorded
 * builds of script's index-th statement (the same project, revision,
 * script and statement number) left, as migrate_status reports them.
 * Must be called in a transaction, between statements.
 */
static List *
recorded_leftovers(const MgScript *script, int index, Oid relid)
{
	MemoryContext callercontext = CurrentMemoryContext;
	List	   *result = NIL;
	ListCell   *lc;

	catalog_begin();
	foreach(lc, mg_invalid_indexes(script->project))
	{
		MgInvalidIndex *left = lfirst(lc);

		if (strcmp(left->revision, script->revision) == 0 &&
			left->down == script->down &&
			left->statement == script->first_number + index &&
			IndexGetRelation(left->oid, true) == relid)
		{
			MemoryContext spicontext = MemoryContextSwitchTo(callercontext);

			result = lappend_oid(result, left->oid);
			MemoryContextSwitchTo(spicontext);
		}
	}
	catalog_end();
	return result;
}

/*
 * Connect to SPI for the bookkeeping queries of migrate.index_build, with a
 * snapshot of their own: the worker runs them between a script's
 * statements, outside any portal, where SPI finds no active snapshot.
 * Must be called in a transaction; catalog_end undoes both.
 */
static void
catalog_begin(void)
{
	PushActiveSnapshot(GetTransactionSnapshot());
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
}

/* Disconnect from SPI and drop the snapshot that catalog_begin pushed. */
static void
catalog_end(void)
{
	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "SPI_finish failed");
	PopActiveSnapshot();
}

/*
 * After a concurrent build failed: drop the INVALID indexes of its table
 * that were not INVALID before it ran (the one it names, when it names
 * one; REINDEX's "_ccnew"/"_ccold" copies, of the whole database for a
 * schema or database), and say so in the error's detail.  Returns whether
 * every one of them could be dropped.
 */
static bool
clean_failed_build(IndexBuild *build, ErrorData *edata, MemoryContext stmtcontext)
{
	MemoryContext workcontext = CurrentMemoryContext;
	List	   *invalid;
	ListCell   *lc;
	StringInfoData detail;
	bool		all_dropped = true;

	if (!build->reindex && !OidIsValid(build->relid))
		return true;

	StartTransactionCommand();
	MemoryContextSwitchTo(workcontext);
	invalid = invalid_indexes(build->relid, build->reindex);
	CommitTransactionCommand();
	MemoryContextSwitchTo(workcontext);

	initStringInfo(&detail);
	if (edata->detail != NULL)
		appendStringInfoString(&detail, edata->detail);
	foreach(lc, invalid)
	{
		Oid			indexoid = lfirst_oid(lc);
		char	   *name;
		char	   *relname;
		ErrorData  *problem;

		if (list_member_oid(build->before, indexoid))
			continue;
		name = index_name(indexoid, &relname);
		/* a build that names its index left that one, and no other */
		if (name == NULL || relname == NULL ||
			(build->idxname != NULL && strcmp(relname, build->idxname) != 0))
			continue;

		problem = drop_invalid_index(indexoid, stmtcontext);
		if (detail.len > 0)
			appendStringInfoChar(&detail, '\n');
		if (problem == NULL)
			appendStringInfo(&detail, "The invalid index \"%s\" left by the failed build was dropped.",
							 name);
		else
		{
			appendStringInfo(&detail, "The invalid index \"%s\" left by the failed build could not be dropped (%s); it is dropped before the next build.",
							 name, problem->message);
			all_dropped = false;
		}
	}
	if (detail.len > 0)
		edata->detail = detail.data;
	return all_dropped;
}

/*
 * Before the concurrent build that watch_index_build found starts, the
 * index-th statement of script: record it in migrate.index_build, in a
 * transaction of its own, after deleting the project's records whose
 * builds left nothing (see the file header); build->record gets the row's
 * id.  A statement that builds nothing, or whose table does not exist (it
 * fails as it starts), is not recorded.
 */
static void
record_index_build(IndexBuild *build, const MgScript *script, int index)
{
	MemoryContext workcontext = CurrentMemoryContext;
	MgOwnerScope scope;
	Datum		values[11];
	char		nulls[11];
	char	  **before;
	int			nbefore = 0;
	ListCell   *lc;
	bool		isnull;

	if (!build->concurrent || (!build->reindex && !OidIsValid(build->relid)))
		return;

	StartTransactionCommand();
	MemoryContextSwitchTo(workcontext);
	memset(nulls, ' ', sizeof(nulls));
	values[0] = CStringGetTextDatum(script->project);
	values[1] = CStringGetTextDatum(script->revision);
	values[2] = BoolGetDatum(script->down);
	values[3] = Int32GetDatum(script->first_number + index);
	if (OidIsValid(build->relid))
	{
		char	   *relname = get_rel_name(build->relid);
		char	   *nspname = get_namespace_name(get_rel_namespace(build->relid));

		/* gone since watch_index_build: the statement fails as it starts */
		if (relname == NULL || nspname == NULL)
		{
			CommitTransactionCommand();
			MemoryContextSwitchTo(workcontext);
			return;
		}
		values[4] = CStringGetTextDatum(nspname);
		values[5] = CStringGetTextDatum(relname);
	}
	else
		nulls[4] = nulls[5] = 'n';
	if (build->idxname != NULL)
		values[6] = CStringGetTextDatum(build->idxname);
	else
		nulls[6] = 'n';
	values[7] = BoolGetDatum(build->reindex);
	before = palloc(sizeof(char *) * Max(list_length(build->before), 1));
	foreach(lc, build->before)
	{
		char	   *relname = get_rel_name(lfirst_oid(lc));

		if (relname != NULL)
			before[nbefore++] = relname;
	}
	values[8] = mg_text_array(before, nbefore);
	values[9] = Int32GetDatum(MyProcPid);
	values[10] = TimestampTzGetDatum(MyStartTimestamp);

	catalog_begin();
	mg_owner_begin(&scope);
	(void) mg_catalog_exec(MGQ_DELETE_STALE_INDEX_BUILDS, values, NULL);
	if (mg_catalog_exec(MGQ_INSERT_INDEX_BUILD, values, nulls) != 1)
		elog(ERROR, "could not record a concurrent index build");
	build->record = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
												SPI_tuptable->tupdesc, 1, &isnull));
	mg_owner_end(&scope);
	catalog_end();
	CommitTransactionCommand();
	MemoryContextSwitchTo(workcontext);
}

/*
 * Delete build's migrate.index_build row, if it has one, in a transaction
 * of its own: the build succeeded, or left nothing behind.
 */
static void
forget_index_build(IndexBuild *build)
{
	MemoryContext workcontext = CurrentMemoryContext;
	MgOwnerScope scope;
	Datum		values[1];

	if (build->record == 0)
		return;

	StartTransactionCommand();
	MemoryContextSwitchTo(workcontext);
	values[0] = Int64GetDatum(build->record);
	catalog_begin();
	mg_owner_begin(&scope);
	(void) mg_catalog_exec(MGQ_DELETE_INDEX_BUILD, values, NULL);
	mg_owner_end(&scope);
	catalog_end();
	CommitTransactionCommand();
	MemoryContextSwitchTo(workcontext);
	build->record = 0;
}

/*
 * The OIDs of the INVALID indexes of table relid, or of the whole database
 * for InvalidOid; with leftovers_only, only REINDEX CONCURRENTLY's.  Must
 * be called in a transaction.
 */
static List *
invalid_indexes(Oid relid, bool leftovers_only)
{
	Relation	rel = table_open(IndexRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	List	   *result = NIL;

	ScanKeyInit(&key, Anum_pg_index_indrelid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	scan = systable_beginscan(rel, IndexIndrelidIndexId, OidIsValid(relid), NULL,
							  OidIsValid(relid) ? 1 : 0, &key);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		Form_pg_index index = (Form_pg_index) GETSTRUCT(tuple);

		if (index->indisvalid)
			continue;
		if (leftovers_only)
		{
			char	   *relname = get_rel_name(index->indexrelid);

			if (relname == NULL || !is_reindex_leftover(relname))
				continue;
		}
		result = lappend_oid(result, index->indexrelid);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return result;
}

/*
 * Is relname the name REINDEX CONCURRENTLY gives the copy it builds or the
 * original it retires: ending in "_ccnew" or "_ccold", then digits?
 */
static bool
is_reindex_leftover(const char *relname)
{
	const char *p = relname + strlen(relname);

	while (p > relname && isdigit((unsigned char) p[-1]))
		p--;
	return (p - relname >= 6 &&
			(strncmp(p - 6, "_ccnew", 6) == 0 || strncmp(p - 6, "_ccold", 6) == 0));
}

/*
 * The index's qualified, quoted name, or NULL when it is gone, looked up in
 * a transaction of its own (the worker is between statements); *relname,
 * when relname is not NULL, gets its bare name (NULL when it is gone).  The
 * names are allocated in the caller's memory context.
 */
static char *
index_name(Oid indexoid, char **relname)
{
	MemoryContext caller = CurrentMemoryContext;
	char	   *bare;
	char	   *nspname = NULL;
	char	   *name = NULL;

	StartTransactionCommand();
	MemoryContextSwitchTo(caller);
	bare = get_rel_name(indexoid);
	if (bare != NULL)
		nspname = get_namespace_name(get_rel_namespace(indexoid));
	if (nspname != NULL)
		name = quote_qualified_identifier(nspname, bare);
	CommitTransactionCommand();
	MemoryContextSwitchTo(caller);
	if (relname != NULL)
		*relname = name != NULL ? bare : NULL;
	return name;
}

/*
 * Drop the index at top level with DROP INDEX CONCURRENTLY IF EXISTS, as
 * the current user.  Returns NULL, or the error that kept it from being
 * dropped (rolled back, not raised).
 */
static ErrorData *
drop_invalid_index(Oid indexoid, MemoryContext stmtcontext)
{
	MemoryContext workcontext = CurrentMemoryContext;
	ErrorData  *volatile problem = NULL;
	char	   *name;
	char	   *sql;

	name = index_name(indexoid, NULL);
	if (name == NULL)
		return NULL;

	sql = psprintf("DROP INDEX CONCURRENTLY IF EXISTS %s", name);
	PG_TRY();
	{
		List	   *raws = raw_parser(sql, RAW_PARSE_DEFAULT);

		run_toplevel(sql, linitial_node(RawStmt, raws), sql, stmtcontext);
	}
	PG_CATCH();
	{
		problem = recover(workcontext);
	}
	PG_END_TRY();
	MemoryContextReset(stmtcontext);
	return problem;
}

/*
 * In a PG_CATCH around run_toplevel: take the error (a copy in context),
 * and roll back what the statement left, as PostgresMain does after a
 * client's query fails.
 */
static ErrorData *
recover(MemoryContext context)
{
	ErrorData  *edata;

	HOLD_INTERRUPTS();
	MemoryContextSwitchTo(context);
	edata = CopyErrorData();
	FlushErrorState();
	mg_lock_probe_stop();
	if (get_timeout_active(STATEMENT_TIMEOUT))
		disable_timeout(STATEMENT_TIMEOUT, false);
	QueryCancelPending = false;
	AbortCurrentTransaction();
	debug_query_string = NULL;
	MemoryContextSwitchTo(context);
	RESUME_INTERRUPTS();
	return edata;
}

/*
 * Send the failing statement's error to the caller, after its position
 * (for the history row), and end the worker.  The error goes to the
 * server log as well, as any worker's does, masked by mask.c's hook.
 */
static void
send_error(ErrorData *edata, int statement, int line)
{
	send_message(MSG_POSITION, statement, line);

	/* the error has its context already: add none */
	error_context_stack = NULL;
	PG_TRY();
	{
		ReThrowError(edata);
	}
	PG_CATCH();
	{
		EmitErrorReport();
		FlushErrorState();
	}
	PG_END_TRY();
	proc_exit(0);
}
