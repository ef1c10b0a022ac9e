/*
 * util.c: small validators shared by every process.
 */
#include <ctype.h>
#include <string.h>

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

