/*
 * conf: mvm.conf text through config_parse() (libshared/config.c), as
 * the supervisor reads it at start, on -n and on reload; and, for text
 * jansson takes, json_locate() (libshared/jsonloc.c), which places the
 * errors, at the paths config.c asks it for.
 *
 * Properties: a refusal says "fuzz.conf:LINE:COL: ..." in err; an
 * accepted file leaves every string in the struct NUL-terminated and
 * every profile no looser than the built-in one.
 */
#include <string.h>

#include <jansson.h>

#include "config.h"
#include "fuzz.h"

#define STR_OK(a)	(memchr((a), '\0', sizeof(a)) != NULL)

static void	 check_locate(const uint8_t *, size_t);

static void
check_locate(const uint8_t *data, size_t size)
{
	static const char *const paths[][3] = {
		{ "state_dir", NULL, NULL },
		{ "profiles", "standard", NULL },
		{ "profiles", "standard", "cpus_max" },
		{ "profiles", "dev", "seccomp" },
	};
	json_t	*root;
	size_t	 i, depth;
	int	 line, col;

	if ((root = json_loadb((const char *)data, size,
	    JSON_REJECT_DUPLICATES, NULL)) == NULL)
		return;
	json_decref(root);
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		for (depth = 0; depth < 3 && paths[i][depth] != NULL; depth++)
			;
		line = col = 0;
		if (json_locate((const char *)data, size, paths[i],
		    (int)depth, &line, &col) == 0)
			FUZZ_ASSERT(line >= 1 && col >= 1);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mvm_config	 c;
	struct mvm_profile	 builtin[MVM_PROFILES];
	const char		*field;
	char			 err[512];
	size_t			 i;

	fuzz_init();
	config_defaults(&c);
	err[0] = '\0';
	if (config_parse("fuzz.conf", (const char *)data, size, &c, err,
	    sizeof(err)) == -1) {
		FUZZ_ASSERT(strncmp(err, "fuzz.conf:", 10) == 0);
	} else {
		FUZZ_ASSERT(STR_OK(c.c_state_dir) && STR_OK(c.c_socket) &&
		    STR_OK(c.c_socket_group) && STR_OK(c.c_tenant) &&
		    STR_OK(c.c_libexec_dir) && STR_OK(c.c_key_name) &&
		    STR_OK(c.c_qemu) && STR_OK(c.c_images_dir));
		policy_defaults(builtin);
		for (i = 0; i < MVM_PROFILES; i++)
			FUZZ_ASSERT(policy_tighter(&builtin[i],
			    &c.c_profiles[i], &field) == 0);
	}
	check_locate(data, size);
	return (0);
}
