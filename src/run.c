/*-------------------------------------------------------------------------
 *
 * run.c
 *	  CALL migrate_run: up or down to a target, each revision in a
 *	  transaction of its own, and scripts that cannot run in a transaction
 *	  block at top level.
 *
 * migrate_upgrade and migrate_downgrade are all-or-nothing in the caller's
 * transaction.  One transaction cannot hold what real histories contain: a
 * statement PostgreSQL refuses in a transaction block (CREATE INDEX
 * CONCURRENTLY, DROP INDEX CONCURRENTLY, REINDEX CONCURRENTLY, VACUUM), an
 * enum value added by one revision and used by the next, a procedure that
 * commits, nor the locks of thousands of revisions
 * (max_locks_per_transaction).  migrate_run does the same work, validated
 * the same way up front, but commits revision by revision.
 *
 * Transactions.  A C procedure called by CALL outside a transaction block
 * runs in a non-atomic context: connected to SPI with SPI_OPT_NONATOMIC
 * (entry.c), it may commit with SPI_commit, which starts the next
 * transaction at once.  A call inside BEGIN ... COMMIT, or from a function,
 * is atomic and is refused before anything (MG031).  The run is:
 *
 * 1. In the caller's transaction: lock.c's refusals (standby, read-only,
 *    isolation above READ COMMITTED, a call from a migration script); the
 *    migration lock; the files of pg_migrate.directory registered; the
 *    state loaded and validated (drift is an error); the direction decided
 *    (below) and the plan made; every script of the plan parsed, down
 *    scripts checked to exist, up scripts linted, exactly as upgrade.c and
 *    downgrade.c do (they share the code).  Commit: the directory sync is
 *    kept even if a revision fails later.
 * 2. Per revision, in order: a transaction checks that the revision is
 *    still pending (still applied, going down): the migration lock keeps
 *    every other pg_migrate call out, so only a hand edit of
 *    migrate.applied can change that (MG032).  Then the revision runs
 *    through the executor (executor.c: lock_timeout, retries with backoff,
 *    script_timeout, progress in pg_stat_activity, masking, a script's SET
 *    lasting to the end of that script), its applied row and history row
 *    are written, and the transaction commits.
 * 3. At head with every revision applied, the registry's clean flag is set
 *    (as migrate_upgrade does); a NOTICE says how many revisions were
 *    applied or reverted.
 *
 * Top level.  A revision marked non-transactional, or whose script holds a
 * statement that cannot run in a transaction block, or a CALL (whose
 * procedure may COMMIT only when called at top level), runs statement by
 * statement in a background worker at top level (toplevel.c), each
 * statement committed on its own.  Before that, this backend commits the
 * check's transaction, and the executor drops the catalog snapshot, so it
 * holds no snapshot and no lock while the worker runs: CREATE INDEX
 * CONCURRENTLY waits for every transaction with an older snapshot, this
 * backend's included, and would otherwise wait for its own caller forever.
 * A lock timeout, deadlock or serialization failure there is retried from
 * the statement that failed (the ones before it have committed).  The
 * revision is recorded as applied by this backend's next transaction,
 * only when every statement is done.  A top-level revision that fails
 * part way is not recorded, yet keeps the statements that committed: the
 * next run starts it again from its first statement, so such a revision
 * should hold the non-transactional statement alone (or statements that
 * can run twice).
 *
 * Direction.  "head", "heads", "+N" go up.  "base" and "-N" go down, like
 * migrate_downgrade.  A revision id goes up when it, or an ancestor, is
 * pending; otherwise down to it, reverting the applied revisions above it.
 * direction => 'up' makes an applied revision id a no-op instead (the
 * client's "up", which must never revert what another deploy applied
 * since it planned), and refuses base and -N; 'down' refuses head, heads
 * and +N.
 *
 * The lock.  The run holds the project's migration lock from before
 * planning to its end, across its commits, so it is taken for the session
 * (lock.c): the same lock as migrate_upgrade's transaction-level one, so
 * the two exclude each other; a second caller waits up to
 * pg_migrate.lock_wait_timeout, then gets MG013 naming this backend, or,
 * once the run is over, reads the state it left.  A session-level lock
 * survives commits, and an error only releases it once the top
 * transaction aborts, so a PG_FINALLY releases it on every path out:
 * success, an error, a cancel.  A backend that exits (terminated, its
 * client gone, FATAL) releases it in its exit processing (lock.c).  No
 * SQL command can release it (it is no advisory lock: a script's
 * pg_advisory_unlock_all() or DISCARD ALL leaves it alone), yet before
 * each revision the run checks that it still holds it, and stops with
 * MG033 if not: a run without the lock could apply a revision that
 * another run applies too.
 *
 * Failures.  Every step runs in a subtransaction guarded by failure.c: a
 * failed step's work is rolled back, a history row "upgrade failed" or
 * "downgrade failed" is written by a worker of its own, and the error is
 * re-raised unchanged, with its own SQLSTATE and context.  The revisions
 * before the failed one stay committed and recorded; nothing of the failed
 * one is (but statements a top-level revision committed, see above).
 *
 * Memory.  The plan and the parsed scripts live in a memory context under
 * the portal's, which outlives the commits; each revision's work happens in
 * a context reset after it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/memutils.h"

#include "downgrade.h"
#include "executor.h"
#include "failure.h"
#include "lock.h"
#include "pg_migrate.h"
#include "registry.h"
#include "run.h"
#include "sync.h"
#include "upgrade.h"
#include "validate.h"

/* One call of mg_run, and how far it got. */
typedef struct RunCall
{
	const char *project;
	const char *target;
	MgRunDirection direction;	/* which way it may go */
	bool		down;			/* reverting */
	MgFailure	failure;		/* what is known, should it fail */
	MgState    *state;			/* NULL when there is nothing to do */
	int		   *plan;			/* nodes of state, in the order to run */
	int			nplan;
	MgRun	   *runs;			/* one per node of plan */
	int			current;		/* index in plan of the revision at work */
	MgRun	   *current_run;	/* its run, for failure.c; NULL for none */
	int			ncurrent;		/* 1 with a current run, else 0 */
} RunCall;

/* true while this backend holds a run's session-level migration lock */
static bool holds_lock = false;

static void refuse_atomic(bool atomic);
static void take_lock(void *arg);
static void plan_run(void *arg);
static bool goes_down(MgState *state, const char *target,
					  MgRunDirection direction, int **plan, int *nplan);
static bool downward_target(const char *target);
static bool upward_target(const char *target);
static void check_direction(const char *target, MgRunDirection direction);
static void run_revision(RunCall *call, int index, MemoryContext revcontext);
static void check_pending(void *arg);
static void check_lock(RunCall *call, const char *revision);
static void apply_revision(void *arg);
static void finish_run(RunCall *call);
static void raise_first_error(RunCall *call, List *problems);

/*
 * Run project up or down to target, each revision committed on its own.
 * atomic says whether the caller's context forbids transaction control
 * (CallContext->atomic); the caller must be connected to SPI with
 * SPI_OPT_NONATOMIC.  Returns in a fresh transaction; raises the error of
 * the first step that fails, the revisions before it committed.
 */
void
mg_run(const char *project, const char *target, MgRunDirection direction,
	   bool atomic)
{
	RunCall		call;
	MemoryContext runcontext;
	MemoryContext revcontext;
	MemoryContext oldcontext;
	int			i;

	/* refusals before the call begins are not failures to record */
	refuse_atomic(atomic);
	check_direction(target, direction);
	mg_lock_check_context("migrate_run");

	runcontext = AllocSetContextCreate(PortalContext, "pg_migrate run context",
									   ALLOCSET_DEFAULT_SIZES);
	revcontext = AllocSetContextCreate(runcontext, "pg_migrate revision context",
									   ALLOCSET_DEFAULT_SIZES);
	oldcontext = MemoryContextSwitchTo(runcontext);

	memset(&call, 0, sizeof(call));
	call.project = pstrdup(project);
	call.target = pstrdup(target);
	call.direction = direction;
	mg_failure_begin(&call.failure, !downward_target(target),
					 call.project, call.target);
	call.failure.function = "migrate_run";

	Assert(!holds_lock);
	PG_TRY();
	{
		mg_failure_guard(&call.failure, take_lock, &call,
						 &call.current_run, &call.ncurrent);
		mg_failure_guard(&call.failure, plan_run, &call,
						 &call.current_run, &call.ncurrent);
		SPI_commit();

		for (i = 0; i < call.nplan; i++)
			run_revision(&call, i, revcontext);
		finish_run(&call);
	}
	PG_FINALLY();
	{
		if (holds_lock)
			mg_lock_release_session();
		holds_lock = false;
	}
	PG_END_TRY();

	MemoryContextSwitchTo(oldcontext);
	MemoryContextDelete(runcontext);
}

/*
 * Refuse a call that cannot commit: inside a transaction block, or in an
 * atomic context: from a function, or from a procedure that may not
 * commit (SECURITY DEFINER, or with SET clauses; ExecuteCallStmt makes
 * their calls atomic), or one called from either.
 */
static void
refuse_atomic(bool atomic)
{
	if (IsTransactionBlock())
		ereport(ERROR,
				(errcode(ERRCODE_MG_RUN_IN_TRANSACTION),
				 errmsg("migrate_run cannot run inside a transaction block"),
				 errdetail("It commits each revision in a transaction of its own."),
				 errhint("Call it on its own, outside BEGIN ... COMMIT, or use migrate_upgrade() for an all-or-nothing upgrade in the transaction.")));
	if (atomic)
		ereport(ERROR,
				(errcode(ERRCODE_MG_RUN_IN_TRANSACTION),
				 errmsg("migrate_run cannot be called from a function or from a procedure that cannot commit"),
				 errdetail("It commits each revision in a transaction of its own, which is allowed only under CALL at top level, or in a DO block or procedure called that way; a function cannot commit, nor can a SECURITY DEFINER procedure or one with SET clauses."),
				 errhint("Call it directly with CALL migrate_run(), or use migrate_upgrade() for an all-or-nothing upgrade in the transaction.")));
}

/* Step 1's lock: the project's migration lock, for the session. */
static void
take_lock(void *arg)
{
	RunCall    *call = arg;

	mg_lock_project_session(call->project, pg_migrate_lock_wait_timeout,
							"migrate_run");
	holds_lock = true;
}

/*
 * Step 1 after the lock: register the directory's files, load and validate
 * the state, decide the direction, plan, and prepare every script of the
 * plan.  Leaves call->nplan 0 when there is nothing to do.
 */
static void
plan_run(void *arg)
{
	RunCall    *call = arg;
	MgState    *state;
	int			i;

	mg_sync_directory(call->project);
	if (strcmp(call->target, "head") == 0 && mg_registry_is_clean(call->project))
		return;

	state = mg_registry_load(call->project);
	raise_first_error(call, mg_validate_applied(state));
	call->down = goes_down(state, call->target, call->direction,
						   &call->plan, &call->nplan);
	call->failure.event = call->down ? "downgrade failed" : "upgrade failed";
	call->state = state;
	if (call->nplan == 0)
	{
		if (!call->down && mg_fully_applied(state))
			mg_registry_mark_clean(state);
		return;
	}

	if (call->down)
		call->runs = mg_downgrade_prepare(state, call->plan, call->nplan,
										  &call->failure, false);
	else
	{
		MgScript  **scripts = mg_upgrade_prepare(state, call->plan, call->nplan,
												 &call->failure, false);

		call->runs = palloc0(sizeof(MgRun) * call->nplan);
		for (i = 0; i < call->nplan; i++)
		{
			call->runs[i].script = scripts[i];
			call->runs[i].verb = "applying";
			call->runs[i].step = i + 1;
			call->runs[i].nsteps = call->nplan;
		}
	}

	for (i = 0; i < call->nplan; i++)
		call->runs[i].top_level =
			mg_run_needs_top_level(call->runs[i].script,
								   state->revisions[call->plan[i]].nontransactional);
}

/*
 * Decide the direction of a run of state to target, and make its plan:
 * return true and the downgrade plan when it goes down, else false and the
 * upgrade plan.  direction has been checked against the target
 * (check_direction); MG_RUN_UP makes an applied target a no-op instead of
 * a downgrade to it.  Raises an error when the graph or the target make a
 * plan impossible.
 */
static bool
goes_down(MgState *state, const char *target, MgRunDirection direction,
		  int **plan, int *nplan)
{
	if (!downward_target(target) && direction != MG_RUN_DOWN)
	{
		/* mg_plan validates the graph */
		*plan = mg_plan(state, target, nplan);
		if (*nplan > 0 || upward_target(target) || direction == MG_RUN_UP)
			return false;
	}
	else
		mg_raise_first_error(mg_validate_graph(state));

	*plan = mg_plan_downgrade(state, target, nplan);
	return true;
}

/* base and -N only go down. */
static bool
downward_target(const char *target)
{
	return strcmp(target, "base") == 0 || target[0] == '-';
}

/* head, heads and +N only go up. */
static bool
upward_target(const char *target)
{
	return strcmp(target, "head") == 0 || strcmp(target, "heads") == 0 ||
		target[0] == '+';
}

/*
 * Refuse a direction the target cannot go, before the run begins: "up"
 * with base or -N, "down" with head, heads or +N.
 */
static void
check_direction(const char *target, MgRunDirection direction)
{
	if (direction == MG_RUN_UP && downward_target(target))
		ereport(ERROR,
				(errcode(ERRCODE_MG_INVALID_TARGET),
				 errmsg("target \"%s\" goes down, and the direction asked for is up", target),
				 errhint("Leave direction out, or pass 'down', to revert.")));
	if (direction == MG_RUN_DOWN && upward_target(target))
		ereport(ERROR,
				(errcode(ERRCODE_MG_INVALID_TARGET),
				 errmsg("target \"%s\" goes up, and the direction asked for is down", target),
				 errhint("Leave direction out, or pass 'up', to apply.")));
}

/*
 * Step 2 for the index-th revision of the plan: check it in a transaction
 * of its own, then run and record it in another (one transaction for both
 * when it runs in this backend).  Each part that fails is recorded in the
 * history and re-raised (failure.c).  The caller is in a fresh transaction,
 * and so is this function when it returns.
 */
static void
run_revision(RunCall *call, int index, MemoryContext revcontext)
{
	MgRun	   *run = &call->runs[index];
	MemoryContext oldcontext = MemoryContextSwitchTo(revcontext);

	call->current = index;
	call->failure.revision = run->script->revision;
	call->failure.down = call->down;
	call->failure.statements = -1;
	call->failure.attempts = -1;

	mg_failure_guard(&call->failure, check_pending, call,
					 &call->current_run, &call->ncurrent);

	/* a revision run at top level: hold no snapshot and no lock meanwhile */
	if (run->top_level)
		SPI_commit();

	call->current_run = run;
	call->ncurrent = 1;
	mg_failure_guard(&call->failure, apply_revision, call,
					 &call->current_run, &call->ncurrent);
	call->current_run = NULL;
	call->ncurrent = 0;
	SPI_commit();

	MemoryContextSwitchTo(oldcontext);
	MemoryContextReset(revcontext);
}

/*
 * Is the current revision still pending (still applied, going down)?  The
 * migration lock keeps every pg_migrate call out, so only a direct change
 * of migrate.applied makes it not.
 */
static void
check_pending(void *arg)
{
	RunCall    *call = arg;
	const char *revision = call->runs[call->current].script->revision;

	check_lock(call, revision);
	if (mg_registry_is_applied(call->project, revision) == call->down)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_MG_STATE_CHANGED),
			 call->down ?
			 errmsg("revision \"%s\" is no longer applied", revision) :
			 errmsg("revision \"%s\" is applied already", revision),
			 errdetail("Table migrate.applied changed during migrate_run, although the run holds the migration lock; the revisions before it are %s.",
					   call->down ? "reverted" : "applied"),
			 errhint("Find out who changed migrate.applied directly, then call migrate_run again: it plans from the applied set as it is then.")));
}

/*
 * Stop the run unless this backend still holds the project's migration
 * lock, before revision (NULL: before marking the project clean at the
 * end).  No SQL command can release the lock, and a top-level abort, which
 * does, ends the run; this guards against what lock.c's analysis missed,
 * since a run without the lock would apply revisions twice.
 */
static void
check_lock(RunCall *call, const char *revision)
{
	if (mg_lock_session_held())
		return;
	ereport(ERROR,
			(errcode(ERRCODE_MG_LOCK_LOST),
			 errmsg("migrate_run no longer holds the migration lock of project \"%s\"",
					call->project),
			 revision ?
			 errdetail("The run stopped before revision \"%s\"; the revisions before it are %s.",
					   revision, call->down ? "reverted" : "applied") :
			 errdetail("The run stopped after its last revision, without marking the project clean."),
			 errhint("Another session may be migrating the project: check migrate_status(), then call migrate_run again; it plans from the applied set as it is then.")));
}

/*
 * Run the current revision (executor.c: in a subtransaction with retries,
 * or at top level), then record it: applied row and history row, or the
 * applied row deleted and a history row.
 */
static void
apply_revision(void *arg)
{
	RunCall    *call = arg;
	MgRun	   *run = call->current_run;
	MgRevision *rev = &call->state->revisions[call->plan[call->current]];
	MgAppliedRecord record;

	mg_execute_plan(run, 1);

	record.rev = rev;
	record.started = run->started;
	record.finished = run->finished;
	record.statements = run->statements;
	record.attempts = run->attempts;
	if (call->down)
	{
		mg_registry_record_reverted(call->state, call->target, call->failure.role,
									&record, 1);
		rev->applied = false;
	}
	else
	{
		mg_registry_record_applied(call->state, call->target, call->failure.role,
								   &record, 1);
		rev->applied = true;
	}
}

/*
 * Step 3: at head with every revision applied, say so in the registry (in
 * the transaction the caller ends); tell the caller what was done.
 */
static void
finish_run(RunCall *call)
{
	if (call->nplan == 0)
	{
		ereport(NOTICE,
				(errmsg("nothing to do: project \"%s\" is at \"%s\"",
						call->project, call->target)));
		return;
	}

	if (!call->down && mg_fully_applied(call->state))
	{
		check_lock(call, NULL);
		mg_registry_mark_clean(call->state);
	}
	if (call->down)
		ereport(NOTICE,
				(errmsg_plural("reverted %d revision of project \"%s\"",
							   "reverted %d revisions of project \"%s\"",
							   call->nplan, call->nplan, call->project)));
	else
		ereport(NOTICE,
				(errmsg_plural("applied %d revision of project \"%s\"",
							   "applied %d revisions of project \"%s\"",
							   call->nplan, call->nplan, call->project)));
}

/*
 * Raise the first error of problems (validate.c), with its revision
 * noted for the failure row.
 */
static void
raise_first_error(RunCall *call, List *problems)
{
	call->failure.revision = mg_first_error_revision(problems);
	mg_raise_first_error(problems);
	call->failure.revision = NULL;
}
