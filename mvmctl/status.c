/*
 * mvmctl status: the supervisor's view of its processes, with what the
 * kernel says about each one's jail (/proc/PID/status).
 */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "mvmctl.h"

static const char *
state_name(uint32_t s)
{
	switch (s) {
	case MVM_PROC_STARTING:
		return ("starting");
	case MVM_PROC_READY:
		return ("ready");
	case MVM_PROC_STOPPING:
		return ("stopping");
	case MVM_PROC_CONFIGURED:
		return ("configured");
	}
	return ("unknown");
}

static json_t *
proc_json(const struct mvm_ctl_proc *cp)
{
	char	 cap[17];

	(void)snprintf(cap, sizeof(cap), "%016llx",
	    (unsigned long long)cp->cp_capeff);
	return (json_pack("{s:s, s:I, s:I, s:I, s:i, s:i, s:s, s:b, s:s}",
	    "name", cp->cp_name, "pid", (json_int_t)cp->cp_pid,
	    "uid", (json_int_t)cp->cp_uid, "gid", (json_int_t)cp->cp_gid,
	    "seccomp", cp->cp_seccomp, "no_new_privs", cp->cp_nnp,
	    "cap_eff", cap, "jailed", (int)cp->cp_jailed,
	    "state", state_name(cp->cp_state)));
}

int
cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	static const struct cmd self = { "status", NULL, "status [--json]" };
	struct mvm_ctl_proc	 procs[32];
	struct mvm_ctl_status	 cs;
	struct imsg		 imsg;
	json_t			*root, *arr;
	size_t			 n = 0, i;
	int			 ch, json = 0;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch != 'j')
			cmd_usage(&self);
		json = 1;
	}
	if (optind != argc)
		cmd_usage(&self);

	ctl_connect();
	ctl_send(IMSG_CTL_STATUS_REQ, NULL, 0);
	for (;;) {
		ctl_recv(&imsg);
		if (imsg_type(&imsg) == IMSG_CTL_STATUS_END)
			break;
		if (imsg_type(&imsg) != IMSG_CTL_STATUS_PROC ||
		    n == sizeof(procs) / sizeof(procs[0]) ||
		    msg_get_ctl_proc(&imsg, &procs[n]) == -1)
			errx(EXIT_ERR, "malformed status reply");
		n++;
		imsg_free(&imsg);
	}
	if (msg_get_ctl_status(&imsg, &cs) == -1)
		errx(EXIT_ERR, "malformed status reply");
	imsg_free(&imsg);
	ctl_close();

	if (json) {
		arr = json_array();
		for (i = 0; i < n; i++)
			json_array_append_new(arr, proc_json(&procs[i]));
		root = json_pack("{s:s, s:I, s:s, s:s, s:b, s:o}",
		    "version", cs.cs_version,
		    "uptime_ms", (json_int_t)cs.cs_uptime_ms,
		    "tenant", cs.cs_tenant, "state_dir", cs.cs_state_dir,
		    "audit_ok", (int)cs.cs_audit_ok, "processes", arr);
		if (root == NULL)
			errx(EXIT_ERR, "json_pack");
		json_dumpf(root, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
		putchar('\n');
		json_decref(root);
		return (EXIT_OK);
	}
	printf("mvm %s, up %llu s, tenant %s, state %s, audit %s\n",
	    cs.cs_version, (unsigned long long)cs.cs_uptime_ms / 1000,
	    cs.cs_tenant, cs.cs_state_dir,
	    cs.cs_audit_ok ? "ok" : "STOPPED");
	printf("%-16s %7s %10s %7s %3s %-16s %6s %s\n", "PROCESS", "PID",
	    "UID", "SECCOMP", "NNP", "CAPEFF", "JAILED", "STATE");
	for (i = 0; i < n; i++)
		printf("%-16s %7u %10u %7d %3d %016llx %6s %s\n",
		    procs[i].cp_name, procs[i].cp_pid, procs[i].cp_uid,
		    procs[i].cp_seccomp, procs[i].cp_nnp,
		    (unsigned long long)procs[i].cp_capeff,
		    procs[i].cp_jailed ? "yes" : "no",
		    state_name(procs[i].cp_state));
	return (EXIT_OK);
}
