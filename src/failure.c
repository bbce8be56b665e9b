/*-------------------------------------------------------------------------
 *
 * failure.c
 *	  Record a failed migrate_upgrade or migrate_downgrade in the history,
 *	  although the caller's transaction rolls back.
 *
 * A failed upgrade rolls back everything it did, history rows included; yet
 * the audit log must say that it was tried, by whom, and what failed.  The
 * row therefore has to be written by a transaction that is not the
 * caller's.  PostgreSQL has no autonomous transactions, so the choices are:
 *
 * - a connection from the backend to its own server (dblink style): needs
 *   credentials and a libpq connection from inside the server, and the
 *   server may not accept local connections at all;
 * - writing after the caller's transaction has ended (a transaction
 *   callback): nothing may be written to a table from there, and a caller
 *   that catches the error (a PL/pgSQL EXCEPTION block) does not end its
 *   transaction at all;
 * - a background worker: a process of the server's own, started on demand
 *   with RegisterDynamicBackgroundWorker (no shared_preload_libraries
 *   needed), connected to the caller's database, with its own transaction.
 *
 * The background worker is the sound one, and it is what this file does.
 *
 * Where.  The operation (upgrade.c, downgrade.c) runs inside an internal
 * subtransaction (subxact.c).  When it fails, the subtransaction is rolled
 * back first: every lock, buffer pin, LWLock and resource the failed work
 * held is released by the rollback, and the backend is back in a normal,
 * usable transaction.  Only then is the failure recorded, and the original
 * error re-thrown, unchanged, for the caller's transaction to abort (or for
 * the caller's EXCEPTION block to catch).  Doing this inside a PG_CATCH
 * would not be safe: the backend might still hold the very LWLock or buffer
 * lock the worker needs.
 *
 * How.  The row, with the caller's role, application_name and pid in it,
 * goes into a dynamic shared memory segment; the worker maps it, connects
 * to the database as the bootstrap superuser (a background worker needs no
 * login for that), inserts the row as the owner of schema "migrate" (the
 * same owner scope as every bookkeeping statement, catalog.c) in a
 * transaction of its own, commits, and exits.  The failing backend waits
 * for it on its latch, at most FAILURE_WAIT_MS, and says in a WARNING when
 * the row could not be written or confirmed.  The segment is pinned until
 * the worker has mapped it, so a backend that is terminated while waiting
 * does not take the row with it: the worker still writes it, unless the
 * history table stays locked past the worker's own lock_timeout (below),
 * in which case the row is lost and, its backend gone, nobody is told
 * but the server log.
 *
 * What the worker can block on.  Only locks: RowExclusiveLock on
 * migrate.history, its index and sequence, which nothing conflicts with
 * but an explicit LOCK, ALTER or TRUNCATE of them.  The rollback of the
 * failed work released every lock it took; a caller that locked the
 * history table itself before the call (only its owner or a superuser can)
 * would make the worker wait, so the worker's lock_timeout is
 * FAILURE_WORKER_LOCK_TIMEOUT, shorter than the backend's wait.  It never
 * touches the migration lock.  Its commit does not wait for synchronous
 * standbys (synchronous_commit = local): a recorder stuck on an absent
 * standby would hold a worker slot for nothing.
 *
 * Edge cases.  No row, and no worker, for a call refused before it began:
 * its arguments (entry.c), then, before the subtransaction, lock.c's
 * refusals of the call's context: a call from inside a migration script
 * (MG017; the outer migration records its own failure), a standby (MG014;
 * nothing can be written there), a read-only transaction (MG015; it asked
 * for no writes), an isolation level above READ COMMITTED (MG016).
 * Nothing was tried, and they depend only on how the call was made.  Dry
 * runs record nothing either.  Everything from the wait for the migration
 * lock on is recorded: the lock wait timing out, validation (drift, a
 * syntax error, a graph problem, a target the registry cannot resolve), a
 * failing script statement, lock retries running out,
 * pg_migrate.script_timeout, a query cancel.  When no worker slot is free
 * (max_worker_processes), no dynamic shared memory segment is left, the
 * worker fails or does not finish in time, or a query cancel interrupts
 * the wait, the caller gets a WARNING (SQLSTATE MG026) that the failure
 * was not recorded (or not confirmed), then the original error, unchanged.
 * A backend that dies (terminated, crashed, client gone: FATAL or worse)
 * records nothing of what it was running, since it never gets to catch
 * the error; a backend terminated while it waits for the worker leaves the
 * row to the worker, which writes it.
 *
 * Bounds.  The row keeps at most MG_MAX_STORED_TEXT bytes of the error's
 * message and of its detail, cut with a marker (mg_bounded_text, history.c
 * explains): a script may raise an error of any size, and the caller gets
 * it whole, but neither the segment, the history nor the server log lines
 * of the worker carry more than that.  The target was checked for its
 * form before the call began (mg_check_target), the revision and project
 * are ids.
 *
 * Secrets.  The error comes from mg_in_subtransaction, which masks every
 * error it hands back (mask.c), and a script's errors are masked with the
 * script's own secrets before that (executor.c, script.c, validate.c); the
 * copy that goes into the row is masked once more, which changes nothing
 * there and covers any other path: the row never holds more than the
 * caller saw.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "port/atomics.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "catalog.h"
#include "executor.h"
#include "failure.h"
#include "history.h"
#include "mask.h"
#include "pg_migrate.h"
#include "script.h"
#include "subxact.h"
#include "worker.h"

/* how long the failing backend waits for the row to be written */
#define FAILURE_WAIT_MS 5000

/* the worker's lock_timeout: it gives up before the backend stops waiting */
#define FAILURE_WORKER_LOCK_TIMEOUT 3000

/* longest reason kept when the worker fails */
#define FAILURE_ERROR_LEN 512

/* The strings of a failure row, in FailureShared.data. */
typedef enum FailureField
{
	FF_PROJECT,
	FF_EVENT,
	FF_REVISION,
	FF_TARGET,
	FF_ROLE,
	FF_APPLICATION,
	FF_DETAIL,
	FF_SQLSTATE,
	FF_MESSAGE,
	FF__COUNT
} FailureField;

/* Where the worker is. */
typedef enum RecorderState
{
	RECORDER_STARTING,			/* has not mapped the segment yet */
	RECORDER_ATTACHED,			/* has mapped it and unpinned it */
	RECORDER_DONE,				/* committed the row */
	RECORDER_FAILED				/* raised an error, kept in error */
} RecorderState;

/* The dynamic shared memory segment handed to the worker. */
typedef struct FailureShared
{
	/* written by the failing backend before the worker starts */
	Oid			dboid;
	TimestampTz started_at;
	TimestampTz finished_at;
	int			statements;
	int			attempts;
	int			backend_pid;
	int			statement;
	int			line;
	int			offsets[FF__COUNT]; /* into data; -1 for NULL */
	/* written by the worker */
	pg_atomic_uint32 state;		/* a RecorderState */
	char		error[FAILURE_ERROR_LEN];
	char		data[FLEXIBLE_ARRAY_MEMBER];
} FailureShared;

/* What the recording subtransaction works on. */
typedef struct Recording
{
	const MgFailure *failure;
	const ErrorData *edata;		/* masked copy */
	int			statement;
	int			line;
} Recording;

static bool can_record(void);
static ErrorData *masked_copy(const ErrorData *edata);
static void record(void *arg);
static dsm_segment *fill_segment(const Recording *rec);
static void wait_for_recorder(dsm_segment *seg, BackgroundWorkerHandle *handle);
pg_noreturn static void recorder_error(const char *detail, const char *hint);
static const char *shared_string(const FailureShared *shared, FailureField field);

/*
 * Start describing a call of migrate_upgrade (upgrade) or
 * migrate_downgrade to target on project, by the current user, now.
 * Forgets the position of any earlier script error (script.c).
 */
void
mg_failure_begin(MgFailure *failure, bool upgrade, const char *project,
				 const char *target)
{
	memset(failure, 0, sizeof(MgFailure));
	failure->function = upgrade ? "migrate_upgrade" : "migrate_downgrade";
	failure->event = upgrade ? "upgrade failed" : "downgrade failed";
	failure->project = project;
	failure->target = target;
	failure->role = GetUserNameFromId(GetUserId(), false);
	failure->started_at = GetCurrentTimestamp();
	failure->revision = NULL;
	failure->statements = -1;
	failure->attempts = -1;
	mg_script_forget_error();
}

/*
 * Run body(arg), an upgrade's or a downgrade's work, in a subtransaction.
 * When it fails, complete *failure with the revision left unfinished among
 * the *nruns runs of *runs (which body sets as it plans), record it, and
 * re-throw the error unchanged, the failed work rolled back.  The caller
 * has filled *failure with mg_failure_begin.
 */
void
mg_failure_guard(MgFailure *failure, void (*body) (void *), void *arg,
				 MgRun *const *runs, const int *nruns)
{
	ErrorData  *edata = mg_in_subtransaction(body, arg);
	const MgRun *run;

	if (edata == NULL)
		return;
	run = mg_unfinished_run(*runs, *nruns);
	if (run != NULL)
	{
		failure->revision = run->script->revision;
		failure->down = run->script->down;
		failure->statements = run->statements;
		failure->attempts = run->attempts;
	}
	mg_failure_record(failure, edata);
	ReThrowError(edata);
}

/*
 * Record that the call described by failure failed with edata, unless it
 * is a refusal before the call began (see the file header).  The caller
 * must have rolled back the failed work's subtransaction with
 * mg_in_subtransaction (which masks edata), and re-throws edata
 * afterwards; edata is not changed.  Never raises an error: a row
 * that cannot be written is reported as a WARNING.  A termination request
 * while waiting ends the backend (FATAL), as anywhere else.
 */
void
mg_failure_record(const MgFailure *failure, const ErrorData *edata)
{
	Recording	rec;
	ErrorData  *problem;

	if (!can_record())
		return;

	rec.failure = failure;
	rec.edata = masked_copy(edata);
	(void) mg_script_error_position(failure->revision, failure->down,
									edata->sqlerrcode, &rec.statement, &rec.line);

	problem = mg_in_subtransaction(record, &rec);
	if (debug_query_string != NULL)
		pgstat_report_activity(STATE_RUNNING, debug_query_string);
	if (problem == NULL)
		return;

	/*
	 * A WARNING checks for interrupts once sent; a cancel that stopped the
	 * wait would then replace the error the caller must get.  It stays
	 * pending instead, for whatever runs next.
	 */
	HOLD_INTERRUPTS();
	if (problem->sqlerrcode == ERRCODE_MG_FAILURE_NOT_RECORDED)
		ereport(WARNING,
				(errcode(ERRCODE_MG_FAILURE_NOT_RECORDED),
				 errmsg("the failure of %s was not recorded in the history", failure->function),
				 errdetail_internal("%s", problem->detail),
				 problem->hint ? errhint("%s", problem->hint) : 0));
	else
		ereport(WARNING,
				(errcode(ERRCODE_MG_FAILURE_NOT_RECORDED),
				 errmsg("the failure of %s was not recorded in the history", failure->function),
				 errdetail("Recording it failed: %s.", problem->message)));
	RESUME_INTERRUPTS();
	FreeErrorData(problem);
}

/*
 * Can a failure be recorded here?  Not on a standby, nor for a read-only
 * transaction.  The operations refuse both before they begin (lock.c), so
 * this only guards against a transaction that became read-only since.
 */
static bool
can_record(void)
{
	return !RecoveryInProgress() && !XactReadOnly;
}

/*
 * A copy of edata's strings that may be changed, with the secrets in its
 * message and detail masked.
 */
static ErrorData *
masked_copy(const ErrorData *edata)
{
	ErrorData  *copy = palloc0(sizeof(ErrorData));

	copy->elevel = edata->elevel;
	copy->sqlerrcode = edata->sqlerrcode;
	copy->message = edata->message ? pstrdup(edata->message) : pstrdup("");
	copy->detail = edata->detail ? pstrdup(edata->detail) : NULL;
	copy->hint = edata->hint ? pstrdup(edata->hint) : NULL;
	copy->context = edata->context ? pstrdup(edata->context) : NULL;
	copy->internalquery = edata->internalquery ? pstrdup(edata->internalquery) : NULL;

	/*
	 * An error out of mg_in_subtransaction is masked already; masking again
	 * changes nothing there and covers any other path.
	 */
	mg_mask_error(copy);
	return copy;
}

/*
 * The recording subtransaction's work: hand the row to a new worker and
 * wait for it.  Every way of not getting the row written raises an error,
 * which mg_failure_record turns into its WARNING; the errdetail is the
 * reason.
 */
static void
record(void *arg)
{
	Recording  *rec = arg;
	dsm_segment *seg;
	FailureShared *shared;
	BackgroundWorkerHandle *handle;
	char	   *name = psprintf("pg_migrate failure recorder for PID %d", MyProcPid);

	seg = fill_segment(rec);
	shared = dsm_segment_address(seg);

	/*
	 * The segment must outlive this backend until the worker has mapped
	 * it; the worker unpins it.  Nothing between the pin and the
	 * registration can fail.
	 */
	dsm_pin_segment(seg);
	if (!mg_worker_start("mg_failure_worker_main", "pg_migrate failure recorder",
						 name, seg, &handle))
	{
		dsm_unpin_segment(dsm_segment_handle(seg));
		dsm_detach(seg);
		recorder_error("No background worker slot was free to write it.",
					   "Raise max_worker_processes.");
	}

	wait_for_recorder(seg, handle);

	/* the worker has stopped; it never mapped the segment if still starting */
	if (pg_atomic_read_u32(&shared->state) == RECORDER_STARTING)
	{
		dsm_unpin_segment(dsm_segment_handle(seg));
		dsm_detach(seg);
		recorder_error("The process that writes it ended before it started its work.",
					   "See the server log.");
	}
	if (pg_atomic_read_u32(&shared->state) == RECORDER_FAILED)
	{
		char	   *reason = psprintf("The process that writes it failed: %s", shared->error);

		dsm_detach(seg);
		recorder_error(reason, "See the server log.");
	}
	if (pg_atomic_read_u32(&shared->state) != RECORDER_DONE)
	{
		dsm_detach(seg);
		recorder_error("The process that writes it ended without writing it.",
					   "See the server log.");
	}
	dsm_detach(seg);
}

/*
 * A new segment holding the row rec describes, in the state
 * RECORDER_STARTING.
 */
static dsm_segment *
fill_segment(const Recording *rec)
{
	const MgFailure *failure = rec->failure;
	const char *strings[FF__COUNT];
	Size		size = offsetof(FailureShared, data);
	dsm_segment *seg;
	FailureShared *shared;
	char	   *p;
	int			i;

	strings[FF_PROJECT] = failure->project;
	strings[FF_EVENT] = failure->event;
	strings[FF_REVISION] = failure->revision;
	strings[FF_TARGET] = mg_bounded_text(failure->target);
	strings[FF_ROLE] = failure->role;
	strings[FF_APPLICATION] = (application_name && application_name[0]) ?
		application_name : NULL;
	strings[FF_DETAIL] = mg_bounded_text(rec->edata->detail);
	strings[FF_SQLSTATE] = unpack_sql_state(rec->edata->sqlerrcode);
	strings[FF_MESSAGE] = mg_bounded_text(rec->edata->message);
	for (i = 0; i < FF__COUNT; i++)
		if (strings[i] != NULL)
			size = add_size(size, strlen(strings[i]) + 1);

	seg = dsm_create(size, DSM_CREATE_NULL_IF_MAXSEGMENTS);
	if (seg == NULL)
		recorder_error("No dynamic shared memory segment was left to pass it to the process that writes it.",
					   "Raise max_connections, which sets how many segments there are.");

	shared = dsm_segment_address(seg);
	shared->dboid = MyDatabaseId;
	shared->started_at = failure->started_at;
	shared->finished_at = GetCurrentTimestamp();
	shared->statements = failure->statements;
	shared->attempts = failure->attempts;
	shared->backend_pid = MyProcPid;
	shared->statement = rec->statement;
	shared->line = rec->line;
	pg_atomic_init_u32(&shared->state, RECORDER_STARTING);
	shared->error[0] = '\0';
	p = shared->data;
	for (i = 0; i < FF__COUNT; i++)
	{
		if (strings[i] == NULL)
		{
			shared->offsets[i] = -1;
			continue;
		}
		shared->offsets[i] = p - shared->data;
		strcpy(p, strings[i]);
		p += strlen(strings[i]) + 1;
	}
	return seg;
}

/*
 * Wait until the worker has stopped, for at most FAILURE_WAIT_MS.  The
 * postmaster sets our latch when it stops (bgw_notify_pid).  A termination
 * request ends the backend at once (the worker goes on without us); a
 * query cancel, or statement_timeout, stops the wait with an error, and
 * stays pending for whatever runs next.
 */
static void
wait_for_recorder(dsm_segment *seg, BackgroundWorkerHandle *handle)
{
	TimestampTz deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
													   FAILURE_WAIT_MS);

	pgstat_report_activity(STATE_RUNNING, "pg_migrate: recording a failed migration");
	for (;;)
	{
		pid_t		pid;
		long		left;

		if (GetBackgroundWorkerPid(handle, &pid) == BGWH_STOPPED)
			break;

		left = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), deadline);
		if (left <= 0)
		{
			dsm_detach(seg);
			recorder_error(psprintf("The process that writes it did not finish within %d ms; the row may still appear.",
									FAILURE_WAIT_MS),
						   "See the server log for what held it up.");
		}

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 left, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);

		if (ProcDiePending)
			CHECK_FOR_INTERRUPTS();
		if (QueryCancelPending)
		{
			dsm_detach(seg);
			recorder_error("The wait for the process that writes it was cancelled; the row may still appear.",
						   NULL);
		}
	}
}

/* Raise the error mg_failure_record turns into its WARNING's detail. */
static void
recorder_error(const char *detail, const char *hint)
{
	ereport(ERROR,
			(errcode(ERRCODE_MG_FAILURE_NOT_RECORDED),
			 errmsg("the failure was not recorded"),
			 errdetail_internal("%s", detail),
			 hint ? errhint("%s", hint) : 0));
}

/* String field of the segment, or NULL. */
static const char *
shared_string(const FailureShared *shared, FailureField field)
{
	return shared->offsets[field] < 0 ? NULL : shared->data + shared->offsets[field];
}

/*
 * The worker's entry point: map the segment named by arg, unpin it,
 * connect to the failing backend's database, and insert the row in a
 * transaction of its own.  An error is kept in the segment for the
 * backend to report, then ends the worker (and is logged) as usual.
 */
void
mg_failure_worker_main(Datum arg)
{
	dsm_handle	handle = DatumGetUInt32(arg);
	dsm_segment *seg;
	FailureShared *shared;
	MgFailureRow row;
	MgOwnerScope scope;
	char		timeout[32];

	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	seg = dsm_attach(handle);
	if (seg == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("could not map the dynamic shared memory segment of a failed migration")));
	shared = dsm_segment_address(seg);
	dsm_unpin_segment(handle);
	pg_atomic_write_u32(&shared->state, RECORDER_ATTACHED);

	PG_TRY();
	{
		/* no role: the bootstrap superuser, who needs no login right */
		BackgroundWorkerInitializeConnectionByOid(shared->dboid, InvalidOid,
												  BGWORKER_BYPASS_ALLOWCONN);

		snprintf(timeout, sizeof(timeout), "%d", FAILURE_WORKER_LOCK_TIMEOUT);
		SetConfigOption("lock_timeout", timeout, PGC_SUSET, PGC_S_OVERRIDE);
		SetConfigOption("synchronous_commit", "local", PGC_SUSET, PGC_S_OVERRIDE);
		SetConfigOption("application_name", "pg_migrate failure recorder",
						PGC_USERSET, PGC_S_OVERRIDE);

		row.project = shared_string(shared, FF_PROJECT);
		row.event = shared_string(shared, FF_EVENT);
		row.revision = shared_string(shared, FF_REVISION);
		row.target = shared_string(shared, FF_TARGET);
		row.started_at = shared->started_at;
		row.finished_at = shared->finished_at;
		row.statements = shared->statements;
		row.attempts = shared->attempts;
		row.role = shared_string(shared, FF_ROLE);
		row.application_name = shared_string(shared, FF_APPLICATION);
		row.backend_pid = shared->backend_pid;
		row.detail = shared_string(shared, FF_DETAIL);
		row.sqlstate = shared_string(shared, FF_SQLSTATE);
		row.message = shared_string(shared, FF_MESSAGE);
		row.statement = shared->statement;
		row.line = shared->line;

		SetCurrentStatementStartTimestamp();
		StartTransactionCommand();
		PushActiveSnapshot(GetTransactionSnapshot());
		pgstat_report_activity(STATE_RUNNING, "pg_migrate: recording a failed migration");
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		mg_owner_begin(&scope);
		mg_history_record_failure(&row);
		mg_owner_end(&scope);
		SPI_finish();
		PopActiveSnapshot();
		CommitTransactionCommand();
		pgstat_report_activity(STATE_IDLE, NULL);
		pg_atomic_write_u32(&shared->state, RECORDER_DONE);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(TopMemoryContext);
		edata = CopyErrorData();
		strlcpy(shared->error, edata->message ? edata->message : "unknown error",
				sizeof(shared->error));
		pg_write_barrier();
		pg_atomic_write_u32(&shared->state, RECORDER_FAILED);
		PG_RE_THROW();
	}
	PG_END_TRY();

	dsm_detach(seg);
	proc_exit(0);
}
