/*
 * json_locate: find where a key sits in JSON source text, so that
 * config errors found after parsing (unknown key, wrong type, bad value)
 * can still be reported as file:line:column.  jansson only gives
 * positions for syntax errors.
 *
 * The text has already been parsed by jansson, so this scanner may
 * assume it is well-formed; it still never reads past len.
 */
#include <string.h>

#include "config.h"

#define LOC_DEPTH	16

struct loc {
	const char	*s;
	size_t		 len, i;
	int		 line, col;
};

static void
loc_adv(struct loc *l)
{
	if (l->s[l->i] == '\n') {
		l->line++;
		l->col = 1;
	} else
		l->col++;
	l->i++;
}

static void
loc_ws(struct loc *l)
{
	while (l->i < l->len && strchr(" \t\r\n", l->s[l->i]) != NULL)
		loc_adv(l);
}

/* Skip a string starting at its quote; returns start and length. */
static void
loc_string(struct loc *l, size_t *start, size_t *slen)
{
	loc_adv(l);			/* opening quote */
	*start = l->i;
	while (l->i < l->len && l->s[l->i] != '"') {
		if (l->s[l->i] == '\\' && l->i + 1 < l->len)
			loc_adv(l);
		loc_adv(l);
	}
	*slen = l->i - *start;
	if (l->i < l->len)
		loc_adv(l);		/* closing quote */
}

/*
 * path: keys from the top object down, depth entries.  Returns 0 and the
 * 1-based line and column of the innermost key's opening quote.
 */
int
json_locate(const char *text, size_t len, const char *const *path,
    int depth, int *line, int *col)
{
	struct loc	 l = { text, len, 0, 1, 1 };
	const char	*keys[LOC_DEPTH];	/* current key per level */
	size_t		 keylen[LOC_DEPTH];
	char		 kind[LOC_DEPTH];	/* '{' or '[' */
	int		 lvl = -1, k, match, kl, kc;
	size_t		 st, sl;

	while (l.i < l.len) {
		loc_ws(&l);
		if (l.i >= l.len)
			break;
		switch (l.s[l.i]) {
		case '{':
		case '[':
			if (++lvl >= LOC_DEPTH)
				return (-1);
			kind[lvl] = l.s[l.i];
			keys[lvl] = NULL;
			loc_adv(&l);
			break;
		case '}':
		case ']':
			lvl--;
			loc_adv(&l);
			break;
		case '"':
			kl = l.line;
			kc = l.col;
			loc_string(&l, &st, &sl);
			loc_ws(&l);
			if (lvl < 0 || kind[lvl] != '{' || l.i >= l.len ||
			    l.s[l.i] != ':')
				break;		/* a value, not a key */
			keys[lvl] = l.s + st;
			keylen[lvl] = sl;
			if (lvl + 1 != depth)
				break;
			match = 1;
			for (k = 0; k <= lvl && match; k++)
				if (keys[k] == NULL ||
				    strlen(path[k]) != keylen[k] ||
				    memcmp(path[k], keys[k], keylen[k]) != 0)
					match = 0;
			for (k = 0; k <= lvl && match; k++)
				if (kind[k] != '{')
					match = 0;
			if (match) {
				*line = kl;
				*col = kc;
				return (0);
			}
			break;
		default:
			loc_adv(&l);
			break;
		}
	}
	return (-1);
}
