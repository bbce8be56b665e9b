/*-------------------------------------------------------------------------
 *
 * lock.c
 *	  The migration lock: one heavyweight lock per project that only
 *	  pg_migrate's C code can take, and the watch on the locks a migration
 *	  script waits for.
 *
 * Every operation that reads the registry to change it (register,
 * unregister, sync, upgrade, downgrade, stamp, repair) takes this lock
 * first and re-reads the state after it is granted; it must therefore run
 * on a primary, read-write, at READ COMMITTED, which is checked here before
 * any wait.  These operations take it for their transaction: a commit, a
 * rollback, a crash or a disconnect releases it, so it is never stale, and
 * it works through transaction-pooling connection poolers, where
 * session-level locks break.  CALL migrate_run (run.c), which commits once
 * per revision, takes the same lock for its session instead (below).
 *
 * Which lock.  Until 0.4.0 this was an advisory lock (LOCKTAG_ADVISORY,
 * USER_LOCKMETHOD), and an advisory lock protects only against those who
 * agree to take it.  Any role that could connect could take the same key
 * with pg_advisory_lock() and make every migration wait and fail; and a
 * migration script could release a run's session-level advisory lock with
 * pg_advisory_unlock_all(), letting a second run in.  The lock is now an
 * object lock in the default lock method:
 *
 *		SET_LOCKTAG_OBJECT(tag, MyDatabaseId, <OID of table migrate.project>,
 *						   hash_bytes(project), 0)
 *
 * in ExclusiveLock mode, shown in pg_locks as locktype "object", classid
 * 'migrate.project'::regclass, objid the project's hash (hashtext()), objsubid
 * 0.  What PostgreSQL 15's source says about such a lock:
 *
 * - No SQL function or command can take it.  The only SQL-callable lock
 *   functions that take a caller-chosen key are lockfuncs.c's
 *   pg_advisory_*lock* family, and they build LOCKTAG_ADVISORY tags
 *   (SET_LOCKTAG_INT64, SET_LOCKTAG_INT32) in USER_LOCKMETHOD: a different
 *   tag, whatever the key.  LOCK TABLE (LockTableCommand) takes
 *   LOCKTAG_RELATION locks, after checking privileges.  The server takes
 *   LOCKTAG_OBJECT locks through lmgr.c's LockDatabaseObject, called by
 *   get_object_address (objectaddress.c) and AcquireDeletionLock
 *   (dependency.c) among others, always with a system catalog's OID as the
 *   class (the object's catalog, or pg_depend's classid, which only
 *   catalog code writes), never a user table's.  So a role without
 *   EXECUTE on pg_migrate's functions can neither hold this lock nor queue
 *   for it, and cannot block a migration through it.  Only C code can take
 *   it: pg_migrate's, or a library a superuser installed.
 * - No SQL function or command can release it.  pg_advisory_unlock_all
 *   calls LockReleaseSession(USER_LOCKMETHOD); DISCARD ALL (discard.c,
 *   DiscardAll) calls LockReleaseAll(USER_LOCKMETHOD, true);
 *   pg_advisory_unlock* release only LOCKTAG_ADVISORY tags.  None touches
 *   DEFAULT_LOCKMETHOD.
 * - A transaction-level hold ends with its transaction: at commit and at
 *   abort, ResourceOwnerRelease of the top transaction's resource owner
 *   calls ProcReleaseLocks (proc.c), which calls
 *   LockReleaseAll(DEFAULT_LOCKMETHOD, !isCommit).  A backend that exits
 *   (FATAL from pg_terminate_backend, client loss, proc_exit) runs
 *   ShutdownPostgres (postinit.c), a before_shmem_exit callback, whose
 *   AbortOutOfAnyTransaction aborts the open transaction, and with it
 *   releases the lock.  A process that dies without exit processing
 *   (SIGKILL, a crash) makes the postmaster reinitialise shared memory, the
 *   lock table included.
 * - A session-level hold survives commits, but not an abort of the top
 *   transaction: ProcReleaseLocks(false) calls LockReleaseAll with
 *   allLocks true, "including session-level if aborting".  At backend
 *   exit, ShutdownPostgres releases a session-level lock only through that
 *   abort, that is only when a transaction is open
 *   (AbortOutOfAnyTransaction does nothing in TBLOCK_DEFAULT/TRANS_DEFAULT):
 *   unlike advisory locks, which it releases explicitly
 *   (LockReleaseAll(USER_LOCKMETHOD, true)), nothing in PostgreSQL releases
 *   a default-method session lock held between transactions (PostgreSQL
 *   16's logicalrep_worker_onexit releases its own for that reason).
 *   migrate_run holds its lock only while it runs inside a transaction
 *   (SPI_commit starts the next one at once), but to make "never stale"
 *   hold on every path, this file registers its own before_shmem_exit
 *   callback (release_at_exit), which runs before ShutdownPostgres and
 *   releases the lock when no transaction is open; when one is, it leaves
 *   the lock to ShutdownPostgres's abort, so that the next holder starts
 *   only once the dying run's work is rolled back.
 * - pg_dump does not conflict with it: pg_dump takes ACCESS SHARE locks on
 *   relations (LOCKTAG_RELATION), a different tag; so do LOCK TABLE
 *   migrate.project, VACUUM and every other table lock.  Nothing but this
 *   file ever conflicts with it.
 * - Like every heavyweight lock it is in pg_locks (GetLockStatusData) with
 *   its holder's pid, so MG013 (mg_lock_holder) and migrate_status() name
 *   the holder, and pg_blocking_pids() and the deadlock detector see the
 *   waits.
 *
 * The class is looked up by name (schema "migrate", table "project") each
 * time the tag is built, never cached: a dropped and re-created extension
 * has a new OID, and every backend must build the same tag.  Two projects
 * whose names hash alike only serialise each other.
 *
 * The session-level hold.  migrate_run must keep the lock across its
 * commits, so it takes the same tag in the same mode for the session
 * (mg_lock_project_session): a run and an upgrade exclude each other.  The
 * run releases it on every path out (mg_lock_release_session, which
 * tolerates a hold that an abort already released), and checks before each
 * revision that it still holds it (mg_lock_session_held); since no SQL can
 * release it and any top-level abort ends the run, that check guards
 * against what this analysis missed, not against anything known.  Such a
 * run cannot go through a transaction-pooling pooler anyway, since it
 * commits on its own.
 *
 * Waiting is bounded by pg_migrate.lock_wait_timeout.  The lock manager's
 * own lock_timeout does the waiting, so the wait sits in the normal queue
 * and is interruptible like any lock wait; it runs in a subtransaction so
 * that a timeout can be caught and replaced by an error naming the holder.
 * The uncontended case takes the lock without waiting and without a
 * subtransaction.
 *
 * The same file watches the locks a migration script waits for.  When a
 * statement gives up on a lock (lock_timeout), the lock manager has already
 * left the wait queue by the time the error can be caught, so nothing says
 * which lock it was.  A probe timer, armed while a script statement runs,
 * copies the lock this backend is queued for (MyProc->waitLock) a few times
 * per lock_timeout period; after a timeout the last copy is the lock that
 * timed out, and the lock table then tells who holds it.  The handler only
 * copies a few bytes of this backend's own PGPROC, which is safe in a
 * signal handler; with lock_timeout off the probe is not armed.
 *
 * This file is a leaf: it knows the lock manager and backend status, and
 * of the registry only the name of the table whose OID is the lock's class.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/namespace.h"
#include "common/hashfn.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "utils/backend_status.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/timeout.h"
#include "utils/timestamp.h"

#include "lock.h"
#include "pg_migrate.h"
#include "subxact.h"

typedef struct LockWait
{
	LOCKTAG    *tag;
	int			timeout_ms;
	bool		session;		/* a session-level lock */
} LockWait;

/* true while this backend runs a migration's scripts */
static bool migration_running = false;

/*
 * The session-level migration lock migrate_run took, kept so that it can
 * be released without a catalog lookup, in error cleanup and at exit.
 */
static bool session_taken = false;
static LOCKTAG session_tag;
static bool session_exit_registered = false;

/* The lock-wait probe: its timer, and the last lock wait it saw. */
static bool probe_registered = false;
static TimeoutId probe_timeout;
static volatile sig_atomic_t probe_seen = false;
static LOCKTAG probe_tag;
static LOCKMODE probe_mode;

/* at most this many holders are named in a description */
#define MAX_NAMED_HOLDERS 3

static Oid	lock_classid(void);
static void set_project_locktag(LOCKTAG *tag, const char *project);
static void wait_for_lock(LOCKTAG *tag, const char *project, int wait_timeout_ms,
						  bool session);
static void wait_in_queue(void *arg);
static bool find_holder(const LOCKTAG *tag, MgLockHolder *holder);
static void release_at_exit(int code, Datum arg);
static void describe_backend(int pid, MgLockHolder *holder);
static void describe_object(StringInfo buf, const LOCKTAG *tag);
static void probe_handler(void);
static void probe_exit(int code, Datum arg);

/*
 * The class of the migration lock's tag: the OID of table migrate.project,
 * looked up afresh each time.  The caller must be in a transaction.
 */
static Oid
lock_classid(void)
{
	Oid			nspid = get_namespace_oid(MG_LOCK_SCHEMA, true);
	Oid			relid = OidIsValid(nspid) ?
		get_relname_relid(MG_LOCK_TABLE, nspid) : InvalidOid;

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("table %s.%s does not exist", MG_LOCK_SCHEMA, MG_LOCK_TABLE),
				 errdetail("The migration lock is a lock on this table's OID."),
				 errhint("Drop and create extension pg_migrate again.")));
	return relid;
}

/*
 * The lock tag of project's migration lock in this database: an object
 * lock of class migrate.project, object id the project's hash (see the
 * head of this file).  The caller must be in a transaction.
 */
static void
set_project_locktag(LOCKTAG *tag, const char *project)
{
	uint32		key = hash_bytes((const unsigned char *) project, strlen(project));

	SET_LOCKTAG_OBJECT(*tag, MyDatabaseId, lock_classid(), key, 0);
}

/*
 * Take the migration lock of project for the rest of the transaction,
 * waiting up to wait_timeout_ms (0: forever).  On timeout, raise an error
 * naming the holder.  Taking it again in the same transaction is free.
 * function names the caller in the errors of mg_lock_check_context.
 */
void
mg_lock_project(const char *project, int wait_timeout_ms, const char *function)
{
	LOCKTAG		tag;

	mg_lock_check_context(function);
	set_project_locktag(&tag, project);
	if (LockAcquire(&tag, ExclusiveLock, false, true) != LOCKACQUIRE_NOT_AVAIL)
		return;
	wait_for_lock(&tag, project, wait_timeout_ms, false);
}

/*
 * Take the migration lock of project for the session, as mg_lock_project
 * does for the transaction: the same lock, so the two exclude each other,
 * with the same bounded wait and the same error naming the holder.  A
 * session-level lock outlives the commits of a run of many transactions
 * (run.c), but not an abort of the top transaction (ProcReleaseLocks).
 * The caller must release it with mg_lock_release_session on every path
 * out, errors included, and may hold one such lock at a time.  Backend
 * exit releases it whatever happens (ShutdownPostgres's abort, or
 * release_at_exit between transactions).
 */
void
mg_lock_project_session(const char *project, int wait_timeout_ms,
						const char *function)
{
	LOCKTAG		tag;

	mg_lock_check_context(function);
	Assert(!session_taken);
	set_project_locktag(&tag, project);
	if (!session_exit_registered)
	{
		before_shmem_exit(release_at_exit, (Datum) 0);
		session_exit_registered = true;
	}
	if (LockAcquire(&tag, ExclusiveLock, true, true) == LOCKACQUIRE_NOT_AVAIL)
		wait_for_lock(&tag, project, wait_timeout_ms, true);
	session_tag = tag;
	session_taken = true;
}

/*
 * Release the session-level migration lock that mg_lock_project_session
 * took, if this backend still holds it: an abort of the top transaction
 * may have released it already.  Safe in error cleanup: it looks nothing
 * up, and only touches the lock manager.
 */
void
mg_lock_release_session(void)
{
	if (session_taken && mg_lock_held_by_me(&session_tag, ExclusiveLock))
		(void) LockRelease(&session_tag, ExclusiveLock, true);
	session_taken = false;
}

/*
 * Does this backend still hold the session-level migration lock that
 * mg_lock_project_session took?  Nothing a script can run releases it;
 * migrate_run asks before each revision all the same.
 */
bool
mg_lock_session_held(void)
{
	return session_taken && mg_lock_held_by_me(&session_tag, ExclusiveLock);
}

/*
 * At backend exit, release a session-level migration lock held between
 * transactions, which nothing in PostgreSQL would release (see the head of
 * this file).  When a transaction is open, ShutdownPostgres, which runs
 * after this callback, aborts it and releases the lock with it, after the
 * run's work is rolled back; it is left to that.
 */
static void
release_at_exit(int code, Datum arg)
{
	if (!IsTransactionOrTransactionBlock())
		mg_lock_release_session();
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
 * snapshot would hide what the previous holder committed.  mg_lock_project
 * does this first; an operation may call it earlier, to tell these
 * refusals from failures of the work itself.
 */
void
mg_lock_check_context(const char *function)
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
 * lock outlives the subtransaction: on release, a transaction-level lock
 * moves to the parent; a session-level one belongs to no transaction.
 */
static void
wait_for_lock(LOCKTAG *tag, const char *project, int wait_timeout_ms,
			  bool session)
{
	LockWait	wait = {tag, wait_timeout_ms, session};
	ErrorData  *edata = mg_in_subtransaction(wait_in_queue, &wait);
	MgLockHolder holder;

	if (edata == NULL)
		return;
	if (edata->sqlerrcode != ERRCODE_LOCK_NOT_AVAILABLE)
		ReThrowError(edata);

	if (find_holder(tag, &holder))
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
	(void) LockAcquire(wait->tag, ExclusiveLock, wait->session, false);
}

/*
 * Fill *holder with the session holding project's migration lock; return
 * false when nobody holds it.  Reads the lock table and backend status
 * directly, so it needs no privilege on pg_stat_activity.
 */
bool
mg_lock_holder(const char *project, MgLockHolder *holder)
{
	LOCKTAG		tag;

	set_project_locktag(&tag, project);
	return find_holder(&tag, holder);
}

/*
 * Fill *holder with the session holding the lock tag names; return false
 * when nobody holds it.
 */
static bool
find_holder(const LOCKTAG *tag, MgLockHolder *holder)
{
	LockData   *locks;
	int			i;
	int			pid = 0;

	locks = GetLockStatusData();
	for (i = 0; i < locks->nelements; i++)
	{
		LockInstanceData *l = &locks->locks[i];

		if (l->holdMask != 0 &&
			memcmp(&l->locktag, tag, sizeof(LOCKTAG)) == 0)
		{
			pid = l->pid;
			break;
		}
	}
	if (pid == 0)
		return false;

	describe_backend(pid, holder);
	return true;
}

/*
 * Fill *holder with what backend status says of process pid: its role,
 * application and transaction start, each unknown when not found.  The
 * status is read afresh, not from the transaction's snapshot of it, since
 * a migration may wait for many different sessions in one transaction.
 */
static void
describe_backend(int pid, MgLockHolder *holder)
{
	int			i;

	holder->pid = pid;
	holder->role = NULL;
	holder->application = NULL;
	holder->since = 0;

	pgstat_clear_backend_activity_snapshot();
	for (i = 1; i <= pgstat_fetch_stat_numbackends(); i++)
	{
		LocalPgBackendStatus *local = pgstat_get_local_beentry_by_index(i);
		PgBackendStatus *be = local ? &local->backendStatus : NULL;

		if (be == NULL || be->st_procpid != pid)
			continue;
		holder->role = GetUserNameFromId(be->st_userid, true);
		holder->application = pstrdup(be->st_appname);
		holder->since = be->st_xact_start_timestamp;
		break;
	}
}

/*
 * Start watching the heavyweight locks this backend waits for, forgetting
 * any wait seen before.  lock_timeout_ms is the lock_timeout in force: the
 * probe looks three times per period, so a wait that lasts a whole period
 * is always seen.  With no lock_timeout there is no lock timeout to
 * explain and the probe stays off.  Stop it with mg_lock_probe_stop before
 * leaving the code that armed it, on every path.
 */
void
mg_lock_probe_start(int lock_timeout_ms)
{
	int			interval = Max(lock_timeout_ms / 3, 1);

	if (!probe_registered)
	{
		probe_timeout = RegisterTimeout(USER_TIMEOUT, probe_handler);
		before_shmem_exit(probe_exit, (Datum) 0);
		probe_registered = true;
	}
	probe_seen = false;
	if (lock_timeout_ms > 0)
		enable_timeout_every(probe_timeout,
							 TimestampTzPlusMilliseconds(GetCurrentTimestamp(), interval),
							 interval);
	else if (get_timeout_active(probe_timeout))
		disable_timeout(probe_timeout, false);
}

/* Stop the probe; what it saw stays readable. */
void
mg_lock_probe_stop(void)
{
	if (probe_registered && get_timeout_active(probe_timeout))
		disable_timeout(probe_timeout, false);
}

/*
 * Stop the probe before the process leaves shared memory.  A backend or
 * worker that exits on FATAL (pg_terminate_backend, client loss, a fast
 * shutdown) leaves through proc_exit without passing the code that armed
 * the probe; the timer would go on firing while ProcKill releases the
 * PGPROC and sets MyProc to NULL.  before_shmem_exit callbacks run before
 * ProcKill, so from here on the handler never fires.
 */
static void
probe_exit(int code, Datum arg)
{
	mg_lock_probe_stop();
}

/*
 * The probe's timer handler, in signal context: copy the lock this backend
 * is queued for, if any.  While a backend sleeps in the queue its waitLock
 * cannot change under it.  MyProc is tested as well as disarmed at exit
 * (probe_exit): a handler must never dereference a NULL PGPROC, which would
 * kill the process on a signal and restart the whole cluster.
 */
static void
probe_handler(void)
{
	PGPROC	   *proc = MyProc;
	LOCK	   *lock;

	if (proc == NULL)
		return;
	lock = proc->waitLock;
	if (lock != NULL)
	{
		probe_tag = lock->tag;
		probe_mode = proc->waitLockMode;
		probe_seen = true;
	}
}

/*
 * Describe the last lock wait the probe saw, as a sentence for an errdetail:
 * the lock, the object, and the sessions that hold it in a conflicting mode
 * now (their pids first).  Returns NULL when the probe saw no wait.
 */
char *
mg_lock_describe_last_wait(void)
{
	StringInfoData buf;
	LockMethod	method;
	LockData   *locks;
	int			nholders = 0;
	int			i;

	if (!probe_seen)
		return NULL;

	initStringInfo(&buf);
	appendStringInfo(&buf, "It waited for %s on ",
					 GetLockmodeName(probe_tag.locktag_lockmethodid, probe_mode));
	describe_object(&buf, &probe_tag);

	method = GetLockTagsMethodTable(&probe_tag);
	locks = GetLockStatusData();
	for (i = 0; i < locks->nelements; i++)
	{
		LockInstanceData *l = &locks->locks[i];
		MgLockHolder holder;
		LOCKMODE	held;

		if (l->pid == MyProcPid || l->holdMask == 0 ||
			(method->conflictTab[probe_mode] & l->holdMask) == 0 ||
			memcmp(&l->locktag, &probe_tag, sizeof(LOCKTAG)) != 0)
			continue;

		if (++nholders > MAX_NAMED_HOLDERS)
			continue;
		for (held = MaxLockMode; held > NoLock; held--)
			if (l->holdMask & LOCKBIT_ON(held))
				break;
		describe_backend(l->pid, &holder);
		appendStringInfo(&buf, "; process %d (role \"%s\", application \"%s\"",
						 holder.pid,
						 holder.role ? holder.role : "?",
						 holder.application ? holder.application : "");
		if (holder.since != 0)
			appendStringInfo(&buf, ", in a transaction since %s",
							 timestamptz_to_str(holder.since));
		appendStringInfo(&buf, ") holds %s on it",
						 GetLockmodeName(probe_tag.locktag_lockmethodid, held));
	}
	if (nholders > MAX_NAMED_HOLDERS)
		appendStringInfo(&buf, "; %d more sessions hold it",
						 nholders - MAX_NAMED_HOLDERS);
	else if (nholders == 0)
		appendStringInfoString(&buf, "; its holders have finished since");
	appendStringInfoChar(&buf, '.');
	return buf.data;
}

/*
 * Append the object a lock tag names: a relation of this database by its
 * qualified name, anything else as the lock manager describes it.
 */
static void
describe_object(StringInfo buf, const LOCKTAG *tag)
{
	if (tag->locktag_type == LOCKTAG_RELATION &&
		tag->locktag_field1 == MyDatabaseId)
	{
		Oid			relid = tag->locktag_field2;
		char	   *relname = get_rel_name(relid);
		char	   *nspname = relname ? get_namespace_name(get_rel_namespace(relid)) : NULL;

		if (relname != NULL && nspname != NULL)
		{
			appendStringInfo(buf, "relation \"%s\"",
							 quote_qualified_identifier(nspname, relname));
			return;
		}
	}
	DescribeLockTag(buf, tag);
}
