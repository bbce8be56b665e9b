/*-------------------------------------------------------------------------
 *
 * script.c
 *	  Parse a migration script with the server's own parser and classify
 *	  its statements before anything runs.
 *
 * A script is parsed with raw_parser, exactly as the server would parse it
 * from a client, so there is no statement-splitting guesswork: dollar
 * quotes, nested comments and a last statement without a semicolon all
 * work, and an empty or comment-only script is a valid no-op.  Parsing
 * every pending script before the first runs is what lets an upgrade report
 * a syntax error in the seventh script before applying the first.
 *
 * Refused in every script: psql meta-commands (a line starting with a
 * backslash, which the server cannot run), transaction control (BEGIN,
 * COMMIT, ROLLBACK, SAVEPOINT, ...: pg_migrate owns the transaction), and
 * COPY from or to the client.  One exception, because Sqitch and others
 * write scripts so: a leading BEGIN and a trailing COMMIT, with no other
 * transaction control, are removed with a NOTICE; their intent, atomicity,
 * is what pg_migrate gives anyway.
 *
 * Statements that cannot run inside a transaction block (CREATE INDEX
 * CONCURRENTLY and friends) are recorded, not refused: whether that is an
 * error depends on the runner, so the caller decides.
 *
 * mg_script_review parses the same way for the lint, which reports instead
 * of raising: every refused statement and a syntax error become
 * MgScriptIssues of the script, and psql meta-command lines are blanked out
 * (byte for byte, so that offsets stay valid) so that the rest of the
 * script can still be parsed and reviewed.
 *
 * Errors raised while a script is parsed or run carry a context line naming
 * the project, revision, statement number, line and column; a cursor
 * position is moved from the caller's query to the script's statement.
 * The statement number and line of the last error are also kept, so that
 * a failed migration can record them in the history (failure.c) without
 * reading them back out of the context text.
 * *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/defrem.h"
#include "common/keywords.h"
#include "mb/pg_wchar.h"
#include "nodes/nodes.h"
#include "parser/parser.h"
#include "parser/scanner.h"
#include "tcop/utility.h"

#include "mask.h"
#include "pg_migrate.h"
#include "script.h"
#include "subxact.h"

typedef struct RawParseWork
{
	const char *sql;			/* in: the script; out: meta-commands blanked */
	List	   *issues;			/* the meta-commands found */
	List	   *stmts;			/* the result */
} RawParseWork;

static void parse_and_check(MgScript *script, MgScriptErrorContext *ctx);
static char *check_meta_commands(const char *sql, List **issues);
static void classify(MgScript *script, MgScriptErrorContext *ctx, bool review);
static void check_transaction_control(MgScript *script, MgScriptErrorContext *ctx,
									  bool review);
static void add_issue(MgScript *script, const char *kind, int index, int offset,
					  char *message, char *hint);
static void raw_parse_work(void *arg);
static const char *non_transactional_name(Node *stmt);
static bool has_option(List *options, const char *name);
static void script_error_callback(void *arg);
static void keep_error_position(const MgScriptErrorContext *ctx, int line);
static int	skip_blank(const char *sql, int offset);
static int	statement_end(const char *sql, const RawStmt *raw);
static int	char_to_byte(const char *sql, int chars);

/*
 * Where the last error reported in a script's context happened: the
 * revision (and whether in its down script), the error's SQLSTATE, the
 * statement number (0 when none was current) and line (0 when unknown).
 * Kept in static storage, as the context callback runs while an error is
 * being reported and should not allocate.
 */
static struct
{
	bool		valid;
	char		revision[MG_MAX_REVISION_LEN + 1];
	bool		down;
	int			sqlerrcode;
	int			statement;
	int			line;
}			last_error;

/*
 * Parse sql, the up script (or with down, the down script) of revision in
 * project, and classify it.  Raises an error for anything no runner can
 * run, with the script's secrets masked (the parser's "at or near" quotes
 * the script).  The result lives in CurrentMemoryContext.
 */
MgScript *
mg_script_parse(const char *project, const char *revision, const char *sql, bool down)
{
	MgScript   *script = palloc0(sizeof(MgScript));
	MemoryContext oldcontext = CurrentMemoryContext;
	MgScriptErrorContext ctx;

	script->project = project;
	script->revision = revision;
	script->sql = sql;
	script->down = down;
	script->first_number = 1;
	script->nontx_index = -1;

	mg_script_context_push(&ctx, script);
	PG_TRY();
	{
		parse_and_check(script, &ctx);
	}
	PG_CATCH();
	{
		mg_mask_rethrow(oldcontext, sql);
	}
	PG_END_TRY();
	mg_script_context_pop(&ctx);
	return script;
}

/*
 * mg_script_parse's work: parse script->sql into script->stmts, refuse
 * what no runner can run, and find the first non-transactional statement.
 */
static void
parse_and_check(MgScript *script, MgScriptErrorContext *ctx)
{
	const char *sql = script->sql;

	if (strchr(sql, '\\') != NULL)
		check_meta_commands(sql, NULL);

	script->stmts = raw_parser(sql, RAW_PARSE_DEFAULT);
	classify(script, ctx, false);
}

/*
 * Parse sql, the up script of revision in project, for review: what
 * mg_script_parse would raise is listed in script->issues instead.  A
 * syntax error leaves script->stmts empty.  The parse runs in a
 * subtransaction, so the caller must be in a transaction.
 */
MgScript *
mg_script_review(const char *project, const char *revision, const char *sql)
{
	MgScript   *script = palloc0(sizeof(MgScript));
	RawParseWork work = {sql, NIL, NIL};
	ErrorData  *edata;

	script->project = project;
	script->revision = revision;
	script->sql = sql;
	script->first_number = 1;
	script->nontx_index = -1;

	edata = mg_in_subtransaction(raw_parse_work, &work);

	/* from here on the script is the text with meta-commands blanked out */
	script->sql = work.sql;
	script->issues = work.issues;
	if (edata != NULL)
	{
		mg_mask_error_script(edata, sql);
		add_issue(script, "syntax-error", -1,
				  edata->cursorpos > 0 ? char_to_byte(work.sql, edata->cursorpos - 1) : -1,
				  pstrdup(edata->message),
				  edata->hint ? pstrdup(edata->hint) : pstrdup("Fix the script; it is parsed with the server's own parser."));
		FreeErrorData(edata);
		return script;
	}

	script->stmts = work.stmts;
	classify(script, NULL, true);
	return script;
}

/*
 * The subtransaction's work for mg_script_review: the search for
 * meta-commands and the raw parse, both of which run the lexer, which
 * raises an error on an unterminated quote or comment, a bad escape or an
 * invalid byte sequence.  No error context is set, since a caller's
 * context (a SQL function's, say) would move a syntax error's cursor
 * position to its own query.
 */
static void
raw_parse_work(void *arg)
{
	RawParseWork *work = arg;
	ErrorContextCallback *save = error_context_stack;

	error_context_stack = NULL;
	PG_TRY();
	{
		if (strchr(work->sql, '\\') != NULL)
			work->sql = check_meta_commands(work->sql, &work->issues);
		work->stmts = raw_parser(work->sql, RAW_PARSE_DEFAULT);
	}
	PG_FINALLY();
	{
		error_context_stack = save;
	}
	PG_END_TRY();
}

/*
 * Check the parsed statements of script: transaction control, COPY to or
 * from the client, and the first statement that cannot run in a
 * transaction block.  With review, the first two are listed as issues;
 * without, they are raised with ctx's context.
 */
static void
classify(MgScript *script, MgScriptErrorContext *ctx, bool review)
{
	ListCell   *lc;

	check_transaction_control(script, ctx, review);

	foreach(lc, script->stmts)
	{
		RawStmt    *raw = lfirst_node(RawStmt, lc);
		int			index = foreach_current_index(lc);
		const char *name;

		if (IsA(raw->stmt, CopyStmt) && ((CopyStmt *) raw->stmt)->filename == NULL &&
			!((CopyStmt *) raw->stmt)->is_program)
		{
			const char *msg = "COPY to or from the client is not supported in a migration script";
			const char *hint = "Load data with INSERT statements, or with COPY from a server-side file.";

			if (review)
			{
				add_issue(script, "copy-from-client", index, -1, pstrdup(msg), pstrdup(hint));
				continue;
			}
			mg_script_context_statement(ctx, index);
			ereport(ERROR,
					(errcode(ERRCODE_MG_UNSUPPORTED_STATEMENT),
					 errmsg("COPY to or from the client is not supported in a migration script"),
					 errdetail("A migration runs inside the server, with no client to send or receive the data."),
					 errhint("Load data with INSERT statements, or with COPY from a server-side file.")));
		}

		name = non_transactional_name(raw->stmt);
		if (name != NULL && script->nontx_index < 0)
		{
			script->nontx_index = index;
			script->nontx_name = name;
		}
	}
}

/*
 * Byte offset where the text before script->stmts' index-th statement
 * begins: just past the semicolon that ends the statement before it, or
 * the start of the script (past a BEGIN that was removed).  The comments
 * there are the statement's own (the lint's ignore comments).  Computed
 * from the statement before, since PostgreSQL 18's parser starts a
 * statement's location at its first token where earlier majors counted the
 * blank and comments before it in.
 */
int
mg_script_statement_lead(const MgScript *script, int index)
{
	if (index == 0)
		return script->body_start;
	return statement_end(script->sql, list_nth_node(RawStmt, script->stmts, index - 1));
}

/*
 * Byte offset just past the semicolon that ends raw, a statement of sql
 * that is not its last.
 */
static int
statement_end(const char *sql, const RawStmt *raw)
{
	int			end = raw->stmt_location + raw->stmt_len;

	if (sql[end] == ';')
		end++;
	return end;
}

/*
 * Byte offset of the first token of script->stmts' index-th statement,
 * past the white space and comments before it.
 */
int
mg_script_statement_start(const MgScript *script, int index)
{
	RawStmt    *raw = list_nth_node(RawStmt, script->stmts, index);

	return skip_blank(script->sql, raw->stmt_location);
}

/*
 * Append an issue to script->issues: about script->stmts' index-th
 * statement (index >= 0), or at byte offset.
 */
static void
add_issue(MgScript *script, const char *kind, int index, int offset,
		  char *message, char *hint)
{
	MgScriptIssue *issue = palloc0(sizeof(MgScriptIssue));

	issue->kind = kind;
	issue->stmt_number = index >= 0 ? script->first_number + index : 0;
	issue->offset = index >= 0 ? mg_script_statement_start(script, index) : offset;
	issue->message = message;
	issue->hint = hint;
	script->issues = lappend(script->issues, issue);
}

/*
 * Refuse a script holding a statement that cannot run in a transaction
 * block, naming the statement and where it is.  function is the caller
 * that runs revisions in one transaction ("migrate_upgrade").
 */
void
mg_script_refuse_non_transactional(const MgScript *script, const char *function)
{
	MgScriptErrorContext ctx;

	if (script->nontx_index < 0)
		return;

	mg_script_context_push(&ctx, script);
	mg_script_context_statement(&ctx, script->nontx_index);
	ereport(ERROR,
			(errcode(ERRCODE_MG_NON_TRANSACTIONAL),
			 errmsg("%s cannot run inside %s", script->nontx_name, function),
			 errdetail("%s runs every revision in one transaction, and %s cannot run in a transaction block.",
					   function, script->nontx_name),
			 strcmp(function, "migrate_downgrade") == 0 ?
			 errhint("Revert with the per-revision runner CALL migrate_run(target), which runs such statements at top level.") :
			 errhint("Put the statement in a revision of its own and apply it with the per-revision runner CALL migrate_run(), which runs such statements at top level.")));
}

/*
 * A psql meta-command is a backslash token that starts its line.  The
 * server's lexer finds it, so a backslash inside a string or comment is
 * not mistaken for one.  Without issues, the first one is raised.  With
 * issues, each is appended there, and the result is a copy of sql with the
 * rest of every such line blanked out byte for byte (the server could not
 * parse them; the offsets of everything else stay valid).
 */
static char *
check_meta_commands(const char *sql, List **issues)
{
	core_yy_extra_type yyextra;
	core_yyscan_t scanner;
	core_YYSTYPE yylval;
	YYLTYPE		yylloc;
	int			token;
	char	   *blanked = NULL;

	scanner = scanner_init(sql, &yyextra, &ScanKeywords, ScanKeywordTokens);
	while ((token = core_yylex(&yylval, &yylloc, scanner)) != 0)
	{
		int			p = yylloc;
		int			end;
		int			line;
		int			column;
		int			shown;
		MgScriptIssue *issue;

		if (token != '\\')
			continue;
		while (p > 0 && (sql[p - 1] == ' ' || sql[p - 1] == '\t'))
			p--;
		if (p > 0 && sql[p - 1] != '\n' && sql[p - 1] != '\r')
			continue;

		end = yylloc;
		while (sql[end] != '\0' && sql[end] != '\n' && sql[end] != '\r')
			end++;
		/* at most 60 bytes of it, cut at a character boundary */
		shown = pg_mbcliplen(sql + yylloc, end - yylloc, 60);
		mg_script_position(sql, yylloc, &line, &column);
		if (issues == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_MG_META_COMMAND),
					 errmsg("psql meta-command \"%.*s\" at line %d is not allowed in a migration script",
							shown, sql + yylloc, line),
					 errdetail("Scripts run inside the server, which does not understand psql's backslash commands."),
					 errhint("Write the script in plain SQL; use SET instead of \\set and SQL literals instead of psql variables.")));

		issue = palloc0(sizeof(MgScriptIssue));
		issue->kind = "meta-command";
		issue->offset = yylloc;
		issue->message = psprintf("psql meta-command \"%.*s\" is not allowed in a migration script",
								  shown, sql + yylloc);
		issue->hint = pstrdup("Write the script in plain SQL; use SET instead of \\set and SQL literals instead of psql variables.");
		*issues = lappend(*issues, issue);
		if (blanked == NULL)
			blanked = pstrdup(sql);
		memset(blanked + yylloc, ' ', end - yylloc);
	}
	scanner_finish(scanner);
	return blanked ? blanked : unconstify(char *, sql);
}

/*
 * Refuse transaction control, except a BEGIN ... COMMIT wrapper around the
 * whole script, which is removed.  With review, list each statement of
 * transaction control as an issue instead, and the removed wrapper too.
 */
static void
check_transaction_control(MgScript *script, MgScriptErrorContext *ctx, bool review)
{
	int			n = list_length(script->stmts);
	int			ntx = 0;
	int			first_bad = -1;
	ListCell   *lc;

	foreach(lc, script->stmts)
	{
		RawStmt    *raw = lfirst_node(RawStmt, lc);

		if (IsA(raw->stmt, TransactionStmt))
		{
			ntx++;
			if (first_bad < 0)
				first_bad = foreach_current_index(lc);
		}
	}
	if (ntx == 0)
		return;

	if (ntx == 2 && n >= 2)
	{
		TransactionStmt *first = (TransactionStmt *) linitial_node(RawStmt, script->stmts)->stmt;
		TransactionStmt *last = (TransactionStmt *) llast_node(RawStmt, script->stmts)->stmt;

		if (IsA(first, TransactionStmt) && IsA(last, TransactionStmt) &&
			(first->kind == TRANS_STMT_BEGIN || first->kind == TRANS_STMT_START) &&
			first->options == NIL &&
			last->kind == TRANS_STMT_COMMIT && !last->chain)
		{
			if (review)
				add_issue(script, "transaction-wrapper", 0, -1,
						  pstrdup("the BEGIN and COMMIT around the script are removed"),
						  pstrdup("pg_migrate runs every revision atomically; the script's own transaction control is not needed."));
			script->body_start = statement_end(script->sql,
											   linitial_node(RawStmt, script->stmts));
			script->stmts = list_delete_last(list_delete_first(script->stmts));
			script->first_number = 2;
			script->unwrapped = true;
			if (!review)
				ereport(NOTICE,
						(errmsg("revision \"%s\": removed the BEGIN and COMMIT around the script",
								script->revision),
						 errdetail("pg_migrate runs every revision atomically; the script's own transaction control is not needed.")));
			return;
		}
	}

	if (review)
	{
		foreach(lc, script->stmts)
		{
			Node	   *stmt = lfirst_node(RawStmt, lc)->stmt;

			if (IsA(stmt, TransactionStmt))
				add_issue(script, "transaction-control", foreach_current_index(lc), -1,
						  psprintf("transaction control statement %s is not allowed in a migration script",
								   CreateCommandName(stmt)),
						  pstrdup("Remove BEGIN, COMMIT, ROLLBACK and SAVEPOINT statements; split work that must commit separately into separate revisions."));
		}
		return;
	}

	mg_script_context_statement(ctx, first_bad);
	ereport(ERROR,
			(errcode(ERRCODE_MG_TRANSACTION_CONTROL),
			 errmsg("transaction control statement %s is not allowed in a migration script",
					CreateCommandName(list_nth_node(RawStmt, script->stmts, first_bad)->stmt)),
			 errdetail("pg_migrate runs each revision atomically inside its own transaction control."),
			 errhint("Remove BEGIN, COMMIT, ROLLBACK and SAVEPOINT statements; split work that must commit separately into separate revisions.")));
}

/*
 * Name of a statement that PostgreSQL refuses to run in a transaction
 * block, or NULL.
 */
static const char *
non_transactional_name(Node *stmt)
{
	switch (nodeTag(stmt))
	{
		case T_IndexStmt:
			return ((IndexStmt *) stmt)->concurrent ? "CREATE INDEX CONCURRENTLY" : NULL;
		case T_DropStmt:
			return ((DropStmt *) stmt)->concurrent ? "DROP INDEX CONCURRENTLY" : NULL;
		case T_ReindexStmt:
			{
				ReindexStmt *r = (ReindexStmt *) stmt;

				if (has_option(r->params, "concurrently"))
					return "REINDEX CONCURRENTLY";
				if (r->kind == REINDEX_OBJECT_SYSTEM || r->kind == REINDEX_OBJECT_DATABASE)
					return "REINDEX DATABASE";
				return NULL;
			}
		case T_VacuumStmt:
			return ((VacuumStmt *) stmt)->is_vacuumcmd ? "VACUUM" : NULL;
		case T_AlterDatabaseStmt:
			return has_option(((AlterDatabaseStmt *) stmt)->options, "tablespace") ?
				"ALTER DATABASE SET TABLESPACE" : NULL;
		case T_DiscardStmt:
			return ((DiscardStmt *) stmt)->target == DISCARD_ALL ? "DISCARD ALL" : NULL;
		case T_CreatedbStmt:
		case T_DropdbStmt:
		case T_CreateTableSpaceStmt:
		case T_DropTableSpaceStmt:
		case T_AlterSystemStmt:
			return CreateCommandName(stmt);
		default:
			/* CLUSTER of every clustered table (REPACK too, from 19) */
			if (mg_is_cluster_stmt(stmt) && mg_cluster_relation(stmt) == NULL)
				return CreateCommandName(stmt);
			return NULL;
	}
}

/*
 * Is a DefElem named name in options, and not set to false?  Read as
 * defGetBoolean reads it, but without raising an error: a value the
 * server refuses counts as not set (the statement fails when it runs).
 */
static bool
has_option(List *options, const char *name)
{
	ListCell   *lc;

	foreach(lc, options)
	{
		DefElem    *opt = lfirst_node(DefElem, lc);

		if (strcmp(opt->defname, name) != 0)
			continue;
		if (opt->arg == NULL)
			return true;
		if (IsA(opt->arg, Integer))
			return intVal(opt->arg) == 1;
		if (IsA(opt->arg, String))
			return pg_strcasecmp(strVal(opt->arg), "true") == 0 ||
				pg_strcasecmp(strVal(opt->arg), "on") == 0;
		return false;
	}
	return false;
}

/*
 * Push an error context for script; no statement is current yet.
 */
void
mg_script_context_push(MgScriptErrorContext *ctx, const MgScript *script)
{
	ctx->script = script;
	ctx->stmt_number = 0;
	ctx->stmt_location = -1;
	ctx->stmt_len = 0;
	ctx->callback.callback = script_error_callback;
	ctx->callback.arg = ctx;
	ctx->callback.previous = error_context_stack;
	error_context_stack = &ctx->callback;
}

/*
 * Make script->stmts' index-th statement the current one.
 */
void
mg_script_context_statement(MgScriptErrorContext *ctx, int index)
{
	RawStmt    *raw = list_nth_node(RawStmt, ctx->script->stmts, index);

	ctx->stmt_number = ctx->script->first_number + index;
	ctx->stmt_location = raw->stmt_location;
	ctx->stmt_len = raw->stmt_len;
}

/*
 * Pop the error context pushed by mg_script_context_push; it must be the
 * innermost one.
 */
void
mg_script_context_pop(MgScriptErrorContext *ctx)
{
	Assert(error_context_stack == &ctx->callback);
	error_context_stack = ctx->callback.previous;
}

/*
 * Forget the position of the last error reported in a script's context;
 * an operation calls this as it starts, so that what it later reads with
 * mg_script_error_position is its own.
 */
void
mg_script_forget_error(void)
{
	last_error.valid = false;
}

/*
 * The statement number and line of the last error reported in the context
 * of revision's script (its down script when down), provided that error
 * had the SQLSTATE sqlerrcode.  Returns false, with both set to 0, when
 * the last such error was another one (a message not from inside a
 * script, or an earlier error of the same script with another code).  A
 * 0 statement or line means unknown: a syntax error found by the parser
 * has a line but no statement number.
 */
bool
mg_script_error_position(const char *revision, bool down, int sqlerrcode,
						 int *statement, int *line)
{
	*statement = 0;
	*line = 0;
	if (!last_error.valid || revision == NULL ||
		last_error.down != down || last_error.sqlerrcode != sqlerrcode ||
		strcmp(last_error.revision, revision) != 0)
		return false;
	*statement = last_error.statement;
	*line = last_error.line;
	return true;
}

/*
 * Keep the position of an error of revision's script (its down script
 * when down) that was raised elsewhere, for mg_script_error_position: the
 * top-level runner's worker (toplevel.c) raised it in its own process and
 * sent its statement number and line along.
 */
void
mg_script_note_error(const char *revision, bool down, int sqlerrcode,
					 int statement, int line)
{
	last_error.valid = true;
	strlcpy(last_error.revision, revision, sizeof(last_error.revision));
	last_error.down = down;
	last_error.sqlerrcode = sqlerrcode;
	last_error.statement = statement;
	last_error.line = line;
}

/*
 * Keep where an error reported in ctx's script happened, for
 * mg_script_error_position.  Messages below ERROR (a NOTICE raised by a
 * script) carry a success or warning SQLSTATE and are not kept.
 */
static void
keep_error_position(const MgScriptErrorContext *ctx, int line)
{
	int			sqlerrcode = geterrcode();
	int			category = ERRCODE_TO_CATEGORY(sqlerrcode);

	if (category == ERRCODE_SUCCESSFUL_COMPLETION ||
		category == ERRCODE_WARNING || category == ERRCODE_NO_DATA)
		return;
	last_error.valid = true;
	strlcpy(last_error.revision, ctx->script->revision, sizeof(last_error.revision));
	last_error.down = ctx->script->down;
	last_error.sqlerrcode = sqlerrcode;
	last_error.statement = ctx->stmt_number;
	last_error.line = line;
}

/*
 * Add the context line.  A cursor position set by the parser or by parse
 * analysis points into the script, not into the caller's query: move it to
 * the statement (shown as the internal query) and name its line and column.
 */
static void
script_error_callback(void *arg)
{
	MgScriptErrorContext *ctx = arg;
	const MgScript *script = ctx->script;
	int			cursor = geterrposition();
	int			offset = -1;
	int			line;
	int			column;

	if (cursor > 0)
	{
		offset = char_to_byte(script->sql, cursor - 1);
		errposition(0);
		if (ctx->stmt_location >= 0 && offset >= ctx->stmt_location)
		{
			int			start = skip_blank(script->sql, ctx->stmt_location);
			int			len = ctx->stmt_len > 0 ?
				ctx->stmt_location + ctx->stmt_len - start :
				(int) strlen(script->sql) - start;

			if (offset >= start && len > 0)
			{
				internalerrquery(pnstrdup(script->sql + start, len));
				internalerrposition(pg_mbstrlen_with_len(script->sql + start, offset - start) + 1);
			}
		}
	}
	else if (ctx->stmt_location >= 0)
		offset = skip_blank(script->sql, ctx->stmt_location);

	if (offset < 0)
	{
		keep_error_position(ctx, 0);
		errcontext("%srevision \"%s\" of project \"%s\"",
				   script->down ? "down script of " : "", script->revision, script->project);
		return;
	}

	mg_script_position(script->sql, offset, &line, &column);
	keep_error_position(ctx, line);
	if (ctx->stmt_number > 0)
		errcontext("%srevision \"%s\" of project \"%s\", statement %d, line %d, column %d",
				   script->down ? "down script of " : "",
				   script->revision, script->project, ctx->stmt_number, line, column);
	else
		errcontext("%srevision \"%s\" of project \"%s\", line %d, column %d",
				   script->down ? "down script of " : "",
				   script->revision, script->project, line, column);
}

/*
 * Offset of the first byte at or after offset that is neither white space
 * nor part of a comment.
 */
static int
skip_blank(const char *sql, int offset)
{
	const char *p = sql + offset;

	for (;;)
	{
		if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\f' || *p == '\v')
			p++;
		else if (p[0] == '-' && p[1] == '-')
		{
			while (*p && *p != '\n')
				p++;
		}
		else if (p[0] == '/' && p[1] == '*')
		{
			int			depth = 1;

			p += 2;
			while (*p && depth > 0)
			{
				if (p[0] == '/' && p[1] == '*')
					depth++, p += 2;
				else if (p[0] == '*' && p[1] == '/')
					depth--, p += 2;
				else
					p++;
			}
		}
		else
			break;
	}
	return p - sql;
}

/*
 * 1-based line and column (in characters) of byte offset in sql.  CRLF and
 * LF both end a line.
 */
void
mg_script_position(const char *sql, int offset, int *line, int *column)
{
	const char *p = sql;
	const char *end = sql + offset;

	*line = 1;
	*column = 1;
	while (p < end && *p)
	{
		if (*p == '\n')
		{
			(*line)++;
			*column = 1;
			p++;
		}
		else if (*p == '\r')
			p++;
		else
		{
			(*column)++;
			p += pg_mblen(p);
		}
	}
}

/* Byte offset of the chars-th character of sql (0-based), clamped. */
static int
char_to_byte(const char *sql, int chars)
{
	const char *p = sql;

	while (chars-- > 0 && *p)
		p += pg_mblen(p);
	return p - sql;
}
