/*-------------------------------------------------------------------------
 *
 * executor.c
 *	  Run one revision's parsed script, statement by statement, inside a
 *	  subtransaction of its own, retrying it when it loses a lock conflict.
 *
 * Why a subtransaction: a revision must be undone as a unit while the
 * caller's transaction (and the migration lock it holds) carries on, which
 * is what lets a failed attempt be rolled back and retried and keeps the
 * bookkeeping of the revisions before it.  Here an error is passed on after
 * the subtransaction is rolled back, so the caller's own error handling
 * (a PL/pgSQL EXCEPTION block, say) finds the transaction stack as it left
 * it.
 *
 * Why a GUC nest level: each script behaves as if it had a session of its
 * own.  A SET in a script lasts until the end of that script and never
 * reaches the next revision or the caller; the nest level is unwound as on
 * abort (every value restored) even when the script succeeds.  The
 * script's session starts with lock_timeout = pg_migrate.lock_timeout; a
 * script may SET its own.
 *
 * Why retries: a statement that waits for a lock sits in the lock queue,
 * and every later query on that table queues behind it, so a migration
 * stuck behind one long transaction stalls all traffic.  With a short
 * lock_timeout the statement gives way instead; the revision's
 * subtransaction is rolled back (releasing what it had locked) and the
 * revision runs again after a pause that doubles each time (from
 * pg_migrate.retry_delay up to pg_migrate.retry_max_delay, the second half
 * of each pause random so that competing migrations drift apart), up to
 * pg_migrate.lock_retries times.  Deadlocks and serialization failures are
 * retried the same way; every other error is final.  The pause is an
 * interruptible latch wait.  pg_migrate.script_timeout bounds a revision's
 * attempts and pauses together, with a timer that cancels the running
 * statement like statement_timeout does.
 *
 * While scripts run, every message the client receives passes through
 * mask.c's hook, which masks passwords (a script's RAISE NOTICE quoting a
 * connection URI), and an error of a script leaves here masked.
 *
 * While scripts run, the backend's pg_stat_activity query text shows the
 * progress, and a client that disconnects is noticed within a second
 * (client_connection_check_interval, turned on for the run when it is
 * off): the migration is then rolled back instead of committing for a
 * client that is gone.
 *
 * A run marked top_level (CALL migrate_run's non-transactional revisions)
 * is not run here but statement by statement in a background worker at top
 * level (toplevel.c), each statement committed on its own; the retry loop,
 * its pauses, script_timeout and progress are the same, but a retry starts
 * again at the statement that failed, since the ones before it have
 * committed.
 *
 * Statements are run the way the server runs an extension script: parse
 * analysis, rewrite and planning of one statement only after the previous
 * one has executed (so a statement may use what an earlier one created),
 * utility statements through ProcessUtility in a non-top-level context,
 * output discarded.  The script runs with the caller's user id and
 * privileges; nothing here elevates them.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "common/pg_prng.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "tcop/dest.h"
#include "tcop/pquery.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"
#include "utils/backend_status.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timeout.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "executor.h"
#include "lock.h"
#include "mask.h"
#include "pg_migrate.h"
#include "subxact.h"
#include "toplevel.h"

/* how often a run checks that its client is still connected, in ms */
#define CLIENT_CHECK_INTERVAL 1000

/* longest progress text kept for pg_stat_activity */
#define PROGRESS_LEN 256

/* GUC nest level holding the run's client check setting, or 0 */
static int	client_check_nestlevel = 0;

/* pg_migrate.script_timeout's timer, registered on first use */
static bool script_timer_registered = false;
static TimeoutId script_timer;
static volatile sig_atomic_t script_timed_out = false;

static void executor_begin(void);
static void executor_end(void);
static void execute_run(MgRun *run);
static ErrorData *run_attempt(MgRun *run);
static ErrorData *run_top_level_attempt(MgRun *run, int *done);
static void run_script(void *arg);
static void run_statements(MgRun *run, List *stmts, MgScriptErrorContext *ctx);
static void run_statement(const MgScript *script, RawStmt *raw, DestReceiver *dest);
static bool is_retryable(int sqlerrcode);
static int	retry_pause(int failures);
static void pause_before_retry(MgRun *run, int pause_ms);
static void report_retry(MgRun *run, ErrorData *edata, int pause_ms);
pg_noreturn static void give_up(MgRun *run, ErrorData *edata);
static void script_timer_start(void);
static void script_timer_stop(void);
static void script_timer_handler(void);

/*
 * Run the n revisions of a plan in order, each in its own subtransaction
 * with retries (execute_run), with a NOTICE as each starts ("applying
 * 0004_add_sqs_metadata (2/2)").  Each revision's work happens in a memory
 * context reset after it.  While the plan runs, the migration lock may not
 * be taken again (lock.c), the client is watched, and pg_stat_activity
 * shows the progress.  The caller must hold the project's migration lock.
 */
void
mg_execute_plan(MgRun *runs, int n)
{
	MemoryContext runcontext;
	MemoryContext oldcontext = CurrentMemoryContext;
	int			masklevel;
	int			i;

	runcontext = AllocSetContextCreate(CurrentMemoryContext,
									   "pg_migrate apply context",
									   ALLOCSET_DEFAULT_SIZES);
	mg_lock_mark_migration(true);
	executor_begin();
	masklevel = mg_mask_messages_begin();
	PG_TRY();
	{
		for (i = 0; i < n; i++)
		{
			MgRun	   *run = &runs[i];

			ereport(NOTICE,
					(errmsg("%s %s (%d/%d)%s", run->verb, run->script->revision,
							run->step, run->nsteps,
							run->top_level ? " at top level" : "")));
			MemoryContextSwitchTo(runcontext);
			run->started = GetCurrentTimestamp();
			execute_run(run);
			run->finished = GetCurrentTimestamp();
			MemoryContextSwitchTo(oldcontext);
			MemoryContextReset(runcontext);
		}
	}
	PG_FINALLY();
	{
		mg_mask_messages_end(masklevel);
		executor_end();
		mg_lock_mark_migration(false);
	}
	PG_END_TRY();
	MemoryContextDelete(runcontext);
}

/*
 * The result row of a revision mg_execute_plan ran; action says what
 * happened to it ("applied").
 */
MgStep *
mg_step_of_run(const MgRun *run, const char *action)
{
	MgStep	   *step = palloc0(sizeof(MgStep));

	step->revision = run->script->revision;
	step->action = action;
	step->duration_us = run->finished - run->started;
	step->statements = run->statements;
	step->attempts = run->attempts;
	return step;
}

/*
 * The result row of a dry run for a revision whose parsed script would run;
 * action says what would happen to it ("pending").
 */
MgStep *
mg_step_planned(const MgScript *script, const char *action)
{
	MgStep	   *step = palloc0(sizeof(MgStep));

	step->revision = script->revision;
	step->action = action;
	step->duration_us = -1;
	step->statements = list_length(script->stmts);
	return step;
}

/*
 * The run of runs that mg_execute_plan started and did not finish, when it
 * raised an error; NULL when it finished them all, or started none.  runs
 * must have been zeroed before mg_execute_plan ran.
 */
const MgRun *
mg_unfinished_run(const MgRun *runs, int n)
{
	int			i;

	for (i = 0; i < n; i++)
		if (runs[i].started != 0 && runs[i].finished == 0)
			return &runs[i];
	return NULL;
}

/*
 * Prepare this backend to run migration scripts: while they run, check
 * every second that the client is still there.  The caller must call
 * executor_end on every path out, errors included.
 */
static void
executor_begin(void)
{
	int			nestlevel;

	Assert(client_check_nestlevel == 0);

	/* only a client backend has a client to lose */
	if (MyProcPort == NULL || whereToSendOutput != DestRemote ||
		client_connection_check_interval > 0)
		return;

	nestlevel = NewGUCNestLevel();
	if (set_config_option("client_connection_check_interval",
						  CppAsString2(CLIENT_CHECK_INTERVAL),
						  PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
						  true, DEBUG1, false) > 0)
	{
		enable_timeout_after(CLIENT_CONNECTION_CHECK_TIMEOUT,
							 CLIENT_CHECK_INTERVAL);
		client_check_nestlevel = nestlevel;
	}
	else
		AtEOXact_GUC(false, nestlevel);
}

/*
 * Undo executor_begin: the client check goes back to the session's
 * setting, and pg_stat_activity shows the caller's query again.
 */
static void
executor_end(void)
{
	script_timer_stop();
	mg_lock_probe_stop();

	/*
	 * Every level above ours is gone by now: the scripts' own levels end
	 * with their subtransactions, on success and on error alike.
	 */
	if (client_check_nestlevel > 0)
	{
		AtEOXact_GUC(false, client_check_nestlevel);
		disable_timeout(CLIENT_CONNECTION_CHECK_TIMEOUT, false);
		client_check_nestlevel = 0;
	}

	if (debug_query_string != NULL)
		pgstat_report_activity(STATE_RUNNING, debug_query_string);
}

/*
 * Run run->script in a subtransaction with its own GUC nest level, again
 * after a pause each time it fails on a lock conflict, up to
 * pg_migrate.lock_retries times.  On success, run->statements and
 * run->attempts say what was done.  Any other error, running out of
 * retries, and exceeding pg_migrate.script_timeout raise an error, with a
 * context line naming the statement, after rolling back the
 * subtransaction.  Called by mg_execute_plan.
 */
static void
execute_run(MgRun *run)
{
	MemoryContext oldcontext = CurrentMemoryContext;
	int			done = 0;

	run->attempts = 0;
	run->statements = list_length(run->script->stmts);
	script_timer_start();

	PG_TRY();
	{
		for (;;)
		{
			ErrorData  *edata;
			int			pause_ms;

			run->attempts++;
			edata = run->top_level ? run_top_level_attempt(run, &done) :
				run_attempt(run);
			if (edata == NULL)
				break;
			if (script_timed_out || !is_retryable(edata->sqlerrcode))
				ReThrowError(edata);
			if (run->attempts > pg_migrate_lock_retries)
				give_up(run, edata);

			pause_ms = retry_pause(run->attempts);
			report_retry(run, edata, pause_ms);
			FreeErrorData(edata);
			pause_before_retry(run, pause_ms);
		}
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		script_timer_stop();
		if (!script_timed_out)
			PG_RE_THROW();

		/*
		 * Say that the cancel was pg_migrate.script_timeout's.  A lock
		 * timeout that beat the timer to the cancel ends the revision
		 * here too.  A cancel request still pending is the timer's.
		 */
		QueryCancelPending = false;
		MemoryContextSwitchTo(oldcontext);
		edata = CopyErrorData();
		if (edata->sqlerrcode != ERRCODE_QUERY_CANCELED &&
			!is_retryable(edata->sqlerrcode))
			PG_RE_THROW();
		FlushErrorState();
		edata->message = psprintf("revision \"%s\" ran longer than pg_migrate.script_timeout (%d ms)",
								  run->script->revision, pg_migrate_script_timeout);
		edata->detail = psprintf("It was cancelled during attempt %d.", run->attempts);
		edata->hint = pstrdup("Raise pg_migrate.script_timeout for this migration, or set it to 0 for no limit.");
		ReThrowError(edata);
	}
	PG_END_TRY();

	/*
	 * The timer may have fired after the last statement checked for
	 * interrupts: the revision is done, so drop the cancel it asked for.
	 */
	script_timer_stop();
	if (script_timed_out)
		QueryCancelPending = false;
}

/*
 * One attempt: the script's statements in a subtransaction.  The parse
 * trees are copied first, because running a statement may scribble on
 * its tree and a retry needs them intact.  Returns the error of a failed
 * attempt, after its rollback, with the script's secrets masked wherever
 * it quotes them.
 */
static ErrorData *
run_attempt(MgRun *run)
{
	ErrorData  *edata;

	edata = mg_in_subtransaction(run_script, run);
	mg_lock_probe_stop();
	if (edata != NULL)
		mg_mask_error_script(edata, run->script->sql);
	return edata;
}

/*
 * One attempt of a top_level run: its statements from *done on, each at
 * top level and committed on its own (toplevel.c); *done grows by those
 * that completed.  Returns the error of the statement that failed, masked,
 * with the statements before it committed.  The caller holds no snapshot:
 * the catalog snapshot a lookup may have left is dropped here, so that a
 * concurrent index build does not wait for this backend.
 */
static ErrorData *
run_top_level_attempt(MgRun *run, int *done)
{
	ErrorData  *edata;
	int			completed = 0;

	InvalidateCatalogSnapshot();
	Assert(!HaveRegisteredOrActiveSnapshot());
	edata = mg_toplevel_run(run, *done, &completed);
	*done += completed;
	return edata;
}

/*
 * Does a script have to run at top level, statement by statement, in CALL
 * migrate_run: marked non-transactional (marked), holding a statement that
 * cannot run in a transaction block, or a CALL (a procedure may COMMIT only
 * when called at top level).  An empty script never does.
 */
bool
mg_run_needs_top_level(const MgScript *script, bool marked)
{
	ListCell   *lc;

	if (script->stmts == NIL)
		return false;
	if (marked || script->nontx_index >= 0)
		return true;
	foreach(lc, script->stmts)
		if (IsA(lfirst_node(RawStmt, lc)->stmt, CallStmt))
			return true;
	return false;
}

/*
 * The subtransaction's work: the statements, inside a GUC nest level that
 * is unwound as on abort, so every SET of the script ends with it.
 */
static void
run_script(void *arg)
{
	MgRun	   *run = arg;
	int			nestlevel = NewGUCNestLevel();
	char		value[32];
	MgScriptErrorContext ctx;

	snprintf(value, sizeof(value), "%d", pg_migrate_lock_timeout);
	(void) set_config_option("lock_timeout", value,
							 PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);

	mg_script_context_push(&ctx, run->script);
	run_statements(run, copyObject(run->script->stmts), &ctx);
	mg_script_context_pop(&ctx);
	AtEOXact_GUC(false, nestlevel);
}

/*
 * Run every statement of stmts, a copy of run->script->stmts; each gets a
 * memory context of its own, reset after it.
 */
static void
run_statements(MgRun *run, List *stmts, MgScriptErrorContext *ctx)
{
	const MgScript *script = run->script;
	int			total = list_length(stmts) + (script->unwrapped ? 2 : 0);
	MemoryContext stmtcontext;
	MemoryContext oldcontext;
	DestReceiver *dest = CreateDestReceiver(DestNone);
	ListCell   *lc;

	stmtcontext = AllocSetContextCreate(CurrentMemoryContext,
										"pg_migrate statement context",
										ALLOCSET_DEFAULT_SIZES);
	foreach(lc, stmts)
	{
		int			index = foreach_current_index(lc);

		mg_script_context_statement(ctx, index);
		mg_report_progress(run, "statement %d/%d",
						script->first_number + index, total);
		mg_lock_probe_start(LockTimeout);

		oldcontext = MemoryContextSwitchTo(stmtcontext);
		run_statement(script, lfirst_node(RawStmt, lc), dest);
		MemoryContextSwitchTo(oldcontext);
		MemoryContextReset(stmtcontext);
		CHECK_FOR_INTERRUPTS();
	}
	MemoryContextDelete(stmtcontext);

	/* let what follows see the script's last changes */
	CommandCounterIncrement();
}

/*
 * Analyse, plan and execute one raw statement, with a fresh snapshot for
 * each planned statement, as in READ COMMITTED.  The raw statement is used
 * up: analysis and utility execution may scribble on it.
 */
static void
run_statement(const MgScript *script, RawStmt *raw, DestReceiver *dest)
{
	List	   *stmts;
	ListCell   *lc;

	/* parse analysis must see what the previous statements did */
	CommandCounterIncrement();

	PushActiveSnapshot(GetTransactionSnapshot());
	stmts = pg_analyze_and_rewrite_fixedparams(raw, script->sql, NULL, 0, NULL);
	stmts = pg_plan_queries(stmts, script->sql, CURSOR_OPT_PARALLEL_OK, NULL);
	PopActiveSnapshot();

	foreach(lc, stmts)
	{
		PlannedStmt *stmt = lfirst_node(PlannedStmt, lc);

		CommandCounterIncrement();
		PushActiveSnapshot(GetTransactionSnapshot());

		if (stmt->utilityStmt == NULL)
		{
			QueryDesc  *qdesc;

			qdesc = CreateQueryDesc(stmt, script->sql, GetActiveSnapshot(), NULL,
									dest, NULL, NULL, 0);
			ExecutorStart(qdesc, 0);
			mg_executor_run(qdesc, ForwardScanDirection, 0);
			ExecutorFinish(qdesc);
			ExecutorEnd(qdesc);
			FreeQueryDesc(qdesc);
		}
		else
			ProcessUtility(stmt, script->sql, false, PROCESS_UTILITY_QUERY,
						   NULL, NULL, dest, NULL);

		PopActiveSnapshot();
	}
}

/*
 * Errors that mean "lost a race for a lock or a row, try again": the
 * statement gave up waiting (lock_timeout), was chosen to break a
 * deadlock, or hit a serialization failure.
 */
static bool
is_retryable(int sqlerrcode)
{
	return sqlerrcode == ERRCODE_LOCK_NOT_AVAILABLE ||
		sqlerrcode == ERRCODE_T_R_DEADLOCK_DETECTED ||
		sqlerrcode == ERRCODE_T_R_SERIALIZATION_FAILURE;
}

/*
 * The pause after the given number of failed attempts, in ms:
 * pg_migrate.retry_delay doubled for each earlier failure, capped at
 * pg_migrate.retry_max_delay, its second half random ("equal jitter").
 */
static int
retry_pause(int failures)
{
	int64		delay = pg_migrate_retry_delay;
	int			i;

	for (i = 1; i < failures && delay < pg_migrate_retry_max_delay; i++)
		delay *= 2;
	delay = Min(delay, pg_migrate_retry_max_delay);
	return (int) (delay - pg_prng_uint64_range(&pg_global_prng_state, 0, delay / 2));
}

/*
 * Sleep pause_ms on the latch, answering query cancel, termination and
 * postmaster death at once.
 */
static void
pause_before_retry(MgRun *run, int pause_ms)
{
	TimestampTz end = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), pause_ms);
	long		left;

	mg_report_progress(run, "waiting %d ms before attempt %d", pause_ms, run->attempts + 1);
	while ((left = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), end)) > 0)
	{
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 left, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * The NOTICE for a retry: what failed (bounded: one is sent for every
 * attempt), and for a lock timeout, the lock and who holds it.
 */
static void
report_retry(MgRun *run, ErrorData *edata, int pause_ms)
{
	char	   *wait = NULL;

	if (edata->sqlerrcode == ERRCODE_LOCK_NOT_AVAILABLE)
		wait = mg_lock_describe_last_wait();

	ereport(NOTICE,
			(errmsg("revision \"%s\": attempt %d of %d failed: %s; retrying in %d ms",
					run->script->revision, run->attempts,
					pg_migrate_lock_retries + 1, mg_bounded_text(edata->message), pause_ms),
			 wait ? errdetail_internal("%s", wait) :
			 edata->detail ? errdetail_internal("%s", mg_bounded_text(edata->detail)) : 0));
}

/*
 * Out of retries: re-throw the last error with its own SQLSTATE and
 * context, saying how many attempts were made and what blocked them.
 */
static void
give_up(MgRun *run, ErrorData *edata)
{
	char	   *wait = NULL;

	if (edata->sqlerrcode == ERRCODE_LOCK_NOT_AVAILABLE)
		wait = mg_lock_describe_last_wait();

	if (run->attempts == 1)
		edata->message = psprintf("revision \"%s\" failed on its only attempt (pg_migrate.lock_retries is 0): %s",
								  run->script->revision, edata->message);
	else
		edata->message = psprintf("revision \"%s\" failed %d times: %s",
								  run->script->revision, run->attempts, edata->message);
	if (wait != NULL)
		edata->detail = wait;
	edata->hint = pstrdup("End or wait out the sessions that block it, or raise pg_migrate.lock_retries or pg_migrate.lock_timeout.");
	ReThrowError(edata);
}

/*
 * Show where the run is in pg_stat_activity's query text:
 * "pg_migrate: applying 0004_add_sqs_metadata (2/2), statement 3/5"; fmt
 * and what follows say the part after the comma.  The top-level runner
 * (toplevel.c) shows its statements the same way.
 */
void
mg_report_progress(const MgRun *run, const char *fmt,...)
{
	char		text[PROGRESS_LEN];
	int			len;
	va_list		args;

	len = snprintf(text, sizeof(text), "pg_migrate: %s %s (%d/%d), ",
				   run->verb, run->script->revision, run->step, run->nsteps);
	if (len < (int) sizeof(text))
	{
		va_start(args, fmt);
		vsnprintf(text + len, sizeof(text) - len, fmt, args);
		va_end(args);
	}
	pgstat_report_activity(STATE_RUNNING, text);
}

/* Arm pg_migrate.script_timeout's timer for a revision, when it is set. */
static void
script_timer_start(void)
{
	if (!script_timer_registered)
	{
		script_timer = RegisterTimeout(USER_TIMEOUT, script_timer_handler);
		script_timer_registered = true;
	}
	script_timed_out = false;
	if (pg_migrate_script_timeout > 0)
		enable_timeout_after(script_timer, pg_migrate_script_timeout);
}

/* Disarm the timer; script_timed_out keeps saying whether it fired. */
static void
script_timer_stop(void)
{
	if (script_timer_registered && get_timeout_active(script_timer))
		disable_timeout(script_timer, false);
}

/*
 * The timer's handler, in signal context: cancel the running statement,
 * as statement_timeout does, and remember why.
 */
static void
script_timer_handler(void)
{
	script_timed_out = true;
	InterruptPending = true;
	QueryCancelPending = true;
	SetLatch(MyLatch);
}
