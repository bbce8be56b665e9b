/*-------------------------------------------------------------------------
 *
 * lock.c
 *	  The migration lock: one transaction-scoped advisory lock per project.
 *
 * Every operation that reads the registry to change it (register,
 * unregister, upgrade) takes this lock first and re-reads the state after
 * it is granted; it must therefore run on a primary, read-write, at READ
 * COMMITTED, which is checked here before any wait.  Because the lock is transaction-scoped it can never go
 * stale: a crash, a disconnect or a rollback releases it, and it works
 * through transaction-pooling connection poolers, where session-level locks
 * break.  It is an ordinary advisory lock, visible in pg_locks as locktype
 * "advisory", classid MG_LOCK_CLASSID, objid the project's hash, objsubid 2
 * (the two-int4 form of pg_advisory_xact_lock).  Two projects whose names
 * hash alike only serialise each other.
 *
 * Waiting is bounded by pg_migrate.lock_wait_timeout.  The lock manager's
 * own lock_timeout does the waiting, so the wait sits in the normal queue
 * and is interruptible like any lock wait; it runs in a subtransaction so
 * that a timeout can be caught and replaced by an error naming the holder.
 * The uncontended case takes the lock without waiting and without a
 * subtransaction.
 *
 * This file is a leaf: it knows the lock manager and backend status, and
 * nothing of the registry.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "common/hashfn.h"
#include "miscadmin.h"
#include "storage/lock.h"
#include "utils/backend_status.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "lock.h"
#include "pg_migrate.h"
#include "subxact.h"

typedef struct LockWait
{
	LOCKTAG    *tag;
	int			timeout_ms;
} LockWait;

/* true while this backend runs a migration's scripts */
static bool migration_running = false;

static void check_context(const char *function);
static void set_project_locktag(LOCKTAG *tag, const char *project);
static void wait_for_lock(LOCKTAG *tag, const char *project, int wait_timeout_ms);
static void wait_in_queue(void *arg);

/* The advisory lock tag of project's migration lock in this database */
static void
set_project_locktag(LOCKTAG *tag, const char *project)
{
	uint32		key = hash_bytes((const unsigned char *) project, strlen(project));

	SET_LOCKTAG_ADVISORY(*tag, MyDatabaseId, MG_LOCK_CLASSID, key, 2);
}

/*
 * Take the migration lock of project for the rest of the transaction,
 * waiting up to wait_timeout_ms (0: forever).  On timeout, raise an error
 * naming the holder.  Taking it again in the same transaction is free.
 * function names the caller in the errors of check_context.
 */
void
mg_lock_project(const char *project, int wait_timeout_ms, const char *function)
{
	LOCKTAG		tag;

	check_context(function);
	set_project_locktag(&tag, project);
	if (LockAcquire(&tag, ExclusiveLock, false, true) != LOCKACQUIRE_NOT_AVAIL)
		return;
	wait_for_lock(&tag, project, wait_timeout_ms);
}

/*
 * Say whether this backend is running a migration's scripts.  While it is,
 * the lock is held and nothing may take it again to change the state under
 * the migration.
 */
void
mg_lock_mark_migration(bool running)
{
	migration_running = running;
}

/*
 * Whoever takes the lock means to change the state it protects, after
 * reading it afresh.  Refuse, before waiting for anything, a script of a
 * running migration (the lock is re-entrant, so it would get it), a standby
 * (no changes), a read-only transaction, and an isolation level whose one
 * snapshot would hide what the previous holder committed.
 */
static void
check_context(const char *function)
{
	if (migration_running)
		ereport(ERROR,
				(errcode(ERRCODE_MG_NESTED_CALL),
				 errmsg("%s cannot be called from inside a migration script", function),
				 errhint("Remove the call from the script; it runs while the migration holds the registry.")));

	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_MG_STANDBY),
				 errmsg("%s cannot run on a standby server", function),
				 errdetail("The server is in recovery; its migration state follows the primary's."),
				 errhint("Connect to the primary.  migrate_status() and dry runs work here.")));

	if (XactReadOnly)
		ereport(ERROR,
				(errcode(ERRCODE_MG_READ_ONLY),
				 errmsg("%s cannot run in a read-only transaction", function),
				 errhint("Run it in a read-write transaction; check default_transaction_read_only.")));

	if (IsolationUsesXactSnapshot())
		ereport(ERROR,
				(errcode(ERRCODE_MG_ISOLATION_LEVEL),
				 errmsg("%s cannot run at isolation level %s", function,
						IsolationIsSerializable() ? "SERIALIZABLE" : "REPEATABLE READ"),
				 errdetail("The migration state must be read again after the migration lock is granted, which a transaction-wide snapshot cannot do."),
				 errhint("Run it in a READ COMMITTED transaction.")));
}

/*
 * The contended case: wait in the lock queue with lock_timeout set to our
 * bound, inside a subtransaction so that the timeout can be caught.  The
 * lock outlives the subtransaction: on release, it moves to the parent.
 */
static void
wait_for_lock(LOCKTAG *tag, const char *project, int wait_timeout_ms)
{
	LockWait	wait = {tag, wait_timeout_ms};
	ErrorData  *edata = mg_in_subtransaction(wait_in_queue, &wait);
	MgLockHolder holder;

	if (edata == NULL)
		return;
	if (edata->sqlerrcode != ERRCODE_LOCK_NOT_AVAILABLE)
		ReThrowError(edata);

	if (mg_lock_holder(project, &holder))
		ereport(ERROR,
				(errcode(ERRCODE_MG_LOCK_TIMEOUT),
				 errmsg("could not take the migration lock of project \"%s\" within %d ms",
						project, wait_timeout_ms),
				 errdetail("It is held by process %d, role \"%s\", application \"%s\", since %s.",
						   holder.pid,
						   holder.role ? holder.role : "?",
						   holder.application ? holder.application : "",
						   holder.since ? timestamptz_to_str(holder.since) : "an unknown time"),
				 errhint("Wait for that migration to finish, or raise pg_migrate.lock_wait_timeout.")));
	else
		ereport(ERROR,
				(errcode(ERRCODE_MG_LOCK_TIMEOUT),
				 errmsg("could not take the migration lock of project \"%s\" within %d ms",
						project, wait_timeout_ms),
				 errdetail("Its holder finished while the error was being reported."),
				 errhint("Try again.")));
}

/* The subtransaction's work: set lock_timeout, then queue for the lock. */
static void
wait_in_queue(void *arg)
{
	LockWait   *wait = arg;
	char		value[32];

	/* GUC_ACTION_SAVE: undone when the subtransaction ends */
	snprintf(value, sizeof(value), "%d", wait->timeout_ms);
	(void) set_config_option("lock_timeout", value,
							 PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	(void) LockAcquire(wait->tag, ExclusiveLock, false, false);
}

/*
 * Fill *holder with the session holding project's migration lock; return
 * false when nobody holds it.  Reads the lock table and backend status
 * directly, so it needs no privilege on pg_stat_activity.  Backend status
 * is the transaction's snapshot of it, as in pg_stat_activity.
 */
bool
mg_lock_holder(const char *project, MgLockHolder *holder)
{
	LOCKTAG		tag;
	LockData   *locks;
	int			i;
	int			pid = 0;

	set_project_locktag(&tag, project);
	locks = GetLockStatusData();
	for (i = 0; i < locks->nelements; i++)
	{
		LockInstanceData *l = &locks->locks[i];

		if (l->holdMask != 0 &&
			memcmp(&l->locktag, &tag, sizeof(LOCKTAG)) == 0)
		{
			pid = l->pid;
			break;
		}
	}
	if (pid == 0)
		return false;

	holder->pid = pid;
	holder->role = NULL;
	holder->application = NULL;
	holder->since = 0;

	for (i = 1; i <= pgstat_fetch_stat_numbackends(); i++)
	{
		LocalPgBackendStatus *local = pgstat_fetch_stat_local_beentry(i);
		PgBackendStatus *be = local ? &local->backendStatus : NULL;

		if (be == NULL || be->st_procpid != pid)
			continue;
		holder->role = GetUserNameFromId(be->st_userid, true);
		holder->application = pstrdup(be->st_appname);
		holder->since = be->st_xact_start_timestamp;
		break;
	}
	return true;
}
