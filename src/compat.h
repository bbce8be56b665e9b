/*-------------------------------------------------------------------------
 *
 * compat.h
 *	  The differences between the PostgreSQL majors pg_migrate builds on,
 *	  15 to 19, and nowhere else.
 *
 * The code is written against one name for each API; where a major changed
 * it, the name is defined here, with a comment naming the major that made
 * the change.  No other file tests PG_VERSION_NUM.  Every definition is a
 * macro, so that this header includes nothing: a file that uses one
 * includes the API's own header, as it would without this one.  The client
 * program (client/, FRONTEND) includes it too, for pg_noreturn.
 *
 * What else differs between the majors is not an API and lives where it
 * is handled: the core lexer's token numbers, whose header (parser/gram.h)
 * PostgreSQL 16 stopped installing, are learned at run time (checksum.c);
 * PostgreSQL 18's parser starts a statement's location at its first token,
 * so the comments before a statement are found from the end of the one
 * before it (script.c); the client links libpgcommon and libpgport by
 * name, since PostgreSQL 17's PGXS no longer adds them for a program
 * (client/Makefile).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_MIGRATE_COMPAT_H
#define PG_MIGRATE_COMPAT_H

#if PG_VERSION_NUM < 150000
#error "pg_migrate needs PostgreSQL 15 or later"
#endif

/*
 * PostgreSQL 18 replaced pg_attribute_noreturn(), written after a
 * declaration, with pg_noreturn, written before it.  GCC and Clang accept
 * the attribute in front as well.
 */
#ifndef pg_noreturn
#define pg_noreturn pg_attribute_noreturn()
#endif

/*
 * PostgreSQL 19 added pg_fallthrough, for the -Wimplicit-fallthrough=5 it
 * builds with, which takes no comment for the attribute.
 */
#ifndef pg_fallthrough
#ifdef __GNUC__
#define pg_fallthrough __attribute__((fallthrough))
#else
#define pg_fallthrough
#endif
#endif

#ifndef FRONTEND

/*
 * PostgreSQL 18 dropped the execute_once argument of ExecutorRun
 * (executor/executor.h) and the run_once argument of PortalRun
 * (tcop/pquery.h): a plan may always run again.
 */
#if PG_VERSION_NUM >= 180000
#define mg_executor_run(qdesc, direction, count) \
	ExecutorRun((qdesc), (direction), (count))
#define mg_portal_run(portal, count, toplevel, dest, altdest, qc) \
	PortalRun((portal), (count), (toplevel), (dest), (altdest), (qc))
#else
#define mg_executor_run(qdesc, direction, count) \
	ExecutorRun((qdesc), (direction), (count), true)
#define mg_portal_run(portal, count, toplevel, dest, altdest, qc) \
	PortalRun((portal), (count), (toplevel), true, (dest), (altdest), (qc))
#endif

/*
 * The lexer (parser/scanner.h) reading strings as the SQL standard says,
 * whatever the session's standard_conforming_strings.  PostgreSQL 19
 * lexes them so always, and dropped the two switches.
 */
#if PG_VERSION_NUM >= 190000
#define mg_scanner_standard_strings(yyextra) ((void) (yyextra))
#else
#define mg_scanner_standard_strings(yyextra) \
	((yyextra)->standard_conforming_strings = true, \
	 (yyextra)->escape_string_warning = false)
#endif

/*
 * Does the session's lexer read '...' as the SQL standard says (utils/guc.h)?
 * PostgreSQL 19 always does, and dropped the setting's variable.
 */
#if PG_VERSION_NUM >= 190000
#define mg_standard_conforming_strings true
#else
#define mg_standard_conforming_strings standard_conforming_strings
#endif

/*
 * This process's log_min_messages level (utils/guc.h), to read or to set
 * for a moment: PostgreSQL 19 keeps one per kind of process.
 */
#if PG_VERSION_NUM >= 190000
#define mg_log_min_messages (log_min_messages[MyBackendType])
#else
#define mg_log_min_messages log_min_messages
#endif

/*
 * Candidate functions and operators by name (catalog/namespace.h):
 * PostgreSQL 19 added an out argument that says why none was found.
 */
#if PG_VERSION_NUM >= 190000
#define mg_funcname_candidates(names, nargs, argnames, variadic, defaults, out, missing_ok) \
	FuncnameGetCandidates((names), (nargs), (argnames), (variadic), (defaults), \
						  (out), (missing_ok), &(int) {0})
#define mg_opername_candidates(names, kind, missing_ok) \
	OpernameGetCandidates((names), (kind), (missing_ok), &(int) {0})
#else
#define mg_funcname_candidates(names, nargs, argnames, variadic, defaults, out, missing_ok) \
	FuncnameGetCandidates((names), (nargs), (argnames), (variadic), (defaults), \
						  (out), (missing_ok))
#define mg_opername_candidates(names, kind, missing_ok) \
	OpernameGetCandidates((names), (kind), (missing_ok))
#endif

/*
 * CLUSTER (nodes/parsenodes.h): PostgreSQL 19 parses it, and its new
 * REPACK, into a RepackStmt whose relation is a VacuumRelation.  Both
 * rewrite the table, or every clustered one when no relation is named.
 */
#if PG_VERSION_NUM >= 190000
#define mg_is_cluster_stmt(node) IsA((node), RepackStmt)
#define mg_cluster_relation(node) \
	(((RepackStmt *) (node))->relation ? ((RepackStmt *) (node))->relation->relation : NULL)
#else
#define mg_is_cluster_stmt(node) IsA((node), ClusterStmt)
#define mg_cluster_relation(node) (((ClusterStmt *) (node))->relation)
#endif


/*
 * PostgreSQL 16 folded the per-class ACL checks, pg_namespace_aclcheck
 * among them, into object_aclcheck (utils/acl.h).
 */
#if PG_VERSION_NUM >= 160000
#define mg_namespace_aclcheck(nspid, roleid, mode) \
	object_aclcheck(NamespaceRelationId, (nspid), (roleid), (mode))
#else
#define mg_namespace_aclcheck(nspid, roleid, mode) \
	pg_namespace_aclcheck((nspid), (roleid), (mode))
#endif

/*
 * The storage manager relation of a relation file (storage/smgr.h), not
 * a temporary one: PostgreSQL 16 renamed RelFileNode to RelFileLocator
 * (same three fields, same order), and 17 identifies the owning backend by
 * ProcNumber instead of BackendId.
 */
#if PG_VERSION_NUM >= 170000
#define mg_smgropen(spcoid, dboid, relnumber) \
	smgropen((RelFileLocator) {(spcoid), (dboid), (relnumber)}, INVALID_PROC_NUMBER)
#elif PG_VERSION_NUM >= 160000
#define mg_smgropen(spcoid, dboid, relnumber) \
	smgropen((RelFileLocator) {(spcoid), (dboid), (relnumber)}, InvalidBackendId)
#else
#define mg_smgropen(spcoid, dboid, relnumber) \
	smgropen((RelFileNode) {(spcoid), (dboid), (relnumber)}, InvalidBackendId)
#endif

/*
 * Does this backend hold the lock in exactly this mode (storage/lock.h)?
 * PostgreSQL 17 added LockHeldByMe's third argument, "or a stronger mode".
 */
#if PG_VERSION_NUM >= 170000
#define mg_lock_held_by_me(tag, mode) LockHeldByMe((tag), (mode), false)
#else
#define mg_lock_held_by_me(tag, mode) LockHeldByMe((tag), (mode))
#endif

/*
 * The n-th (1-based) backend of the local snapshot of backend statuses
 * (utils/backend_status.h): PostgreSQL 17 renamed
 * pgstat_fetch_stat_local_beentry.
 */
#if PG_VERSION_NUM < 170000
#define pgstat_get_local_beentry_by_index(n) pgstat_fetch_stat_local_beentry(n)
#endif

#endif							/* FRONTEND */

#endif							/* PG_MIGRATE_COMPAT_H */
