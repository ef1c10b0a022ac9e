/*
 * json.c: strict readers for the JSON control payloads.  Every reader
 * leaves a reason in j_why() when it refuses, for AP_ERROR "bad_request".
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "agent.h"

static char	 why[160];

void
j_fail(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	(void)vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
}

const char *
j_why(void)
{
	return (why);
}

/* One JSON object, no duplicate members, nothing after it. */
json_t *
j_parse(const struct ap_frame *f)
{
	json_error_t	 e;
	json_t		*o;

	o = json_loadb((const char *)f->f_data, f->f_len,
	    JSON_REJECT_DUPLICATES, &e);
	if (o == NULL) {
		j_fail("JSON at %d: %s", e.position, e.text);
		return (NULL);
	}
	if (!json_is_object(o)) {
		json_decref(o);
		j_fail("payload is not a JSON object");
		return (NULL);
	}
	return (o);
}

/* -1 if the object has a member not in the NULL-terminated list. */
int
j_only(json_t *o, const char *const *names)
{
	const char	*k;
	json_t		*v;
	size_t		 i;

	json_object_foreach(o, k, v) {
		for (i = 0; names[i] != NULL; i++)
			if (strcmp(k, names[i]) == 0)
				break;
		if (names[i] == NULL) {
			j_fail("unknown member \"%.64s\"", k);
			return (-1);
		}
	}
	return (0);
}

/*
 * An integer member in 0..max.  Returns 1 and sets *vp, 0 if it is
 * absent and optional, -1 if it is missing, of another type or out of
 * range.
 */
int
j_uint(json_t *o, const char *k, uint64_t max, uint64_t *vp, int required)
{
	json_t		*v;
	json_int_t	 i;

	if ((v = json_object_get(o, k)) == NULL) {
		if (!required)
			return (0);
		j_fail("member \"%s\" is missing", k);
		return (-1);
	}
	if (!json_is_integer(v)) {
		j_fail("member \"%s\" is not an integer", k);
		return (-1);
	}
	i = json_integer_value(v);
	if (i < 0 || (uint64_t)i > max) {
		j_fail("member \"%s\" is out of range", k);
		return (-1);
	}
	*vp = i;
	return (1);
}

/* An optional boolean member: 1 and *vp, 0 if absent, -1 if not a bool. */
int
j_bool(json_t *o, const char *k, int *vp)
{
	json_t	*v;

	if ((v = json_object_get(o, k)) == NULL)
		return (0);
	if (!json_is_boolean(v)) {
		j_fail("member \"%s\" is not a boolean", k);
		return (-1);
	}
	*vp = json_is_true(v);
	return (1);
}

/* A string member without NUL bytes; like j_uint otherwise. */
int
j_str(json_t *o, const char *k, const char **vp, int required)
{
	json_t	*v;

	if ((v = json_object_get(o, k)) == NULL) {
		if (!required)
			return (0);
		j_fail("member \"%s\" is missing", k);
		return (-1);
	}
	if (!json_is_string(v) ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		j_fail("member \"%s\" is not a string", k);
		return (-1);
	}
	*vp = json_string_value(v);
	return (1);
}
