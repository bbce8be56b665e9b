/*-------------------------------------------------------------------------
 *
 * pg_migrate.h
 *	  Declarations shared by every part of pg_migrate: the GUC variables,
 *	  the SQLSTATE codes of the MG class, and naming rules.
 *
 * Each subsystem has its own header (checksum.h, graph.h, lock.h, ...);
 * this one holds only what all of them agree on.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_MIGRATE_H
#define PG_MIGRATE_H

#include "utils/elog.h"

#include "compat.h"

/*
 * SQLSTATE codes for pg_migrate's own conditions, class MG.  Errors raised
 * by a statement inside a user's script keep that statement's own code.
 * Every code is listed in README.md; never renumber a released code.
 */
#define ERRCODE_MG_INVALID_NAME			MAKE_SQLSTATE('M','G','0','0','1')
#define ERRCODE_MG_UNKNOWN_REVISION		MAKE_SQLSTATE('M','G','0','0','2')
#define ERRCODE_MG_AMBIGUOUS_TARGET		MAKE_SQLSTATE('M','G','0','0','3')
#define ERRCODE_MG_SEVERAL_HEADS		MAKE_SQLSTATE('M','G','0','0','4')
#define ERRCODE_MG_INVALID_TARGET		MAKE_SQLSTATE('M','G','0','0','5')
#define ERRCODE_MG_CHECKSUM_DRIFT		MAKE_SQLSTATE('M','G','0','0','6')
#define ERRCODE_MG_REVISION_APPLIED		MAKE_SQLSTATE('M','G','0','0','7')
#define ERRCODE_MG_HAS_CHILDREN			MAKE_SQLSTATE('M','G','0','0','8')
#define ERRCODE_MG_INVALID_GRAPH		MAKE_SQLSTATE('M','G','0','0','9')
#define ERRCODE_MG_TRANSACTION_CONTROL	MAKE_SQLSTATE('M','G','0','1','0')
#define ERRCODE_MG_META_COMMAND			MAKE_SQLSTATE('M','G','0','1','1')
#define ERRCODE_MG_NON_TRANSACTIONAL	MAKE_SQLSTATE('M','G','0','1','2')
#define ERRCODE_MG_LOCK_TIMEOUT			MAKE_SQLSTATE('M','G','0','1','3')
#define ERRCODE_MG_STANDBY				MAKE_SQLSTATE('M','G','0','1','4')
#define ERRCODE_MG_READ_ONLY			MAKE_SQLSTATE('M','G','0','1','5')
#define ERRCODE_MG_ISOLATION_LEVEL		MAKE_SQLSTATE('M','G','0','1','6')
#define ERRCODE_MG_NESTED_CALL			MAKE_SQLSTATE('M','G','0','1','7')
#define ERRCODE_MG_INVALID_ARGUMENT		MAKE_SQLSTATE('M','G','0','1','8')
#define ERRCODE_MG_NOT_REGISTERED		MAKE_SQLSTATE('M','G','0','1','9')
#define ERRCODE_MG_UNSUPPORTED_STATEMENT	MAKE_SQLSTATE('M','G','0','2','0')
#define ERRCODE_MG_MISSING_DOWN_SCRIPT	MAKE_SQLSTATE('M','G','0','2','1')
#define ERRCODE_MG_NOT_APPLIED			MAKE_SQLSTATE('M','G','0','2','2')
#define ERRCODE_MG_BAD_FILES			MAKE_SQLSTATE('M','G','0','2','3')
#define ERRCODE_MG_NOT_AT_HEAD			MAKE_SQLSTATE('M','G','0','2','4')
#define ERRCODE_MG_NO_REVISIONS		MAKE_SQLSTATE('M','G','0','2','5')
#define ERRCODE_MG_FAILURE_NOT_RECORDED	MAKE_SQLSTATE('M','G','0','2','6')
#define ERRCODE_MG_LINT					MAKE_SQLSTATE('M','G','0','3','0')
#define ERRCODE_MG_RUN_IN_TRANSACTION	MAKE_SQLSTATE('M','G','0','3','1')
#define ERRCODE_MG_STATE_CHANGED		MAKE_SQLSTATE('M','G','0','3','2')
#define ERRCODE_MG_LOCK_LOST			MAKE_SQLSTATE('M','G','0','3','3')
#define ERRCODE_MG_WORKER_UNAVAILABLE	MAKE_SQLSTATE('M','G','0','3','6')
#define ERRCODE_MG_WORKER_FAILED		MAKE_SQLSTATE('M','G','0','3','7')
#define ERRCODE_MG_VERSION_MISMATCH		MAKE_SQLSTATE('M','G','0','3','8')
#define ERRCODE_MG_INVALID_INDEX_LEFT	MAKE_SQLSTATE('M','G','0','4','0')

/* Longest revision id, and longest project name. */
#define MG_MAX_REVISION_LEN		128
#define MG_MAX_PROJECT_LEN		63

/*
 * Longest text pg_migrate stores from an error or an argument in a history
 * row (a failure's message and detail, a row's detail), in bytes, its
 * truncation marker included (mg_bounded_text).
 */
#define MG_MAX_STORED_TEXT		4096

/* Longest part of a rejected value that a message quotes (mg_shown). */
#define MG_MAX_SHOWN			64

/* GUC variables, defined in pg_migrate.c */
extern char *pg_migrate_project;
extern int	pg_migrate_lock_wait_timeout;
extern int	pg_migrate_lock_timeout;
extern int	pg_migrate_lock_retries;
extern int	pg_migrate_retry_delay;
extern int	pg_migrate_retry_max_delay;
extern int	pg_migrate_script_timeout;
extern char *pg_migrate_directory;
extern int	pg_migrate_lint;
extern int	pg_migrate_lint_large_table;
extern int	pg_migrate_lint_large_table_size;

/* the SQL objects this library was built for, in pg_migrate.c */
extern void mg_check_extension_version(void);

/* naming rules, in pg_migrate.c */
extern void mg_check_revision_id(const char *id, const char *what);
extern bool mg_target_is_valid(const char *target);
extern void mg_check_target(const char *target);
extern const char *mg_resolve_project(const char *project);

/* user text in messages and stored rows, in pg_migrate.c */
extern char *mg_shown(const char *s);
extern const char *mg_bounded_text(const char *s);

#endif							/* PG_MIGRATE_H */
