/*-------------------------------------------------------------------------
 *
 * mask.c
 *	  Keeping passwords out of everything the client prints.
 *
 * Deploy logs are kept, shared and pasted into tickets, so no line the
 * client writes may carry a password.  Two nets, because one is not
 * enough:
 *
 *	- by shape: in any text, the password of a connection URI
 *	  (scheme://user:PASSWORD@host) and the value of a "password=" key,
 *	  quoted or not, in a key=value string or a URI's query, become ****;
 *	- by value: every password the client knows of (from -d, PGPASSWORD,
 *	  the prompt, a service file) is replaced wherever it appears, which
 *	  catches what the shapes miss, such as libpq quoting a malformed
 *	  piece of a URI back in its error message.
 *
 * Secrets shorter than MIN_SECRET_LEN are masked by shape only: replacing
 * every "ab" in a message would mangle it and protect nothing.
 *
 * This file is a leaf: it knows nothing of libpq or of the rest of the
 * client.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <ctype.h>

#include "client.h"

#define MASK			"****"
#define MIN_SECRET_LEN	3

static char **secrets = NULL;
static int	nsecrets = 0;

static char *percent_decode(const char *s, size_t len);
static void mask_by_shape(StringInfo out, const char *text);
static bool uri_password_span(const char *text, size_t pos, size_t *start,
							  size_t *end);
static bool keyword_value_span(const char *text, size_t pos, size_t *start,
							   size_t *end);
static char *replace_secrets(const char *text);
static char *libpq_unescape(const char *value);
static void add_words_as_secrets(const char *s, size_t from, size_t to);

/*
 * Remember a password, so that mask_text replaces it wherever it appears.
 * NULL and "" are ignored; the same secret twice is kept once.  The list
 * is kept longest first, the order replace_secrets replaces them in.
 */
void
mask_add_secret(const char *secret)
{
	int			i;

	if (secret == NULL || secret[0] == '\0')
		return;
	for (i = 0; i < nsecrets; i++)
		if (strcmp(secrets[i], secret) == 0)
			return;
	secrets = pg_realloc(secrets, sizeof(char *) * (nsecrets + 1));

	/*
	 * Longest first: replacing "SEC" before "SEC RET" would leave " RET"
	 * (a URI's query takes a password with a space, which the shape of a
	 * password=value reads only up to the space).
	 */
	for (i = nsecrets; i > 0 && strlen(secrets[i - 1]) < strlen(secret); i--)
		secrets[i] = secrets[i - 1];
	secrets[i] = pg_strdup(secret);
	nsecrets++;
}

/*
 * Remember every password in a connection string, URI or key=value, as
 * written and as libpq would decode it.  Works on strings libpq would
 * reject, which is when libpq's own error message may quote them.
 */
void
mask_add_conninfo_secrets(const char *conninfo)
{
	size_t		len;
	size_t		pos;
	size_t		start,
				end;

	if (conninfo == NULL)
		return;
	len = strlen(conninfo);
	for (pos = 0; pos < len; pos++)
	{
		bool		in_uri = uri_password_span(conninfo, pos, &start, &end);

		if (in_uri || keyword_value_span(conninfo, pos, &start, &end))
		{
			char	   *raw = pnstrdup(conninfo + start, end - start);
			char	   *decoded = percent_decode(conninfo + start, end - start);

			mask_add_secret(raw);
			mask_add_secret(decoded);
			/* a key=value: also the value as libpq reads it */
			if (!in_uri)
			{
				char	   *plain = libpq_unescape(raw);

				mask_add_secret(plain);
				pfree(plain);
			}
			pfree(raw);
			pfree(decoded);
			pos = end;
		}
	}
}

/*
 * A connection string libpq could not parse, masked for the error that
 * says so.  What its author meant for the password is not known: in
 * "password=SEC RET", libpq reads SEC and then refuses RET, a key without
 * "=", quoting it in its reason.  So in a URI everything from the first
 * ":" of the authority to its last "@" is ****, and from the value of the
 * first password key on (after the URI's authority) the rest of the
 * string; each word hidden is remembered as a secret, so that mask_text
 * hides it in libpq's reason too.
 */
char *
mask_unparsable_conninfo(const char *conninfo)
{
	size_t		len = strlen(conninfo);
	size_t		from = 0;
	size_t		pos;
	StringInfoData out;

	initStringInfo(&out);
	if (strncmp(conninfo, "postgresql://", 13) == 0 ||
		strncmp(conninfo, "postgres://", 11) == 0)
	{
		const char *auth = strstr(conninfo, "://") + 3;
		const char *at = strrchr(auth, '@');
		const char *colon = at != NULL ? memchr(auth, ':', at - auth) : NULL;

		if (colon != NULL)
		{
			size_t		start = colon + 1 - conninfo;
			size_t		end = at - conninfo;

			add_words_as_secrets(conninfo, start, end);
			appendBinaryStringInfo(&out, conninfo, start);
			appendStringInfoString(&out, MASK);
			from = end;
		}
	}
	for (pos = from; pos < len; pos++)
	{
		size_t		start,
					end;

		if (keyword_value_span(conninfo, pos, &start, &end))
		{
			add_words_as_secrets(conninfo, start, len);
			appendBinaryStringInfo(&out, conninfo + from, start - from);
			appendStringInfoString(&out, MASK);
			from = len;
			break;
		}
	}
	appendStringInfoString(&out, conninfo + from);
	return out.data;
}

/* Remember each white-space separated word of s[from..to) as a secret. */
static void
add_words_as_secrets(const char *s, size_t from, size_t to)
{
	size_t		pos = from;

	while (pos < to)
	{
		size_t		word = pos;

		while (pos < to && !isspace((unsigned char) s[pos]))
			pos++;
		if (pos > word)
		{
			char	   *w = pnstrdup(s + word, pos - word);

			mask_add_secret(w);
			pfree(w);
		}
		while (pos < to && isspace((unsigned char) s[pos]))
			pos++;
	}
}

/*
 * A copy of text with every password in it, by shape and by value, shown
 * as ****.  Never returns NULL (NULL in, "" out).
 */
char *
mask_text(const char *text)
{
	StringInfoData out;
	char	   *known;

	if (text == NULL)
		return pg_strdup("");
	known = replace_secrets(text);
	initStringInfo(&out);
	mask_by_shape(&out, known);
	pfree(known);
	return out.data;
}

/* text with each known secret (long enough) replaced by the mask */
static char *
replace_secrets(const char *text)
{
	char	   *cur = pg_strdup(text);
	int			i;

	for (i = 0; i < nsecrets; i++)
	{
		size_t		slen = strlen(secrets[i]);
		StringInfoData out;
		const char *p;
		const char *hit;

		if (slen < MIN_SECRET_LEN)
			continue;
		initStringInfo(&out);
		p = cur;
		while ((hit = strstr(p, secrets[i])) != NULL)
		{
			appendBinaryStringInfo(&out, p, hit - p);
			appendStringInfoString(&out, MASK);
			p = hit + slen;
		}
		appendStringInfoString(&out, p);
		pfree(cur);
		cur = out.data;
	}
	return cur;
}

/* append text to out with the passwords that have a known shape masked */
static void
mask_by_shape(StringInfo out, const char *text)
{
	size_t		len = strlen(text);
	size_t		pos = 0;
	size_t		copied = 0;

	while (pos < len)
	{
		size_t		start,
					end;

		if (uri_password_span(text, pos, &start, &end) ||
			keyword_value_span(text, pos, &start, &end))
		{
			appendBinaryStringInfo(out, text + copied, start - copied);
			appendStringInfoString(out, MASK);
			copied = pos = end;
			continue;
		}
		pos++;
	}
	appendBinaryStringInfo(out, text + copied, len - copied);
}

/* characters that end a URI's authority, or a URI in running text */
static bool
ends_authority(char c)
{
	return c == '\0' || c == '/' || c == '?' || c == '#' || c == '"' ||
		c == '\'' || isspace((unsigned char) c);
}

/*
 * If a URI starts at pos ("scheme://") and has a password
 * (scheme://user:PASSWORD@host...), set [*start, *end) to the password and
 * return true.  The password ends at the last '@' of the authority, as in
 * libpq; an empty password is no password.
 */
static bool
uri_password_span(const char *text, size_t pos, size_t *start, size_t *end)
{
	size_t		p = pos;
	size_t		auth;
	size_t		at = 0;
	size_t		colon = 0;
	bool		have_at = false;

	/* scheme: letters, digits, '+', '-', '.', starting with a letter */
	if (!isalpha((unsigned char) text[p]) ||
		(pos > 0 && (isalnum((unsigned char) text[pos - 1]) ||
					 text[pos - 1] == '+' || text[pos - 1] == '-' ||
					 text[pos - 1] == '.')))
		return false;
	while (isalnum((unsigned char) text[p]) || text[p] == '+' ||
		   text[p] == '-' || text[p] == '.')
		p++;
	if (strncmp(text + p, "://", 3) != 0)
		return false;
	auth = p + 3;
	for (p = auth; !ends_authority(text[p]); p++)
	{
		if (text[p] == '@')
		{
			at = p;
			have_at = true;
		}
	}
	if (!have_at)
		return false;
	for (p = auth; p < at; p++)
	{
		if (text[p] == ':')
		{
			colon = p;
			break;
		}
	}
	if (colon == 0 || colon + 1 >= at)
		return false;
	*start = colon + 1;
	*end = at;
	return true;
}

/*
 * If a "password" key (or "sslpassword") starts at pos and is followed by
 * '=' and a value, set [*start, *end) to the value and return true.  The
 * value is what libpq's conninfo_parse takes for it: a backslash escapes
 * the next byte, quoted or not; a quoted value ('...') ends at the first
 * quote no backslash escapes, or at the end of the text when none does;
 * an unquoted one at the first white space no backslash escapes, and in a
 * URI's query also at '&' or '#'.
 */
static bool
keyword_value_span(const char *text, size_t pos, size_t *start, size_t *end)
{
	static const char keyword[] = "password";
	size_t		p;
	bool		in_query;

	if (pg_strncasecmp(text + pos, keyword, strlen(keyword)) != 0)
		return false;
	/* a whole key: not the middle of some longer word, except sslpassword */
	if (pos > 0 && (isalnum((unsigned char) text[pos - 1]) || text[pos - 1] == '_'))
	{
		if (!(pos >= 3 && pg_strncasecmp(text + pos - 3, "ssl", 3) == 0))
			return false;
	}
	in_query = pos > 0 && (text[pos - 1] == '?' || text[pos - 1] == '&');
	p = pos + strlen(keyword);
	while (text[p] == ' ' || text[p] == '\t')
		p++;
	if (text[p] != '=')
		return false;
	p++;
	while (text[p] == ' ' || text[p] == '\t')
		p++;
	*start = p;

	/*
	 * Masked already, by this file or by the server (a message quoting a
	 * masked connection string): the mask alone, so that what follows it
	 * ("password=****: could not connect") is kept.  A value that only
	 * starts with the mask is masked whole.
	 */
	if (strncmp(text + p, MASK, strlen(MASK)) == 0 &&
		(text[p + strlen(MASK)] == '\0' ||
		 strchr(" \t\n\r:;,)'\"&#", text[p + strlen(MASK)]) != NULL))
	{
		*end = p + strlen(MASK);
		return true;
	}

	if (text[p] == '\'')
	{
		/* quoted: to the first quote no backslash escapes, or the end */
		p++;
		while (text[p] != '\0' && text[p] != '\'')
		{
			if (text[p] == '\\' && text[p + 1] != '\0')
				p++;
			p++;
		}
		if (text[p] == '\'')
			p++;
	}
	else
	{
		/*
		 * unquoted: to the first white space no backslash escapes (in a
		 * URI's query, which has no such escapes, to '&' or '#' as well)
		 */
		while (text[p] != '\0' && !isspace((unsigned char) text[p]) &&
			   !(in_query && (text[p] == '&' || text[p] == '#')))
		{
			if (!in_query && text[p] == '\\' && text[p + 1] != '\0')
				p++;
			p++;
		}
	}
	if (p == *start)
		return false;
	*end = p;
	return true;
}

/*
 * A key=value value as libpq's conninfo_parse reads it (fe-connect.c),
 * palloc'd: without its quotes, each backslash escaping the next byte.
 */
static char *
libpq_unescape(const char *value)
{
	StringInfoData out;
	const char *p = value;
	bool		quoted = *p == '\'';

	initStringInfo(&out);
	if (quoted)
		p++;
	while (*p != '\0')
	{
		if (*p == '\\' && p[1] != '\0')
			p++;
		else if (quoted && *p == '\'')
			break;
		appendStringInfoChar(&out, *p);
		p++;
	}
	return out.data;
}

/* s[0..len) with %XX sequences decoded (malformed ones kept as they are) */
static char *
percent_decode(const char *s, size_t len)
{
	char	   *out = pg_malloc(len + 1);
	size_t		i,
				o = 0;

	for (i = 0; i < len; i++)
	{
		if (s[i] == '%' && i + 2 < len &&
			isxdigit((unsigned char) s[i + 1]) &&
			isxdigit((unsigned char) s[i + 2]))
		{
			char		hex[3] = {s[i + 1], s[i + 2], '\0'};

			out[o++] = (char) strtol(hex, NULL, 16);
			i += 2;
		}
		else
			out[o++] = s[i];
	}
	out[o] = '\0';
	return out;
}
