#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config.h"
#include "crypto.h"
#include "record.h"

static int	 rec_err(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

static int
rec_err(char *err, size_t len, const char *fmt, ...)
{
	va_list	 ap;

	if (err != NULL && len > 0) {
		va_start(ap, fmt);
		(void)vsnprintf(err, len, fmt, ap);
		va_end(ap);
	}
	return (-1);
}

int
record_token_ok(const char *s)
{
	size_t	 i, len = strlen(s);

	if (len == 0 || len > REC_TOKEN_MAX)
		return (0);
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) &&
		    strchr("._:/@+=-", s[i]) == NULL)
			return (0);
	return (1);
}

/* Object keys in labels and subject: [a-z][a-z0-9_]{0,31} */
int
record_key_ok(const char *s)
{
	size_t	 i, len = strlen(s);

	if (len == 0 || len > 32 || !islower((unsigned char)s[0]))
		return (0);
	for (i = 1; i < len; i++)
		if (!islower((unsigned char)s[i]) &&
		    !isdigit((unsigned char)s[i]) && s[i] != '_')
			return (0);
	return (1);
}

/* category.verb[.more]: lower case, digits and '_' in each part */
int
record_type_ok(const char *s)
{
	size_t	 i, len = strlen(s);
	int	 dots = 0, partlen = 0;

	if (len == 0 || len >= REC_TYPE_MAX)
		return (0);
	for (i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (partlen == 0)
				return (0);
			dots++;
			partlen = 0;
			continue;
		}
		if (!islower((unsigned char)s[i]) &&
		    !(partlen > 0 && (isdigit((unsigned char)s[i]) ||
		    s[i] == '_')))
			return (0);
		partlen++;
	}
	return (dots > 0 && partlen > 0);
}

/* Exactly YYYY-MM-DDTHH:MM:SS.mmmZ with plausible fields. */
int
record_time_ok(const char *s)
{
	static const char	 pat[] = "dddd-dd-ddTdd:dd:dd.dddZ";
	int			 mo, d, h, mi, se;
	size_t			 i;

	if (strlen(s) != REC_TIME_LEN)
		return (0);
	for (i = 0; i < REC_TIME_LEN; i++) {
		if (pat[i] == 'd') {
			if (!isdigit((unsigned char)s[i]))
				return (0);
		} else if (s[i] != pat[i])
			return (0);
	}
	mo = atoi(s + 5);
	d = atoi(s + 8);
	h = atoi(s + 11);
	mi = atoi(s + 14);
	se = atoi(s + 17);
	return (mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h <= 23 &&
	    mi <= 59 && se <= 60);
}

static int
check_map(json_t *o, int ids, const char *what, char *err, size_t errlen)
{
	const char	*k;
	json_t		*v;

	if (!json_is_object(o))
		return (rec_err(err, errlen, "%s: not an object", what));
	if (json_object_size(o) > 32)
		return (rec_err(err, errlen, "%s: too many members", what));
	json_object_foreach(o, k, v) {
		if (!record_key_ok(k))
			return (rec_err(err, errlen, "%s: bad key", what));
		if (!ids && json_is_integer(v))
			continue;
		if (!json_is_string(v) || !record_token_ok(json_string_value(v)))
			return (rec_err(err, errlen, "%s.%s: not a token",
			    what, k));
	}
	return (0);
}

/* audit.recovered names its region: offset, length, sha256 */
static int
check_recovered(json_t *labels, struct record_fields *rf)
{
	json_t		*off = json_object_get(labels, "offset");
	json_t		*len = json_object_get(labels, "length");
	json_t		*h = json_object_get(labels, "sha256");

	if (!json_is_integer(off) || json_integer_value(off) < 0 ||
	    !json_is_integer(len) || json_integer_value(len) <= 0 ||
	    !json_is_string(h) ||
	    hex_decode(json_string_value(h), rf->rf_rec_hash, 32) == -1)
		return (-1);
	rf->rf_recovered = 1;
	rf->rf_rec_off = json_integer_value(off);
	rf->rf_rec_len = json_integer_value(len);
	return (0);
}

static const char *
get_str(json_t *root, const char *k)
{
	json_t	*v = json_object_get(root, k);

	return (json_is_string(v) ? json_string_value(v) : NULL);
}

static int
check_members(json_t *root, int flags, struct record_fields *rf, char *err,
    size_t errlen)
{
	static const char *const allowed[] = { "kid", "labels", "prev",
	    "seq", "sig", "subject", "tenant", "time", "type" };
	const char	*k, *s;
	json_t		*v;
	size_t		 i, n;
	uint8_t		 kid[4];

	json_object_foreach(root, k, v) {
		for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
			if (strcmp(k, allowed[i]) == 0)
				break;
		if (i == sizeof(allowed) / sizeof(allowed[0]))
			return (rec_err(err, errlen, "unknown member"));
	}
	v = json_object_get(root, "seq");
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return (rec_err(err, errlen, "seq: not an integer >= 0"));
	rf->rf_seq = json_integer_value(v);
	if ((s = get_str(root, "kid")) == NULL || hex_decode(s, kid, 4) == -1)
		return (rec_err(err, errlen, "kid: not 8 hex digits"));
	rf->rf_kid = (uint32_t)kid[0] << 24 | (uint32_t)kid[1] << 16 |
	    (uint32_t)kid[2] << 8 | kid[3];
	if ((s = get_str(root, "prev")) == NULL ||
	    hex_decode(s, rf->rf_prev, 32) == -1)
		return (rec_err(err, errlen, "prev: not 64 hex digits"));
	if ((s = get_str(root, "type")) == NULL || !record_type_ok(s))
		return (rec_err(err, errlen, "type: not category.verb"));
	(void)strlcpy(rf->rf_type, s, sizeof(rf->rf_type));
	if ((s = get_str(root, "tenant")) == NULL || !tenant_valid(s))
		return (rec_err(err, errlen, "tenant: invalid"));
	(void)strlcpy(rf->rf_tenant, s, sizeof(rf->rf_tenant));
	if ((s = get_str(root, "time")) == NULL || !record_time_ok(s))
		return (rec_err(err, errlen, "time: not RFC 3339 UTC ms"));
	(void)strlcpy(rf->rf_time, s, sizeof(rf->rf_time));
	if ((v = json_object_get(root, "labels")) != NULL &&
	    check_map(v, 0, "labels", err, errlen) == -1)
		return (-1);
	if ((v = json_object_get(root, "subject")) != NULL &&
	    check_map(v, 1, "subject", err, errlen) == -1)
		return (-1);
	if (strcmp(rf->rf_type, REC_TYPE_RECOVERED) == 0 &&
	    check_recovered(json_object_get(root, "labels"), rf) == -1)
		return (rec_err(err, errlen, "audit.recovered: bad labels"));
	s = get_str(root, "sig");
	if (flags & REC_WITH_SIG) {
		if (s == NULL || b64_decode(s, strlen(s), rf->rf_sig,
		    sizeof(rf->rf_sig), &n) == -1 || n != 64)
			return (rec_err(err, errlen, "sig: not 64 bytes base64"));
	} else if (json_object_get(root, "sig") != NULL)
		return (rec_err(err, errlen, "sig: present in unsigned form"));
	return (0);
}

/*
 * Check one record line (without its newline): strict JSON, only our
 * members with their syntax, and canonical (re-encoding gives the same
 * bytes).  Fills rf.  err gets a short reason on failure.
 */
int
record_check(const char *line, size_t len, int flags,
    struct record_fields *rf, char *err, size_t errlen)
{
	json_error_t	 je;
	json_t		*root;
	char		*canon = NULL;
	int		 rc = -1;

	memset(rf, 0, sizeof(*rf));
	if (len == 0 || len > REC_LINE_MAX || memchr(line, '\n', len) != NULL)
		return (rec_err(err, errlen, "bad line length"));
	root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
	if (root == NULL)
		return (rec_err(err, errlen, "not JSON: %s", je.text));
	if (!json_is_object(root)) {
		rec_err(err, errlen, "not an object");
		goto done;
	}
	if (check_members(root, flags, rf, err, errlen) == -1)
		goto done;
	canon = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
	if (canon == NULL || strlen(canon) != len ||
	    memcmp(canon, line, len) != 0) {
		rec_err(err, errlen, "not in canonical form");
		goto done;
	}
	rc = 0;
done:
	free(canon);
	json_decref(root);
	return (rc);
}

/*
 * Find the top-level "sig" member of a canonical record line: on
 * return [*start, *end) is ',"sig":"..."', whose removal gives the
 * signed (unsigned) form.  Strings in records never hold '"' or '\\',
 * so a depth count over braces, skipping strings, is exact.  -1 if there
 * is no top-level sig.
 */
int
record_unsigned(const char *line, size_t len, size_t *start, size_t *end)
{
	static const char	 key[] = ",\"sig\":\"";
	size_t			 i, j;
	int			 depth = 0;

	for (i = 0; i < len; i++) {
		switch (line[i]) {
		case '{':
			depth++;
			break;
		case '}':
			depth--;
			break;
		case '"':
			for (i++; i < len && line[i] != '"'; i++)
				;
			break;
		case ',':
			if (depth != 1 || len - i < sizeof(key) - 1 ||
			    memcmp(line + i, key, sizeof(key) - 1) != 0)
				break;
			for (j = i + sizeof(key) - 1; j < len && line[j] != '"';
			    j++)
				;
			if (j == len)
				return (-1);
			*start = i;
			*end = j + 1;
			return (0);
		}
	}
	return (-1);
}

/*
 * The inverse: put ',"sig":"<b64>"' into a canonical unsigned record,
 * right after its top-level seq member (keys are sorted: kid, labels,
 * prev, seq, sig, subject, tenant, ...).  Returns a new string, or NULL.
 */
char *
record_insert_sig(const char *text, const char *b64)
{
	static const char	 key[] = ",\"seq\":";
	size_t			 len = strlen(text), i, at = 0;
	char			*out;
	int			 depth = 0;

	for (i = 0; i < len && at == 0; i++) {
		switch (text[i]) {
		case '{':
			depth++;
			break;
		case '}':
			depth--;
			break;
		case '"':
			for (i++; i < len && text[i] != '"'; i++)
				;
			break;
		case ',':
			if (depth == 1 && len - i > sizeof(key) - 1 &&
			    memcmp(text + i, key, sizeof(key) - 1) == 0) {
				at = i + sizeof(key) - 1;
				while (at < len && text[at] >= '0' &&
				    text[at] <= '9')
					at++;
			}
			break;
		}
	}
	if (at == 0 || at == len)
		return (NULL);
	if (asprintf(&out, "%.*s,\"sig\":\"%s\"%s", (int)at, text, b64,
	    text + at) == -1)
		return (NULL);
	return (out);
}
