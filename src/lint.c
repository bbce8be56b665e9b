/*-------------------------------------------------------------------------
 *
 * lint.c
 *	  Review migration scripts with the server's parser and the live
 *	  catalog, before they run.
 *
 * A linter outside the database sees only the text of a script: it flags
 * CREATE INDEX on a table created two lines earlier and cannot tell a
 * table of ten rows from one of eighty million.  Here every statement is
 * judged against the relation it touches, as the catalog has it now:
 *
 * - A relation created earlier in the same script, or by an earlier
 *   revision of the same upgrade (which runs in the same transaction), is
 *   new: no other session can see it before commit, so its locks block
 *   nobody and it is empty as far as anyone else is concerned.  Own
 *   temporary tables are private in the same way.  Names are matched as
 *   written (schema and name; an unqualified name matches any schema).
 * - An existing relation is large when its estimated rows reach
 *   pg_migrate.lint_large_table or its size reaches
 *   pg_migrate.lint_large_table_size, whichever comes first.  The size is
 *   the length of the table's main fork as the storage manager reports it
 *   now (no lock needed: it is a file length), so a table bulk-loaded and
 *   never analyzed is not mistaken for an empty one; the rows are the
 *   planner's estimate, pg_class.reltuples scaled to that length, or
 *   unknown when the table was never vacuumed or analyzed.  A partitioned
 *   table counts its partitions.
 * - Nothing here locks a user relation: names are resolved with NoLock,
 *   statistics come from the syscache and file lengths, and anything that
 *   could fail on a missing object (a type, a function in a default) is
 *   tried in a subtransaction whose failure only means "cannot tell".
 *
 * The rules that depend on size fire only on existing large relations;
 * the rules about running code (renames, drops) on every existing one.
 * pg_migrate runs each script with lock_timeout = pg_migrate.lock_timeout,
 * so the lock-timeout rule fires only where that protection is gone: a
 * statement taking ACCESS EXCLUSIVE on an existing relation while the
 * effective lock_timeout (pg_migrate.lock_timeout, or what the script SET)
 * is 0 or longer than LONG_LOCK_TIMEOUT_MS.  It is not limited to large
 * tables: how long others queue behind a lock depends on the traffic on a
 * table, not on its size.
 *
 * Locks are kept until the end of the transaction, and an upgrade applies
 * every pending revision in one: a VALIDATE CONSTRAINT on a large table
 * after a statement that took a write-blocking lock on it, in the same
 * script or an earlier revision of the same upgrade, scans while the
 * earlier lock still blocks writes, which defeats ADD ... NOT VALID.
 *
 * A comment "-- migrate:lint-ignore RULE_ID [RULE_ID ...] [-- reason]"
 * among the comments before a statement silences those rules for it:
 * the findings are still listed, with severity "info".  An unknown rule id
 * there is itself a finding.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/index.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_index.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_tablespace_d.h"
#include "commands/defrem.h"
#include "commands/tablecmds.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parse_coerce.h"
#include "parser/parse_collate.h"
#include "parser/parse_expr.h"
#include "parser/parse_node.h"
#include "parser/parse_type.h"
#include "storage/lmgr.h"
#include "storage/smgr.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"

#include "lint.h"
#include "mask.h"
#include "pg_migrate.h"
#include "subxact.h"

/* a lock_timeout longer than this no longer protects traffic, in ms */
#define LONG_LOCK_TIMEOUT_MS 5000

/* the comment that silences rules on the next statement */
#define IGNORE_MARKER "migrate:lint-ignore"

typedef struct LintRule
{
	const char *id;
	const char *severity;
} LintRule;

/*
 * Every rule, with its severity.  "error": the statement blocks traffic on
 * an existing large table for as long as it scans or rewrites it, or
 * cannot run as written; "warning": it breaks code still running against
 * the old schema, or gives up a protection; "info": for the record.
 * README.md lists them; never rename a released id.
 */
static const LintRule lint_rules[] = {
	{"syntax-error", "error"},
	{"meta-command", "error"},
	{"transaction-control", "error"},
	{"transaction-wrapper", "info"},
	{"copy-from-client", "error"},
	{"non-transactional", "error"},
	{"index-not-concurrent", "error"},
	{"drop-index-not-concurrent", "warning"},
	{"reindex-not-concurrent", "error"},
	{"constraint-not-valid", "error"},
	{"validate-in-transaction", "error"},
	{"set-not-null", "error"},
	{"column-type-rewrite", "error"},
	{"volatile-default", "error"},
	{"add-required-column", "error"},
	{"unique-without-index", "error"},
	{"rename-column", "warning"},
	{"rename-table", "warning"},
	{"drop-column", "warning"},
	{"drop-table", "warning"},
	{"vacuum-full", "error"},
	{"cluster", "error"},
	{"lock-table", "warning"},
	{"lock-timeout", "warning"},
	{"unknown-lint-rule", "warning"},
	{"lint-ignore-unused", "info"},
	{"lock", "info"},
};

/* lock mode names as the documentation ("Explicit Locking") writes them */
static const char *const lock_names[] = {
	NULL,
	"ACCESS SHARE",
	"ROW SHARE",
	"ROW EXCLUSIVE",
	"SHARE UPDATE EXCLUSIVE",
	"SHARE",
	"SHARE ROW EXCLUSIVE",
	"EXCLUSIVE",
	"ACCESS EXCLUSIVE",
};

/* A relation a statement touches. */
typedef struct LintRel
{
	char	   *name;			/* "schema.name" when it exists, else as
								 * written */
	Oid			relid;			/* InvalidOid unless it exists and is not
								 * new */
	bool		is_new;			/* created earlier in the transaction */
	bool		large;
	double		rows;			/* < 0 unknown */
	int64		size;			/* < 0 unknown */
} LintRel;

/* A relation created earlier in the transaction, by name as written. */
typedef struct CreatedRel
{
	char	   *schema;			/* NULL when unqualified */
	char	   *name;
} CreatedRel;

/* A lock taken earlier in the transaction. */
typedef struct HeldLock
{
	Oid			relid;
	LOCKMODE	mode;
	const char *revision;
	int			statement;
} HeldLock;

/*
 * A CHECK constraint added or validated earlier in the transaction: name,
 * and the column when it is "column IS NOT NULL".
 */
typedef struct LintCheck
{
	Oid			relid;
	char	   *conname;		/* NULL when unnamed */
	char	   *notnull_column; /* NULL unless "column IS NOT NULL" */
	bool		validated;
} LintCheck;

struct MgLint
{
	List	   *created;		/* CreatedRels */
	List	   *held;			/* HeldLocks */
	List	   *checks;			/* LintChecks */
};

/* The statement being reviewed. */
typedef struct LintStmt
{
	MgLint	   *lint;
	const MgScript *script;
	int			lock_timeout;	/* in effect for this statement, ms */
	int			number;			/* 1-based, file order */
	int			offset;			/* of its first token */
	const char *command;		/* "CREATE INDEX", ... */
	LOCKMODE	lockmode;		/* the strongest lock on rel */
	LintRel    *rel;			/* NULL for none */
	char	   *note;			/* why a statement with a lock is safe */
	List	   *findings;
} LintStmt;

/* Work for try_in_subtransaction: a function and its argument. */
typedef struct TypeWork
{
	TypeName   *typeName;
	Oid			typid;
	int32		typmod;
} TypeWork;

typedef struct DefaultWork
{
	Node	   *raw;
	bool		volatile_;
} DefaultWork;

typedef struct RewriteWork
{
	Oid			relid;
	AttrNumber	attnum;
	Oid			oldtype;
	int32		oldtypmod;
	Oid			oldcoll;
	Oid			newtype;
	int32		newtypmod;
	bool		castable;
	bool		rewrite;
} RewriteWork;

static MgLintFinding *issue_finding(const MgScript *script, MgScriptIssue *issue);
static int	compare_issues(const ListCell *a, const ListCell *b);
static void lint_statement(LintStmt *st, Node *stmt);
static void lint_index(LintStmt *st, IndexStmt *stmt);
static void lint_alter_table(LintStmt *st, AlterTableStmt *stmt);
static void lint_add_column(LintStmt *st, ColumnDef *def);
static void lint_add_constraint(LintStmt *st, Constraint *con);
static void lint_validate(LintStmt *st, const char *conname);
static void lint_set_not_null(LintStmt *st, const char *column);
static void lint_column_type(LintStmt *st, const char *column, ColumnDef *def);
static void lint_rename(LintStmt *st, RenameStmt *stmt);
static void lint_drop(LintStmt *st, DropStmt *stmt);
static void lint_vacuum(LintStmt *st, VacuumStmt *stmt);
static void lint_set(LintStmt *st, VariableSetStmt *stmt);
static void lint_created(LintStmt *st, RangeVar *rv);
static LintRel *resolve(LintStmt *st, RangeVar *rv, LOCKMODE mode);
static LintRel *resolve_index(LintStmt *st, RangeVar *rv, LOCKMODE mode);
static void measure(LintRel *rel, Oid relid);
static void measure_one(Oid relid, double *rows, int64 *size);
static bool is_created(MgLint *lint, const RangeVar *rv);
static CreatedRel *find_created(MgLint *lint, const RangeVar *rv);
static char *describe(const LintRel *rel);
static bool not_null_implied(MgLint *lint, Oid relid, AttrNumber attnum, const char *column);
static bool is_not_null_test(Node *expr, char **column);
static char *column_ref_name(Node *node);
static bool try_in_subtransaction(MgSubxactWork work, void *arg);
static void type_work(void *arg);
static void default_work(void *arg);
static void rewrite_work(void *arg);
static bool requires_rewrite(Node *expr, AttrNumber attnum);
static void add_finding(LintStmt *st, const char *rule, char *message, char *hint);
static MgLintFinding *new_finding(const MgScript *script, int number, int offset,
								  const char *rule, const char *message, const char *hint);
static const LintRule *find_rule(const char *id);
static List *ignores_before(const char *sql, int from, int to);
static List *apply_ignores(LintStmt *st, List *ignores);
static char *mask(const char *text);

/*
 * Start reviewing the scripts of one transaction.  Pass the same MgLint to
 * mg_lint_script for each script of an upgrade, in order.
 */
MgLint *
mg_lint_begin(void)
{
	return palloc0(sizeof(MgLint));
}

/*
 * Review the statements of script, parsed by mg_script_parse or
 * mg_script_review (whose issues are findings too).  nontransactional:
 * the revision runs outside a transaction block.  Returns a List of
 * MgLintFinding in statement order.
 */
List *
mg_lint_script(MgLint *lint, const MgScript *script, bool nontransactional)
{
	List	   *findings = NIL;
	List	   *issues;
	int			next_issue = 0;
	int			lock_timeout = pg_migrate_lock_timeout;
	ListCell   *lc;

	issues = list_copy(script->issues);
	list_sort(issues, compare_issues);

	foreach(lc, script->stmts)
	{
		RawStmt    *raw = lfirst_node(RawStmt, lc);
		int			index = foreach_current_index(lc);
		LintStmt	st = {0};
		List	   *ignores;

		st.lint = lint;
		st.script = script;
		st.lock_timeout = lock_timeout;
		st.number = script->first_number + index;
		st.offset = mg_script_statement_start(script, index);
		st.command = CreateCommandName(raw->stmt);

		/* the script's issues up to this statement, in place */
		while (next_issue < list_length(issues) &&
			   ((MgScriptIssue *) list_nth(issues, next_issue))->offset <= st.offset)
			findings = lappend(findings, issue_finding(script, list_nth(issues, next_issue++)));

		if (IsA(raw->stmt, TransactionStmt))
			continue;			/* an issue already */

		if (index == script->nontx_index && !nontransactional)
			add_finding(&st, "non-transactional",
						psprintf("%s cannot run inside a transaction block", script->nontx_name),
						pstrdup("migrate_upgrade runs every revision in one transaction and refuses this script: put the statement in a revision of its own, marked non-transactional (transaction:false), and apply it with CALL migrate_run()."));

		lint_statement(&st, raw->stmt);

		/* a statement taking ACCESS EXCLUSIVE with no lock_timeout to stop it */
		if (st.lockmode == AccessExclusiveLock && st.rel != NULL && OidIsValid(st.rel->relid) &&
			(st.lock_timeout == 0 || st.lock_timeout > LONG_LOCK_TIMEOUT_MS))
			add_finding(&st, "lock-timeout",
						st.lock_timeout == 0 ?
						psprintf("%s waits for an ACCESS EXCLUSIVE lock on \"%s\" with no lock_timeout",
								 st.command, st.rel->name) :
						psprintf("%s waits for an ACCESS EXCLUSIVE lock on \"%s\" with lock_timeout %d ms",
								 st.command, st.rel->name, st.lock_timeout),
						psprintf("While it waits, every query on the table queues behind it.  Keep lock_timeout at most %d ms (pg_migrate.lock_timeout, 50 ms by default, retries the revision instead of queueing).",
								 LONG_LOCK_TIMEOUT_MS));

		/* the lock, for the record, when nothing else is said about it */
		if (st.findings == NIL && st.rel != NULL && OidIsValid(st.rel->relid) &&
			st.lockmode >= ShareUpdateExclusiveLock)
			add_finding(&st, "lock",
						psprintf("%s locks %s in %s mode%s%s",
								 st.command, describe(st.rel), lock_names[st.lockmode],
								 st.note ? ": " : "", st.note ? st.note : ""),
						NULL);

		if (st.rel != NULL && OidIsValid(st.rel->relid) && st.lockmode != NoLock)
		{
			HeldLock   *held = palloc(sizeof(HeldLock));

			held->relid = st.rel->relid;
			held->mode = st.lockmode;
			held->revision = script->revision;
			held->statement = st.number;
			lint->held = lappend(lint->held, held);
		}

		ignores = ignores_before(script->sql, raw->stmt_location, st.offset);
		findings = list_concat(findings, apply_ignores(&st, ignores));
		lock_timeout = st.lock_timeout;
	}
	while (next_issue < list_length(issues))
		findings = lappend(findings, issue_finding(script, list_nth(issues, next_issue++)));
	return findings;
}

/* The finding of an issue mg_script_review found. */
static MgLintFinding *
issue_finding(const MgScript *script, MgScriptIssue *issue)
{
	return new_finding(script, issue->stmt_number, issue->offset, issue->kind,
					   issue->message, issue->hint);
}

/* list_sort comparator: issues by offset (none first) */
static int
compare_issues(const ListCell *a, const ListCell *b)
{
	const MgScriptIssue *ia = lfirst(a);
	const MgScriptIssue *ib = lfirst(b);

	return (ia->offset > ib->offset) - (ia->offset < ib->offset);
}

/*
 * Parse sql for review and review it on its own: migrate_lint, and
 * migrate_lint_revision with a registered script.
 */
List *
mg_lint_review(const char *project, const char *revision, const char *sql,
			   bool nontransactional)
{
	MgScript   *script = mg_script_review(project, revision, sql);

	return mg_lint_script(mg_lint_begin(), script, nontransactional);
}

/* Does a finding stop an upgrade under pg_migrate.lint = error? */
bool
mg_lint_finding_counts(const MgLintFinding *finding)
{
	return strcmp(finding->severity, "info") != 0;
}

/*
 * Review the n pending scripts of an upgrade, in order, as one transaction
 * (as one transaction each, for migrate_run), and do what pg_migrate.lint
 * says: nothing (off), a NOTICE per warning or error finding (warn), or
 * refuse before anything runs when there is any (error).  Info findings are not reported here.  top_level: the scripts
 * are applied by CALL migrate_run, which runs a statement that cannot run
 * in a transaction block at top level, so that is no finding.
 */
void
mg_lint_pending(MgScript **scripts, int n, bool top_level)
{
	MgLint	   *lint;
	List	   *findings = NIL;
	StringInfoData detail;
	int			count = 0;
	ListCell   *lc;
	int			i;

	if (pg_migrate_lint == MG_LINT_OFF)
		return;

	lint = mg_lint_begin();
	for (i = 0; i < n; i++)
	{
		/*
		 * migrate_run commits each revision: the locks of one are gone
		 * when the next runs (what it created stays new to the review)
		 */
		if (top_level)
			lint->held = NIL;
		findings = list_concat(findings, mg_lint_script(lint, scripts[i], top_level));
	}

	initStringInfo(&detail);
	foreach(lc, findings)
	{
		MgLintFinding *f = lfirst(lc);

		if (!mg_lint_finding_counts(f))
			continue;
		count++;
		if (pg_migrate_lint == MG_LINT_WARN)
			ereport(NOTICE,
					(errmsg_internal("%s", f->message),
					 errdetail("Lint rule %s (%s): revision \"%s\", statement %d, line %d, column %d.",
							   f->rule, f->severity, f->revision, f->statement, f->line, f->column),
					 f->hint ? errhint("%s", f->hint) : 0));
		else
			appendStringInfo(&detail, "%s%s statement %d, line %d: %s: %s.",
							 count > 1 ? "\n" : "", f->revision, f->statement, f->line,
							 f->rule, f->message);
	}

	if (pg_migrate_lint == MG_LINT_ERROR && count > 0)
		ereport(ERROR,
				(errcode(ERRCODE_MG_LINT),
				 errmsg_plural("the pending revisions have %d lint finding",
							   "the pending revisions have %d lint findings",
							   count, count),
				 errdetail_internal("%s", detail.data),
				 errhint("Fix the scripts, or after review silence a finding with a comment \"-- %s RULE_ID\" before its statement; migrate_lint_revision() shows each finding.",
						 IGNORE_MARKER)));
}

/*
 * Judge one statement: find the relation it locks and how, and apply the
 * rules for its kind.
 */
static void
lint_statement(LintStmt *st, Node *stmt)
{
	ListCell   *lc;

	switch (nodeTag(stmt))
	{
		case T_IndexStmt:
			lint_index(st, (IndexStmt *) stmt);
			break;
		case T_AlterTableStmt:
			lint_alter_table(st, (AlterTableStmt *) stmt);
			break;
		case T_RenameStmt:
			lint_rename(st, (RenameStmt *) stmt);
			break;
		case T_DropStmt:
			lint_drop(st, (DropStmt *) stmt);
			break;
		case T_VacuumStmt:
			lint_vacuum(st, (VacuumStmt *) stmt);
			break;
		case T_VariableSetStmt:
			lint_set(st, (VariableSetStmt *) stmt);
			break;
		case T_ClusterStmt:
			{
				ClusterStmt *c = (ClusterStmt *) stmt;

				if (c->relation == NULL)
					break;		/* every clustered table: non-transactional */
				st->rel = resolve(st, c->relation, AccessExclusiveLock);
				if (OidIsValid(st->rel->relid))
					add_finding(st, "cluster",
								psprintf("CLUSTER rewrites %s under an ACCESS EXCLUSIVE lock",
										 describe(st->rel)),
								pstrdup("Reads and writes of the table wait until the rewrite ends.  Reorganize the table outside the migration with a tool that holds the lock only briefly, such as pg_repack."));
				break;
			}
		case T_LockStmt:
			{
				LockStmt   *l = (LockStmt *) stmt;

				foreach(lc, l->relations)
				{
					LintRel    *rel = resolve(st, lfirst_node(RangeVar, lc), l->mode);

					if (st->rel == NULL)
						st->rel = rel;
					if (OidIsValid(rel->relid))
						add_finding(st, "lock-table",
									psprintf("LOCK TABLE locks \"%s\" in %s mode until the whole upgrade commits",
											 rel->name, lock_names[l->mode]),
									pstrdup("Every revision of an upgrade runs in one transaction, so the lock lasts until the last one is applied.  Let each statement take the lock it needs."));
				}
				break;
			}
		case T_TruncateStmt:
			foreach(lc, ((TruncateStmt *) stmt)->relations)
			{
				LintRel    *rel = resolve(st, lfirst_node(RangeVar, lc), AccessExclusiveLock);

				if (st->rel == NULL)
					st->rel = rel;
			}
			break;
		case T_CreateTrigStmt:
			st->rel = resolve(st, ((CreateTrigStmt *) stmt)->relation, ShareRowExclusiveLock);
			break;
		case T_RuleStmt:
			st->rel = resolve(st, ((RuleStmt *) stmt)->relation, AccessExclusiveLock);
			break;
		case T_CreatePolicyStmt:
			st->rel = resolve(st, ((CreatePolicyStmt *) stmt)->table, AccessExclusiveLock);
			break;
		case T_RefreshMatViewStmt:
			{
				RefreshMatViewStmt *r = (RefreshMatViewStmt *) stmt;

				st->rel = resolve(st, r->relation,
								  r->concurrent ? ExclusiveLock : AccessExclusiveLock);
				break;
			}
		case T_ReindexStmt:
			{
				ReindexStmt *r = (ReindexStmt *) stmt;
				bool		concurrently = false;

				foreach(lc, r->params)
					if (strcmp(lfirst_node(DefElem, lc)->defname, "concurrently") == 0)
						concurrently = defGetBoolean(lfirst_node(DefElem, lc));
				if (r->kind == REINDEX_OBJECT_TABLE)
					st->rel = resolve(st, r->relation,
									  concurrently ? ShareUpdateExclusiveLock : ShareLock);
				else if (r->kind == REINDEX_OBJECT_INDEX)
					st->rel = resolve_index(st, r->relation,
											concurrently ? ShareUpdateExclusiveLock : ShareLock);
				if (st->rel != NULL && st->rel->large && !concurrently)
					add_finding(st, "reindex-not-concurrent",
								psprintf("REINDEX without CONCURRENTLY blocks writes to %s, and reads that use the indexes, while they rebuild",
										 describe(st->rel)),
								pstrdup("Use REINDEX (CONCURRENTLY), in a revision of its own marked non-transactional (transaction:false), applied with CALL migrate_run()."));
				break;
			}
		case T_CreateStmt:
			{
				CreateStmt *c = (CreateStmt *) stmt;

				/* CREATE TABLE ... PARTITION OF locks the parent */
				if (c->partbound != NULL && c->inhRelations != NIL)
					st->rel = resolve(st, linitial_node(RangeVar, c->inhRelations),
									  AccessExclusiveLock);
				lint_created(st, c->relation);
				break;
			}
		case T_CreateTableAsStmt:
			lint_created(st, ((CreateTableAsStmt *) stmt)->into->rel);
			break;
		case T_ViewStmt:
			lint_created(st, ((ViewStmt *) stmt)->view);
			break;
		case T_CreateSeqStmt:
			lint_created(st, ((CreateSeqStmt *) stmt)->sequence);
			break;
		default:
			break;
	}
}

/*
 * CREATE INDEX: without CONCURRENTLY it holds a SHARE lock, which blocks
 * every write, for as long as the build takes.
 */
static void
lint_index(LintStmt *st, IndexStmt *stmt)
{
	LintRel    *rel = resolve(st, stmt->relation,
							  stmt->concurrent ? ShareUpdateExclusiveLock : ShareLock);

	st->rel = rel;
	if (stmt->idxname != NULL)
	{
		RangeVar   *index = makeRangeVar(stmt->relation->schemaname, stmt->idxname, -1);

		lint_created(st, index);
	}

	if (stmt->concurrent || !rel->large)
		return;

	if (get_rel_relkind(rel->relid) == RELKIND_PARTITIONED_TABLE)
		add_finding(st, "index-not-concurrent",
					psprintf("CREATE INDEX on %s blocks writes to every partition while the indexes build",
							 describe(rel)),
					pstrdup("A partitioned table cannot be indexed concurrently: create the index ON ONLY the parent, build each partition's index with CREATE INDEX CONCURRENTLY, and attach them with ALTER INDEX ... ATTACH PARTITION."));
	else
		add_finding(st, "index-not-concurrent",
					psprintf("CREATE INDEX without CONCURRENTLY blocks writes to %s while the index builds",
							 describe(rel)),
					pstrdup("Use CREATE INDEX CONCURRENTLY, in a revision of its own marked non-transactional (transaction:false), applied with CALL migrate_run()."));
}

/*
 * ALTER TABLE: one lock for the statement (the strongest its subcommands
 * need, as the server computes it), rules per subcommand.
 */
static void
lint_alter_table(LintStmt *st, AlterTableStmt *stmt)
{
	ListCell   *lc;

	if (stmt->objtype == OBJECT_INDEX)
		st->rel = resolve_index(st, stmt->relation, AlterTableGetLockLevel(stmt->cmds));
	else
		st->rel = resolve(st, stmt->relation, AlterTableGetLockLevel(stmt->cmds));

	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

		switch (cmd->subtype)
		{
			case AT_AddColumn:
				lint_add_column(st, castNode(ColumnDef, cmd->def));
				break;
			case AT_AddConstraint:
				lint_add_constraint(st, castNode(Constraint, cmd->def));
				break;
			case AT_ValidateConstraint:
				lint_validate(st, cmd->name);
				break;
			case AT_SetNotNull:
				lint_set_not_null(st, cmd->name);
				break;
			case AT_AlterColumnType:
				lint_column_type(st, cmd->name, castNode(ColumnDef, cmd->def));
				break;
			case AT_DropColumn:
				if (OidIsValid(st->rel->relid))
					add_finding(st, "drop-column",
								psprintf("dropping column \"%s\" of \"%s\" breaks code that still uses it",
										 cmd->name, st->rel->name),
								pstrdup("Deploy application code that no longer reads or writes the column first, and drop it in a later release."));
				break;
			default:
				break;
		}
	}
}

/*
 * ADD COLUMN: a volatile default, an identity, a stored generated column
 * or a serial type rewrites the table; NOT NULL without a default fails on
 * a table with rows; a column UNIQUE or PRIMARY KEY builds an index, a
 * column CHECK scans.
 */
static void
lint_add_column(LintStmt *st, ColumnDef *def)
{
	LintRel    *rel = st->rel;
	Node	   *default_expr = NULL;
	const char *rewrite = NULL;
	bool		not_null = false;
	ListCell   *lc;

	if (!OidIsValid(rel->relid))
		return;

	if (def->typeName && list_length(def->typeName->names) == 1 && !def->typeName->pct_type)
	{
		const char *typname = strVal(linitial(def->typeName->names));

		if (strcmp(typname, "serial") == 0 || strcmp(typname, "serial4") == 0 ||
			strcmp(typname, "bigserial") == 0 || strcmp(typname, "serial8") == 0 ||
			strcmp(typname, "smallserial") == 0 || strcmp(typname, "serial2") == 0)
			rewrite = psprintf("a %s column fills every row from a sequence", typname);
	}

	foreach(lc, def->constraints)
	{
		Constraint *con = lfirst_node(Constraint, lc);

		switch (con->contype)
		{
			case CONSTR_DEFAULT:
				default_expr = con->raw_expr;
				break;
			case CONSTR_IDENTITY:
				rewrite = "an identity column fills every row from a sequence";
				break;
			case CONSTR_GENERATED:
				rewrite = "a stored generated column computes every row";
				break;
			case CONSTR_NOTNULL:
				not_null = true;
				break;
			case CONSTR_PRIMARY:
				not_null = true;
				/* FALLTHROUGH */
			case CONSTR_UNIQUE:
				if (rel->large)
					add_finding(st, "unique-without-index",
								psprintf("adding column \"%s\" with %s builds an index on %s under an ACCESS EXCLUSIVE lock",
										 def->colname, con->contype == CONSTR_PRIMARY ? "PRIMARY KEY" : "UNIQUE",
										 describe(rel)),
								pstrdup("Add the column, build a unique index with CREATE UNIQUE INDEX CONCURRENTLY in a non-transactional revision, then ADD CONSTRAINT ... UNIQUE USING INDEX (or PRIMARY KEY USING INDEX)."));
				break;
			case CONSTR_CHECK:
				if (rel->large)
					add_finding(st, "constraint-not-valid",
								psprintf("adding column \"%s\" with a CHECK constraint scans %s under an ACCESS EXCLUSIVE lock",
										 def->colname, describe(rel)),
								pstrdup("Add the column, then the constraint with ADD CONSTRAINT ... CHECK (...) NOT VALID, and VALIDATE CONSTRAINT in a later upgrade."));
				break;
			default:
				break;
		}
	}

	if (default_expr != NULL && rewrite == NULL && rel->large)
	{
		DefaultWork work = {default_expr, false};

		if (!try_in_subtransaction(default_work, &work))
			;					/* a function created in this script, say */
		else if (work.volatile_)
			rewrite = "its default is volatile, so every row gets its own value";
		else
			st->note = psprintf("the default of column \"%s\" is not volatile, so no rewrite",
								def->colname);
	}

	if (rewrite != NULL && rel->large)
		add_finding(st, "volatile-default",
					psprintf("adding column \"%s\" rewrites %s under an ACCESS EXCLUSIVE lock: %s",
							 def->colname, describe(rel), rewrite),
					pstrdup("Add the column without a default (or with a constant or stable one, which needs no rewrite), set the default for new rows with ALTER COLUMN ... SET DEFAULT, and fill existing rows in batches."));

	if (not_null && default_expr == NULL && rewrite == NULL &&
		(rel->rows > 0 || (rel->rows < 0 && rel->size > 0)))
		add_finding(st, "add-required-column",
					psprintf("adding column \"%s\" NOT NULL without a default fails: %s has rows",
							 def->colname, describe(rel)),
					pstrdup("Give the column a constant default, or add it nullable, fill it, and add the NOT NULL constraint safely later."));
}

/*
 * ADD CONSTRAINT: a FOREIGN KEY or CHECK without NOT VALID scans the table
 * under the lock; a PRIMARY KEY or UNIQUE without USING INDEX builds its
 * index under ACCESS EXCLUSIVE, and PRIMARY KEY USING INDEX still sets its
 * columns NOT NULL.
 */
static void
lint_add_constraint(LintStmt *st, Constraint *con)
{
	LintRel    *rel = st->rel;
	char	   *column;

	if (con->contype == CONSTR_CHECK && OidIsValid(rel->relid))
	{
		LintCheck  *check = palloc0(sizeof(LintCheck));

		check->relid = rel->relid;
		check->conname = con->conname;
		check->notnull_column = is_not_null_test(con->raw_expr, &column) ? column : NULL;
		check->validated = !con->skip_validation;
		st->lint->checks = lappend(st->lint->checks, check);
	}

	if (!rel->large)
		return;

	switch (con->contype)
	{
		case CONSTR_FOREIGN:
			if (!con->skip_validation)
				add_finding(st, "constraint-not-valid",
							psprintf("adding a FOREIGN KEY scans %s while writes to it and to \"%s\" wait",
									 describe(rel), con->pktable->relname),
							pstrdup("Add it with NOT VALID, which only checks new rows, then VALIDATE CONSTRAINT in a later upgrade: validation takes a SHARE UPDATE EXCLUSIVE lock, which lets reads and writes through."));
			else
				st->note = pstrdup("NOT VALID skips the scan");
			break;
		case CONSTR_CHECK:
			if (!con->skip_validation)
				add_finding(st, "constraint-not-valid",
							psprintf("adding a CHECK constraint scans %s under an ACCESS EXCLUSIVE lock",
									 describe(rel)),
							pstrdup("Add it with NOT VALID, which only checks new rows, then VALIDATE CONSTRAINT in a later upgrade: validation takes a SHARE UPDATE EXCLUSIVE lock, which lets reads and writes through."));
			else
				st->note = pstrdup("NOT VALID skips the scan");
			break;
		case CONSTR_PRIMARY:
		case CONSTR_UNIQUE:
			if (con->indexname == NULL)
				add_finding(st, "unique-without-index",
							psprintf("adding a %s constraint builds an index on %s under an ACCESS EXCLUSIVE lock",
									 con->contype == CONSTR_PRIMARY ? "PRIMARY KEY" : "UNIQUE",
									 describe(rel)),
							pstrdup("Build the index first with CREATE UNIQUE INDEX CONCURRENTLY in a non-transactional revision, then add the constraint with ADD CONSTRAINT ... UNIQUE USING INDEX (or PRIMARY KEY USING INDEX), which takes the lock only briefly."));
			else if (con->contype == CONSTR_PRIMARY)
			{
				Oid			indexid = get_relname_relid(con->indexname,
														get_rel_namespace(rel->relid));
				HeapTuple	tuple = OidIsValid(indexid) ?
					SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexid)) : NULL;
				int			i;

				st->note = psprintf("USING INDEX \"%s\" builds no index", con->indexname);
				if (!HeapTupleIsValid(tuple))
					break;
				for (i = 0; i < ((Form_pg_index) GETSTRUCT(tuple))->indnkeyatts; i++)
				{
					AttrNumber	attnum = ((Form_pg_index) GETSTRUCT(tuple))->indkey.values[i];
					HeapTuple	atttuple = SearchSysCache2(ATTNUM, ObjectIdGetDatum(rel->relid),
														   Int16GetDatum(attnum));
					char	   *name;
					bool		notnull;

					if (!HeapTupleIsValid(atttuple))
						continue;
					name = pstrdup(NameStr(((Form_pg_attribute) GETSTRUCT(atttuple))->attname));
					notnull = ((Form_pg_attribute) GETSTRUCT(atttuple))->attnotnull;
					ReleaseSysCache(atttuple);
					if (!notnull && !not_null_implied(st->lint, rel->relid, attnum, name))
					{
						add_finding(st, "set-not-null",
									psprintf("PRIMARY KEY USING INDEX sets column \"%s\" NOT NULL, which scans %s under an ACCESS EXCLUSIVE lock",
											 name, describe(rel)),
									psprintf("First add CHECK (%s IS NOT NULL) NOT VALID and validate it in an earlier upgrade: the scan is then skipped.",
											 quote_identifier(name)));
						break;
					}
				}
				ReleaseSysCache(tuple);
			}
			break;
		default:
			break;
	}
}

/*
 * VALIDATE CONSTRAINT scans with a SHARE UPDATE EXCLUSIVE lock, which lets
 * writes through, unless the transaction already holds a lock that blocks
 * them.  Remember the constraint as validated.
 */
static void
lint_validate(LintStmt *st, const char *conname)
{
	LintRel    *rel = st->rel;
	LintCheck  *check;
	HeldLock   *held = NULL;
	ListCell   *lc;

	if (!OidIsValid(rel->relid))
		return;

	check = palloc0(sizeof(LintCheck));
	check->relid = rel->relid;
	check->conname = pstrdup(conname);
	check->validated = true;
	foreach(lc, st->lint->checks)
	{
		LintCheck  *added = lfirst(lc);

		if (added->relid == rel->relid && added->conname != NULL &&
			strcmp(added->conname, conname) == 0)
			check->notnull_column = added->notnull_column;
	}
	st->lint->checks = lappend(st->lint->checks, check);

	if (!rel->large)
		return;
	foreach(lc, st->lint->held)
	{
		HeldLock   *h = lfirst(lc);

		if (h->relid == rel->relid && h->mode >= ShareLock &&
			(held == NULL || h->mode > held->mode))
			held = h;
	}
	if (held != NULL)
	{
		add_finding(st, "validate-in-transaction",
					strcmp(held->revision, st->script->revision) == 0 ?
					psprintf("VALIDATE CONSTRAINT scans %s while the %s lock taken by statement %d still blocks writes",
							 describe(rel), lock_names[held->mode], held->statement) :
					psprintf("VALIDATE CONSTRAINT scans %s while the %s lock taken by statement %d of revision \"%s\" still blocks writes",
							 describe(rel), lock_names[held->mode], held->statement,
							 held->revision),
					pstrdup("Locks last until the upgrade commits, and every pending revision is applied in one transaction.  Validate in a later upgrade: apply up to the revision before it first (migrate_upgrade(target => ...)), then the rest."));
		return;
	}
	st->note = pstrdup("validation lets reads and writes through");
}

/*
 * SET NOT NULL scans the table under ACCESS EXCLUSIVE, unless the column is
 * NOT NULL already or a validated CHECK constraint implies it (PostgreSQL
 * 12 and later then skip the scan).
 */
static void
lint_set_not_null(LintStmt *st, const char *column)
{
	LintRel    *rel = st->rel;
	HeapTuple	tuple;
	AttrNumber	attnum;
	bool		notnull;

	if (!rel->large)
		return;
	tuple = SearchSysCacheAttName(rel->relid, column);
	if (!HeapTupleIsValid(tuple))
		return;					/* added in this script, or a typo */
	attnum = ((Form_pg_attribute) GETSTRUCT(tuple))->attnum;
	notnull = ((Form_pg_attribute) GETSTRUCT(tuple))->attnotnull;
	ReleaseSysCache(tuple);

	if (notnull)
		st->note = psprintf("column \"%s\" is NOT NULL already", column);
	else if (not_null_implied(st->lint, rel->relid, attnum, column))
		st->note = psprintf("a validated CHECK constraint proves column \"%s\" has no nulls, so no scan",
							column);
	else
		add_finding(st, "set-not-null",
					psprintf("SET NOT NULL on column \"%s\" scans %s under an ACCESS EXCLUSIVE lock",
							 column, describe(rel)),
					psprintf("Add CHECK (%s IS NOT NULL) NOT VALID, VALIDATE CONSTRAINT in a later upgrade, then SET NOT NULL, which skips the scan when a validated CHECK proves it.",
							 quote_identifier(column)));
}

/*
 * ALTER COLUMN TYPE: decided as the server decides.  The column is
 * coerced to the new type and the expression planned; the change rewrites
 * the table unless what remains is the column itself, relabelled (a
 * binary-coercible change such as varchar(10) to varchar(20) or text), a
 * timestamp/timestamptz change with the session's TimeZone at UTC, or a
 * domain without constraints.  A USING clause other than the column name
 * is taken to rewrite.
 */
static void
lint_column_type(LintStmt *st, const char *column, ColumnDef *def)
{
	LintRel    *rel = st->rel;
	HeapTuple	tuple;
	Form_pg_attribute att;
	TypeWork	type = {def->typeName, InvalidOid, -1};
	RewriteWork work = {0};
	char	   *using = def->raw_default ? column_ref_name(def->raw_default) : NULL;
	char	   *from;
	char	   *to;

	if (!rel->large)
		return;
	tuple = SearchSysCacheAttName(rel->relid, column);
	if (!HeapTupleIsValid(tuple))
		return;
	att = (Form_pg_attribute) GETSTRUCT(tuple);
	work.relid = rel->relid;
	work.attnum = att->attnum;
	work.oldtype = att->atttypid;
	work.oldtypmod = att->atttypmod;
	work.oldcoll = att->attcollation;
	ReleaseSysCache(tuple);

	if (!try_in_subtransaction(type_work, &type))
		return;					/* a type created in this script, or none */
	work.newtype = type.typid;
	work.newtypmod = type.typmod;
	from = format_type_with_typemod(work.oldtype, work.oldtypmod);
	to = format_type_with_typemod(work.newtype, work.newtypmod);

	if (def->raw_default != NULL && (using == NULL || strcmp(using, column) != 0))
	{
		add_finding(st, "column-type-rewrite",
					psprintf("changing column \"%s\" from %s to %s with USING rewrites %s under an ACCESS EXCLUSIVE lock",
							 column, from, to, describe(rel)),
					pstrdup("Add a new column of the new type, fill it in batches while a trigger keeps it current, then swap the columns in a short revision."));
		return;
	}

	if (!try_in_subtransaction(rewrite_work, &work) || !work.castable)
		return;					/* the server will say why */
	if (work.rewrite)
		add_finding(st, "column-type-rewrite",
					psprintf("changing column \"%s\" from %s to %s rewrites %s under an ACCESS EXCLUSIVE lock",
							 column, from, to, describe(rel)),
					pstrdup("Add a new column of the new type, fill it in batches while a trigger keeps it current, then swap the columns in a short revision."));
	else
		st->note = psprintf("changing column \"%s\" from %s to %s needs no rewrite", column, from, to);
}

/*
 * RENAME: a table or column renamed under running code breaks it; renames
 * of created relations are followed.
 */
static void
lint_rename(LintStmt *st, RenameStmt *stmt)
{
	if (stmt->relation == NULL)
		return;

	if (stmt->renameType == OBJECT_INDEX)
	{
		st->rel = resolve_index(st, stmt->relation, ShareUpdateExclusiveLock);
		return;
	}
	if (stmt->renameType != OBJECT_TABLE && stmt->renameType != OBJECT_COLUMN &&
		stmt->renameType != OBJECT_VIEW && stmt->renameType != OBJECT_MATVIEW &&
		stmt->renameType != OBJECT_FOREIGN_TABLE && stmt->renameType != OBJECT_TABCONSTRAINT &&
		stmt->renameType != OBJECT_SEQUENCE)
		return;

	st->rel = resolve(st, stmt->relation, AccessExclusiveLock);
	if (st->rel->is_new && stmt->renameType != OBJECT_COLUMN &&
		stmt->renameType != OBJECT_TABCONSTRAINT)
	{
		CreatedRel *created = find_created(st->lint, stmt->relation);

		created->name = pstrdup(stmt->newname);
		return;
	}
	if (!OidIsValid(st->rel->relid))
		return;

	if (stmt->renameType == OBJECT_COLUMN)
		add_finding(st, "rename-column",
					psprintf("renaming column \"%s\" of \"%s\" to \"%s\" breaks code that still uses the old name",
							 stmt->subname, st->rel->name, stmt->newname),
					pstrdup("Add the new column and keep both in step until no running code uses the old one, or rename in a release whose code reads both names (a view can keep the old name)."));
	else if (stmt->renameType != OBJECT_TABCONSTRAINT)
		add_finding(st, "rename-table",
					psprintf("renaming \"%s\" to \"%s\" breaks code that still uses the old name",
							 st->rel->name, stmt->newname),
					pstrdup("Deploy code that uses the new name first, keeping the old name alive meanwhile (for instance as a view), or rename in a release whose code reads both."));
}

/*
 * DROP TABLE breaks running code; DROP INDEX without CONCURRENTLY takes
 * ACCESS EXCLUSIVE on its table.
 */
static void
lint_drop(LintStmt *st, DropStmt *stmt)
{
	ListCell   *lc;

	foreach(lc, stmt->objects)
	{
		RangeVar   *rv;
		LintRel    *rel;

		if (stmt->removeType != OBJECT_TABLE && stmt->removeType != OBJECT_INDEX &&
			stmt->removeType != OBJECT_VIEW && stmt->removeType != OBJECT_MATVIEW &&
			stmt->removeType != OBJECT_SEQUENCE && stmt->removeType != OBJECT_FOREIGN_TABLE)
			return;

		rv = makeRangeVarFromNameList(lfirst_node(List, lc));
		if (stmt->removeType == OBJECT_INDEX)
		{
			bool		created = is_created(st->lint, rv);

			rel = resolve_index(st, rv, stmt->concurrent ? ShareUpdateExclusiveLock :
								AccessExclusiveLock);
			if (st->rel == NULL)
				st->rel = rel;
			if (!created && !stmt->concurrent && rel->large)
				add_finding(st, "drop-index-not-concurrent",
							psprintf("DROP INDEX \"%s\" without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on %s",
									 rv->relname, describe(rel)),
							pstrdup("Use DROP INDEX CONCURRENTLY in a revision of its own marked non-transactional (transaction:false), applied with CALL migrate_run()."));
			continue;
		}

		rel = resolve(st, rv, AccessExclusiveLock);
		if (st->rel == NULL)
			st->rel = rel;
		if (rel->is_new)
		{
			st->lint->created = list_delete_ptr(st->lint->created, find_created(st->lint, rv));
			continue;
		}
		if (OidIsValid(rel->relid) && stmt->removeType == OBJECT_TABLE)
			add_finding(st, "drop-table",
						psprintf("dropping table %s breaks code that still uses it", describe(rel)),
						pstrdup("Deploy application code that no longer uses the table first, and drop it in a later release."));
	}
}

/* VACUUM FULL rewrites each table under ACCESS EXCLUSIVE. */
static void
lint_vacuum(LintStmt *st, VacuumStmt *stmt)
{
	bool		full = false;
	ListCell   *lc;

	foreach(lc, stmt->options)
	{
		DefElem    *opt = lfirst_node(DefElem, lc);

		if (strcmp(opt->defname, "full") == 0)
			full = opt->arg == NULL || defGetBoolean(opt);
	}

	foreach(lc, stmt->rels)
	{
		VacuumRelation *vrel = lfirst_node(VacuumRelation, lc);
		LintRel    *rel;

		if (vrel->relation == NULL)
			continue;
		rel = resolve(st, vrel->relation, full ? AccessExclusiveLock : ShareUpdateExclusiveLock);
		if (st->rel == NULL)
			st->rel = rel;
		if (full && OidIsValid(rel->relid))
			add_finding(st, "vacuum-full",
						psprintf("VACUUM FULL rewrites %s under an ACCESS EXCLUSIVE lock",
								 describe(rel)),
						pstrdup("Reads and writes of the table wait until the rewrite ends.  Leave space to plain VACUUM, or reorganize the table with a tool that holds the lock only briefly, such as pg_repack."));
	}
	if (full && stmt->rels == NIL)
		add_finding(st, "vacuum-full",
					pstrdup("VACUUM FULL rewrites every table of the database under ACCESS EXCLUSIVE locks"),
					pstrdup("Leave space to plain VACUUM, or reorganize tables with a tool that holds locks only briefly, such as pg_repack."));
}

/* SET lock_timeout in a script changes it until the end of the script. */
static void
lint_set(LintStmt *st, VariableSetStmt *stmt)
{
	const char *value = NULL;
	int			ms;

	if (stmt->name == NULL || strcmp(stmt->name, "lock_timeout") != 0)
		return;
	if (stmt->kind == VAR_SET_VALUE)
		value = ExtractSetVariableArgs(stmt);
	else if (stmt->kind == VAR_SET_DEFAULT || stmt->kind == VAR_RESET)
		value = GetConfigOptionResetString("lock_timeout");
	if (value != NULL && parse_int(value, &ms, GUC_UNIT_MS, NULL))
		st->lock_timeout = ms;
}

/* Remember a relation created by the statement as new. */
static void
lint_created(LintStmt *st, RangeVar *rv)
{
	CreatedRel *created = palloc(sizeof(CreatedRel));

	created->schema = rv->schemaname ? pstrdup(rv->schemaname) : NULL;
	created->name = pstrdup(rv->relname);
	st->lint->created = lappend(st->lint->created, created);
}

/*
 * The relation rv names, which the statement locks in mode: new, existing
 * (with its size), or neither (created by an earlier statement the lint
 * does not follow, or a typo).  Takes no lock.  The statement's lock is
 * the strongest asked for.
 */
static LintRel *
resolve(LintStmt *st, RangeVar *rv, LOCKMODE mode)
{
	LintRel    *rel = palloc0(sizeof(LintRel));
	Oid			relid = InvalidOid;

	rel->rows = -1;
	rel->size = -1;
	rel->name = rv->schemaname ? psprintf("%s.%s", rv->schemaname, rv->relname) :
		pstrdup(rv->relname);
	if (mode > st->lockmode)
		st->lockmode = mode;

	if (is_created(st->lint, rv))
	{
		rel->is_new = true;
		return rel;
	}
	if (rv->catalogname == NULL)
		relid = RangeVarGetRelid(rv, NoLock, true);
	if (OidIsValid(relid))
		measure(rel, relid);
	return rel;
}

/*
 * Like resolve, for an index: the relation is the index's table, which is
 * what the statement locks in mode.
 */
static LintRel *
resolve_index(LintStmt *st, RangeVar *rv, LOCKMODE mode)
{
	LintRel    *rel;
	Oid			indexid = InvalidOid;
	Oid			relid;

	if (is_created(st->lint, rv))
	{
		rel = resolve(st, rv, mode);
		return rel;
	}
	if (rv->catalogname == NULL)
		indexid = RangeVarGetRelid(rv, NoLock, true);
	relid = OidIsValid(indexid) ? IndexGetRelation(indexid, true) : InvalidOid;
	if (!OidIsValid(relid))
		return resolve(st, rv, mode);

	rel = palloc0(sizeof(LintRel));
	if (mode > st->lockmode)
		st->lockmode = mode;
	measure(rel, relid);
	return rel;
}

/*
 * Fill in rel from the catalog for relid: its name, estimated rows and
 * size, and whether it is large.  Own temporary tables are private and
 * never large.  A relation dropped since relid was looked up is left
 * without relid, as a new one.
 */
static void
measure(LintRel *rel, Oid relid)
{
	char		relkind = get_rel_relkind(relid);
	char	   *relname = get_rel_name(relid);
	char	   *nspname = get_namespace_name(get_rel_namespace(relid));

	rel->rows = -1;
	rel->size = -1;
	if (relname == NULL || nspname == NULL)
	{
		/* dropped since it was looked up (no lock is held): as if new */
		rel->relid = InvalidOid;
		rel->name = pstrdup("(a relation dropped meanwhile)");
		return;
	}
	rel->relid = relid;
	rel->name = quote_qualified_identifier(nspname, relname);
	if (get_rel_persistence(relid) == RELPERSISTENCE_TEMP)
		return;

	if (relkind == RELKIND_PARTITIONED_TABLE)
	{
		List	   *parts = find_all_inheritors(relid, NoLock, NULL);
		ListCell   *lc;

		rel->rows = 0;
		rel->size = 0;
		foreach(lc, parts)
		{
			double		rows;
			int64		size;

			if (!RELKIND_HAS_STORAGE(get_rel_relkind(lfirst_oid(lc))))
				continue;
			measure_one(lfirst_oid(lc), &rows, &size);
			rel->rows = (rel->rows < 0 || rows < 0) ? -1 : rel->rows + rows;
			rel->size = (rel->size < 0 || size < 0) ? -1 : rel->size + size;
		}
	}
	else if (RELKIND_HAS_STORAGE(relkind))
		measure_one(relid, &rel->rows, &rel->size);

	rel->large =
		(pg_migrate_lint_large_table >= 0 && rel->rows >= 0 &&
		 rel->rows >= pg_migrate_lint_large_table) ||
		(pg_migrate_lint_large_table_size >= 0 && rel->size >= 0 &&
		 rel->size >= (int64) pg_migrate_lint_large_table_size * 1024);
}

/*
 * Estimated rows and size in bytes of one relation with storage, without
 * a lock.  The size is the current length of its main fork, read from the
 * storage manager (mdexists keeps the file open, so a concurrent drop
 * cannot make the length fail); pg_class.relpages, as of the last VACUUM
 * or ANALYZE, only when the file cannot be read so (mapped catalogs).  The
 * rows are reltuples scaled to the current length, as the planner does;
 * unknown (-1) when the table was never vacuumed or analyzed and has pages.
 */
static void
measure_one(Oid relid, double *rows, int64 *size)
{
	HeapTuple	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Form_pg_class cls;
	BlockNumber pages;

	*rows = -1;
	*size = -1;
	if (!HeapTupleIsValid(tuple))
		return;
	cls = (Form_pg_class) GETSTRUCT(tuple);
	pages = cls->relpages;
	if (OidIsValid(cls->relfilenode))
	{
		RelFileNode rnode;
		SMgrRelation srel;

		rnode.spcNode = OidIsValid(cls->reltablespace) ? cls->reltablespace : MyDatabaseTableSpace;
		rnode.dbNode = rnode.spcNode == GLOBALTABLESPACE_OID ? InvalidOid : MyDatabaseId;
		rnode.relNode = cls->relfilenode;
		srel = smgropen(rnode, InvalidBackendId);
		pages = smgrexists(srel, MAIN_FORKNUM) ? smgrnblocks(srel, MAIN_FORKNUM) : 0;
	}
	*size = (int64) pages * BLCKSZ;
	if (cls->reltuples >= 0 && cls->relpages > 0)
		*rows = rint(cls->reltuples / cls->relpages * pages);
	else if (pages == 0)
		*rows = 0;
	ReleaseSysCache(tuple);
}

/* Was rv created earlier in the transaction? */
static bool
is_created(MgLint *lint, const RangeVar *rv)
{
	return find_created(lint, rv) != NULL;
}

/*
 * The latest relation created earlier in the transaction under rv's name,
 * or NULL.  An unqualified name on either side matches any schema.
 */
static CreatedRel *
find_created(MgLint *lint, const RangeVar *rv)
{
	CreatedRel *found = NULL;
	ListCell   *lc;

	foreach(lc, lint->created)
	{
		CreatedRel *created = lfirst(lc);

		if (strcmp(created->name, rv->relname) == 0 &&
			(created->schema == NULL || rv->schemaname == NULL ||
			 strcmp(created->schema, rv->schemaname) == 0))
			found = created;
	}
	return found;
}

/* "table "s.t" (about N rows, SIZE)" for messages */
static char *
describe(const LintRel *rel)
{
	char	   *size;

	if (rel->size < 0)
		return psprintf("\"%s\"", rel->name);
	size = text_to_cstring(DatumGetTextPP(DirectFunctionCall1(pg_size_pretty,
															  Int64GetDatum(rel->size))));
	if (rel->rows < 0)
		return psprintf("\"%s\" (never analyzed, %s)", rel->name, size);
	return psprintf("\"%s\" (about %.0f rows, %s)", rel->name, rel->rows, size);
}

/*
 * Does a validated CHECK constraint of relid prove that column (attnum)
 * has no nulls?  The catalog's validated constraints, with those validated
 * earlier in the transaction, are tried the way the server tries them
 * (predicate_implied_by); CHECK (column IS NOT NULL) constraints added and
 * validated earlier in the transaction count too.
 */
static bool
not_null_implied(MgLint *lint, Oid relid, AttrNumber attnum, const char *column)
{
	List	   *proven = NIL;
	NullTest   *test;
	Relation	conrel;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tuple;
	ListCell   *lc;

	foreach(lc, lint->checks)
	{
		LintCheck  *check = lfirst(lc);

		if (check->relid == relid && check->validated && check->notnull_column != NULL &&
			strcmp(check->notnull_column, column) == 0)
			return true;
	}

	conrel = table_open(ConstraintRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_constraint_conrelid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	scan = systable_beginscan(conrel, ConstraintRelidTypidNameIndexId, true, NULL, 1, &key);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		Form_pg_constraint con = (Form_pg_constraint) GETSTRUCT(tuple);
		bool		validated = con->convalidated;
		Datum		bin;
		bool		isnull;
		Node	   *expr;

		if (con->contype != CONSTRAINT_CHECK)
			continue;
		foreach(lc, lint->checks)
		{
			LintCheck  *check = lfirst(lc);

			if (check->relid == relid && check->validated && check->conname != NULL &&
				strcmp(check->conname, NameStr(con->conname)) == 0)
				validated = true;
		}
		if (!validated)
			continue;
		bin = heap_getattr(tuple, Anum_pg_constraint_conbin, RelationGetDescr(conrel), &isnull);
		if (isnull)
			continue;
		expr = stringToNode(TextDatumGetCString(bin));
		expr = eval_const_expressions(NULL, expr);
		expr = (Node *) canonicalize_qual((Expr *) expr, true);
		proven = list_concat(proven, make_ands_implicit((Expr *) expr));
	}
	systable_endscan(scan);
	table_close(conrel, AccessShareLock);

	if (proven == NIL)
		return false;
	test = makeNode(NullTest);
	test->arg = (Expr *) makeVar(1, attnum, get_atttype(relid, attnum), -1, InvalidOid, 0);
	test->nulltesttype = IS_NOT_NULL;
	test->argisrow = false;
	test->location = -1;
	return predicate_implied_by(list_make1(test), proven, false);
}

/* Is the raw expr "column IS NOT NULL"?  Sets *column. */
static bool
is_not_null_test(Node *expr, char **column)
{
	NullTest   *test;

	if (expr == NULL || !IsA(expr, NullTest))
		return false;
	test = (NullTest *) expr;
	if (test->nulltesttype != IS_NOT_NULL)
		return false;
	*column = column_ref_name((Node *) test->arg);
	return *column != NULL;
}

/* The column a raw ColumnRef names (its last field), or NULL. */
static char *
column_ref_name(Node *node)
{
	ColumnRef  *ref;

	if (node == NULL || !IsA(node, ColumnRef))
		return NULL;
	ref = (ColumnRef *) node;
	if (!IsA(llast(ref->fields), String))
		return NULL;
	return strVal(llast(ref->fields));
}

/*
 * Run work(arg) in a subtransaction; false when it failed (the failure
 * means the lint cannot tell, not that the script is wrong).
 */
static bool
try_in_subtransaction(MgSubxactWork work, void *arg)
{
	ErrorData  *edata = mg_in_subtransaction(work, arg);

	if (edata == NULL)
		return true;
	FreeErrorData(edata);
	return false;
}

/* The type a TypeName names, with its typmod; raises an error if none. */
static void
type_work(void *arg)
{
	TypeWork   *work = arg;

	typenameTypeIdAndMod(NULL, work->typeName, &work->typid, &work->typmod);
}

/* Is a raw column default volatile?  Raises an error if it is invalid. */
static void
default_work(void *arg)
{
	DefaultWork *work = arg;
	ParseState *pstate = make_parsestate(NULL);
	Node	   *expr = transformExpr(pstate, copyObject(work->raw), EXPR_KIND_COLUMN_DEFAULT);

	work->volatile_ = contain_volatile_functions(expr);
	free_parsestate(pstate);
}

/*
 * Would changing the column's type rewrite the table?  The column, as a
 * Var, is coerced to the new type at assignment and the expression planned,
 * as ALTER TABLE does before it decides.
 */
static void
rewrite_work(void *arg)
{
	RewriteWork *work = arg;
	ParseState *pstate = make_parsestate(NULL);
	Node	   *expr;

	expr = (Node *) makeVar(1, work->attnum, work->oldtype, work->oldtypmod, work->oldcoll, 0);
	expr = coerce_to_target_type(pstate, expr, work->oldtype, work->newtype, work->newtypmod,
								 COERCION_ASSIGNMENT, COERCE_IMPLICIT_CAST, -1);
	free_parsestate(pstate);
	work->castable = expr != NULL;
	if (expr == NULL)
		return;
	assign_expr_collations(NULL, expr);
	expr = (Node *) expression_planner((Expr *) expr);
	work->rewrite = requires_rewrite(expr, work->attnum);
}

/*
 * The server's test (tablecmds.c, ATColumnChangeRequiresRewrite): the
 * planned coercion of column attnum rewrites unless it reduces to the
 * column through relabelling, domains without constraints, and the
 * timestamp/timestamptz conversions when TimeZone is UTC.
 */
static bool
requires_rewrite(Node *expr, AttrNumber attnum)
{
	for (;;)
	{
		if (IsA(expr, Var) && ((Var *) expr)->varattno == attnum)
			return false;
		else if (IsA(expr, RelabelType))
			expr = (Node *) ((RelabelType *) expr)->arg;
		else if (IsA(expr, CoerceToDomain))
		{
			CoerceToDomain *d = (CoerceToDomain *) expr;

			if (DomainHasConstraints(d->resulttype))
				return true;
			expr = (Node *) d->arg;
		}
		else if (IsA(expr, FuncExpr))
		{
			FuncExpr   *f = (FuncExpr *) expr;

			if ((f->funcid == F_TIMESTAMPTZ_TIMESTAMP || f->funcid == F_TIMESTAMP_TIMESTAMPTZ) &&
				!TimestampTimestampTzRequiresRewrite())
				expr = linitial(f->args);
			else
				return true;
		}
		else
			return true;
	}
}

/* Add a finding of rule about the statement, with its lock and relation. */
static void
add_finding(LintStmt *st, const char *rule, char *message, char *hint)
{
	MgLintFinding *f = new_finding(st->script, st->number, st->offset, rule, message, hint);

	if (st->rel != NULL)
	{
		f->lock_mode = lock_names[st->lockmode];
		f->relation = pstrdup(st->rel->name);
		f->rows = st->rel->rows;
		f->size = st->rel->size;
	}
	else if (st->lockmode != NoLock)
		f->lock_mode = lock_names[st->lockmode];
	st->findings = lappend(st->findings, f);
}

/* A finding of rule about statement number at byte offset of script. */
static MgLintFinding *
new_finding(const MgScript *script, int number, int offset, const char *rule,
			const char *message, const char *hint)
{
	MgLintFinding *f = palloc0(sizeof(MgLintFinding));
	const LintRule *r = find_rule(rule);

	Assert(r != NULL);
	f->revision = script->revision;
	f->statement = number;
	if (offset >= 0)
		mg_script_position(script->sql, offset, &f->line, &f->column);
	f->severity = r->severity;
	f->rule = r->id;
	f->message = mask(message);
	f->hint = hint ? mask(hint) : NULL;
	f->rows = -1;
	f->size = -1;
	return f;
}

/* The rule with id, or NULL. */
static const LintRule *
find_rule(const char *id)
{
	int			i;

	for (i = 0; i < lengthof(lint_rules); i++)
		if (strcmp(lint_rules[i].id, id) == 0)
			return &lint_rules[i];
	return NULL;
}

/*
 * The rule ids of "-- migrate:lint-ignore ID [ID ...] [-- reason]" comments
 * between byte offsets from and to of sql: the comments before a
 * statement.  Ids are separated by spaces or commas.
 */
static List *
ignores_before(const char *sql, int from, int to)
{
	List	   *ids = NIL;
	const char *p = sql + from;
	const char *end = sql + to;
	int			len = strlen(IGNORE_MARKER);

	while (p < end)
	{
		const char *eol = p;

		while (eol < end && *eol != '\n')
			eol++;
		while (p < eol && (*p == ' ' || *p == '\t'))
			p++;
		if (eol - p > 2 && p[0] == '-' && p[1] == '-')
		{
			p += 2;
			while (p < eol && (*p == ' ' || *p == '\t'))
				p++;
			if (eol - p > len && strncmp(p, IGNORE_MARKER, len) == 0 &&
				(p[len] == ' ' || p[len] == '\t'))
			{
				p += len;
				for (;;)
				{
					const char *start;

					while (p < eol && (*p == ' ' || *p == '\t' || *p == ',' || *p == '\r'))
						p++;
					if (eol - p >= 2 && p[0] == '-' && p[1] == '-')
						break;	/* the reason */
					start = p;
					while (p < eol && *p != ' ' && *p != '\t' && *p != ',' && *p != '\r')
						p++;
					if (p == start)
						break;
					ids = lappend(ids, pnstrdup(start, p - start));
				}
			}
		}
		p = eol + 1;
	}
	return ids;
}

/*
 * The statement's findings after its lint-ignore comments: findings of an
 * ignored rule become info, an unknown id and an ignore that silenced
 * nothing are findings of their own.
 */
static List *
apply_ignores(LintStmt *st, List *ignores)
{
	List	   *findings = st->findings;
	ListCell   *lc;
	ListCell   *fc;

	foreach(lc, ignores)
	{
		const char *id = lfirst(lc);
		bool		used = false;

		if (find_rule(id) == NULL)
		{
			st->findings = NIL;
			add_finding(st, "unknown-lint-rule",
						psprintf("unknown lint rule \"%s\" in a lint-ignore comment", id),
						pstrdup("Name a rule that migrate_lint reports, such as index-not-concurrent; README.md lists them."));
			findings = list_concat(findings, st->findings);
			continue;
		}
		foreach(fc, findings)
		{
			MgLintFinding *f = lfirst(fc);

			if (strcmp(f->rule, id) == 0 && strcmp(f->severity, "info") != 0)
			{
				f->severity = "info";
				f->message = psprintf("ignored by a lint-ignore comment: %s", f->message);
				used = true;
			}
		}
		if (!used)
		{
			st->findings = NIL;
			add_finding(st, "lint-ignore-unused",
						psprintf("the lint-ignore comment for rule \"%s\" silences nothing here", id),
						pstrdup("Remove the comment, or move it to the line before the statement it is meant for."));
			findings = list_concat(findings, st->findings);
		}
	}
	return findings;
}

/*
 * A message as it may be shown: secrets in it masked (mask.c).  Messages
 * quote the script (a meta-command line, a syntax error's token) and
 * names from it.
 */
static char *
mask(const char *text)
{
	return mg_mask_secrets(text);
}
