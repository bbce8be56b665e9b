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
 * The lexer's token numbers are Bison's, generated from each major's
 * grammar into parser/gram.h, which PostgreSQL 16 stopped installing.  So
 * they are learned at run time instead, once per backend: each kind of
 * token the hash tells apart is lexed from a sample, and its number noted.
 * Every other number above the single characters is a keyword, which is
 * checked rather than assumed.
 *
 * This file is a leaf: it knows the lexer and nothing of pg_migrate.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/cryptohash.h"
#include "common/keywords.h"
#include "common/sha2.h"
#include "parser/parser.h"
#include "parser/scanner.h"

#include "checksum.h"
#include "compat.h"

/* how a kind of token is hashed */
typedef enum TokenKind
{
	TOKEN_WORD,					/* an identifier: 'W' and its text */
	TOKEN_STRING,				/* literals: their category and value */
	TOKEN_BIT,
	TOKEN_HEX,
	TOKEN_FLOAT,
	TOKEN_INTEGER,
	TOKEN_PARAM,				/* $n: 'O' and "$n" */
	TOKEN_OPERATOR,				/* an operator: 'O' and its text */
	TOKEN_FIXED					/* an operator of its own token: 'O' and text */
} TokenKind;

/* the kinds of token, each with a sample that lexes as one */
typedef struct TokenSample
{
	const char *sample;
	TokenKind	kind;
} TokenSample;

static const TokenSample token_samples[] = {
	{"x", TOKEN_WORD},
	{"U&\"x\"", TOKEN_WORD},
	{"'x'", TOKEN_STRING},
	{"U&'x'", TOKEN_STRING},
	{"b'0'", TOKEN_BIT},
	{"x'0'", TOKEN_HEX},
	{"1.5", TOKEN_FLOAT},
	{"1", TOKEN_INTEGER},
	{"$1", TOKEN_PARAM},
	{"~~", TOKEN_OPERATOR},
	{"::", TOKEN_FIXED},
	{"..", TOKEN_FIXED},
	{":=", TOKEN_FIXED},
	{"=>", TOKEN_FIXED},
	{"<=", TOKEN_FIXED},
	{">=", TOKEN_FIXED},
	{"<>", TOKEN_FIXED},
};

#define NUM_TOKEN_SAMPLES lengthof(token_samples)

/* the token number each sample lexed as, once learned */
static int	token_numbers[NUM_TOKEN_SAMPLES];
static bool token_numbers_known = false;

/* the first and last keyword's text: a keyword token's text lies between */
static const char *first_keyword;
static const char *last_keyword;

static core_yyscan_t start_scanner(const char *sql, core_yy_extra_type *yyextra);
static void learn_token_numbers(void);
static const TokenSample *classify(int token, const core_YYSTYPE *yylval);
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
	const TokenSample *sample;
	int			i;

	learn_token_numbers();
	ctx = pg_cryptohash_create(PG_SHA256);
	if (pg_cryptohash_init(ctx) < 0)
		elog(ERROR, "could not initialize SHA-256 context");

	scanner = start_scanner(sql, &yyextra);
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

		if (token < 256)
		{
			buf[0] = (char) token;
			hash_item(ctx, 'O', buf, 1);
			continue;
		}
		sample = classify(token, &yylval);
		if (sample == NULL)
		{
			/* a keyword */
			hash_item(ctx, 'W', yylval.keyword, strlen(yylval.keyword));
			continue;
		}
		switch (sample->kind)
		{
			case TOKEN_WORD:
				hash_item(ctx, 'W', yylval.str, strlen(yylval.str));
				break;
			case TOKEN_STRING:
				hash_literal(ctx, 'S', yylval.str);
				break;
			case TOKEN_BIT:
				hash_literal(ctx, 'B', yylval.str);
				break;
			case TOKEN_HEX:
				hash_literal(ctx, 'X', yylval.str);
				break;
			case TOKEN_FLOAT:
				hash_item(ctx, 'F', yylval.str, strlen(yylval.str));
				break;
			case TOKEN_INTEGER:
				snprintf(buf, sizeof(buf), "%d", yylval.ival);
				hash_item(ctx, 'I', buf, strlen(buf));
				break;
			case TOKEN_PARAM:
				snprintf(buf, sizeof(buf), "$%d", yylval.ival);
				hash_item(ctx, 'O', buf, strlen(buf));
				break;
			case TOKEN_OPERATOR:
				hash_item(ctx, 'O', yylval.str, strlen(yylval.str));
				break;
			case TOKEN_FIXED:
				hash_item(ctx, 'O', sample->sample, strlen(sample->sample));
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
 * A scanner over sql, set as the checksum reads every script.
 */
static core_yyscan_t
start_scanner(const char *sql, core_yy_extra_type *yyextra)
{
	core_yyscan_t scanner = scanner_init(sql, yyextra, &ScanKeywords, ScanKeywordTokens);

	mg_scanner_standard_strings(yyextra);
	yyextra->backslash_quote = BACKSLASH_QUOTE_SAFE_ENCODING;
	return scanner;
}

/*
 * Learn the number of each kind of token from its sample, and where the
 * keywords' texts lie, once per backend.  A sample that lexes as anything but one token above the
 * single characters means this lexer is not the one the samples were
 * written for: an internal error, raised before any hashing.
 */
static void
learn_token_numbers(void)
{
	int			i;

	if (token_numbers_known)
		return;
	for (i = 0; i < NUM_TOKEN_SAMPLES; i++)
	{
		core_yy_extra_type yyextra;
		core_yyscan_t scanner = start_scanner(token_samples[i].sample, &yyextra);
		core_YYSTYPE yylval;
		YYLTYPE		yylloc;
		int			token = core_yylex(&yylval, &yylloc, scanner);
		int			after = core_yylex(&yylval, &yylloc, scanner);

		scanner_finish(scanner);
		if (token < 256 || after != 0)
			elog(ERROR, "the server's lexer does not read \"%s\" as one token",
				 token_samples[i].sample);
		token_numbers[i] = token;
	}
	first_keyword = GetScanKeyword(0, &ScanKeywords);
	last_keyword = GetScanKeyword(ScanKeywords.num_keywords - 1, &ScanKeywords);
	token_numbers_known = true;
}

/*
 * The sample of the kind of token, a number above the single characters,
 * or NULL for a keyword.  A number that is neither is an internal error:
 * a token the lexer of a later major added, which the samples lack.
 */
static const TokenSample *
classify(int token, const core_YYSTYPE *yylval)
{
	int			i;

	for (i = 0; i < NUM_TOKEN_SAMPLES; i++)
	{
		if (token_numbers[i] == token)
			return &token_samples[i];
	}
	if (yylval->keyword < first_keyword || yylval->keyword > last_keyword)
		elog(ERROR, "unexpected token %d from the server's lexer", token);
	return NULL;
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
