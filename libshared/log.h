/*
 * Logging for every mvm process.
 *
 * The supervisor logs to stderr in foreground mode (-d) and to syslog
 * otherwise.  Children never open a log themselves: they write one line
 * per message, "<prio>text\n", to fd 2, which is a pipe the supervisor
 * reads and relays under the child's name.  That keeps /dev/log out of
 * every jail and needs only write(2) in the seccomp policies.
 */
#ifndef MVM_LOG_H
#define MVM_LOG_H

#include <stdarg.h>

#define LOG_MODE_STDERR		0	/* foreground: plain lines on stderr */
#define LOG_MODE_SYSLOG		1	/* daemon: syslog(3) */
#define LOG_MODE_CHILD		2	/* child: "<prio>line" on fd 2 */

#define MVM_LOGLINE_MAX		1024	/* longer lines are cut */

void	log_init(int, int, const char *);
void	log_setverbose(int);
int	log_getverbose(void);
void	log_procname(const char *);
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_prio(int, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif /* MVM_LOG_H */
