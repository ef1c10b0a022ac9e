/*
 * manifest: an image's manifest.json through image_get()
 * (mvm-supervisor/image.c, compiled into this file unchanged, so that
 * its cache of hashed files can be emptied between inputs), as the
 * supervisor reads it before a guest boots from the image.  The input
 * is written as the manifest of an image directory that holds the files
 * of fuzz_image_files() (fuzz/common.c); the seeds name them with their
 * SHA-256.  The rest of the supervisor that image.c needs (sv, the
 * audit, state and control helpers of image builds and removals) is
 * stubbed here.
 *
 * input: flags, then the manifest's bytes
 *	flags & 0x01	the images directory has a long path (195 bytes)
 *	flags & 0x02	the image has a long name (MVM_NAME_MAX - 1 bytes)
 *	flags & 0x04	no such image (its directory is not there)
 *	flags & 0x08	a name that is no image name ("../default")
 *
 * Properties: an image refused says MVM_ENOIMAGE or MVM_EIMAGE; an image
 * accepted names a regular file in its own directory for the kernel and
 * for the initramfs, and each file's SHA-256, computed here, is the one
 * in the struct; its strings are NUL-terminated; no fd is leaked.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "../mvm-supervisor/supervisor.h"

/* its log lines are formatted, not written (the replay stays quiet) */
static void	 h_log(const char *, ...) __attribute__((format(printf, 1, 2)));
#define log_warn	h_log
#define log_warnx	h_log

/* the code under test, unchanged */
#include "../mvm-supervisor/image.c"	/* NOLINT(bugprone-suspicious-include) */

#define STR_OK(a)	(memchr((a), '\0', sizeof(a)) != NULL)

struct supervisor	 sv;

static char		 images[2][MVM_ROOT_MAX];	/* short, long */
static char		 top[MVM_ROOT_MAX];
static const char	*names[2] = { "default", "image-"
			    "012345678901234567890123456789012345678901234567"
			    "890123456" };

static int	 rm_one(const char *, const struct stat *, int, struct FTW *);
static void	 h_cleanup(void);
static void	 h_init(void);
static void	 check_file(const struct image *, const char *,
		    const char *);

static void
h_log(const char *fmt, ...)
{
	va_list	 ap;
	char	 line[MVM_LOGLINE_MAX];

	va_start(ap, fmt);
	(void)vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
}

/* image builds are not fuzzed here: what they call must not be reached */
void
aev_init(struct mvm_audit_event *ev, const char *type)
{
	(void)ev;
	(void)type;
	abort();
}

void
aev_subject(struct mvm_audit_event *ev, const char *k, const char *v)
{
	(void)ev;
	(void)k;
	(void)v;
	abort();
}

void
aev_label(struct mvm_audit_event *ev, const char *k, const char *v)
{
	(void)ev;
	(void)k;
	(void)v;
	abort();
}

void
aev_label_int(struct mvm_audit_event *ev, const char *k, int64_t v)
{
	(void)ev;
	(void)k;
	(void)v;
	abort();
}

int
audit_send(struct mvm_audit_event *ev, audit_cb cb, void *arg)
{
	(void)ev;
	(void)cb;
	(void)arg;
	abort();
}

int
fsync_dir(const char *path)
{
	(void)path;
	abort();
}

int
control_send(uint32_t id, uint32_t type, const void *d1, size_t l1,
    const void *d2, size_t l2)
{
	(void)id;
	(void)type;
	(void)d1;
	(void)l1;
	(void)d2;
	(void)l2;
	abort();
}

int
control_error(uint32_t id, uint32_t code, const char *msg)
{
	(void)id;
	(void)code;
	(void)msg;
	abort();
}

void
control_pause(uint32_t id, int on)
{
	(void)id;
	(void)on;
	abort();
}

static int
rm_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return (type == FTW_DP ? rmdir(path) : unlink(path));
}

/* Only what h_init() made: a directory of our own under TMPDIR. */
static void
h_cleanup(void)
{
	if (top[0] != '\0' && nftw(top, rm_one, 8, FTW_DEPTH | FTW_PHYS) != 0)
		fprintf(stderr, "manifest: could not remove %s\n", top);
}

/*
 * A directory of our own (in TMPDIR, else /dev/shm or /tmp) with two
 * images directories, short and long (195 bytes, so that the files'
 * paths come near their limits); each with both images, each image
 * with the files.
 */
static void
h_init(void)
{
	static int	 done;
	const char	*tmp;
	char		 dir[MVM_ROOT_MAX * 2];
	size_t		 i, j, n;

	if (done)
		return;
	/* tmpfs if there is one: a manifest is written for every input */
	if ((tmp = getenv("TMPDIR")) == NULL || *tmp == '\0')
		tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	if ((size_t)snprintf(top, sizeof(top), "%s/mvm-fuzz-manifest.XXXXXX",
	    tmp) >= 160 || mkdtemp(top) == NULL) {
		fprintf(stderr, "manifest: no directory under %s\n", tmp);
		abort();
	}
	(void)atexit(h_cleanup);
	n = strlen(top);
	memcpy(images[0], top, n);
	memcpy(images[0] + n, "/images", 8);
	memcpy(images[1], top, n);
	images[1][n] = '/';
	for (i = n + 1; i < 195; i++)
		images[1][i] = 'l';
	images[1][195] = '\0';
	for (i = 0; i < 2; i++) {
		if (mkdir(images[i], 0755) == -1)
			abort();
		for (j = 0; j < 2; j++) {
			if (snprintf(dir, sizeof(dir), "%s/%s", images[i],
			    names[j]) >= (int)sizeof(dir) ||
			    mkdir(dir, 0755) == -1 ||
			    fuzz_image_files(dir) == -1) {
				fprintf(stderr, "manifest: %s: %s\n", dir,
				    strerror(errno));
				abort();
			}
		}
	}
	done = 1;
}

/* An accepted file: a regular one, in the image's directory, as hashed. */
static void
check_file(const struct image *im, const char *path, const char *sha)
{
	crypto_hash_sha256_state st;
	struct stat		 sb;
	uint8_t			 buf[4096], h[32];
	char			 hex[MVM_SHA256_HEX];
	size_t			 n = strlen(im->im_dir);
	ssize_t			 r;
	int			 fd;

	FUZZ_ASSERT(strncmp(path, im->im_dir, n) == 0 && path[n] == '/' &&
	    path[n + 1] != '\0' && path[n + 1] != '.' &&
	    strchr(path + n + 1, '/') == NULL);
	FUZZ_ASSERT(lstat(path, &sb) == 0 && S_ISREG(sb.st_mode));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		abort();
	crypto_hash_sha256_init(&st);
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		crypto_hash_sha256_update(&st, buf, r);
	close(fd);
	crypto_hash_sha256_final(&st, h);
	hex_encode(h, sizeof(h), hex);
	FUZZ_ASSERT(r == 0 && strcmp(hex, sha) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct image	 im;
	uint8_t		 before[FUZZ_FD_SCAN], after[FUZZ_FD_SCAN];
	char		 path[MVM_ROOT_MAX * 2];
	const char	*name;
	uint32_t	 err;
	int		 fd, flags;

	if (size < 1)
		return (0);
	h_init();
	flags = data[0];
	(void)strlcpy(sv.images_dir, images[flags & 0x01],
	    sizeof(sv.images_dir));
	name = flags & 0x08 ? "../default" : flags & 0x04 ? "missing" :
	    names[(flags & 0x02) != 0];
	if (snprintf(path, sizeof(path), "%s/%s/manifest.json",
	    images[flags & 0x01], names[(flags & 0x02) != 0]) >=
	    (int)sizeof(path) || (fd = open(path, O_WRONLY | O_CREAT |
	    O_TRUNC | O_CLOEXEC, 0644)) == -1 ||
	    write(fd, data + 1, size - 1) != (ssize_t)(size - 1) ||
	    close(fd) == -1)
		abort();
	memset(cache, 0, sizeof(cache));	/* every input hashes anew */
	cache_next = 0;
	fuzz_fd_snapshot(before);
	if (image_get(name, &im, &err) == -1)
		FUZZ_ASSERT(err == MVM_ENOIMAGE || err == MVM_EIMAGE);
	else {
		FUZZ_ASSERT(err == 0 && (flags & 0x0c) == 0);
		FUZZ_ASSERT(STR_OK(im.im_name) && STR_OK(im.im_dir) &&
		    STR_OK(im.im_kernel) && STR_OK(im.im_initrd) &&
		    STR_OK(im.im_kernel_sha256) &&
		    STR_OK(im.im_initrd_sha256) &&
		    STR_OK(im.im_kernel_version));
		FUZZ_ASSERT(strcmp(im.im_name, name) == 0);
		check_file(&im, im.im_kernel, im.im_kernel_sha256);
		check_file(&im, im.im_initrd, im.im_initrd_sha256);
	}
	fuzz_fd_snapshot(after);
	FUZZ_ASSERT(memcmp(before, after, sizeof(before)) == 0);
	return (0);
}
