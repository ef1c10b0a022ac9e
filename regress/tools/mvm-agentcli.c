/*
 * mvm-agentcli: speak the agent protocol (agentproto.h) to a guest's
 * virtio-serial port through QEMU's unix socket chardev, for tests.
 *
 * usage: mvm-agentcli [-s tier] [-t seconds] [-w seconds] SOCKET STEP...
 *   -s	the "seccomp" member "exec" and "start" add to a JSON object that
 *	has none (default "standard"; "" adds none)
 *   -t	per-step timeout (default 30); -w wait for the socket (default 0)
 * Steps (one line of output each, "TYPE payload"):
 *   hello			HELLO proto 1..1
 *   exec JSON PREFIX		EXEC JSON and wait for its end; stdout and
 *				stderr go to PREFIX.out and PREFIX.err, the
 *				EXIT payload to PREFIX.exit; with
 *				"stdin":true, PREFIX.in is sent as stdin
 *   start JSON PREFIX		EXEC, not waiting; prints STARTED or ERROR
 *   wait PREFIX		wait for a started EXEC's end
 *   signal PREFIX N		SIGNAL N to a started EXEC
 *   stdin PREFIX TEXT		send TEXT as stdin ("" closes it)
 *   put LOCAL REMOTE MODE	FILE_PUT (MODE octal)
 *   get REMOTE LOCAL MAX	FILE_GET into LOCAL
 *   ping JSON			PING
 *   shutdown			SHUTDOWN
 *   send TYPE ID PAYLOAD	a raw frame (TYPE: name or number)
 *   sendhex HEX		raw bytes
 *   recv ID			the next frame with this id ("any": any id)
 *				that no EXEC claims: "TYPE ID payload"
 *   eof			wait until the other side closes
 *   sleep MS
 * Exit status: 0 when every step got its answer, 2 on a timeout, 3 if
 * the connection closed early, 1 on other errors.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "agentproto.h"

#define AUTO_ID		1000	/* ids for steps start here */
#define MAX_EXECS	16
#define WBUF_HIGH	(256 * 1024)
#define IN_CHUNK	(64 * 1024)
#define HELLO_JSON	"{\"proto_min\":1,\"proto_max\":1," \
			    "\"host\":\"mvm-agentcli\"}"

struct cexec {
	char		 ce_prefix[256];
	uint32_t	 ce_id;
	FILE		*ce_out;
	FILE		*ce_err;
	int		 ce_in;		/* PREFIX.in, -1: none or sent */
	int		 ce_started;
	int		 ce_done;
	char		*ce_end;	/* "EXIT {...}" or "ERROR {...}" */
};

struct reply {
	struct reply	*r_next;
	uint32_t	 r_type;
	uint32_t	 r_id;
	size_t		 r_len;
	uint8_t		 r_data[];
};

static int		 sock = -1;
static struct ap_rbuf	 rb;
static uint8_t		*wbuf;
static size_t		 wlen, wcap;
static struct cexec	 execs[MAX_EXECS];
static int		 nexecs;
static struct reply	*replies, **rtail = &replies;
static uint32_t		 next_id = AUTO_ID;
static int		 step_timeout = 30;
static const char	*tier = "standard";
static int		 eof_seen;

static void	 usage(void) __attribute__((noreturn));
static char	*exec_json(const char *);
static uint64_t	 msnow(void);
static void	 connect_sock(const char *, int);
static void	 queue(uint32_t, uint32_t, const void *, size_t);
static void	 feed_stdin(void);
static void	 take_frames(void);
static void	 on_frame(const struct ap_frame *);
static int	 exec_frame(const struct ap_frame *);
static int	 pump(uint64_t);
static struct reply *await(uint32_t, int);
static void	 print_reply(const struct reply *, int);
static struct cexec *cexec_find(const char *);
static int	 step_exec(const char *, const char *, int);
static int	 step_wait(struct cexec *);
static int	 step_put(const char *, const char *, const char *);
static int	 step_get(const char *, const char *, const char *);
static int	 step_hex(const char *);
static uint32_t	 type_of(const char *);
static int	 run_step(char **, int, int *);

static void
usage(void)
{
	fprintf(stderr, "usage: mvm-agentcli [-s tier] [-t seconds] "
	    "[-w seconds] SOCKET STEP...\n");
	exit(1);
}

static uint64_t
msnow(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static void
connect_sock(const char *path, int wait_s)
{
	struct sockaddr_un	 sun;
	uint64_t		 until = msnow() + (uint64_t)wait_s * 1000;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		errx(1, "%s: path too long", path);
	(void)strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
	for (;;) {
		if ((sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) ==
		    -1)
			err(1, "socket");
		if (connect(sock, (struct sockaddr *)&sun, sizeof(sun)) == 0)
			break;
		if (msnow() >= until)
			err(1, "connect %s", path);
		close(sock);
		usleep(10 * 1000);
	}
	if (fcntl(sock, F_SETFL, O_NONBLOCK) == -1)
		err(1, "fcntl");
}

static void
queue(uint32_t type, uint32_t id, const void *p, size_t len)
{
	if (wlen + AP_HDR_LEN + len > wcap) {
		wcap = (wlen + AP_HDR_LEN + len) * 2;
		if ((wbuf = realloc(wbuf, wcap)) == NULL)
			err(1, "realloc");
	}
	if (ap_header(wbuf + wlen, type, id, len) == -1)
		errx(1, "payload of %zu bytes is too large", len);
	if (len > 0)
		memcpy(wbuf + wlen + AP_HDR_LEN, p, len);
	wlen += AP_HDR_LEN + len;
}

/* Stdin of started EXECs, a chunk at a time while the socket keeps up. */
static void
feed_stdin(void)
{
	static uint8_t	 buf[IN_CHUNK];
	ssize_t		 n;
	int		 i;

	for (i = 0; i < nexecs && wlen < WBUF_HIGH; i++) {
		if (execs[i].ce_in == -1 || !execs[i].ce_started ||
		    execs[i].ce_done)
			continue;
		if ((n = read(execs[i].ce_in, buf, sizeof(buf))) == -1)
			err(1, "read %s.in", execs[i].ce_prefix);
		queue(AP_STDIN, execs[i].ce_id, buf, n);
		if (n == 0) {
			close(execs[i].ce_in);
			execs[i].ce_in = -1;
		}
	}
}

/* Frames of a running EXEC: 1 if this one was its, 0 if not. */
static int
exec_frame(const struct ap_frame *f)
{
	struct cexec	*ce = NULL;
	int		 i;

	for (i = 0; i < nexecs; i++)
		if (execs[i].ce_id == f->f_id && !execs[i].ce_done)
			ce = &execs[i];
	if (ce == NULL)
		return (0);
	switch (f->f_type) {
	case AP_STARTED:
		ce->ce_started = 1;
		return (0);		/* "start" prints it */
	case AP_STDOUT:
	case AP_STDERR:
		if (fwrite(f->f_data, 1, f->f_len, f->f_type == AP_STDOUT ?
		    ce->ce_out : ce->ce_err) != f->f_len)
			err(1, "write");
		return (1);
	case AP_ERROR:
		if (ce->ce_started)
			return (0);	/* about a STDIN or SIGNAL */
		/* FALLTHROUGH */
	case AP_EXIT:
		if (asprintf(&ce->ce_end, "%s %.*s", ap_type_name(f->f_type),
		    (int)f->f_len, f->f_data) == -1)
			err(1, "asprintf");
		ce->ce_done = 1;
		ce->ce_started = 1;
		fclose(ce->ce_out);
		fclose(ce->ce_err);
		if (ce->ce_in != -1)
			close(ce->ce_in);
		ce->ce_in = -1;
		return (1);
	}
	return (0);
}

static void
on_frame(const struct ap_frame *f)
{
	struct reply	*r;

	if (exec_frame(f))
		return;
	if ((r = malloc(sizeof(*r) + f->f_len)) == NULL)
		err(1, "malloc");
	r->r_next = NULL;
	r->r_type = f->f_type;
	r->r_id = f->f_id;
	r->r_len = f->f_len;
	memcpy(r->r_data, f->f_data, f->f_len);
	*rtail = r;
	rtail = &r->r_next;
}

static void
take_frames(void)
{
	struct ap_frame	 f;
	int		 r;

	while ((r = ap_take(&rb, &f)) == 1)
		on_frame(&f);
	if (r == -1)
		errx(1, "framing error from the agent");
}

/* One round of I/O, waiting until the deadline.  0, or -1 on EOF. */
static int
pump(uint64_t deadline)
{
	struct pollfd	 pfd;
	uint64_t	 now = msnow();
	uint8_t		*p;
	size_t		 avail;
	ssize_t		 n;

	feed_stdin();
	pfd.fd = sock;
	pfd.events = POLLIN | (wlen > 0 ? POLLOUT : 0);
	if (poll(&pfd, 1, deadline > now ? (int)(deadline - now) : 0) == -1)
		err(1, "poll");
	if ((pfd.revents & POLLOUT) &&
	    (n = write(sock, wbuf, wlen)) > 0) {
		memmove(wbuf, wbuf + n, wlen - n);
		wlen -= n;
	}
	if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
		p = ap_rbuf_space(&rb, &avail);
		n = read(sock, p, avail);
		if (n == 0 || (n == -1 && errno != EAGAIN)) {
			eof_seen = 1;
			return (-1);
		}
		if (n > 0) {
			ap_rbuf_fill(&rb, n);
			take_frames();
		}
	}
	return (0);
}

/* The next reply with this id (any id if any_id); NULL on timeout/EOF. */
static struct reply *
await(uint32_t id, int any_id)
{
	struct reply	**rp, *r;
	uint64_t	 deadline = msnow() + (uint64_t)step_timeout * 1000;

	for (;;) {
		for (rp = &replies; *rp != NULL; rp = &(*rp)->r_next)
			if (any_id || (*rp)->r_id == id) {
				r = *rp;
				if ((*rp = r->r_next) == NULL)
					rtail = rp;
				return (r);
			}
		if (msnow() >= deadline || pump(deadline) == -1)
			return (NULL);
	}
}

static void
print_reply(const struct reply *r, int with_id)
{
	int	 data = r->r_type == AP_STDOUT || r->r_type == AP_STDERR ||
		    r->r_type == AP_FILE_DATA;

	printf("%s", ap_type_name(r->r_type));
	if (with_id)
		printf(" %u", r->r_id);
	if (data)
		printf(" <%zu bytes>\n", r->r_len);
	else
		printf(" %.*s\n", (int)r->r_len, r->r_data);
}

static struct cexec *
cexec_find(const char *prefix)
{
	int	 i;

	for (i = 0; i < nexecs; i++)
		if (strcmp(execs[i].ce_prefix, prefix) == 0)
			return (&execs[i]);
	errx(1, "no exec named %s", prefix);
}

/*
 * The EXEC payload: js with "seccomp" added if it is a JSON object
 * without one and -s names a tier; js as it is otherwise.
 */
static char *
exec_json(const char *js)
{
	json_t	*o;
	char	*s;

	o = json_loads(js, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(o) || *tier == '\0' ||
	    json_object_get(o, "seccomp") != NULL)
		s = strdup(js);
	else {
		json_object_set_new(o, "seccomp", json_string(tier));
		s = json_dumps(o, JSON_COMPACT);
	}
	json_decref(o);
	if (s == NULL)
		err(1, "exec payload");
	return (s);
}

static int
step_exec(const char *js, const char *prefix, int wait)
{
	struct cexec	*ce;
	struct reply	*r;
	json_t		*o;
	char		 path[300], *payload;
	uint64_t	 deadline;

	if (nexecs == MAX_EXECS)
		errx(1, "too many execs");
	ce = &execs[nexecs++];
	memset(ce, 0, sizeof(*ce));
	snprintf(ce->ce_prefix, sizeof(ce->ce_prefix), "%s", prefix);
	ce->ce_id = next_id++;
	ce->ce_in = -1;
	snprintf(path, sizeof(path), "%s.out", prefix);
	if ((ce->ce_out = fopen(path, "w")) == NULL)
		err(1, "%s", path);
	snprintf(path, sizeof(path), "%s.err", prefix);
	if ((ce->ce_err = fopen(path, "w")) == NULL)
		err(1, "%s", path);
	o = json_loads(js, 0, NULL);
	if (o != NULL && json_is_true(json_object_get(o, "stdin"))) {
		snprintf(path, sizeof(path), "%s.in", prefix);
		if ((ce->ce_in = open(path, O_RDONLY)) == -1)
			err(1, "%s", path);
	}
	json_decref(o);
	payload = exec_json(js);
	queue(AP_EXEC, ce->ce_id, payload, strlen(payload));
	free(payload);
	if (wait)
		return (step_wait(ce));
	deadline = msnow() + (uint64_t)step_timeout * 1000;
	while (!ce->ce_started)
		if (msnow() >= deadline || pump(deadline) == -1)
			return (-1);
	for (r = replies; r != NULL; r = r->r_next)
		if (r->r_id == ce->ce_id && r->r_type == AP_STARTED)
			break;
	if (r != NULL) {
		r = await(ce->ce_id, 0);
		print_reply(r, 0);
		free(r);
	} else
		printf("%s\n", ce->ce_end);
	return (0);
}

static int
step_wait(struct cexec *ce)
{
	struct reply	*r;
	uint64_t	 deadline = msnow() + (uint64_t)step_timeout * 1000;
	char		 path[300];
	FILE		*fp;

	while (!ce->ce_done)
		if (msnow() >= deadline || pump(deadline) == -1)
			return (-1);
	/* drop the STARTED reply if "exec" did not print it */
	for (r = replies; r != NULL; r = r->r_next)
		if (r->r_id == ce->ce_id && r->r_type == AP_STARTED) {
			free(await(ce->ce_id, 0));
			break;
		}
	printf("%s\n", ce->ce_end);
	snprintf(path, sizeof(path), "%s.exit", ce->ce_prefix);
	if ((fp = fopen(path, "w")) == NULL)
		err(1, "%s", path);
	fprintf(fp, "%s\n", strchr(ce->ce_end, ' ') + 1);
	fclose(fp);
	return (0);
}

static int
step_put(const char *local, const char *remote, const char *mode)
{
	static uint8_t	 buf[IN_CHUNK];
	struct reply	*r;
	struct stat	 st;
	json_t		*o;
	char		*js;
	uint32_t	 id = next_id++;
	ssize_t		 n;
	int		 fd;

	if ((fd = open(local, O_RDONLY)) == -1 || fstat(fd, &st) == -1)
		err(1, "%s", local);
	o = json_pack("{s:s,s:i,s:I}", "path", remote, "mode",
	    (int)strtol(mode, NULL, 8), "size", (json_int_t)st.st_size);
	js = json_dumps(o, JSON_COMPACT);
	queue(AP_FILE_PUT, id, js, strlen(js));
	free(js);
	json_decref(o);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		queue(AP_FILE_DATA, id, buf, n);
		while (wlen > WBUF_HIGH)
			if (pump(msnow() + 1000) == -1)
				return (-1);
	}
	close(fd);
	queue(AP_FILE_END, id, NULL, 0);
	if ((r = await(id, 0)) == NULL)
		return (-1);
	print_reply(r, 0);
	free(r);
	return (0);
}

static int
step_get(const char *remote, const char *local, const char *max)
{
	struct reply	*r;
	json_t		*o;
	char		*js;
	uint32_t	 id = next_id++;
	FILE		*fp;
	int		 end = 0;

	o = json_pack("{s:s,s:I}", "path", remote, "max",
	    (json_int_t)strtoll(max, NULL, 10));
	js = json_dumps(o, JSON_COMPACT);
	queue(AP_FILE_GET, id, js, strlen(js));
	free(js);
	json_decref(o);
	if ((fp = fopen(local, "w")) == NULL)
		err(1, "%s", local);
	while (!end) {
		if ((r = await(id, 0)) == NULL)
			return (-1);
		if (r->r_type == AP_FILE_DATA) {
			if (fwrite(r->r_data, 1, r->r_len, fp) != r->r_len)
				err(1, "%s", local);
		} else {
			print_reply(r, 0);
			end = 1;
		}
		free(r);
	}
	fclose(fp);
	return (0);
}

static int
step_hex(const char *hex)
{
	uint8_t		 b[4096];
	size_t		 n = 0;
	unsigned int	 v;

	while (hex[0] != '\0' && hex[1] != '\0' && n < sizeof(b)) {
		if (sscanf(hex, "%2x", &v) != 1)
			errx(1, "bad hex");
		b[n++] = v;
		hex += 2;
	}
	if (n == 0)
		return (0);
	if (wlen + n > wcap) {
		wcap = (wlen + n) * 2;
		if ((wbuf = realloc(wbuf, wcap)) == NULL)
			err(1, "realloc");
	}
	memcpy(wbuf + wlen, b, n);
	wlen += n;
	return (0);
}

static uint32_t
type_of(const char *s)
{
	uint32_t	 t;

	for (t = 1; t < 200; t++)
		if (strcmp(ap_type_name(t), s) == 0)
			return (t);
	return (strtoul(s, NULL, 0));
}

/* Run the step at av[0]; sets *used to the words it took. */
static int
run_step(char **av, int ac, int *used)
{
	static const struct { const char *s; int n; } steps[] = {
		{ "hello", 0 }, { "exec", 2 }, { "start", 2 }, { "wait", 1 },
		{ "signal", 2 }, { "stdin", 2 }, { "put", 3 }, { "get", 3 },
		{ "ping", 1 }, { "shutdown", 0 }, { "send", 3 },
		{ "sendhex", 1 }, { "recv", 1 }, { "eof", 0 }, { "sleep", 1 },
	};
	struct reply	*r = NULL;
	const char	*s = av[0];
	char		 js[64];
	size_t		 i;
	uint32_t	 id = next_id;
	uint64_t	 until;
	int		 any = 0;

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (strcmp(s, steps[i].s) == 0)
			break;
	if (i == sizeof(steps) / sizeof(steps[0]) || ac < steps[i].n + 1)
		errx(1, "bad step \"%s\"", s);
	*used = steps[i].n + 1;
	if (strcmp(s, "exec") == 0 || strcmp(s, "start") == 0)
		return (step_exec(av[1], av[2], s[0] == 'e'));
	if (strcmp(s, "wait") == 0)
		return (step_wait(cexec_find(av[1])));
	if (strcmp(s, "put") == 0)
		return (step_put(av[1], av[2], av[3]));
	if (strcmp(s, "get") == 0)
		return (step_get(av[1], av[2], av[3]));
	if (strcmp(s, "sendhex") == 0)
		return (step_hex(av[1]));
	if (strcmp(s, "sleep") == 0) {
		until = msnow() + strtoul(av[1], NULL, 10);
		while (msnow() < until)
			if (pump(until) == -1)
				return (-1);
		return (0);
	}
	if (strcmp(s, "send") == 0) {
		queue(type_of(av[1]), strtoul(av[2], NULL, 0), av[3],
		    strlen(av[3]));
		return (0);
	}
	if (strcmp(s, "eof") == 0) {
		until = msnow() + (uint64_t)step_timeout * 1000;
		while (msnow() < until)
			if (pump(until) == -1) {
				printf("EOF\n");
				return (0);
			}
		return (-1);
	}
	if (strcmp(s, "hello") == 0) {
		next_id++;
		queue(AP_HELLO, id, HELLO_JSON, strlen(HELLO_JSON));
	} else if (strcmp(s, "signal") == 0) {
		id = cexec_find(av[1])->ce_id;
		snprintf(js, sizeof(js), "{\"signal\":%d}", atoi(av[2]));
		queue(AP_SIGNAL, id, js, strlen(js));
	} else if (strcmp(s, "stdin") == 0) {
		queue(AP_STDIN, cexec_find(av[1])->ce_id, av[2],
		    strlen(av[2]));
		return (0);
	} else if (strcmp(s, "ping") == 0) {
		next_id++;
		queue(AP_PING, id, av[1], strlen(av[1]));
	} else if (strcmp(s, "shutdown") == 0) {
		next_id++;
		queue(AP_SHUTDOWN, id, "{}", 2);
	} else if (strcmp(s, "recv") == 0) {
		any = strcmp(av[1], "any") == 0;
		id = strtoul(av[1], NULL, 0);
	}
	if ((r = await(id, any)) == NULL)
		return (-1);
	print_reply(r, s[0] == 'r');
	free(r);
	return (0);
}

int
main(int argc, char *argv[])
{
	int	 ch, wait_s = 0, used;

	while ((ch = getopt(argc, argv, "s:t:w:")) != -1) {
		switch (ch) {
		case 's':
			tier = optarg;
			break;
		case 't':
			step_timeout = atoi(optarg);
			break;
		case 'w':
			wait_s = atoi(optarg);
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	if (ap_rbuf_init(&rb) == -1)
		err(1, "malloc");
	connect_sock(argv[0], wait_s);
	for (argc--, argv++; argc > 0; argc -= used, argv += used) {
		if (run_step(argv, argc, &used) == -1) {
			printf("%s %s\n", eof_seen ? "EOF" : "TIMEOUT",
			    argv[0]);
			fflush(stdout);
			return (eof_seen ? 3 : 2);
		}
		fflush(stdout);
	}
	/* flush what is still queued (sendhex, send) */
	while (wlen > 0)
		if (pump(msnow() + 1000) == -1)
			break;
	return (0);
}
