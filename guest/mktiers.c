/*
 * mktiers: the BPF programs of the workload seccomp tiers (tiers.h), as
 * C for mvm-agent (seccomp.c).  Runs on the build host, at build time
 * (the GNUmakefile builds and runs it); never part of the guest.
 *
 * usage: mktiers > tierbpf.h
 *
 * Each tier's filter is built with libseccomp exactly as the agent once
 * built it at run time: default kill-process, kill-process for a call
 * of another architecture, the tier's lists and those below it, and for
 * essential prctl with PR_GET_NAME or PR_SET_NAME only.  The program is
 * exported with seccomp_export_bpf() and printed as a const array of
 * struct sock_filter, one per tier, and a table of struct sock_fprog by
 * AP_TIER_*.  Exit status 0, or 1 with nothing usable on stdout (the
 * GNUmakefile keeps the output only on success).
 */
#include <linux/filter.h>

#include <err.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <seccomp.h>

#include "agentproto.h"
#include "tiers.h"

/*
 * The filters are for the guest's kernel, not the build host's: fix the
 * API level instead of letting libseccomp probe the kernel it runs on.
 * 3 is the first level with SCMP_ACT_KILL_PROCESS (Linux 4.14); the
 * program itself does not depend on it.
 */
#define MKTIERS_API	3

static void	 tier_add(scmp_filter_ctx, const char *const *);
static scmp_filter_ctx tier_build(uint32_t);
static struct sock_filter *tier_export(scmp_filter_ctx, size_t *);
static void	 tier_print(uint32_t, const struct sock_filter *, size_t);
static void	 tier_table(void);

/* Allow each call of a list, by its x86-64 number. */
static void
tier_add(scmp_filter_ctx ctx, const char *const *names)
{
	int	 nr, rc;

	for (; *names != NULL; names++) {
		if ((nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64,
		    *names)) == __NR_SCMP_ERROR)
			errx(1, "no x86-64 system call \"%s\"", *names);
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0)) != 0)
			errx(1, "%s: %s", *names, strerror(-rc));
	}
}

/* The filter of a tier: its list and those of the tiers below. */
static scmp_filter_ctx
tier_build(uint32_t tier)
{
	scmp_filter_ctx	 ctx;
	uint32_t	 t;
	size_t		 i;
	int		 nr, rc;

	if ((ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL)
		errx(1, "seccomp_init failed");
	if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
	    SCMP_ACT_KILL_PROCESS)) != 0 ||
	    (rc = seccomp_attr_set(ctx, SCMP_FLTATR_API_SYSRAWRC, 1)) != 0)
		errx(1, "seccomp_attr_set: %s", strerror(-rc));
	for (t = AP_TIER_ESSENTIAL; t <= tier; t++)
		tier_add(ctx, tier_lists[t]);
	if (tier != AP_TIER_ESSENTIAL)
		return (ctx);
	nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, "prctl");
	for (i = 0; i < sizeof(tier_essential_prctl) /
	    sizeof(tier_essential_prctl[0]); i++)
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
		    SCMP_A0(SCMP_CMP_EQ, tier_essential_prctl[i]))) != 0)
			errx(1, "prctl %lu: %s", tier_essential_prctl[i],
			    strerror(-rc));
	return (ctx);
}

/* The BPF program of ctx, through a temporary file; *np instructions. */
static struct sock_filter *
tier_export(scmp_filter_ctx ctx, size_t *np)
{
	struct sock_filter	*insns;
	FILE			*fp;
	long			 size;
	int			 rc;

	if ((fp = tmpfile()) == NULL)
		err(1, "tmpfile");
	if ((rc = seccomp_export_bpf(ctx, fileno(fp))) != 0)
		errx(1, "seccomp_export_bpf: %s", strerror(-rc));
	if (fseek(fp, 0, SEEK_END) == -1 || (size = ftell(fp)) == -1)
		err(1, "tmpfile");
	if (size <= 0 || size % sizeof(*insns) != 0 ||
	    (size_t)size / sizeof(*insns) > BPF_MAXINSNS)
		errx(1, "seccomp_export_bpf: %ld bytes", size);
	*np = size / sizeof(*insns);
	if ((insns = calloc(*np, sizeof(*insns))) == NULL)
		err(1, NULL);
	rewind(fp);
	if (fread(insns, sizeof(*insns), *np, fp) != *np)
		err(1, "tmpfile");
	(void)fclose(fp);
	return (insns);
}

static void
tier_print(uint32_t tier, const struct sock_filter *insns, size_t n)
{
	size_t	 i;

	printf("\n/* %s: %zu instructions */\n", ap_tier_name(tier), n);
	printf("static const struct sock_filter tier_bpf_%s[] = {\n",
	    ap_tier_name(tier));
	for (i = 0; i < n; i++)
		printf("\t{ 0x%04x, %3u, %3u, 0x%08x },\n",
		    (unsigned)insns[i].code, (unsigned)insns[i].jt,
		    (unsigned)insns[i].jf, (unsigned)insns[i].k);
	printf("};\n");
}

/*
 * The struct sock_fprog of each tier.  Its member filter is not const:
 * the casts only let it point at the const arrays, which stay read-only
 * (the kernel copies the program, it does not write to it).
 */
static void
tier_table(void)
{
	uint32_t	 t;

	printf("\n/* by AP_TIER_*; unrestricted has no program */\n");
	printf("static const struct sock_fprog "
	    "tier_bpf[AP_TIER_UNRESTRICTED] = {\n");
	for (t = AP_TIER_ESSENTIAL; t < AP_TIER_UNRESTRICTED; t++) {
		printf("\t[%u] = { sizeof(tier_bpf_%s) /\n", t,
		    ap_tier_name(t));
		printf("\t    sizeof(struct sock_filter),\n");
		printf("\t    (struct sock_filter *)tier_bpf_%s },\n",
		    ap_tier_name(t));
	}
	printf("};\n");
}

int
main(int argc, char *argv[])
{
	struct sock_filter	*insns;
	scmp_filter_ctx		 ctx;
	uint32_t		 t;
	size_t			 n;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: mktiers > tierbpf.h\n");
		return (1);
	}
	if (seccomp_arch_native() != SCMP_ARCH_X86_64)
		errx(1, "the tiers are x86-64 lists, and this host is not: "
		    "the agent built here would not be x86-64 either");
	if (seccomp_api_set(MKTIERS_API) != 0)
		errx(1, "seccomp_api_set %d failed", MKTIERS_API);

	printf("/*\n * Generated by mktiers from guest/tiers.h with "
	    "libseccomp %u.%u.%u: do not edit.\n * The seccomp BPF program "
	    "of each tier (seccomp.c includes this file).\n */\n",
	    seccomp_version()->major, seccomp_version()->minor,
	    seccomp_version()->micro);
	printf("#include <linux/filter.h>\n\n#include \"agentproto.h\"\n");
	for (t = AP_TIER_ESSENTIAL; t < AP_TIER_UNRESTRICTED; t++) {
		ctx = tier_build(t);
		insns = tier_export(ctx, &n);
		seccomp_release(ctx);
		tier_print(t, insns, n);
		free(insns);
	}
	tier_table();
	if (fflush(stdout) != 0 || ferror(stdout))
		err(1, "stdout");
	return (0);
}
