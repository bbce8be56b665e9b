/*-------------------------------------------------------------------------
 *
 * script.h
 *	  Parsing and classifying migration scripts.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MG_SCRIPT_H
#define MG_SCRIPT_H

#include "nodes/parsenodes.h"

typedef struct MgScript
{
	const char *project;
	const char *revision;
	const char *sql;
	bool		down;			/* a down script, not an up script */
	List	   *stmts;			/* RawStmts to run, wrapper removed */
	int			first_number;	/* file-order number of stmts' first */
	bool		unwrapped;		/* a BEGIN ... COMMIT wrapper was removed */
	int			body_start;		/* byte offset past the removed BEGIN, or 0 */
	int			nontx_index;	/* first statement that cannot run in a
								 * transaction block, or -1 */
	const char *nontx_name;
	List	   *issues;			/* MgScriptIssues; mg_script_review only */
} MgScript;

/*
 * What mg_script_review found and mg_script_parse would have raised: a
 * psql meta-command, transaction control (or a removed BEGIN ... COMMIT
 * wrapper), COPY to or from the client, a syntax error.
 */
typedef struct MgScriptIssue
{
	const char *kind;			/* "meta-command", "transaction-control",
								 * "transaction-wrapper", "copy-from-client",
								 * "syntax-error" */
	int			stmt_number;	/* 1-based, file order; 0 for none */
	int			offset;			/* byte offset in the script, -1 for none */
	char	   *message;		/* as errmsg */
	char	   *hint;			/* as errhint */
} MgScriptIssue;

/*
 * Error context naming the project, revision, statement and position.  Push
 * it while working on a script; set the statement while running one.
 */
typedef struct MgScriptErrorContext
{
	ErrorContextCallback callback;
	const MgScript *script;
	int			stmt_number;	/* 1-based, file order; 0 for none */
	int			stmt_location;	/* byte offset, -1 for none */
	int			stmt_len;		/* 0: to the end */
} MgScriptErrorContext;

extern MgScript *mg_script_parse(const char *project, const char *revision,
								 const char *sql, bool down);
extern MgScript *mg_script_review(const char *project, const char *revision,
								  const char *sql);
extern int	mg_script_statement_lead(const MgScript *script, int index);
extern int	mg_script_statement_start(const MgScript *script, int index);
extern void mg_script_position(const char *sql, int offset, int *line, int *column);
extern void mg_script_refuse_non_transactional(const MgScript *script,
											   const char *function);
extern void mg_script_context_push(MgScriptErrorContext *ctx, const MgScript *script);
extern void mg_script_context_statement(MgScriptErrorContext *ctx, int index);
extern void mg_script_context_pop(MgScriptErrorContext *ctx);
extern void mg_script_forget_error(void);
extern void mg_script_note_error(const char *revision, bool down, int sqlerrcode,
								 int statement, int line);
extern bool mg_script_error_position(const char *revision, bool down, int sqlerrcode,
									 int *statement, int *line);

#endif							/* MG_SCRIPT_H */
