/*
 * mvmctl secret: put, ls and rm secrets in the supervisor's store.  A
 * value comes from standard input or a file, never from the command
 * line (where ps(1) and shell history would keep it), and no command
 * prints one back.
 */
#include <sys/stat.h>

#include <err.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "mvmctl.h"

static const struct cmd secret_cmd = { "secret", NULL, USAGE_SECRET };

static void
secret_name(struct mvm_ctl_secret *sc, const char *name)
{
	if (!name_valid(name) || strlcpy(sc->sc_name, name,
	    sizeof(sc->sc_name)) >= sizeof(sc->sc_name))
		errx(EXIT_USAGE, "%s: not a secret name (lower-case letters, "
		    "digits, '-', '_', '.'; at most %d bytes)", name,
		    MVM_NAME_MAX - 1);
}

/* The value, from fd to its end, in locked memory; one trailing newline
 * (what echo and a terminal add) is dropped. */
static uint8_t *
secret_read(int fd, size_t *lenp)
{
	uint8_t	*v;
	size_t	 len = 0;
	ssize_t	 n;

	if ((v = sodium_malloc(MVM_SECRET_MAX + 1)) == NULL)
		err(EXIT_ERR, NULL);
	while ((n = read(fd, v + len, MVM_SECRET_MAX + 1 - len)) > 0) {
		len += n;
		if (len > MVM_SECRET_MAX)
			errx(EXIT_TOOBIG, "a secret is at most %d bytes",
			    MVM_SECRET_MAX);
	}
	if (n == -1)
		err(EXIT_ERR, "read");
	if (len > 0 && v[len - 1] == '\n')
		len--;
	if (len == 0)
		errx(EXIT_USAGE, "empty secret");
	if (memchr(v, '\0', len) != NULL)
		errx(EXIT_USAGE, "a secret is text: no NUL bytes");
	*lenp = len;
	return (v);
}

static int
secret_put(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "from-file", required_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 }
	};
	struct mvm_ctl_secret	 sc;
	struct imsg		 imsg;
	const char		*from = NULL;
	uint8_t			*v;
	size_t			 len;
	int			 ch, fd = STDIN_FILENO;

	if (argc < 2 || argv[1][0] == '-')
		cmd_usage(&secret_cmd);
	memset(&sc, 0, sizeof(sc));
	sc.sc_op = MVM_SECRET_PUT;
	sc.sc_owner = -1;
	secret_name(&sc, argv[1]);
	argc--;
	argv++;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch != 'F')
			cmd_usage(&secret_cmd);
		from = optarg;
	}
	if (optind != argc)
		cmd_usage(&secret_cmd);
	if (from != NULL && (fd = open(from, O_RDONLY | O_CLOEXEC)) == -1)
		err(EXIT_ERR, "%s", from);
	if (from == NULL && isatty(fd))
		fprintf(stderr, "value for %s (end with Ctrl-D): ", sc.sc_name);
	v = secret_read(fd, &len);
	if (from != NULL)
		close(fd);
	g.typed_exits = 1;
	ctl_connect();
	ctl_sendv2(IMSG_CTL_SECRET_REQ, &sc, sizeof(sc), v, len);
	sodium_free(v);
	ctl_expect(&imsg, IMSG_CTL_OK);
	imsg_free(&imsg);
	ctl_close();
	printf("%s: stored\n", sc.sc_name);
	return (EXIT_OK);
}

/* an INFO: a name, never a value */
static int
get_secret(struct imsg *imsg, void *p)
{
	struct mvm_ctl_secret	*sc = p;
	const uint8_t		*v;
	size_t			 len;

	if (msg_get_ctl_secret(imsg, sc, &v, &len) == -1 || len != 0 ||
	    sc->sc_op != MVM_SECRET_LS)
		return (-1);
	return (0);
}

static int
secret_ls(int argc, char **argv)
{
	struct mvm_ctl_secret	 sc, out[1024];
	json_t			*a;
	char			 t[32];
	int			 i, n, json;

	json = json_flag(argc, argv, &secret_cmd);
	if (optind != argc)
		cmd_usage(&secret_cmd);
	memset(&sc, 0, sizeof(sc));
	sc.sc_op = MVM_SECRET_LS;
	n = ctl_collect(IMSG_CTL_SECRET_REQ, &sc, sizeof(sc),
	    IMSG_CTL_SECRET_INFO, get_secret, out, sizeof(out[0]), 1024);
	if (json) {
		a = json_array();
		for (i = 0; i < n; i++)
			json_array_append_new(a, json_pack("{s:s, s:i, s:I, "
			    "s:I}", "name", out[i].sc_name, "bytes",
			    (int)out[i].sc_size, "mtime",
			    (json_int_t)out[i].sc_mtime, "owner",
			    (json_int_t)out[i].sc_owner));
		json_print(a);
		return (EXIT_OK);
	}
	for (i = 0; i < n; i++) {
		time_t	 tt = out[i].sc_mtime;

		(void)strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%SZ",
		    gmtime(&tt));
		printf("%-40s %-10s %6u bytes  %s\n", out[i].sc_name,
		    user_name((uint32_t)out[i].sc_owner), out[i].sc_size, t);
	}
	return (EXIT_OK);
}

static int
secret_rm(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "owner", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 }
	};
	struct mvm_ctl_secret	 sc;
	struct imsg		 imsg;
	const char		*errstr;
	int			 ch;

	if (argc < 2 || argv[1][0] == '-')
		cmd_usage(&secret_cmd);
	memset(&sc, 0, sizeof(sc));
	sc.sc_op = MVM_SECRET_RM;
	sc.sc_owner = -1;
	secret_name(&sc, argv[1]);
	argc--;
	argv++;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch != 'o')
			cmd_usage(&secret_cmd);
		sc.sc_owner = strtonum(optarg, 0, UINT32_MAX - 1, &errstr);
		if (errstr != NULL)
			errx(EXIT_USAGE, "--owner %s: a uid is %s", optarg,
			    errstr);
	}
	if (optind != argc)
		cmd_usage(&secret_cmd);
	g.typed_exits = 1;
	ctl_connect();
	ctl_send(IMSG_CTL_SECRET_REQ, &sc, sizeof(sc));
	ctl_expect(&imsg, IMSG_CTL_OK);
	imsg_free(&imsg);
	ctl_close();
	return (EXIT_OK);
}

int
cmd_secret(int argc, char **argv)
{
	if (argc < 2)
		cmd_usage(&secret_cmd);
	if (strcmp(argv[1], "put") == 0)
		return (secret_put(argc - 1, argv + 1));
	if (strcmp(argv[1], "ls") == 0)
		return (secret_ls(argc - 1, argv + 1));
	if (strcmp(argv[1], "rm") == 0)
		return (secret_rm(argc - 1, argv + 1));
	warnx("unknown secret command: %s", argv[1]);
	cmd_usage(&secret_cmd);
}
