/*-------------------------------------------------------------------------
 *
 * lock.h
 *	  The per-project migration lock.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MG_LOCK_H
#define MG_LOCK_H

#include "datatype/timestamp.h"

/*
 * The migration lock is an object lock whose class is the OID of this
 * table, and whose object id is a hash of the project (lock.c).
 */
#define MG_LOCK_SCHEMA "migrate"
#define MG_LOCK_TABLE "project"

typedef struct MgLockHolder
{
	int			pid;
	char	   *role;			/* NULL when unknown */
	char	   *application;	/* NULL when unknown */
	TimestampTz since;			/* start of the holder's transaction, or 0 */
} MgLockHolder;

extern void mg_lock_project(const char *project, int wait_timeout_ms,
							const char *function);
extern void mg_lock_check_context(const char *function);
extern void mg_lock_project_session(const char *project, int wait_timeout_ms,
									const char *function);
extern void mg_lock_release_session(void);
extern bool mg_lock_session_held(void);
extern void mg_lock_mark_migration(bool running);
extern bool mg_lock_holder(const char *project, MgLockHolder *holder);
extern void mg_lock_probe_start(int lock_timeout_ms);
extern void mg_lock_probe_stop(void);
extern char *mg_lock_describe_last_wait(void);

#endif							/* MG_LOCK_H */
