/*
 * mvmctl metrics: the supervisor's counters and gauges, as Prometheus
 * text exposition (version 0.0.4) or as JSON with the same figures.
 * Labels carry outcomes, states and accelerator names only: never ids
 * of runs, argv, env or output.  Every boot time carries its accel, so
 * a TCG figure is not read as a KVM one.
 */
#include <err.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "mvmctl.h"

static const char *const outcomes[MVM_OUTCOME_MAX] = {
	"exited", "signaled", "timeout", "failed", "cancelled"
};
static const char *const states[MVM_GUEST_STATES] = {
	"created", "booting", "running", "stopping", "stopped", "failed"
};
static const char *const accels[MVM_ACCELS] = { "tcg", "kvm" };

static void
head(const char *name, const char *type, const char *help)
{
	printf("# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
one(const char *name, const char *type, const char *help, uint64_t v)
{
	head(name, type, help);
	printf("%s %" PRIu64 "\n", name, v);
}

static void
prometheus(const struct mvm_ctl_metrics *m)
{
	int	 a, i;

	one("mvm_up", "gauge", "1: the supervisor answered.", 1);
	head("mvm_uptime_seconds", "gauge", "Time since the supervisor "
	    "started.");
	printf("mvm_uptime_seconds %.3f\n", m->cm_uptime_ms / 1000.0);
	one("mvm_audit_ok", "gauge", "1 while the audit log takes records; "
	    "0 once it stopped (new work is refused).", m->cm_audit_ok);
	head("mvm_runs_total", "counter", "Commands run, by outcome.");
	for (i = 0; i < MVM_OUTCOME_MAX; i++)
		printf("mvm_runs_total{outcome=\"%s\"} %" PRIu64 "\n",
		    outcomes[i], m->cm_runs[i]);
	head("mvm_guests", "gauge", "Guests, by state.");
	for (i = 0; i < MVM_GUEST_STATES; i++)
		printf("mvm_guests{state=\"%s\"} %" PRIu64 "\n", states[i],
		    m->cm_guests[i]);
	head("mvm_guest_boot_seconds", "histogram", "Time from starting a "
	    "guest's vmm to its agent being ready, by accelerator.");
	for (a = 0; a < MVM_ACCELS; a++) {
		for (i = 0; i < MVM_BOOT_BUCKETS; i++)
			printf("mvm_guest_boot_seconds_bucket{accel=\"%s\","
			    "le=\"%g\"} %" PRIu64 "\n", accels[a],
			    mvm_boot_bucket_ms[i] / 1000.0,
			    m->cm_boot_le[a][i]);
		printf("mvm_guest_boot_seconds_bucket{accel=\"%s\","
		    "le=\"+Inf\"} %" PRIu64 "\n", accels[a],
		    m->cm_boot_count[a]);
		printf("mvm_guest_boot_seconds_sum{accel=\"%s\"} %.3f\n",
		    accels[a], m->cm_boot_sum_ms[a] / 1000.0);
		printf("mvm_guest_boot_seconds_count{accel=\"%s\"} %" PRIu64
		    "\n", accels[a], m->cm_boot_count[a]);
	}
	one("mvm_guest_boot_failures_total", "counter", "Guests that failed "
	    "before their agent was ready.", m->cm_boot_failures);
	one("mvm_audit_records_total", "counter", "Audit records the "
	    "supervisor saw committed to disk.", m->cm_audit_records);
	one("mvm_audit_errors_total", "counter", "Audit events refused or "
	    "not sent.", m->cm_audit_errors);
	one("mvm_signer_requests_total", "counter", "Signatures the "
	    "supervisor asked the signer for.", m->cm_sign_requests);
	one("mvm_signer_errors_total", "counter", "Signature requests the "
	    "signer refused.", m->cm_sign_errors);
	one("mvm_policy_denials_total", "counter", "Requests denied by "
	    "policy.", m->cm_policy_denials);
	one("mvm_receipts_issued_total", "counter", "Run receipts signed "
	    "and sent to a client.", m->cm_receipts);
	one("mvm_receipt_errors_total", "counter", "Receipts asked for and "
	    "not made.", m->cm_receipt_errors);
	one("mvm_control_connections_total", "counter", "Control "
	    "connections accepted.", m->cm_clients);
	one("mvm_control_errors_total", "counter", "Control connections "
	    "closed for a malformed request.", m->cm_client_errors);
	one("mvm_net_flows_opened_total", "counter", "Egress flows opened.",
	    m->cm_net_opened);
	one("mvm_net_flows_refused_total", "counter", "Egress flows denied "
	    "or failed.", m->cm_net_refused);
	one("mvm_net_bytes_out_total", "counter", "Egress bytes from guests "
	    "(flows that ended).", m->cm_net_bytes_out);
	one("mvm_net_bytes_in_total", "counter", "Egress bytes to guests "
	    "(flows that ended).", m->cm_net_bytes_in);
}

static json_t *
boot_json(const struct mvm_ctl_metrics *m, int a)
{
	json_t	*b = json_array();
	int	 i;

	for (i = 0; i < MVM_BOOT_BUCKETS; i++)
		json_array_append_new(b, json_pack("{s:I, s:I}", "le_ms",
		    (json_int_t)mvm_boot_bucket_ms[i], "count",
		    (json_int_t)m->cm_boot_le[a][i]));
	return (json_pack("{s:I, s:I, s:o}", "count",
	    (json_int_t)m->cm_boot_count[a], "sum_ms",
	    (json_int_t)m->cm_boot_sum_ms[a], "buckets", b));
}

static void
json_out(const struct mvm_ctl_metrics *m)
{
	json_t	*runs = json_object(), *guests = json_object(), *boot, *o;
	int	 i;

	for (i = 0; i < MVM_OUTCOME_MAX; i++)
		json_object_set_new(runs, outcomes[i],
		    json_integer((json_int_t)m->cm_runs[i]));
	for (i = 0; i < MVM_GUEST_STATES; i++)
		json_object_set_new(guests, states[i],
		    json_integer((json_int_t)m->cm_guests[i]));
	boot = json_pack("{s:o, s:o, s:I}", accels[0], boot_json(m, 0),
	    accels[1], boot_json(m, 1), "failures",
	    (json_int_t)m->cm_boot_failures);
	o = json_pack("{s:I, s:b, s:o, s:o, s:o, s:{s:I, s:I}, s:{s:I, s:I},"
	    " s:I, s:{s:I, s:I}, s:{s:I, s:I}}",
	    "uptime_ms", (json_int_t)m->cm_uptime_ms,
	    "audit_ok", (int)m->cm_audit_ok,
	    "runs", runs, "guests", guests, "boot", boot,
	    "audit", "records", (json_int_t)m->cm_audit_records,
		"errors", (json_int_t)m->cm_audit_errors,
	    "signer", "requests", (json_int_t)m->cm_sign_requests,
		"errors", (json_int_t)m->cm_sign_errors,
	    "policy_denials", (json_int_t)m->cm_policy_denials,
	    "receipts", "issued", (json_int_t)m->cm_receipts,
		"errors", (json_int_t)m->cm_receipt_errors,
	    "control", "connections", (json_int_t)m->cm_clients,
		"errors", (json_int_t)m->cm_client_errors);
	if (o == NULL || json_object_set_new(o, "net", json_pack("{s:I, s:I, "
	    "s:I, s:I}", "opened", (json_int_t)m->cm_net_opened, "refused",
	    (json_int_t)m->cm_net_refused, "bytes_out",
	    (json_int_t)m->cm_net_bytes_out, "bytes_in",
	    (json_int_t)m->cm_net_bytes_in)) == -1)
		errx(EXIT_ERR, "json_pack");
	json_dumpf(o, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
	putchar('\n');
	json_decref(o);
}

int
cmd_metrics(int argc, char **argv)
{
	static const struct cmd self = { "metrics", NULL, USAGE_METRICS };
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	struct mvm_ctl_metrics	 m;
	struct imsg		 imsg;
	int			 ch, json = 0;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch != 'j')
			cmd_usage(&self);
		json = 1;
	}
	if (optind != argc)
		cmd_usage(&self);
	ctl_connect();
	ctl_send(IMSG_CTL_METRICS_REQ, NULL, 0);
	ctl_expect(&imsg, IMSG_CTL_METRICS_RES);
	if (msg_get_ctl_metrics(&imsg, &m) == -1)
		errx(EXIT_ERR, "malformed metrics reply");
	imsg_free(&imsg);
	ctl_close();
	if (json)
		json_out(&m);
	else
		prometheus(&m);
	return (EXIT_OK);
}
