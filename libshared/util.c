/*
 * util.c: small validators shared by every process.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"

#include "mvm.h"

/* Tenant names: [a-z0-9][a-z0-9_-]*, at most 63 bytes. */
int
tenant_valid(const char *t)
{
	size_t	 i, len = strlen(t);

	if (len == 0 || len >= MVM_TENANT_MAX)
		return (0);
	for (i = 0; i < len; i++) {
		if (islower((unsigned char)t[i]) || isdigit((unsigned char)t[i]))
			continue;
		if (i > 0 && (t[i] == '-' || t[i] == '_'))
			continue;
		return (0);
	}
	return (1);
}


/* Guest and image names: [a-z0-9][a-z0-9_.-]*, at most 63 bytes. */
int
name_valid(const char *n)
{
	size_t	 i, len = strlen(n);

	if (len == 0 || len >= MVM_NAME_MAX)
		return (0);
	for (i = 0; i < len; i++) {
		if (islower((unsigned char)n[i]) || isdigit((unsigned char)n[i]))
			continue;
		if (i > 0 && (n[i] == '-' || n[i] == '_' || n[i] == '.'))
			continue;
		return (0);
	}
	return (1);
}

/* snprintf that must not truncate: paths built from checked parts */
void
xsnprintf(char *buf, size_t len, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len)
		fatalx("%s: result too long", __func__);
}

/* Wall-clock time, ms since the epoch. */
int64_t
wall_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* ms since the epoch as RFC 3339 UTC with milliseconds (24 bytes). */
void
time_rfc3339(int64_t ms, char *buf, size_t len)
{
	struct tm	 tm;
	time_t		 t = ms / 1000;
	size_t		 n;

	gmtime_r(&t, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	(void)snprintf(buf + n, len - n, ".%03dZ", (int)(ms % 1000));
}

/* boot duration histogram bounds (ms), shared by supervisor and mvmctl */
const uint32_t mvm_boot_bucket_ms[MVM_BOOT_BUCKETS] = {
	250, 500, 1000, 2000, 4000, 8000, 16000, 32000
};
