/*-------------------------------------------------------------------------
 *
 * checksum.c
 *	  SHA-256 of a script's tokens, as the server's own lexer reads them.
 *
 * Other tools hash the bytes of a file and raise false alarms when an
 * editor converts line endings or a formatter re-indents.  pg_migrate feeds
 * the hash with the script's tokens instead: whitespace, line endings and
 * comments do not count, every token does.  Each token is hashed as a
 * category byte, a length and its text:
 *
 *	- identifiers and keywords alike as 'W' and their normalised text (the
 *	  lexer down-cases unquoted words, so "CREATE" and "create" are equal,
 *	  "Foo" quoted is not foo), so a word that becomes a keyword in a later
 *	  server release does not change the checksum;
 *	- literals by kind ('S' string, 'B' bit string, 'X' hex string, 'I'
 *	  integer, 'F' numeric) and value, so 'a' and $$a$$ are equal; a CR
 *	  before an LF inside a literal is dropped, so converting a file's line
 *	  endings does not change a function body's checksum either;
 *	- operators and punctuation as 'O' and their text, except that empty
 *	  statements do not count: a run of semicolons hashes as one, and
 *	  semicolons before the first or after the last statement not at all,
 *	  so "a;" and "a" are equal and so are "a;; b" and "a; b".
 *
 * The lexer runs with standard_conforming_strings on whatever the session
 * says, so the checksum of a script does not depend on who registers it.
 * A script that does not lex (an unterminated quote, say) raises the
 * lexer's own syntax error; the caller adds context.
 *
 * This file is a leaf: it knows the lexer and nothing of pg_migrate.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/cryptohash.h"
#include "common/keywords.h"
#include "common/sha2.h"
#include "parser/gramparse.h"
#include "parser/parser.h"
#include "parser/scanner.h"

#include "checksum.h"

static void hash_item(pg_cryptohash_ctx *ctx, char category, const char *text, size_t len);
static void hash_literal(pg_cryptohash_ctx *ctx, char category, const char *text);

/*
 * Return the checksum of sql as 64 lower-case hex digits, palloc'd.
 */
char *
mg_script_checksum(const char *sql)
{
	core_yy_extra_type yyextra;
	core_yyscan_t scanner;
	core_YYSTYPE yylval;
	YYLTYPE		yylloc;
	pg_cryptohash_ctx *ctx;
	uint8		digest[PG_SHA256_DIGEST_LENGTH];
	char	   *hex;
	bool		statement_seen = false;
	bool		semicolon_pending = false;
	int			i;

	ctx = pg_cryptohash_create(PG_SHA256);
	if (pg_cryptohash_init(ctx) < 0)
		elog(ERROR, "could not initialize SHA-256 context");

	scanner = scanner_init(sql, &yyextra, &ScanKeywords, ScanKeywordTokens);
	yyextra.standard_conforming_strings = true;
	yyextra.escape_string_warning = false;
	yyextra.backslash_quote = BACKSLASH_QUOTE_SAFE_ENCODING;

	for (;;)
	{
		int			token = core_yylex(&yylval, &yylloc, scanner);
		char		buf[32];

		if (token == 0)
			break;

		/* empty statements do not count */
		if (token == ';')
		{
			semicolon_pending = statement_seen;
			continue;
		}
		if (semicolon_pending)
			hash_item(ctx, 'O', ";", 1);
		semicolon_pending = false;
		statement_seen = true;

		switch (token)
		{
			case IDENT:
			case UIDENT:
				hash_item(ctx, 'W', yylval.str, strlen(yylval.str));
				break;
			case SCONST:
			case USCONST:
				hash_literal(ctx, 'S', yylval.str);
				break;
			case BCONST:
				hash_literal(ctx, 'B', yylval.str);
				break;
			case XCONST:
				hash_literal(ctx, 'X', yylval.str);
				break;
			case FCONST:
				hash_item(ctx, 'F', yylval.str, strlen(yylval.str));
				break;
			case ICONST:
				snprintf(buf, sizeof(buf), "%d", yylval.ival);
				hash_item(ctx, 'I', buf, strlen(buf));
				break;
			case PARAM:
				snprintf(buf, sizeof(buf), "$%d", yylval.ival);
				hash_item(ctx, 'O', buf, strlen(buf));
				break;
			case Op:
				hash_item(ctx, 'O', yylval.str, strlen(yylval.str));
				break;
			case TYPECAST:
				hash_item(ctx, 'O', "::", 2);
				break;
			case DOT_DOT:
				hash_item(ctx, 'O', "..", 2);
				break;
			case COLON_EQUALS:
				hash_item(ctx, 'O', ":=", 2);
				break;
			case EQUALS_GREATER:
				hash_item(ctx, 'O', "=>", 2);
				break;
			case LESS_EQUALS:
				hash_item(ctx, 'O', "<=", 2);
				break;
			case GREATER_EQUALS:
				hash_item(ctx, 'O', ">=", 2);
				break;
			case NOT_EQUALS:
				hash_item(ctx, 'O', "<>", 2);
				break;
			default:
				if (token < 256)
				{
					buf[0] = (char) token;
					hash_item(ctx, 'O', buf, 1);
				}
				else
				{
					/* every other token the core lexer returns is a keyword */
					Assert(yylval.keyword != NULL);
					hash_item(ctx, 'W', yylval.keyword, strlen(yylval.keyword));
				}
				break;
		}
	}
	scanner_finish(scanner);

	if (pg_cryptohash_final(ctx, digest, sizeof(digest)) < 0)
		elog(ERROR, "could not finalize SHA-256 context");
	pg_cryptohash_free(ctx);

	hex = palloc(MG_CHECKSUM_LEN + 1);
	for (i = 0; i < PG_SHA256_DIGEST_LENGTH; i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
	return hex;
}

/*
 * Feed one token: its category, its length in four bytes, its text.  The
 * length keeps "ab","c" apart from "a","bc".
 */
static void
hash_item(pg_cryptohash_ctx *ctx, char category, const char *text, size_t len)
{
	uint8		head[5];

	head[0] = (uint8) category;
	head[1] = (uint8) (len >> 24);
	head[2] = (uint8) (len >> 16);
	head[3] = (uint8) (len >> 8);
	head[4] = (uint8) len;
	if (pg_cryptohash_update(ctx, head, sizeof(head)) < 0 ||
		pg_cryptohash_update(ctx, (const uint8 *) text, len) < 0)
		elog(ERROR, "could not update SHA-256 context");
}

/*
 * Feed a literal with every CR that precedes an LF dropped, so that a
 * multi-line literal (a function body) hashes the same with CRLF or LF
 * line endings.
 */
static void
hash_literal(pg_cryptohash_ctx *ctx, char category, const char *text)
{
	size_t		len = strlen(text);
	char	   *norm;
	size_t		i,
				n = 0;

	if (memchr(text, '\r', len) == NULL)
	{
		hash_item(ctx, category, text, len);
		return;
	}

	norm = palloc(len + 1);
	for (i = 0; i < len; i++)
	{
		if (text[i] == '\r' && text[i + 1] == '\n')
			continue;
		norm[n++] = text[i];
	}
	hash_item(ctx, category, norm, n);
	pfree(norm);
}
