/*
 * mvmctl policy: the policy profiles as the supervisor applies them
 * (the built-in table, tightened by mvm.conf).  Read-only.
 */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "agentproto.h"
#include "mvmctl.h"
#include "policy.h"

static const struct cmd policy_cmd = { "policy", NULL, USAGE_POLICY };

static int
get_profile(struct imsg *imsg, void *p)
{
	return (msg_get_profile(imsg, p));
}

/* The profiles named (NULL: all) into out; returns how many. */
static int
policy_get(const char *name, struct mvm_profile *out, int max)
{
	struct mvm_ctl_policy_req	 pq;

	memset(&pq, 0, sizeof(pq));
	if (name != NULL && strlcpy(pq.pq_name, name, sizeof(pq.pq_name)) >=
	    sizeof(pq.pq_name))
		errx(EXIT_USAGE, "%s: no such profile (mvmctl policy ls)",
		    name);
	return (ctl_collect(IMSG_CTL_POLICY_REQ, &pq, sizeof(pq),
	    IMSG_CTL_POLICY_INFO, get_profile, out, sizeof(*out), max));
}

static json_t *
profile_json(const struct mvm_profile *p)
{
	return (json_pack("{s:s, s:b, s:b, s:s, s:b, s:s, s:i, s:i, s:o, "
	    "s:b, s:b}",
	    "name", p->pr_name, "env", p->pr_env, "secrets", p->pr_secrets,
	    "add_dir", policy_add_dir_name(p->pr_add_dir),
	    "network", p->pr_network, "seccomp", ap_tier_name(p->pr_seccomp),
	    "cpus_max", (int)p->pr_cpus_max,
	    "memory_max_mib", (int)p->pr_memory_max_mib,
	    "timeout_max_s", p->pr_timeout_max_s != 0 ?
	    json_integer(p->pr_timeout_max_s) : json_null(),
	    "ack_needed", p->pr_ack, "guest_root", p->pr_guest_root));
}

static const char *
yesno(uint32_t v)
{
	return (v ? "yes" : "no");
}

static void
timeout_str(const struct mvm_profile *p, char *buf, size_t len)
{
	if (p->pr_timeout_max_s == 0)
		(void)strlcpy(buf, "none", len);
	else
		(void)snprintf(buf, len, "%us", p->pr_timeout_max_s);
}

static int
policy_ls(int argc, char **argv)
{
	struct mvm_profile	 p[MVM_PROFILES];
	json_t			*a;
	char			 t[16];
	int			 i, n, json;

	json = json_flag(argc, argv, &policy_cmd);
	if (optind != argc)
		cmd_usage(&policy_cmd);
	n = policy_get(NULL, p, MVM_PROFILES);
	if (json) {
		a = json_array();
		for (i = 0; i < n; i++)
			json_array_append_new(a, profile_json(&p[i]));
		json_print(a);
		return (EXIT_OK);
	}
	printf("%-12s %-3s %-6s %-7s %-7s %-12s %4s %7s %7s %-3s %s\n",
	    "PROFILE", "ENV", "SECRET", "ADD-DIR", "NETWORK", "SECCOMP", "CPUS",
	    "MEMORY", "TIMEOUT", "ACK", "ROOT");
	for (i = 0; i < n; i++) {
		timeout_str(&p[i], t, sizeof(t));
		printf("%-12s %-3s %-6s %-7s %-7s %-12s %4u %6uM %7s %-3s %s\n",
		    p[i].pr_name, yesno(p[i].pr_env), yesno(p[i].pr_secrets),
		    policy_add_dir_name(p[i].pr_add_dir), yesno(p[i].pr_network),
		    ap_tier_name(p[i].pr_seccomp), p[i].pr_cpus_max,
		    p[i].pr_memory_max_mib, t, yesno(p[i].pr_ack),
		    yesno(p[i].pr_guest_root));
	}
	return (EXIT_OK);
}

static int
policy_show(int argc, char **argv)
{
	struct mvm_profile	 p;
	char			 t[16];
	int			 json;

	if (argc < 2 || argv[1][0] == '-')
		cmd_usage(&policy_cmd);
	json = json_flag(argc - 1, argv + 1, &policy_cmd);
	if (optind != argc - 1)
		cmd_usage(&policy_cmd);
	if (policy_get(argv[1], &p, 1) != 1)
		errx(EXIT_MVM, "malformed reply");
	if (json) {
		json_print(profile_json(&p));
		return (EXIT_OK);
	}
	timeout_str(&p, t, sizeof(t));
	printf("profile:        %s\n", p.pr_name);
	printf("env:            %s\n", yesno(p.pr_env));
	printf("secrets:        %s\n", yesno(p.pr_secrets));
	printf("add_dir:        %s\n", policy_add_dir_name(p.pr_add_dir));
	printf("network:        %s\n", yesno(p.pr_network));
	printf("seccomp:        %s\n", ap_tier_name(p.pr_seccomp));
	printf("cpus_max:       %u\n", p.pr_cpus_max);
	printf("memory_max_mib: %u\n", p.pr_memory_max_mib);
	printf("timeout_max:    %s\n", t);
	printf("ack_needed:     %s\n", yesno(p.pr_ack));
	printf("guest_root:     %s\n", yesno(p.pr_guest_root));
	return (EXIT_OK);
}

int
cmd_policy(int argc, char **argv)
{
	if (argc < 2)
		cmd_usage(&policy_cmd);
	if (strcmp(argv[1], "ls") == 0)
		return (policy_ls(argc - 1, argv + 1));
	if (strcmp(argv[1], "show") == 0)
		return (policy_show(argc - 1, argv + 1));
	warnx("unknown policy command: %s", argv[1]);
	cmd_usage(&policy_cmd);
}
