#ifndef MVMCTL_H
#define MVMCTL_H

#include "imsg.h"
#include "mvm.h"

/* exit statuses common to every command (mvmctl.8 EXIT STATUS) */
#define EXIT_OK		0
#define EXIT_ERR	1
#define EXIT_USAGE	2

struct ctl_globals {
	const char	*socket;
	const char	*statedir;
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
void	 ctl_sendv2(uint32_t, const void *, size_t, const void *, size_t);
void	 ctl_recv(struct imsg *);
void	 ctl_expect(struct imsg *, uint32_t);
void	 ctl_close(void);
const char *ctl_statedir(void);

/* per-command entry points */
int	 cmd_status(int, char **);
int	 cmd_key(int, char **);

#endif /* MVMCTL_H */
