#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


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
	/* NOLINTBEGIN(cert-err34-c): two digits each, checked above */
	mo = atoi(s + 5);
	d = atoi(s + 8);
	h = atoi(s + 11);
	mi = atoi(s + 14);
	se = atoi(s + 17);
	/* NOLINTEND(cert-err34-c) */
	return (mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h <= 23 &&
	    mi <= 59 && se <= 60);
}

/*
 * A strict parser for exactly the canonical form (record.h): members in
 * sorted order, compact, strings of printable ASCII without escapes,
 * integers without leading zeros.  What it accepts is byte for byte
 * what jansson prints with JSON_COMPACT | JSON_SORT_KEYS for such an
 * object, so canonical form holds by construction, without building a
 * JSON tree (the verifier runs this on every record).
 */
struct rp {
	const char	*s;
	size_t		 len;
	size_t		 i;
};

static int
rp_lit(struct rp *p, const char *lit)
{
	size_t	 n = strlen(lit);

	if (p->len - p->i < n || memcmp(p->s + p->i, lit, n) != 0)
		return (-1);
	p->i += n;
	return (0);
}

static int
rp_peek(struct rp *p, const char *lit)
{
	size_t	 n = strlen(lit);

	return (p->len - p->i >= n && memcmp(p->s + p->i, lit, n) == 0);
}

/* "..." of printable ASCII, no '"' or '\\' inside; copied to out */
static int
rp_str(struct rp *p, char *out, size_t outlen)
{
	size_t	 start, n;

	if (rp_lit(p, "\"") == -1)
		return (-1);
	start = p->i;
	while (p->i < p->len && p->s[p->i] != '"') {
		if (p->s[p->i] < ' ' || p->s[p->i] > '~' || p->s[p->i] == '\\')
			return (-1);
		p->i++;
	}
	n = p->i - start;
	if (p->i == p->len || n >= outlen)
		return (-1);
	memcpy(out, p->s + start, n);
	out[n] = '\0';
	p->i++;
	return (0);
}

/* -?(0|[1-9][0-9]*) within int64 */
static int
rp_int(struct rp *p, int64_t *v)
{
	uint64_t	 acc = 0, lim;
	int		 neg = 0, digits = 0;

	if (p->i < p->len && p->s[p->i] == '-') {
		neg = 1;
		p->i++;
	}
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	if (p->i < p->len && p->s[p->i] == '0') {
		p->i++;
		if (neg || (p->i < p->len && isdigit((unsigned char)p->s[p->i])))
			return (-1);		/* -0, 01 */
		*v = 0;
		return (0);
	}
	while (p->i < p->len && isdigit((unsigned char)p->s[p->i])) {
		if (acc > (lim - (p->s[p->i] - '0')) / 10)
			return (-1);
		acc = acc * 10 + (p->s[p->i] - '0');
		p->i++;
		digits++;
	}
	if (digits == 0)
		return (-1);
	*v = neg ? (int64_t)(0 - acc) : (int64_t)acc;
	return (0);
}

/* audit.recovered names its region in its labels */
static void
rp_recovered(struct record_fields *rf, const char *k, const char *sv,
    int64_t iv, int isint)
{
	if (strcmp(k, "offset") == 0 && isint && iv >= 0) {
		rf->rf_rec_off = iv;
		rf->rf_rec_have |= 1;
	} else if (strcmp(k, "length") == 0 && isint && iv > 0) {
		rf->rf_rec_len = iv;
		rf->rf_rec_have |= 2;
	} else if (strcmp(k, "sha256") == 0 && !isint &&
	    hex_decode(sv, rf->rf_rec_hash, 32) == 0)
		rf->rf_rec_have |= 4;
}

/*
 * {"k":v,...}: 1-32 members, keys [a-z][a-z0-9_]* strictly ascending,
 * values tokens (ids: only tokens) or integers (labels).
 */
static int
rp_map(struct rp *p, int ids, struct record_fields *rf)
{
	char	 key[40] = "", prevkey[40] = "", val[REC_TOKEN_MAX + 2] = "";
	int64_t	 iv = 0;
	int	 n = 0, isint;

	if (rp_lit(p, "{") == -1)
		return (-1);
	do {
		if (n > 0 && rp_lit(p, ",") == -1)
			return (-1);
		if (rp_str(p, key, sizeof(key)) == -1 || !record_key_ok(key) ||
		    (n > 0 && strcmp(prevkey, key) >= 0) || rp_lit(p, ":") == -1)
			return (-1);
		isint = !rp_peek(p, "\"");
		if (isint) {
			if (ids || rp_int(p, &iv) == -1)
				return (-1);
		} else if (rp_str(p, val, sizeof(val)) == -1 ||
		    !record_token_ok(val))
			return (-1);
		if (!ids)
			rp_recovered(rf, key, val, iv, isint);
		(void)strlcpy(prevkey, key, sizeof(prevkey));
		if (++n > 32)
			return (-1);
	} while (!rp_peek(p, "}"));
	return (rp_lit(p, "}"));
}

static int
rp_record(struct rp *p, int flags, struct record_fields *rf, const char **why)
{
	char	 buf[REC_TOKEN_MAX + 2];
	uint8_t	 kid[4];
	size_t	 n;

	*why = "kid";
	if (rp_lit(p, "{\"kid\":") == -1 || rp_str(p, buf, sizeof(buf)) == -1 ||
	    hex_decode(buf, kid, 4) == -1)
		return (-1);
	rf->rf_kid = (uint32_t)kid[0] << 24 | (uint32_t)kid[1] << 16 |
	    (uint32_t)kid[2] << 8 | kid[3];
	*why = "labels";
	if (rp_peek(p, ",\"labels\":") && (rp_lit(p, ",\"labels\":") == -1 ||
	    rp_map(p, 0, rf) == -1))
		return (-1);
	*why = "prev";
	if (rp_lit(p, ",\"prev\":") == -1 || rp_str(p, buf, sizeof(buf)) == -1 ||
	    hex_decode(buf, rf->rf_prev, 32) == -1)
		return (-1);
	*why = "seq";
	if (rp_lit(p, ",\"seq\":") == -1 || rp_int(p, &rf->rf_seq) == -1 ||
	    rf->rf_seq < 0)
		return (-1);
	*why = "sig";
	if (rp_peek(p, ",\"sig\":")) {
		if (!(flags & REC_WITH_SIG) || rp_lit(p, ",\"sig\":") == -1 ||
		    rp_str(p, buf, sizeof(buf)) == -1 ||
		    b64_decode(buf, strlen(buf), rf->rf_sig, sizeof(rf->rf_sig),
		    &n) == -1 || n != 64)
			return (-1);
	} else if (flags & REC_WITH_SIG)
		return (-1);
	*why = "subject";
	if (rp_peek(p, ",\"subject\":") && (rp_lit(p, ",\"subject\":") == -1 ||
	    rp_map(p, 1, rf) == -1))
		return (-1);
	*why = "tenant";
	if (rp_lit(p, ",\"tenant\":") == -1 ||
	    rp_str(p, rf->rf_tenant, sizeof(rf->rf_tenant)) == -1 ||
	    !tenant_valid(rf->rf_tenant))
		return (-1);
	*why = "time";
	if (rp_lit(p, ",\"time\":") == -1 ||
	    rp_str(p, rf->rf_time, sizeof(rf->rf_time)) == -1 ||
	    !record_time_ok(rf->rf_time))
		return (-1);
	*why = "type";
	if (rp_lit(p, ",\"type\":") == -1 ||
	    rp_str(p, rf->rf_type, sizeof(rf->rf_type)) == -1 ||
	    !record_type_ok(rf->rf_type))
		return (-1);
	*why = "end";
	if (rp_lit(p, "}") == -1 || p->i != p->len)
		return (-1);
	return (0);
}

/*
 * Check one record line (without its newline): exactly the canonical
 * form, only our members with their syntax.  Fills rf.  err gets a
 * short reason on failure.
 */
int
record_check(const char *line, size_t len, int flags,
    struct record_fields *rf, char *err, size_t errlen)
{
	struct rp	 p = { line, len, 0 };
	const char	*why = "";

	memset(rf, 0, sizeof(*rf));
	if (len == 0 || len > REC_LINE_MAX)
		return (rec_err(err, errlen, "bad line length"));
	if (rp_record(&p, flags, rf, &why) == -1)
		return (rec_err(err, errlen, "%s: not as the canonical form "
		    "wants it (offset %zu)", why, p.i));
	if (strcmp(rf->rf_type, REC_TYPE_RECOVERED) == 0) {
		if (rf->rf_rec_have != 7)
			return (rec_err(err, errlen, "audit.recovered: labels "
			    "offset, length and sha256 needed"));
		rf->rf_recovered = 1;
	}
	return (0);
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
