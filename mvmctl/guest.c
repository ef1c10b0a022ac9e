/*
 * mvmctl ls, stop, rm, logs, cp, boot-report, image ls and rm: managing
 * named guests and images through the supervisor.
 */
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "agentproto.h"
#include "mvmctl.h"

static const char *
accel_name(uint32_t a)
{
	return (a == MVM_ACCEL_KVM ? "kvm" : "tcg");
}

static int
get_info(struct imsg *imsg, void *p)
{
	return (msg_get_ctl_guest_info(imsg, p));
}

/* Send a guest request and collect GUEST_INFO replies up to END. */
static int
guest_infos(uint32_t op, const char *name, struct mvm_ctl_guest_info *out,
    int max)
{
	struct mvm_ctl_guest	 cg;

	memset(&cg, 0, sizeof(cg));
	cg.cg_op = op;
	if (name != NULL)
		(void)strlcpy(cg.cg_name, name, sizeof(cg.cg_name));
	return (ctl_collect(IMSG_CTL_GUEST_REQ, &cg, sizeof(cg),
	    IMSG_CTL_GUEST_INFO, get_info, out, sizeof(*out), max));
}

int
json_flag(int argc, char **argv, const struct cmd *self)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	int	 ch, json = 0;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch != 'j')
			cmd_usage(self);
		json = 1;
	}
	return (json);
}

/* a uid as its user's name, or as the number (static buffer) */
const char *
user_name(uint32_t uid)
{
	static char	 name[16];
	struct passwd	 pwb, *pw = NULL;
	char		 buf[4096];

	if (getpwuid_r(uid, &pwb, buf, sizeof(buf), &pw) == 0 && pw != NULL &&
	    strlcpy(name, pw->pw_name, sizeof(name)) < 11)
		return (name);
	(void)snprintf(name, sizeof(name), "%u", uid);
	return (name);
}

static json_t *
info_json(const struct mvm_ctl_guest_info *gi)
{
	static const char	*const phases[] = { NULL, "vmm", "qemu",
				    "console", "agent_hello", "ready" };
	json_t			*ph = json_object();
	int			 i;

	/* a phase that did not happen (a silent console) is null */
	for (i = 1; i <= MVM_PHASE_MAX; i++)
		json_object_set_new(ph, phases[i], gi->gi_phase_ms[i] != 0 ||
		    i == 1 ? json_integer(gi->gi_phase_ms[i]) : json_null());
	return (json_pack("{s:s, s:s, s:s, s:s, s:i, s:i, s:s, s:I, s:I, "
	    "s:b, s:o, s:{s:s, s:s, s:s, s:s, s:s}, s:s, s:I, s:s, s:s?, s:I}",
	    "name", gi->gi_name, "image", gi->gi_image, "state", gi->gi_state,
	    "reason", gi->gi_reason, "cpus", (int)gi->gi_cpus,
	    "memory_mib", (int)gi->gi_memory_mib,
	    "accel", accel_name(gi->gi_accel),
	    "uid", (json_int_t)gi->gi_uid, "vmm_pid", (json_int_t)gi->gi_pid,
	    "transient", (int)gi->gi_transient,
	    "phases_ms", ph,
	    "backend", "name", "qemu-microvm", "accel",
	    accel_name(gi->gi_accel), "qemu", gi->gi_qemu,
	    "kernel_sha256", gi->gi_kernel_sha256,
	    "initramfs_sha256", gi->gi_initrd_sha256,
	    "agent", gi->gi_agent,
	    "guest_uptime_ms", (json_int_t)gi->gi_guest_uptime_ms,
	    "profile", gi->gi_profile,
	    "seccomp", ap_tier_name(gi->gi_seccomp),
	    "owner", (json_int_t)gi->gi_owner));
}

void
json_print(json_t *o)
{
	json_dumpf(o, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
	putchar('\n');
	json_decref(o);
}

int
cmd_ls(int argc, char **argv)
{
	static const struct cmd self = { "ls", NULL, USAGE_LS };
	struct mvm_ctl_guest_info gi[256];
	json_t			*arr;
	int			 i, n, json;

	json = json_flag(argc, argv, &self);
	if (optind != argc)
		cmd_usage(&self);
	n = guest_infos(MVM_GUEST_LS, NULL, gi, 256);
	if (json) {
		arr = json_array();
		for (i = 0; i < n; i++)
			json_array_append_new(arr, info_json(&gi[i]));
		json_print(arr);
		return (EXIT_OK);
	}
	printf("%-20s %-9s %-10s %-10s %4s %6s %-5s %8s\n", "NAME", "STATE",
	    "OWNER", "IMAGE", "CPUS", "MEMORY", "ACCEL", "AGE");
	for (i = 0; i < n; i++)
		printf("%-20s %-9s %-10s %-10s %4u %5uM %-5s %7llus\n",
		    gi[i].gi_name, gi[i].gi_state, user_name(gi[i].gi_owner),
		    gi[i].gi_image, gi[i].gi_cpus, gi[i].gi_memory_mib,
		    accel_name(gi[i].gi_accel),
		    (unsigned long long)gi[i].gi_age_ms / 1000);
	return (EXIT_OK);
}

int
cmd_boot_report(int argc, char **argv)
{
	static const struct cmd self = { "boot-report", NULL,
	    USAGE_BOOT_REPORT };
	struct mvm_ctl_guest_info gi;
	int			 json;

	json = json_flag(argc, argv, &self);
	if (optind + 1 != argc)
		cmd_usage(&self);
	if (guest_infos(MVM_GUEST_REPORT, argv[optind], &gi, 1) != 1)
		errx(EXIT_NOGUEST, "%s: no such guest", argv[optind]);
	if (json) {
		json_print(info_json(&gi));
		return (EXIT_OK);
	}
	printf("guest:       %s (%s)%s%s\n", gi.gi_name, gi.gi_state,
	    gi.gi_reason[0] ? ": " : "", gi.gi_reason);
	printf("backend:     qemu-microvm, accel %s%s, QEMU %s\n",
	    accel_name(gi.gi_accel), gi.gi_accel == MVM_ACCEL_KVM ? "" :
	    " (software emulation: times are TCG times)", gi.gi_qemu);
	printf("phases (ms since the vmm started, %s):\n",
	    accel_name(gi.gi_accel));
	printf("  qemu started      %6llu\n",
	    (unsigned long long)gi.gi_phase_ms[MVM_PHASE_QEMU]);
	printf("  first console     %6llu\n",
	    (unsigned long long)gi.gi_phase_ms[MVM_PHASE_CONSOLE]);
	printf("  agent hello       %6llu\n",
	    (unsigned long long)gi.gi_phase_ms[MVM_PHASE_HELLO]);
	printf("  ready             %6llu\n",
	    (unsigned long long)gi.gi_phase_ms[MVM_PHASE_READY]);
	printf("guest uptime at agent start: %llu ms\n",
	    (unsigned long long)gi.gi_guest_uptime_ms);
	printf("image:       %s\n", gi.gi_image);
	printf("kernel:      sha256 %s\n", gi.gi_kernel_sha256);
	printf("initramfs:   sha256 %s\n", gi.gi_initrd_sha256);
	printf("agent:       %s, guest kernel %s\n", gi.gi_agent,
	    gi.gi_kernel);
	return (EXIT_OK);
}

static int
simple_op(uint32_t op, int argc, char **argv, const struct cmd *self)
{
	struct mvm_ctl_guest	 cg;
	struct imsg		 imsg;

	if (argc != 2)
		cmd_usage(self);
	memset(&cg, 0, sizeof(cg));
	cg.cg_op = op;
	if (strlcpy(cg.cg_name, argv[1], sizeof(cg.cg_name)) >=
	    sizeof(cg.cg_name))
		cmd_usage(self);
	g.typed_exits = 1;
	ctl_connect();
	ctl_send(IMSG_CTL_GUEST_REQ, &cg, sizeof(cg));
	ctl_expect(&imsg, IMSG_CTL_OK);
	imsg_free(&imsg);
	ctl_close();
	return (EXIT_OK);
}

int
cmd_stop(int argc, char **argv)
{
	static const struct cmd self = { "stop", NULL, USAGE_STOP };

	return (simple_op(MVM_GUEST_STOP, argc, argv, &self));
}

int
cmd_rm(int argc, char **argv)
{
	static const struct cmd self = { "rm", NULL, USAGE_RM };

	return (simple_op(MVM_GUEST_RM, argc, argv, &self));
}

/* LOGS replies to stdout up to END, through v unless it is NULL */
static void
logs_copy(struct vis *v)
{
	struct imsg	 imsg;

	for (;;) {
		ctl_recv(&imsg);
		if (imsg_type(&imsg) == IMSG_CTL_END)
			break;
		if (imsg_type(&imsg) != IMSG_CTL_LOGS)
			errx(EXIT_MVM, "unexpected reply");
		if (v != NULL)
			vis_put(v, imsg.data, imsg.datalen);
		else if (fwrite(imsg.data, 1, imsg.datalen, stdout) !=
		    imsg.datalen)
			err(EXIT_ERR, "stdout");
		if (fflush(stdout) == EOF)
			err(EXIT_ERR, "stdout");
		imsg_free(&imsg);
	}
	imsg_free(&imsg);
	if (v != NULL)
		vis_flush(v);
	if (fflush(stdout) == EOF)
		err(EXIT_ERR, "stdout");
}

/*
 * Console bytes go to a terminal escaped (vis.c): a guest must not
 * drive the user's terminal.  --raw, or anything but a terminal, gets
 * them as they are.
 */
int
cmd_logs(int argc, char **argv)
{
	static const struct cmd self = { "logs", NULL, USAGE_LOGS };
	static const struct option opts[] = {
		{ "raw", no_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 }
	};
	struct mvm_ctl_guest	 cg;
	struct vis		 v;
	int			 ch, raw = 0;

	memset(&cg, 0, sizeof(cg));
	cg.cg_op = MVM_GUEST_LOGS;
	while ((ch = getopt_long(argc, argv, "f", opts, NULL)) != -1) {
		if (ch == 'f')
			cg.cg_flags |= MVM_GUEST_FOLLOW;
		else if (ch == 'r')
			raw = 1;
		else
			cmd_usage(&self);
	}
	if (optind + 1 != argc || strlcpy(cg.cg_name, argv[optind],
	    sizeof(cg.cg_name)) >= sizeof(cg.cg_name))
		cmd_usage(&self);
	memset(&v, 0, sizeof(v));
	g.typed_exits = 1;
	ctl_connect();
	ctl_send(IMSG_CTL_GUEST_REQ, &cg, sizeof(cg));
	logs_copy(raw || !isatty(STDOUT_FILENO) ? NULL : &v);
	ctl_close();
	return (EXIT_OK);
}

/* "name:/path" -> name and path; NULL if it is a host path */
static const char *
guest_side(const char *arg, char *name, size_t len)
{
	const char	*colon = strchr(arg, ':');

	if (colon == NULL || colon == arg || colon[1] != '/' ||
	    (size_t)(colon - arg) >= len || memchr(arg, '/', colon - arg))
		return (NULL);
	memcpy(name, arg, colon - arg);
	name[colon - arg] = '\0';
	return (colon + 1);
}

static int
cp_put(const char *src, const char *name, const char *path)
{
	struct mvm_ctl_guest	 cg;
	struct imsg		 imsg;
	struct stat		 st;
	uint8_t			 buf[MVM_DATA_MAX];
	ssize_t			 n;
	int			 fd;

	if ((fd = open(src, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1)
		err(EXIT_ERR, "%s", src);
	if (!S_ISREG(st.st_mode))
		errx(EXIT_ERR, "%s: not a regular file", src);
	memset(&cg, 0, sizeof(cg));
	cg.cg_op = MVM_GUEST_PUT;
	cg.cg_size = st.st_size;
	cg.cg_mode = st.st_mode & 0777;
	(void)strlcpy(cg.cg_name, name, sizeof(cg.cg_name));
	if (strlcpy(cg.cg_path, path, sizeof(cg.cg_path)) >=
	    sizeof(cg.cg_path))
		errx(EXIT_TOOBIG, "%s: guest path too long", path);
	g.typed_exits = 1;
	ctl_connect();
	ctl_send(IMSG_CTL_GUEST_REQ, &cg, sizeof(cg));
	/* a refusal (no such guest) comes before any of the file is sent */
	ctl_expect(&imsg, IMSG_CTL_OK);
	imsg_free(&imsg);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		ctl_send(IMSG_CTL_FILE_DATA, buf, n);
	if (n == -1)
		err(EXIT_ERR, "%s", src);
	close(fd);
	ctl_send(IMSG_CTL_FILE, NULL, 0);
	ctl_expect(&imsg, IMSG_CTL_OK);
	imsg_free(&imsg);
	ctl_close();
	return (EXIT_OK);
}

/*
 * The file's bytes, into fd, never more than MVM_CP_MAX; then its end,
 * whose size must be what came.  Returns the guest's mode bits.
 */
static uint32_t
cp_get_data(int fd, const char *tmp)
{
	struct mvm_vmm_file	 vf;
	struct imsg		 imsg;
	uint64_t		 got = 0;

	for (;;) {
		ctl_recv(&imsg);
		if (imsg_type(&imsg) == IMSG_CTL_FILE)
			break;
		if (imsg_type(&imsg) != IMSG_CTL_FILE_DATA ||
		    imsg.datalen > MVM_CP_MAX - got)
			errx(EXIT_MVM, "malformed reply: more than %llu bytes",
			    MVM_CP_MAX);
		if (write(fd, imsg.data, imsg.datalen) != (ssize_t)imsg.datalen)
			errx(EXIT_ERR, "%s: write failed", tmp);
		got += imsg.datalen;
		imsg_free(&imsg);
	}
	if (imsg_get_data(&imsg, &vf, sizeof(vf)) == -1 || vf.vf_size != got)
		errx(EXIT_MVM, "malformed reply");
	imsg_free(&imsg);
	return (vf.vf_mode);
}

/*
 * Written to a temporary file beside dst, then renamed over it; the
 * temporary file goes on any other way out (hostfile.c).
 */
static int
cp_get(const char *name, const char *path, const char *dst)
{
	struct mvm_ctl_guest	 cg;
	struct stat		 st;
	char			 target[PATH_MAX], tmp[PATH_MAX], base[PATH_MAX];
	uint32_t		 mode;
	int			 fd;

	(void)strlcpy(base, path, sizeof(base));
	if (stat(dst, &st) == 0 && S_ISDIR(st.st_mode)) {
		if ((size_t)snprintf(target, sizeof(target), "%s/%s", dst,
		    basename(base)) >= sizeof(target))
			errx(EXIT_ERR, "%s: path too long", dst);
	}
	else
		(void)strlcpy(target, dst, sizeof(target));
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.mvmctl-XXXXXX", target) >=
	    sizeof(tmp))
		errx(EXIT_ERR, "%s: path too long", target);
	fd = hostfile_mkstemp(tmp);
	memset(&cg, 0, sizeof(cg));
	cg.cg_op = MVM_GUEST_GET;
	(void)strlcpy(cg.cg_name, name, sizeof(cg.cg_name));
	(void)strlcpy(cg.cg_path, path, sizeof(cg.cg_path));
	g.typed_exits = 1;
	ctl_connect();
	ctl_send(IMSG_CTL_GUEST_REQ, &cg, sizeof(cg));
	mode = cp_get_data(fd, tmp);
	ctl_close();
	if (fchmod(fd, hostfile_mode(mode)) == -1 || fsync(fd) == -1 ||
	    close(fd) == -1 || rename(tmp, target) == -1)
		err(EXIT_ERR, "%s", target);
	hostfile_keep();
	return (EXIT_OK);
}

int
cmd_cp(int argc, char **argv)
{
	static const struct cmd self = { "cp", NULL, USAGE_CP };
	char			 n1[MVM_NAME_MAX], n2[MVM_NAME_MAX];
	const char		*p1, *p2;

	if (argc != 3)
		cmd_usage(&self);
	p1 = guest_side(argv[1], n1, sizeof(n1));
	p2 = guest_side(argv[2], n2, sizeof(n2));
	if ((p1 == NULL) == (p2 == NULL))
		errx(EXIT_USAGE, "exactly one side must be NAME:/path");
	if (p2 != NULL)
		return (cp_put(argv[1], n2, p2));
	return (cp_get(n1, p1, argv[2]));
}

int
cmd_image(int argc, char **argv)
{
	static const struct cmd self = { "image", NULL, USAGE_IMAGE };
	struct mvm_ctl_guest_info gi[64];
	json_t			*arr;
	int			 i, n, json;

	if (argc < 2)
		cmd_usage(&self);
	if (strcmp(argv[1], "build") == 0)
		return (image_build(argc - 1, argv + 1));
	if (strcmp(argv[1], "rm") == 0)
		return (simple_op(MVM_GUEST_IMAGE_RM, argc - 1, argv + 1,
		    &self));
	if (strcmp(argv[1], "ls") != 0)
		cmd_usage(&self);
	json = json_flag(argc - 1, argv + 1, &self);
	n = guest_infos(MVM_GUEST_IMAGES, NULL, gi, 64);
	if (json) {
		arr = json_array();
		for (i = 0; i < n; i++)
			json_array_append_new(arr, json_pack("{s:s, s:s, s:s, "
			    "s:s, s:s}", "name", gi[i].gi_name, "state",
			    gi[i].gi_state, "kernel_version", gi[i].gi_kernel,
			    "kernel_sha256", gi[i].gi_kernel_sha256,
			    "initramfs_sha256", gi[i].gi_initrd_sha256));
		json_print(arr);
		return (EXIT_OK);
	}
	printf("%-16s %-8s %-24s %s\n", "NAME", "STATE", "KERNEL",
	    "INITRAMFS SHA256");
	for (i = 0; i < n; i++)
		printf("%-16s %-8s %-24s %.16s...\n", gi[i].gi_name,
		    gi[i].gi_state, gi[i].gi_kernel, gi[i].gi_initrd_sha256);
	return (EXIT_OK);
}
