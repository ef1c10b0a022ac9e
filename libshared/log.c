#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static int	 log_mode = LOG_MODE_STDERR;
static int	 log_verbose;
static char	 log_name[32] = "mvm";

static void	 vlog(int, const char *, va_list)
		    __attribute__((format(printf, 2, 0)));
static void	 vlog_err(int, const char *, va_list)
		    __attribute__((format(printf, 2, 0)));
static void	 log_emit(int, const char *);

/*
 * mode: one of LOG_MODE_*; verbose: -1 warnings only, 0 info, 1 debug.
 */
void
log_init(int mode, int verbose, const char *name)
{
	log_mode = mode;
	log_verbose = verbose;
	log_procname(name);
	if (mode == LOG_MODE_SYSLOG)
		openlog(log_name, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	tzset();
}

void
log_procname(const char *name)
{
	if (name != NULL)
		(void)snprintf(log_name, sizeof(log_name), "%s", name);
}

void
log_setverbose(int v)
{
	log_verbose = v;
}

int
log_getverbose(void)
{
	return (log_verbose);
}

/*
 * Replace control characters so a log line can never forge another line
 * or carry terminal escapes.
 */
static void
log_clean(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			*s = '?';
}

/* One write(2) per line, so a reader never sees half a line. */
static void
log_write(char *buf, size_t size, int n)
{
	ssize_t	 w;

	if (n <= 0)
		return;
	if ((size_t)n >= size) {
		n = size - 1;
		buf[n - 1] = '\n';
	}
	do {
		w = write(STDERR_FILENO, buf, n);
	} while (w == -1 && errno == EINTR);
}

static void
log_emit(int prio, const char *line)
{
	char	 buf[MVM_LOGLINE_MAX + 16];

	switch (log_mode) {
	case LOG_MODE_SYSLOG:
		syslog(prio, "%s", line);
		break;
	case LOG_MODE_CHILD:
		log_write(buf, sizeof(buf),
		    snprintf(buf, sizeof(buf), "<%d>%s\n", prio, line));
		break;
	default:
		log_write(buf, sizeof(buf),
		    snprintf(buf, sizeof(buf), "%s: %s\n", log_name, line));
		break;
	}
}

static void
vlog(int prio, const char *fmt, va_list ap)
{
	char	 line[MVM_LOGLINE_MAX];

	if (prio == LOG_DEBUG && log_verbose < 1)
		return;
	if (prio == LOG_INFO && log_verbose < 0)
		return;
	(void)vsnprintf(line, sizeof(line), fmt, ap);
	log_clean(line);
	log_emit(prio, line);
}

void
log_prio(int prio, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(prio, fmt, ap);
	va_end(ap);
}

static void
vlog_err(int prio, const char *fmt, va_list ap)
{
	char	 msg[MVM_LOGLINE_MAX];
	int	 saved = errno;

	if (fmt == NULL) {
		log_prio(prio, "%s", strerror(saved));
	} else {
		(void)vsnprintf(msg, sizeof(msg), fmt, ap);
		log_prio(prio, "%s: %s", msg, strerror(saved));
	}
	errno = saved;
}

void
log_warn(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog_err(LOG_WARNING, fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_INFO, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_DEBUG, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog_err(LOG_CRIT, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap);
	va_end(ap);
	exit(1);
}
