/*-------------------------------------------------------------------------
 *
 * mask.c
 *	  Replace secrets with "****" in SQL text and in messages: passwords of
 *	  CREATE/ALTER ROLE/USER ... PASSWORD, of OPTIONS (password ...) in
 *	  user mappings and foreign servers, the password of a connection URI
 *	  (scheme://user:secret@host) and of a key=value connection string
 *	  (password=secret).
 *
 * How secrets are found.  Three detectors add up:
 *
 *	- the server's parser, when the text is SQL that parses: the password
 *	  option of CreateRoleStmt and AlterRoleStmt, and every option whose
 *	  name contains "password" of user mappings, foreign servers, foreign
 *	  data wrappers and IMPORT FOREIGN SCHEMA; the literal is found from the
 *	  option's token location.  Only mg_mask_secrets uses it (see below).
 *	- a lexer, for everything (scripts that do not parse, a fragment of SQL
 *	  quoted in a message, the message itself): a string literal that
 *	  follows a word or quoted identifier containing "password" (the
 *	  keyword PASSWORD, an option name, a JSON key), optionally with "=" or
 *	  ":" between them, and in CREATE/ALTER ROLE, USER or GROUP a bare word
 *	  after PASSWORD (a password written without quotes).  The content of
 *	  every other string literal, quoted identifier and comment is masked
 *	  recursively, unquoted first, so that SQL quoted in SQL ('CREATE ROLE
 *	  r PASSWORD ''s''', the statement in a log line, the JSON of
 *	  migrate_sync) and a statement commented out are masked too.
 *	- a scan of the text between tokens (and of string contents and
 *	  comments, through the recursion) for URIs, and after every word
 *	  ending in "password" for "=" and the value of a key=value
 *	  connection string, read as libpq's conninfo_parse reads it
 *	  (fe-connect.c): a backslash escapes the next byte, quoted or not;
 *	  a quoted value ends at the first quote no backslash escapes, an
 *	  unquoted one at the first white space no backslash escapes.  Where
 *	  the same bytes read as SQL (a doubled quote, a quoted identifier, a
 *	  dollar quote) or as the real text of an E'' literal or JSON string
 *	  (backslashes written twice) make a longer value, the longest is
 *	  masked: masking too much hides a few bytes of a message, masking
 *	  too little shows part of a password.
 *
 * The lexer is this file's own, written after the rules of the server's
 * scan.l (standard and E'' strings, doubled quotes, backslash escapes,
 * dollar quotes with tags, U&'' and U&"", nested comments), rather than
 * the core scanner: the core scanner reports bad input with
 * ereport(ERROR), and masking must work where an error cannot be raised or
 * caught: in emit_log_hook, while a message is being emitted, and in a
 * PG_CATCH block before FlushErrorState, on message text that is often not
 * valid SQL at all (an unterminated quote in "syntax error at or near").
 * It never fails: an unterminated literal runs to the end of the text,
 * bytes of multibyte characters are ident characters as in scan.l, and
 * nothing is read beyond the text's length.  The parser is used only by
 * mg_mask_secrets, inside PG_TRY: a syntax error just means "no parse
 * tree", so that function must not be called while an error is being
 * handled.
 *
 * Where pg_migrate masks, and why there:
 *
 *	- errors of a user's script are masked where pg_migrate catches them:
 *	  mg_in_subtransaction (subxact.c) copies every error raised while a
 *	  script is parsed (validation) or run (executor) and masks the copy
 *	  before handing it on; the executor and validation then mask it again
 *	  with the script's own secrets (mg_mask_error_script), which catches a
 *	  secret quoted bare in a syntax error.  mg_script_parse, and the
 *	  registry's checksum of a script being registered, mask an error of
 *	  the parser or lexer raised outside a subtransaction before
 *	  re-throwing it (mg_mask_rethrow): the lexer's "at or near" quotes
 *	  the rest of the script.  So an
 *	  error leaves pg_migrate already masked: a caller's EXCEPTION block,
 *	  GET STACKED DIAGNOSTICS, a failure recorded in the history and the
 *	  client all see the masked text, whatever log_min_messages says.
 *	- every message emitted in a session where the library is loaded goes
 *	  through mask_emit_log_hook, which masks the same fields, and, for
 *	  the server log's STATEMENT: line, replaces debug_query_string with a
 *	  masked copy.  The hook is called only for messages that go to the
 *	  server log, so while pg_migrate runs scripts (mg_mask_messages_begin)
 *	  log_min_messages is lowered to what the client receives, and the hook
 *	  keeps out of the server log what the real setting would have kept
 *	  out: a script's NOTICE reaches the client masked.
 *	- every SQL-callable function calls mg_mask_activity as it starts (in
 *	  entry.c's connect_spi), so that pg_stat_activity shows the caller's
 *	  statement masked for the rest of the call and after it, while the
 *	  session is idle.
 *
 * What cannot be masked here: log lines written before the library is
 * loaded into the session (the first pg_migrate call loads it; put
 * pg_migrate in session_preload_libraries or shared_preload_libraries to
 * cover a session's first statement); the caller's statement in
 * pg_stat_activity from its start until pg_migrate's function begins;
 * pg_stat_statements, which keeps a utility statement's text as it was
 * sent, and with pg_stat_statements.track = all the statements of the
 * scripts as well; messages of level WARNING_CLIENT_ONLY, which never
 * reach the hook; a NOTICE of a script that itself raises
 * log_min_messages above the client's level; and psql's own "LINE 1:"
 * echo of a statement it sent, which it prints from its copy.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"
#include "tcop/tcopprot.h"
#include "utils/backend_status.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#include "mask.h"

/* how deep SQL quoted in SQL (in JSON in SQL ...) is masked */
#define MAX_DEPTH 4

/*
 * Shortest secret of a script that is masked wherever a message quotes it
 * (replace_known): masking every "ab" would mangle messages and protect
 * nothing.  Shorter ones are still masked where the rules find them.
 */
#define MIN_KNOWN_LEN 3

/* What the lexer sees: just enough of scan.l to know where literals are */
typedef enum MaskTokenKind
{
	MT_SPACE,					/* white space or a comment */
	MT_WORD,					/* identifier, keyword or number */
	MT_QIDENT,					/* quoted identifier */
	MT_STRING,					/* string literal, dollar-quoted too */
	MT_OTHER					/* any other single byte */
} MaskTokenKind;

/* One token of a text, as byte offsets into it */
typedef struct MaskToken
{
	MaskTokenKind kind;
	int			start;			/* first byte */
	int			end;			/* one past the last byte */
	int			body_start;		/* strings, quoted identifiers: content */
	int			body_end;
	bool		terminated;		/* the closing delimiter is there */
	bool		backslashes;	/* backslash escapes (E'', or
								 * standard_conforming_strings off) */
	bool		dollar;			/* dollar-quoted: no escapes at all */
} MaskToken;

/* A replacement made at the top level, for moving a cursor position. */
typedef struct MaskEdit
{
	int			orig_start;
	int			orig_end;
	int			new_start;
	int			new_end;
} MaskEdit;

/* The work of masking one text, or one literal's content inside it */
typedef struct MaskState
{
	StringInfoData out;
	bool		changed;
	/* top level only: token starts the parser says are secrets */
	const int  *forced;
	int			nforced;
	/* top level only: replacements made, when track is set */
	bool		track;
	MaskEdit   *edits;
	int			nedits;
	int			maxedits;
	/*
	 * this level is the content of an E'' literal or of a JSON string
	 * (lexed as a quoted identifier), or of a literal inside one: a
	 * backslash of the real text may be written doubled here
	 */
	bool		escaped;
	/* secrets found, when collect is set (shared with nested levels) */
	bool		collect;
	List	  **secrets;		/* masked values, raw and unquoted */
	List	  **bare;			/* bare words after PASSWORD */
} MaskState;

static emit_log_hook_type prev_emit_log_hook = NULL;

/* set by mg_mask_messages_begin: log_min_messages before it lowered it */
static bool forcing = false;
static int	forced_level;
static int	real_level;

/* a masked copy of debug_query_string, in TopMemoryContext */
static char *masked_query = NULL;

static char *mask_text(const char *text, bool parse, MaskState *parent);
static void mask_level(const char *s, int len, int depth, MaskState *st);
static void next_token(const char *s, int len, int pos, MaskToken *t);
static int	scan_quoted(const char *s, int len, int pos, char quote, bool backslashes,
						MaskToken *t);
static bool is_ident_start(unsigned char c);
static bool is_ident_char(unsigned char c);
static bool has_hint(const char *s, int len);
static bool contains_password(const char *s, int len);
static void mask_plain(const char *s, int from, int to, MaskState *st);
static int	uri_secret(const char *s, int pos, int to, int *end);
static int	conninfo_value(const char *s, int len, int pos, bool escaped,
						   bool in_query, int *vstart, MaskToken *sqltok,
						   bool *closed, bool *extended);
static int	libpq_value_end(const char *s, int len, int pos, bool doubled,
							bool *closed);
static int	unquoted_end(const char *s, int len, int pos, bool doubled);
static int	real_char(const char *s, int len, int pos, bool doubled, char *c);
static bool is_blank(char c);
static char *libpq_unescape(const char *s, int from, int to);
static void emit_copy(MaskState *st, const char *s, int from, int to);
static void emit_replace(MaskState *st, int from, int to, const char *text, int len);
static void collect_secret(List **list, const char *s, int len);
static char *unquote(const char *s, int from, int to, char quote, bool backslashes);
static char *requote(const char *s, char quote);
static int *parse_secret_offsets(const char *sql, int *n);
static int	literal_after(const char *sql, int location);
static void mask_field(char **field, List *secrets, List *bare);
static void mask_query_field(ErrorData *edata, List *secrets, List *bare);
static char *replace_known(const char *text, List *secrets, List *bare, int *pos);
static int	map_offset(const MaskState *st, int offset);
static bool level_is_logged(int elevel, int min_level);
static const char *level_name(int elevel);
static void mask_emit_log_hook(ErrorData *edata);
static bool mask_debug_query_string(void);

/*
 * A palloc'd copy of text with every secret masked; NULL for NULL.  Uses
 * the parser too: not while an error is being handled.
 */
char *
mg_mask_secrets(const char *text)
{
	if (text == NULL)
		return NULL;
	return mask_text(text, true, NULL);
}

/*
 * Mask edata's text fields in place; see mask.h.
 */
void
mg_mask_error(ErrorData *edata)
{
	mg_mask_error_script(edata, NULL);
}

/*
 * Mask edata's text fields in place, and the secrets of sql wherever they
 * are quoted; see mask.h.
 */
void
mg_mask_error_script(ErrorData *edata, const char *sql)
{
	List	   *secrets = NIL;
	List	   *bare = NIL;

	if (edata == NULL)
		return;

	if (sql != NULL && has_hint(sql, strlen(sql)))
	{
		MaskState	st = {0};

		st.collect = true;
		st.secrets = &secrets;
		st.bare = &bare;
		pfree(mask_text(sql, false, &st));
	}

	mask_field(&edata->message, secrets, bare);
	mask_field(&edata->detail, secrets, bare);
	mask_field(&edata->detail_log, secrets, bare);
	mask_field(&edata->hint, secrets, bare);
	mask_field(&edata->context, secrets, bare);
	mask_query_field(edata, secrets, bare);
}

/*
 * Re-throw the error being handled, masked; see mask.h.
 */
void
mg_mask_rethrow(MemoryContext context, const char *sql)
{
	ErrorData  *edata;

	MemoryContextSwitchTo(context);
	edata = CopyErrorData();
	FlushErrorState();
	mg_mask_error_script(edata, sql);
	ReThrowError(edata);
}

/*
 * Mask one field of an ErrorData: the generic rules, then the known
 * secrets.
 */
static void
mask_field(char **field, List *secrets, List *bare)
{
	char	   *masked;

	if (*field == NULL)
		return;
	if (!has_hint(*field, strlen(*field)) && secrets == NIL && bare == NIL)
		return;
	masked = mask_text(*field, false, NULL);
	if (secrets != NIL || bare != NIL)
	{
		char	   *known = replace_known(masked, secrets, bare, NULL);

		pfree(masked);
		masked = known;
	}
	*field = masked;
}

/*
 * Mask edata->internalquery, moving internalpos (1-based, in characters)
 * to the same token in the masked text: a position inside a masked
 * literal points at its start.
 */
static void
mask_query_field(ErrorData *edata, List *secrets, List *bare)
{
	const char *query = edata->internalquery;
	int			len;
	int			pos = -1;
	MaskState	st = {0};
	char	   *masked;

	if (query == NULL)
		return;
	len = strlen(query);
	if (!has_hint(query, len) && secrets == NIL && bare == NIL)
		return;

	if (edata->internalpos > 0)
	{
		int			chars = edata->internalpos - 1;
		const char *p = query;
		const char *end = query + len;

		while (chars-- > 0 && p < end)
			p += Min(pg_mblen(p), (int) (end - p));
		pos = p - query;
	}

	st.track = true;
	masked = mask_text(query, false, &st);
	if (pos >= 0)
		pos = map_offset(&st, pos);
	if (secrets != NIL || bare != NIL)
	{
		char	   *known = replace_known(masked, secrets, bare, &pos);

		pfree(masked);
		masked = known;
	}
	if (edata->internalpos > 0)
		edata->internalpos = pg_mbstrlen_with_len(masked, Max(pos, 0)) + 1;
	edata->internalquery = masked;
}

/*
 * Mask text.  parse: let the parser find secrets too.  parent, if given,
 * says whether to track edits and collect secrets, and receives them.
 */
static char *
mask_text(const char *text, bool parse, MaskState *parent)
{
	MaskState	st = {0};
	int			len = strlen(text);
	int		   *forced = NULL;

	if (!has_hint(text, len))
		return pstrdup(text);

	if (parent != NULL)
	{
		st.track = parent->track;
		st.collect = parent->collect;
		st.secrets = parent->secrets;
		st.bare = parent->bare;
	}
	if (parse)
	{
		forced = parse_secret_offsets(text, &st.nforced);
		st.forced = forced;
	}
	initStringInfo(&st.out);
	mask_level(text, len, 0, &st);

	if (parent != NULL)
	{
		parent->edits = st.edits;
		parent->nedits = st.nedits;
		parent->maxedits = st.maxedits;
		parent->changed = st.changed;
	}
	if (forced != NULL)
		pfree(forced);
	return st.out.data;
}

/*
 * Mask s[0..len) into st->out.  depth 0 is the text itself; deeper levels
 * are the contents of its literals.
 */
static void
mask_level(const char *s, int len, int depth, MaskState *st)
{
	int			pos = 0;
	int			plain = 0;		/* start of the text not yet emitted */
	int			pending = 0;	/* 1: after a password name; 2: and "=" */
	bool		after_keyword = false;	/* after the word PASSWORD */
	int			role = 0;		/* 1: after CREATE or ALTER; 2: in a role
								 * statement; 3: after CREATE/ALTER USER */
	MaskToken	t;

	while (pos < len)
	{
		bool		secret_name = false;
		bool		is_keyword = false;

		next_token(s, len, pos, &t);
		pos = t.end;
		if (t.kind == MT_SPACE)
		{
			/* a comment may hold a statement commented out: mask inside */
			if (t.end - t.start >= 2 && (s[t.start] == '-' || s[t.start] == '/') &&
				depth < MAX_DEPTH && has_hint(s + t.start + 2, t.end - t.start - 2))
			{
				int			body_end = t.end;
				MaskState	sub = {0};

				if (s[t.start] == '/' && t.end - t.start >= 4 &&
					s[t.end - 2] == '*' && s[t.end - 1] == '/')
					body_end = t.end - 2;
				sub.collect = st->collect;
				sub.secrets = st->secrets;
				sub.bare = st->bare;
				sub.escaped = st->escaped;
				initStringInfo(&sub.out);
				mask_level(s + t.start + 2, body_end - t.start - 2, depth + 1, &sub);
				if (sub.changed)
				{
					StringInfoData buf;

					mask_plain(s, plain, t.start, st);
					initStringInfo(&buf);
					appendBinaryStringInfo(&buf, s + t.start, 2);
					appendBinaryStringInfo(&buf, sub.out.data, sub.out.len);
					appendBinaryStringInfo(&buf, s + body_end, t.end - body_end);
					emit_replace(st, t.start, t.end, buf.data, buf.len);
					pfree(buf.data);
					plain = t.end;
				}
				pfree(sub.out.data);
			}
			continue;
		}

		if (t.kind == MT_STRING || t.kind == MT_QIDENT)
		{
			bool		forced = false;
			int			i;

			if (depth == 0)
				for (i = 0; i < st->nforced && !forced; i++)
					forced = st->forced[i] == t.start;

			mask_plain(s, plain, t.start, st);
			plain = t.end;

			if (forced || (pending > 0 && (t.kind == MT_STRING || pending == 2)))
			{
				StringInfoData buf;

				initStringInfo(&buf);
				appendBinaryStringInfo(&buf, s + t.start, t.body_start - t.start);
				appendStringInfoString(&buf, MG_MASK);
				if (t.terminated)
					appendBinaryStringInfo(&buf, s + t.body_end, t.end - t.body_end);
				emit_replace(st, t.start, t.end, buf.data, buf.len);
				pfree(buf.data);
				if (st->collect)
				{
					char	   *value = t.dollar ?
						pnstrdup(s + t.body_start, t.body_end - t.body_start) :
						unquote(s, t.body_start, t.body_end,
								t.kind == MT_QIDENT ? '"' : '\'', t.backslashes);

					collect_secret(st->secrets, s + t.body_start,
								   t.body_end - t.body_start);
					collect_secret(st->secrets, value, strlen(value));
				}
				pending = 0;
				after_keyword = false;
				continue;
			}

			if (t.kind == MT_QIDENT && contains_password(s + t.body_start,
														 t.body_end - t.body_start))
				secret_name = true;

			/* mask what is quoted inside */
			if (depth < MAX_DEPTH &&
				has_hint(s + t.body_start, t.body_end - t.body_start))
			{
				char		quote = t.kind == MT_QIDENT ? '"' : '\'';
				char	   *inner = t.dollar ?
					pnstrdup(s + t.body_start, t.body_end - t.body_start) :
					unquote(s, t.body_start, t.body_end, quote, t.backslashes);
				MaskState	sub = {0};

				sub.collect = st->collect;
				sub.secrets = st->secrets;
				sub.bare = st->bare;
				/* E'' content, or a JSON string (lexed as a quoted identifier) */
				sub.escaped = st->escaped || t.backslashes || t.kind == MT_QIDENT;
				initStringInfo(&sub.out);
				mask_level(inner, strlen(inner), depth + 1, &sub);
				if (sub.changed)
				{
					StringInfoData buf;
					char	   *body = t.dollar ? sub.out.data : requote(sub.out.data, quote);

					initStringInfo(&buf);
					appendBinaryStringInfo(&buf, s + t.start, t.body_start - t.start);
					appendStringInfoString(&buf, body);
					if (t.terminated)
						appendBinaryStringInfo(&buf, s + t.body_end, t.end - t.body_end);
					emit_replace(st, t.start, t.end, buf.data, buf.len);
					pfree(buf.data);
				}
				else
					emit_copy(st, s, t.start, t.end);
				pfree(inner);
				pfree(sub.out.data);
			}
			else
				emit_copy(st, s, t.start, t.end);

			pending = secret_name ? 1 : 0;
			after_keyword = false;
			continue;
		}

		if (t.kind == MT_WORD)
		{
			const char *w = s + t.start;
			int			n = t.end - t.start;
			bool		is_null = n == 4 && pg_strncasecmp(w, "null", 4) == 0;

			is_keyword = n == 8 && pg_strncasecmp(w, "password", 8) == 0;
			secret_name = contains_password(w, n);

			/*
			 * password=value (sslpassword=value ...) of a key=value
			 * connection string: the value as libpq reads it, quoted or
			 * not, with its backslash escapes.
			 */
			if (n >= 8 && pg_strncasecmp(w + n - 8, "password", 8) == 0)
			{
				int			vstart = 0;
				MaskToken	vt;
				bool		closed;
				bool		extended;
				/* a URI's query parameter: ?password=... or &password=... */
				bool		in_query = t.start > 0 &&
					(s[t.start - 1] == '?' || s[t.start - 1] == '&');
				int			vend = conninfo_value(s, len, t.end, st->escaped, in_query,
												  &vstart, &vt, &closed, &extended);

				if (vend > vstart)
				{
					StringInfoData buf;

					mask_plain(s, plain, vstart, st);
					initStringInfo(&buf);
					if (extended)
						appendStringInfoString(&buf, MG_MASK);
					else if ((vt.kind == MT_STRING || vt.kind == MT_QIDENT) && vt.end == vend)
					{
						/* as SQL quotes it: E'****', "****", $q$****$q$ */
						appendBinaryStringInfo(&buf, s + vt.start, vt.body_start - vt.start);
						appendStringInfoString(&buf, MG_MASK);
						if (vt.terminated)
							appendBinaryStringInfo(&buf, s + vt.body_end, vt.end - vt.body_end);
					}
					else if (s[vstart] == '\'')
					{
						/* as libpq quotes it */
						appendStringInfoChar(&buf, '\'');
						appendStringInfoString(&buf, MG_MASK);
						if (closed)
							appendStringInfoChar(&buf, '\'');
					}
					else
						appendStringInfoString(&buf, MG_MASK);
					emit_replace(st, vstart, vend, buf.data, buf.len);
					pfree(buf.data);
					if (st->collect)
					{
						char	   *value = libpq_unescape(s, vstart, vend);

						collect_secret(st->secrets, s + vstart, vend - vstart);
						collect_secret(st->secrets, value, strlen(value));
						pfree(value);
					}
					plain = pos = vend;
					pending = 0;
					after_keyword = false;
					continue;
				}
			}

			/*
			 * A bare word after PASSWORD: in a message, maybe a password
			 * the parser quotes back ("at or near"); in CREATE/ALTER ROLE,
			 * USER or GROUP, a password written without quotes, which is
			 * a syntax error the statement's log line must not show.  In
			 * other statements it is no secret ("password text" in CREATE
			 * TABLE).
			 */
			if (after_keyword && !secret_name && !is_null)
			{
				if (st->collect)
					collect_secret(st->bare, w, n);
				if (role >= 2)
				{
					int			end = t.start;

					while (end < len && s[end] != ' ' && s[end] != '\t' &&
						   s[end] != '\n' && s[end] != '\r' && s[end] != ';' &&
						   s[end] != '\'' && s[end] != '"')
						end++;
					mask_plain(s, plain, t.start, st);
					emit_replace(st, t.start, end, MG_MASK, strlen(MG_MASK));
					if (st->collect)
						collect_secret(st->secrets, w, end - t.start);
					plain = pos = end;
					pending = 0;
					after_keyword = false;
					continue;
				}
			}

			if ((n == 6 && pg_strncasecmp(w, "create", 6) == 0) ||
				(n == 5 && pg_strncasecmp(w, "alter", 5) == 0))
				role = 1;
			else if (role == 1)
				role = (n == 4 && pg_strncasecmp(w, "role", 4) == 0) ||
					(n == 5 && pg_strncasecmp(w, "group", 5) == 0) ? 2 :
					(n == 4 && pg_strncasecmp(w, "user", 4) == 0) ? 3 : 0;
			else if (role == 3)
				role = (n == 7 && pg_strncasecmp(w, "mapping", 7) == 0) ? 0 : 2;

			pending = secret_name ? 1 : 0;
			after_keyword = is_keyword;
			continue;
		}

		/* MT_OTHER */
		if (pending == 1 && (s[t.start] == '=' || s[t.start] == ':'))
			pending = 2;
		else
			pending = 0;
		if (s[t.start] == ';')
			role = 0;
		after_keyword = false;
	}
	mask_plain(s, plain, len, st);
}

/*
 * The token of s[0..len) that starts at pos < len.
 */
static void
next_token(const char *s, int len, int pos, MaskToken *t)
{
	unsigned char c = (unsigned char) s[pos];
	unsigned char c1 = pos + 1 < len ? (unsigned char) s[pos + 1] : '\0';
	unsigned char c2 = pos + 2 < len ? (unsigned char) s[pos + 2] : '\0';
	int			i;

	memset(t, 0, sizeof(MaskToken));
	t->start = pos;

	if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v')
	{
		i = pos;
		while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' ||
						   s[i] == '\r' || s[i] == '\f' || s[i] == '\v'))
			i++;
		t->kind = MT_SPACE;
		t->end = i;
		return;
	}
	if (c == '-' && c1 == '-')
	{
		i = pos;
		while (i < len && s[i] != '\n')
			i++;
		t->kind = MT_SPACE;
		t->end = i;
		return;
	}
	if (c == '/' && c1 == '*')
	{
		int			depth = 1;

		i = pos + 2;
		while (i < len && depth > 0)
		{
			if (s[i] == '/' && i + 1 < len && s[i + 1] == '*')
				depth++, i += 2;
			else if (s[i] == '*' && i + 1 < len && s[i + 1] == '/')
				depth--, i += 2;
			else
				i++;
		}
		t->kind = MT_SPACE;
		t->end = i;
		return;
	}
	if ((c == 'e' || c == 'E') && c1 == '\'')
	{
		scan_quoted(s, len, pos + 1, '\'', true, t);
		return;
	}
	if ((c == 'b' || c == 'B' || c == 'x' || c == 'X' || c == 'n' || c == 'N') && c1 == '\'')
	{
		scan_quoted(s, len, pos + 1, '\'', !mg_standard_conforming_strings, t);
		return;
	}
	if ((c == 'u' || c == 'U') && c1 == '&' && (c2 == '\'' || c2 == '"'))
	{
		scan_quoted(s, len, pos + 2, (char) c2, false, t);
		return;
	}
	if (is_ident_start(c))
	{
		i = pos + 1;
		while (i < len && is_ident_char((unsigned char) s[i]))
			i++;
		t->kind = MT_WORD;
		t->end = i;
		return;
	}
	if (c >= '0' && c <= '9')
	{
		/* a number, with any junk after it, as one word */
		i = pos + 1;
		while (i < len && (is_ident_char((unsigned char) s[i]) || s[i] == '.'))
			i++;
		t->kind = MT_WORD;
		t->end = i;
		return;
	}
	if (c == '\'')
	{
		scan_quoted(s, len, pos, '\'', !mg_standard_conforming_strings, t);
		return;
	}
	if (c == '"')
	{
		scan_quoted(s, len, pos, '"', false, t);
		return;
	}
	if (c == '$')
	{
		/* $tag$ or $$ starts a dollar quote; $1 is a parameter */
		i = pos + 1;
		if (i < len && is_ident_start((unsigned char) s[i]))
		{
			i++;
			while (i < len && is_ident_char((unsigned char) s[i]) && s[i] != '$')
				i++;
		}
		if (i < len && s[i] == '$')
		{
			int			taglen = i + 1 - pos;
			int			j;

			t->kind = MT_STRING;
			t->dollar = true;
			t->body_start = i + 1;
			for (j = i + 1; j + taglen <= len; j++)
			{
				if (memcmp(s + j, s + pos, taglen) == 0)
				{
					t->body_end = j;
					t->end = j + taglen;
					t->terminated = true;
					return;
				}
			}
			t->body_end = len;
			t->end = len;
			return;
		}
	}
	t->kind = MT_OTHER;
	t->end = pos + 1;
}

/*
 * Scan a literal whose opening quote is at s[pos] into t (whose start is
 * already set, before any prefix such as E or U&).  Doubled quotes stand
 * for one; with backslashes, a backslash escapes the next byte.  Returns
 * t->end.
 */
static int
scan_quoted(const char *s, int len, int pos, char quote, bool backslashes, MaskToken *t)
{
	int			i = pos + 1;

	t->kind = quote == '"' ? MT_QIDENT : MT_STRING;
	t->backslashes = backslashes;
	t->body_start = i;
	while (i < len)
	{
		if (backslashes && s[i] == '\\')
			i += 2;
		else if (s[i] == quote)
		{
			if (i + 1 < len && s[i + 1] == quote)
				i += 2;
			else
			{
				t->body_end = i;
				t->end = i + 1;
				t->terminated = true;
				return t->end;
			}
		}
		else
			i++;
	}
	t->body_end = len;
	t->end = len;
	return t->end;
}

/* scan.l's ident_start: letters, underscore, and bytes of multibyte chars */
static bool
is_ident_start(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

/* scan.l's ident_cont: ident_start, digits and dollar */
static bool
is_ident_char(unsigned char c)
{
	return is_ident_start(c) || (c >= '0' && c <= '9') || c == '$';
}

/*
 * Could s[0..len) hold a secret at all?  Every secret follows a name that
 * contains "password", or is in a URI ("://").  The cheap test that keeps
 * masking off the path of ordinary messages.
 */
static bool
has_hint(const char *s, int len)
{
	int			i;

	for (i = 0; i + 3 <= len; i++)
	{
		if (s[i] == ':' && s[i + 1] == '/' && s[i + 2] == '/')
			return true;
		if ((s[i] == 'p' || s[i] == 'P') && i + 8 <= len &&
			pg_strncasecmp(s + i, "password", 8) == 0)
			return true;
	}
	return false;
}

/* Does s[0..len) contain "password", in any case? */
static bool
contains_password(const char *s, int len)
{
	int			i;

	for (i = 0; i + 8 <= len; i++)
		if (pg_strncasecmp(s + i, "password", 8) == 0)
			return true;
	return false;
}

/*
 * Emit s[from..to), text between tokens, masking URI passwords
 * (password=value is found by mask_level, as it may run past to).
 */
static void
mask_plain(const char *s, int from, int to, MaskState *st)
{
	int			pos = from;
	int			copied = from;

	while (pos < to)
	{
		int			start;
		int			end;

		start = uri_secret(s, pos, to, &end);
		if (start >= 0 && end > start)
		{
			emit_copy(st, s, copied, start);
			emit_replace(st, start, end, MG_MASK, strlen(MG_MASK));
			if (st->collect)
				collect_secret(st->secrets, s + start, end - start);
			copied = end;
			pos = end;
		}
		else
			pos++;
	}
	emit_copy(st, s, copied, to);
}

/*
 * If a URI's "://" starts at s[pos], the start of its password (returned)
 * and its end (*end); else -1.  The password is what lies between the
 * first ":" and the last "@" of the authority.
 */
static int
uri_secret(const char *s, int pos, int to, int *end)
{
	int			i;
	int			at = -1;
	int			colon = -1;

	if (pos + 3 > to || s[pos] != ':' || s[pos + 1] != '/' || s[pos + 2] != '/')
		return -1;
	/* a scheme: a letter, then letters, digits, "+", "-", "." */
	if (pos == 0 || !isalnum((unsigned char) s[pos - 1]))
		return -1;

	for (i = pos + 3; i < to; i++)
	{
		char		c = s[i];

		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
			c == '\v' || c == '/' || c == '?' || c == '#' || c == '"')
			break;
		if (c == '@')
			at = i;
	}
	if (at < 0)
		return -1;
	for (i = pos + 3; i < at; i++)
		if (s[i] == ':')
		{
			colon = i;
			break;
		}
	if (colon < 0 || colon + 1 >= at)
		return -1;
	*end = at;
	return colon + 1;
}

/*
 * After a word ending in "password" (password, sslpassword), which ends at
 * s[pos]: if white space, "=", white space and a value follow, set *vstart
 * to the value's start and return its end; else -1.
 *
 * The value is what libpq's conninfo_parse (fe-connect.c) takes for it:
 * quoted ('...'), it runs to the first quote that no backslash escapes,
 * or, unterminated, to the end of the text (libpq refuses the string; the
 * rest is still the secret); unquoted, to the first white space that no
 * backslash escapes.  A backslash escapes any byte, itself and quotes
 * included.  Where the text could be read another way, the longest
 * reading wins, so that no part of the secret is left:
 *
 *	- read as SQL, a literal or quoted identifier starting at the value may
 *	  run further ('a''b', "a b", $$a b$$, E'a\' b'); *sqltok is that
 *	  token, for quoting the mask the same way;
 *	- escaped (the text is the content of an E'' literal or of a JSON
 *	  string, where each backslash of the real text is written twice):
 *	  libpq's rules applied to the real text too.
 *
 * *closed says whether a quoted value (libpq's reading) has its closing
 * quote; *extended that the value was taken on beyond every reading, and
 * must be masked as **** alone (see below).  "=>" followed by a literal
 * is a named argument (password => 'x'): the value is that literal.
 * in_query: the word is a parameter of a URI's query, whose value libpq
 * takes to the next "&" (masked as **** alone).
 */
static int
conninfo_value(const char *s, int len, int pos, bool escaped, bool in_query,
			   int *vstart, MaskToken *sqltok, bool *closed, bool *extended)
{
	int			i = pos;
	int			end;

	memset(sqltok, 0, sizeof(MaskToken));
	*closed = false;
	*extended = false;
	while (i < len && is_blank(s[i]))
		i++;
	if (i >= len || s[i] != '=')
		return -1;
	i++;
	if (i < len && s[i] == '>')
	{
		/* a named argument, password => 'x': the literal after it */
		int			j = i + 1;

		while (j < len && is_blank(s[j]))
			j++;
		if (j < len)
		{
			next_token(s, len, j, sqltok);
			if (sqltok->kind == MT_STRING || sqltok->kind == MT_QIDENT)
			{
				*vstart = j;
				*closed = sqltok->terminated;
				return sqltok->end;
			}
			memset(sqltok, 0, sizeof(MaskToken));
		}
	}
	while (i < len && is_blank(s[i]))
		i++;
	if (i >= len)
		return -1;

	*vstart = i;
	if (in_query)
	{
		/*
		 * libpq takes a URI's query parameter to the next "&", white space
		 * included: where the URI ends in running text is not known
		 */
		end = i;
		while (end < len && s[end] != '&')
			end++;
		*extended = true;
		return end;
	}
	end = libpq_value_end(s, len, i, false, closed);
	if (escaped)
	{
		bool		closed_real;
		int			end_real = libpq_value_end(s, len, i, true, &closed_real);

		if (end_real > end)
		{
			end = end_real;
			*closed = closed_real;
		}
	}
	next_token(s, len, i, sqltok);
	if ((sqltok->kind == MT_STRING || sqltok->kind == MT_QIDENT) && sqltok->end > end)
		end = sqltok->end;

	/*
	 * Masking again must find the mask as the whole value, or masking is
	 * not idempotent and a second pass (the server log masks what an
	 * error already masked) would mask more.  The mask is the value's
	 * quotes around ****, or **** alone.  A quoted mask followed by its
	 * own quote would be read as SQL's doubled quote; a mask libpq reads
	 * unquoted (****, "****", $$****$$) runs on to the next white space.
	 * In those cases the value is taken on, as libpq would read an
	 * unquoted value, to white space, and masked as **** alone.
	 */
	for (;;)
	{
		bool		sql_form = (sqltok->kind == MT_STRING || sqltok->kind == MT_QIDENT) &&
			sqltok->end == end;
		bool		stable;
		int			next;

		if (end >= len)
			break;
		if (*extended)
			stable = is_blank(s[end]);
		else if (sql_form)
			stable = (s[i] == '\'' || is_blank(s[end])) &&
				(sqltok->dollar || s[end] != s[end - 1]);
		else if (s[i] == '\'')
			stable = s[end] != '\'';
		else
			stable = is_blank(s[end]);
		if (stable)
			break;
		*extended = true;
		next = unquoted_end(s, len, end, false);
		if (escaped)
			next = Max(next, unquoted_end(s, len, end, true));
		end = Max(next, end + 1);
	}
	return end;
}

/*
 * The end of the libpq value starting at s[pos] (see conninfo_value), and
 * in *closed whether it is quoted and closed; doubled: read the real text
 * of an E'' literal's or a JSON string's content, where "\\" is one
 * backslash.
 */
static int
libpq_value_end(const char *s, int len, int pos, bool doubled, bool *closed)
{
	int			i = pos;
	char		c;

	*closed = false;
	if (s[i] == '\'')
	{
		i++;
		while (i < len)
		{
			i += real_char(s, len, i, doubled, &c);
			if (c == '\\')
			{
				if (i < len)
					i += real_char(s, len, i, doubled, &c);
			}
			else if (c == '\'')
			{
				*closed = true;
				return i;
			}
		}
		return len;
	}
	return unquoted_end(s, len, i, doubled);
}

/*
 * Where an unquoted libpq value read from s[pos] on ends: at the first
 * white space no backslash escapes; doubled as for libpq_value_end.
 */
static int
unquoted_end(const char *s, int len, int pos, bool doubled)
{
	int			i = pos;
	char		c;

	while (i < len)
	{
		int			n = real_char(s, len, i, doubled, &c);

		if (is_blank(c))
			return i;
		i += n;
		if (c == '\\' && i < len)
			i += real_char(s, len, i, doubled, &c);
	}
	return len;
}

/*
 * The character of the real text at s[pos] into *c, and how many bytes it
 * takes: one, or with doubled (an E'' literal's content) two for a
 * backslash escape, "\\" being a backslash and "\n", "\r", "\t", "\f" the
 * white space they stand for.  Other escapes (octal, hex, Unicode) are
 * read as a character that is not white space and not a quote: at worst
 * a value is read longer than it is.
 */
static int
real_char(const char *s, int len, int pos, bool doubled, char *c)
{
	*c = s[pos];
	if (!doubled || s[pos] != '\\' || pos + 1 >= len)
		return 1;
	switch (s[pos + 1])
	{
		case '\\':
			*c = '\\';
			break;
		case 'n':
			*c = '\n';
			break;
		case 'r':
			*c = '\r';
			break;
		case 't':
			*c = '\t';
			break;
		case 'f':
			*c = '\f';
			break;
		default:
			*c = 'x';
			break;
	}
	return 2;
}

/* white space, as isspace in the C locale, which libpq uses */
static bool
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/*
 * The libpq value s[from..to) without its quotes and escapes, palloc'd:
 * what libpq passes on as the password, which a message may quote.
 */
static char *
libpq_unescape(const char *s, int from, int to)
{
	char	   *out = palloc(to - from + 1);
	int			n = 0;
	int			i = from;
	bool		quoted = s[i] == '\'';

	if (quoted)
		i++;
	while (i < to)
	{
		if (s[i] == '\\' && i + 1 < to)
			i++;
		else if (quoted && s[i] == '\'')
			break;
		out[n++] = s[i++];
	}
	out[n] = '\0';
	return out;
}

/* Copy s[from..to) to the output unchanged. */
static void
emit_copy(MaskState *st, const char *s, int from, int to)
{
	if (to > from)
		appendBinaryStringInfo(&st->out, s + from, to - from);
}

/*
 * Emit text (len bytes) in place of s[from..to) of this level, and note
 * the edit when tracking.
 */
static void
emit_replace(MaskState *st, int from, int to, const char *text, int len)
{
	if (st->track)
	{
		if (st->nedits == st->maxedits)
		{
			st->maxedits = Max(8, st->maxedits * 2);
			st->edits = st->edits == NULL ?
				palloc(sizeof(MaskEdit) * st->maxedits) :
				repalloc(st->edits, sizeof(MaskEdit) * st->maxedits);
		}
		st->edits[st->nedits].orig_start = from;
		st->edits[st->nedits].orig_end = to;
		st->edits[st->nedits].new_start = st->out.len;
		st->edits[st->nedits].new_end = st->out.len + len;
		st->nedits++;
	}
	appendBinaryStringInfo(&st->out, text, len);
	st->changed = true;
}

/* Add a copy of s[0..len) to *list, once; list may be NULL. */
static void
collect_secret(List **list, const char *s, int len)
{
	ListCell   *lc;

	if (list == NULL || len <= 0)
		return;
	foreach(lc, *list)
	{
		const char *known = lfirst(lc);

		if ((int) strlen(known) == len && memcmp(known, s, len) == 0)
			return;
	}
	*list = lappend(*list, pnstrdup(s, len));
}

/*
 * The content s[from..to) of a literal or quoted identifier without its
 * escapes: a doubled quote becomes one, and with backslashes, \' becomes
 * '.  Other backslash sequences are kept as they are, so that requote
 * gives back an equivalent literal.
 */
static char *
unquote(const char *s, int from, int to, char quote, bool backslashes)
{
	char	   *out = palloc(to - from + 1);
	int			n = 0;
	int			i = from;

	while (i < to)
	{
		if (s[i] == quote && i + 1 < to && s[i + 1] == quote)
		{
			out[n++] = quote;
			i += 2;
		}
		else if (backslashes && s[i] == '\\' && i + 1 < to)
		{
			if (s[i + 1] == quote)
				out[n++] = quote;
			else
			{
				out[n++] = s[i];
				out[n++] = s[i + 1];
			}
			i += 2;
		}
		else
			out[n++] = s[i++];
	}
	out[n] = '\0';
	return out;
}

/* s with every quote doubled, palloc'd. */
static char *
requote(const char *s, char quote)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (; *s; s++)
	{
		if (*s == quote)
			appendStringInfoChar(&buf, quote);
		appendStringInfoChar(&buf, *s);
	}
	return buf.data;
}

/*
 * Byte offsets in sql of the literals that the parse tree says are
 * passwords; NULL (and *n = 0) when there are none or sql does not parse.
 * A syntax error is caught and forgotten: the parser has no other side
 * effects, so no subtransaction is needed.
 */
static int *
parse_secret_offsets(const char *sql, int *n)
{
	MemoryContext oldcontext = CurrentMemoryContext;
	List	   *volatile stmts = NIL;
	int			save_client = client_min_messages;
	int			save_log = mg_log_min_messages;
	int		   *offsets = NULL;
	int			count = 0;
	ListCell   *lc;

	*n = 0;

	/*
	 * The parser reports some things it accepts with a NOTICE or WARNING
	 * (an identifier truncated, GLOBAL in CREATE TEMP TABLE, a backslash in
	 * a string when standard_conforming_strings is off): masking must not
	 * talk, so nothing below ERROR is emitted while it runs.
	 */
	client_min_messages = ERROR;
	mg_log_min_messages = ERROR;
	PG_TRY();
	{
		stmts = raw_parser(sql, RAW_PARSE_DEFAULT);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(oldcontext);
		FlushErrorState();
		stmts = NIL;
	}
	PG_END_TRY();
	client_min_messages = save_client;
	mg_log_min_messages = save_log;

	foreach(lc, stmts)
	{
		Node	   *stmt = lfirst_node(RawStmt, lc)->stmt;
		List	   *options;
		bool		role = false;
		ListCell   *lo;

		switch (nodeTag(stmt))
		{
			case T_CreateRoleStmt:
				options = ((CreateRoleStmt *) stmt)->options;
				role = true;
				break;
			case T_AlterRoleStmt:
				options = ((AlterRoleStmt *) stmt)->options;
				role = true;
				break;
			case T_CreateUserMappingStmt:
				options = ((CreateUserMappingStmt *) stmt)->options;
				break;
			case T_AlterUserMappingStmt:
				options = ((AlterUserMappingStmt *) stmt)->options;
				break;
			case T_CreateForeignServerStmt:
				options = ((CreateForeignServerStmt *) stmt)->options;
				break;
			case T_AlterForeignServerStmt:
				options = ((AlterForeignServerStmt *) stmt)->options;
				break;
			case T_CreateFdwStmt:
				options = ((CreateFdwStmt *) stmt)->options;
				break;
			case T_AlterFdwStmt:
				options = ((AlterFdwStmt *) stmt)->options;
				break;
			case T_ImportForeignSchemaStmt:
				options = ((ImportForeignSchemaStmt *) stmt)->options;
				break;
			default:
				continue;
		}

		foreach(lo, options)
		{
			DefElem    *opt = lfirst_node(DefElem, lo);
			int			offset;

			if (opt->arg == NULL || opt->location < 0)
				continue;
			if (role ? strcmp(opt->defname, "password") != 0 :
				!contains_password(opt->defname, strlen(opt->defname)))
				continue;
			offset = literal_after(sql, opt->location);
			if (offset < 0)
				continue;
			if (offsets == NULL)
				offsets = palloc(sizeof(int) * 8);
			else if (count % 8 == 0)
				offsets = repalloc(offsets, sizeof(int) * (count + 8));
			offsets[count++] = offset;
		}
	}
	*n = count;
	return offsets;
}

/*
 * The start of the first string literal at or after location, the
 * location of an option (its name, or ENCRYPTED before PASSWORD); -1 if
 * none comes within the next few tokens.
 */
static int
literal_after(const char *sql, int location)
{
	int			len = strlen(sql);
	int			pos = location;
	int			seen = 0;
	MaskToken	t;

	while (pos < len && seen < 4)
	{
		next_token(sql, len, pos, &t);
		pos = t.end;
		if (t.kind == MT_SPACE)
			continue;
		if (t.kind == MT_STRING)
			return t.start;
		seen++;
	}
	return -1;
}

/*
 * text with the known secrets of a script masked: each value wherever it
 * appears not as part of a longer word, each bare word only where it is
 * quoted in double quotes (as "at or near" quotes a token).  *pos, if
 * given and not negative, is a byte offset in text moved to the same
 * place in the result.
 */
static char *
replace_known(const char *text, List *secrets, List *bare, int *pos)
{
	StringInfoData buf;
	int			len = strlen(text);
	int			i = 0;
	int			newpos = -1;

	initStringInfo(&buf);
	while (i < len)
	{
		int			matched = 0;
		const char *replacement = NULL;
		ListCell   *lc;

		if (pos != NULL && *pos == i)
			newpos = buf.len;

		foreach(lc, secrets)
		{
			const char *v = lfirst(lc);
			int			n = strlen(v);

			if (n < MIN_KNOWN_LEN || n <= matched || i + n > len ||
				memcmp(text + i, v, n) != 0)
				continue;
			if (is_ident_char((unsigned char) v[0]) && i > 0 &&
				is_ident_char((unsigned char) text[i - 1]))
				continue;
			if (is_ident_char((unsigned char) v[n - 1]) && i + n < len &&
				is_ident_char((unsigned char) text[i + n]))
				continue;
			if (strcmp(v, MG_MASK) == 0)
				continue;
			matched = n;
			replacement = MG_MASK;
		}
		if (matched == 0 && text[i] == '"')
		{
			foreach(lc, bare)
			{
				const char *v = lfirst(lc);
				int			n = strlen(v);

				if (i + n + 2 <= len && memcmp(text + i + 1, v, n) == 0 &&
					text[i + n + 1] == '"')
				{
					matched = n + 2;
					replacement = "\"" MG_MASK "\"";
					break;
				}
			}
		}
		if (matched > 0)
		{
			if (pos != NULL && *pos > i && *pos < i + matched)
				newpos = buf.len;
			appendStringInfoString(&buf, replacement);
			i += matched;
		}
		else
			appendStringInfoChar(&buf, text[i++]);
	}
	if (pos != NULL)
		*pos = newpos >= 0 ? newpos : (*pos >= 0 ? buf.len : *pos);
	return buf.data;
}

/*
 * Where byte offset of the text masked with st is in the masked text: in
 * a replaced part, at its start.
 */
static int
map_offset(const MaskState *st, int offset)
{
	int			delta = 0;
	int			i;

	for (i = 0; i < st->nedits; i++)
	{
		const MaskEdit *e = &st->edits[i];

		if (offset < e->orig_start)
			break;
		if (offset < e->orig_end)
			return e->new_start;
		delta = e->new_end - e->orig_end;
	}
	return offset + delta;
}

/*
 * Mirror of elog.c's is_log_level_output: does a message of elevel go to
 * the server log when log_min_messages is min_level?
 */
static bool
level_is_logged(int elevel, int min_level)
{
	if (elevel == LOG || elevel == LOG_SERVER_ONLY)
		return min_level == LOG || min_level <= ERROR;
	if (elevel == WARNING_CLIENT_ONLY)
		return false;
	if (min_level == LOG)
		return elevel >= FATAL;
	return elevel >= min_level;
}

/* log_min_messages' name for a level */
static const char *
level_name(int elevel)
{
	switch (elevel)
	{
		case NOTICE:
			return "notice";
		case WARNING:
			return "warning";
		case ERROR:
			return "error";
		case LOG:
			return "log";
		case FATAL:
			return "fatal";
		case PANIC:
			return "panic";
		case DEBUG5:
			return "debug5";
		case DEBUG4:
			return "debug4";
		case DEBUG3:
			return "debug3";
		case DEBUG2:
			return "debug2";
		case DEBUG1:
			return "debug1";
		default:
			return "info";
	}
}

/*
 * Start letting every message the client receives pass through the hook;
 * see mask.h.  Lowers log_min_messages, in a GUC nest level of its own, to
 * client_min_messages (or INFO, which the client always gets), unless the
 * server log already takes all that.
 */
int
mg_mask_messages_begin(void)
{
	int			nestlevel = NewGUCNestLevel();
	int			want = client_min_messages < LOG ? client_min_messages : INFO;

	if (forcing || !(mg_log_min_messages == LOG || mg_log_min_messages > want))
		return nestlevel;

	real_level = mg_log_min_messages;
	if (set_config_option("log_min_messages", level_name(want),
						  PGC_SUSET, PGC_S_SESSION, GUC_ACTION_SAVE,
						  true, 0, false) > 0)
	{
		forced_level = mg_log_min_messages;
		forcing = true;
	}
	return nestlevel;
}

/*
 * Undo mg_mask_messages_begin; nestlevel is what it returned, and every
 * GUC nest level opened after it must be closed already.
 */
void
mg_mask_messages_end(int nestlevel)
{
	AtEOXact_GUC(false, nestlevel);
	forcing = false;
}

/*
 * The log_min_messages the server log really uses, by name: the setting
 * mg_mask_messages_begin lowered, while it is lowered.  For the top-level
 * runner's worker (toplevel.c), which takes on this backend's settings,
 * so that its messages reach the server log as this backend's would.
 */
const char *
mg_mask_log_min_messages(void)
{
	if (forcing && mg_log_min_messages == forced_level)
		return level_name(real_level);
	return level_name(mg_log_min_messages);
}

/*
 * Install the hook, keeping the one installed before.
 */
void
MaskInit(void)
{
	prev_emit_log_hook = emit_log_hook;
	emit_log_hook = mask_emit_log_hook;
}

/*
 * emit_log_hook: mask the message's fields (what the server log and the
 * client will get alike), and the statement the server log quotes with
 * it.  While mg_mask_messages_begin has lowered log_min_messages, keep out
 * of the server log what the real setting would keep out.  Must not raise
 * an error: only the non-failing lexer runs here.
 */
static void
mask_emit_log_hook(ErrorData *edata)
{
	if (!in_error_recursion_trouble())
	{
		mg_mask_error(edata);
		if (debug_query_string != NULL && debug_query_string != masked_query &&
			CritSectionCount == 0 && check_log_of_query(edata))
			(void) mask_debug_query_string();
	}

	if (forcing && mg_log_min_messages == forced_level &&
		!level_is_logged(edata->elevel, real_level))
		edata->output_to_server = false;

	if (prev_emit_log_hook)
		prev_emit_log_hook(edata);
}

/*
 * Point debug_query_string, the statement the server log quotes in its
 * STATEMENT: lines, at a masked copy when the statement holds a secret;
 * return whether it did.  The copy lives in TopMemoryContext until the
 * next statement needs one; postgres.c points debug_query_string at each
 * new statement, and resets it at the end of every statement.  The caller
 * must have checked that debug_query_string is set and is not the copy.
 */
static bool
mask_debug_query_string(void)
{
	int			len = strlen(debug_query_string);
	MemoryContext oldcontext;
	char	   *masked;

	if (!has_hint(debug_query_string, len))
		return false;
	masked = mask_text(debug_query_string, false, NULL);
	if (strcmp(masked, debug_query_string) == 0)
	{
		pfree(masked);
		return false;
	}

	oldcontext = MemoryContextSwitchTo(TopMemoryContext);
	if (masked_query != NULL)
		pfree(masked_query);
	masked_query = pstrdup(masked);
	MemoryContextSwitchTo(oldcontext);
	pfree(masked);
	debug_query_string = masked_query;
	return true;
}

/*
 * Show the client's statement masked in pg_stat_activity; see mask.h.
 */
void
mg_mask_activity(void)
{
	if (debug_query_string == NULL || debug_query_string == masked_query)
		return;
	if (mask_debug_query_string())
		pgstat_report_activity(STATE_RUNNING, debug_query_string);
}
