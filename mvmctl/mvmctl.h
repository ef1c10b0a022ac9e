#ifndef MVMCTL_H
#define MVMCTL_H

#include "imsg.h"
#include "mvm.h"

/* exit statuses common to every command (mvmctl.8 EXIT STATUS) */
#define EXIT_OK		0
#define EXIT_ERR	1
#define EXIT_USAGE	2
/* mvmctl audit verify and verify-proof: one status per failure class */
#define EXIT_MALFORMED	10
#define EXIT_LINK	11
#define EXIT_SIGNATURE	12
#define EXIT_ROOT	13
#define EXIT_TRUNCATED	14
#define EXIT_NOTEXT	15
#define EXIT_UNKNOWNKEY	16
#define EXIT_NOPROOF	17
/* run, up, exec and the guest commands: mvm's own failures (a guest
 * command's status is its own, 0-255; 124 timeout; 128+N signal N) */
#define EXIT_CAPACITY	115	/* no free guest slot */
#define EXIT_AUDIT	116	/* audit log stopped: fail closed */
#define EXIT_NOGUEST	117	/* no such guest */
#define EXIT_NOQEMU	118	/* QEMU missing or unusable */
#define EXIT_IMAGE	119	/* image damaged or incomplete */
#define EXIT_POLICY	120	/* denied by policy */
#define EXIT_NOIMAGE	121	/* no such image */
#define EXIT_TOOBIG	122	/* over the documented limits */
#define EXIT_EXISTS	123	/* guest name in use */
#define EXIT_TIMEOUT	124	/* the command timed out */
#define EXIT_MVM	125	/* transport or internal failure */
#define EXIT_BOOT	126	/* the guest failed to boot, or failed */
#define EXIT_NOTFOUND	127	/* command (or file) not in the guest */
#define EXIT_STATE	114	/* guest not in a state for that */
#define EXIT_RECEIPT	113	/* the command ran; its receipt was not made */
#define EXIT_NOSECRET	112	/* no such secret */
#define EXIT_SHARE	111	/* a host share did not get in or back */
#define EXIT_QUOTA	110	/* over an image quota of mvm.conf */
#define EXIT_INUSE	109	/* image in use (a guest, or the default) */
#define EXIT_BUSY	108	/* busy (audit log behind, clients): retry */
#define EXIT_INTR	130	/* interrupted (Ctrl-C) */

#define USAGE_RUN	"run [--profile profile [--ack-permissive]] "	\
	"[--seccomp tier] [--guest-root] [--image image] [--cpus n] "	\
	"[--memory mib] "						\
	"[--timeout seconds] [--env key=value] [--secret name[:var]] "	\
	"[--secret-file name:path] [--allow host:port | preset] "	\
	"[--add-dir host:guest[:ro | rw]] " \
	"[--workdir dir] [--name name] " \
	"[--receipt path [--force]] [--json [--capture-output bytes]] [-v] " \
	"-- command [argument ...]"
#define USAGE_UP	"up name [--profile profile [--ack-permissive]] " \
	"[--seccomp tier] [--guest-root] [--image image] [--cpus n] "	\
	"[--memory mib] "						\
	"[--allow host:port | preset]"
#define USAGE_EXEC	"exec name [--seccomp tier] [--guest-root] "	\
	"[--timeout seconds] "						\
	"[--env key=value] [--secret name[:var]] "			\
	"[--secret-file name:path] [--add-dir host:guest[:ro | rw]] " \
	"[--workdir dir] "						\
	"[--receipt path [--force]] "					\
	"[--json [--capture-output bytes]] [-v] -- command [argument ...]"
#define USAGE_SECRET	"secret put name [--from-file file]\n"		\
	"       secret ls [--json]\n"					\
	"       secret rm name [--owner uid]"
#define USAGE_POLICY	"policy ls [--json]\n"				\
	"       policy show profile [--json]"
#define USAGE_METRICS	"metrics [--json]"
#define USAGE_RECEIPT	"receipt verify file [--pubkey keyfile] "		\
	"[--stdout file] [--stderr file] [--checkpoint ckptfile] "	\
	"[--proof prooffile] [--json]"
#define USAGE_LS	"ls [--json]"
#define USAGE_STOP	"stop name"
#define USAGE_RM	"rm name"
#define USAGE_LOGS	"logs [-f] [--raw] name"
#define USAGE_CP	"cp source target"
#define USAGE_BOOT_REPORT "boot-report name [--json]"
#define USAGE_IMAGE	"image ls [--json]\n"					\
	"       image build name --from dir\n"				\
	"       image rm name"

#define AUDIT_USAGE \
	"audit tail [-f] [-n count] [--tenant tenant] [--json]\n" \
	"       audit show id [--tenant tenant] [--json]\n" \
	"       audit verify [--tenant tenant] [--since ckptfile] " \
	"[--pubkey keyfile] [--json]\n" \
	"       audit checkpoint [--tenant tenant]\n" \
	"       audit resume [--tenant tenant]\n" \
	"       audit prove --index n [--tenant tenant]\n" \
	"       audit prove --since-size size [--tenant tenant]\n" \
	"       audit verify-proof prooffile --record linefile " \
	"[--pubkey keyfile]\n" \
	"       audit verify-proof prooffile --since ckptfile " \
	"[--pubkey keyfile]"

struct ctl_globals {
	const char	*socket;
	const char	*statedir;
	int		 typed_exits;	/* map MVM_E* to EXIT_* statuses */
	/* called before a failure ends mvmctl (--json reports it) */
	void		(*on_fail)(int, uint32_t, const char *);
};
extern struct ctl_globals g;

struct cmd {
	const char	*c_name;
	int		(*c_fn)(int, char **);
	const char	*c_usage;
};

void	 usage(void) __attribute__((noreturn));
void	 cmd_usage(const struct cmd *) __attribute__((noreturn));

/* ctl.c: talking to the supervisor */
void	 ctl_connect(void);
void	 ctl_send(uint32_t, const void *, size_t);
void	 ctl_queue(uint32_t, const void *, size_t);
void	 ctl_write(void);
size_t	 ctl_queued(void);
void	 ctl_nonblock(int);
void	 ctl_sendv2(uint32_t, const void *, size_t, const void *, size_t);
void	 ctl_recv(struct imsg *);
void	 ctl_expect(struct imsg *, uint32_t);
void	 ctl_close(void);
int	 ctl_pending(struct imsg *);
int	 ctl_fd(void);
void	 ctl_read(void);
int	 ctl_exit_status(uint32_t);
int	 ctl_collect(uint32_t, const void *, size_t, uint32_t,
	    int (*)(struct imsg *, void *), void *, size_t, int);
void	 ctl_fail(int, uint32_t, const char *) __attribute__((noreturn));
const char *ctl_statedir(void);

/* share.c: --add-dir */
struct json_t;
void	 share_arg(const char *);
int	 share_count(void);
void	 share_prepare(void);
void	 share_declare(void);
void	 share_send(void);
void	 share_back_data(struct imsg *);
void	 share_back_end(struct imsg *);
int	 share_finish(int, char *, size_t);
struct json_t *share_json(void);

/* hostfile.c: files written from a guest's bytes */
int	 hostfile_mkstemp(char *);
void	 hostfile_keep(void);
mode_t	 hostfile_mode(uint32_t);

/* vis.c: console bytes for a terminal */
struct vis {
	uint8_t		 v_seq[4];	/* a UTF-8 sequence not yet whole */
	size_t		 v_len;
	int		 v_cr;		/* a carriage return, newline next? */
};
void	 vis_put(struct vis *, const uint8_t *, size_t);
void	 vis_flush(struct vis *);

/* guest.c: "--json" as the only option; a JSON value, pretty, freed */
int	 json_flag(int, char **, const struct cmd *);
void	 json_print(struct json_t *);
const char *user_name(uint32_t);

/* per-command entry points */
int	 cmd_status(int, char **);
int	 cmd_key(int, char **);
int	 cmd_run(int, char **);
int	 cmd_up(int, char **);
int	 cmd_exec(int, char **);
int	 cmd_ls(int, char **);
int	 cmd_stop(int, char **);
int	 cmd_rm(int, char **);
int	 cmd_logs(int, char **);
int	 cmd_cp(int, char **);
int	 cmd_boot_report(int, char **);
int	 cmd_image(int, char **);
int	 image_build(int, char **);
int	 cmd_audit(int, char **);
int	 cmd_metrics(int, char **);
int	 cmd_receipt(int, char **);
int	 cmd_policy(int, char **);
int	 cmd_secret(int, char **);

#endif /* MVMCTL_H */
