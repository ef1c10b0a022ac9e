/*
 * image.c: guest images.  An image is a directory under images_dir
 * holding a kernel, an initramfs and manifest.json with their SHA-256.
 * The supervisor hashes both files before a guest uses them and
 * remembers the result by (device, inode, size, mtime), so an image
 * changed behind its back is hashed again and refused if it no longer
 * matches its manifest.
 *
 * mvmctl image build lays a client's cpio layer over the default
 * image.  Writing, copying and hashing hundreds of MiB would hold the
 * event loop for seconds, so each build runs in a worker thread: the
 * loop passes it the layer over a socketpair, and the worker says
 * once, on the same socketpair, how it went.  The worker reads only
 * its struct build's fixed part and b_cancel; everything else, the
 * quotas included, belongs to the loop.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "crypto.h"
#include "log.h"
#include "supervisor.h"

#define IMAGE_CACHE		16
#define IMAGE_BUILDS_MAX	4	/* at once: each is a thread */
#define IMAGE_MANIFEST_MAX	4096	/* held for a built manifest.json */
#define IMAGE_FILES_MAX		16	/* files of the default we skip */
#define IMAGE_PEND_MAX		8	/* pieces held while the worker is
					   behind; the client is paused */
#define IMAGE_BUF		65536
#define MIB_UP(x)		(((x) + (1 << 20) - 1) >> 20)

struct verified {
	dev_t		 v_dev;
	ino_t		 v_ino;
	off_t		 v_size;
	struct timespec	 v_mtime;
	char		 v_sha256[MVM_SHA256_HEX];
};
static struct verified	 cache[IMAGE_CACHE];
static int		 cache_next;

/* what a build's worker reports, once, when it is done */
struct build_res {
	uint32_t	 r_error;		/* 0, MVM_E* or an errno */
	int		 r_errno;		/* of the step that failed */
	char		 r_step[32];
	uint64_t	 r_bytes;		/* the image's, on disk */
	struct verified	 r_initrd;		/* for the cache: hashed */
	struct verified	 r_kernel;		/* here already */
};

/* a piece of layer the worker has no room for yet */
struct chunk {
	size_t			 ch_len;
	uint8_t			 ch_data[];
};

struct build {
	TAILQ_ENTRY(build)	 b_entry;
	/* set before the worker starts, then only read */
	char			 b_name[MVM_NAME_MAX];
	char			 b_dir[MVM_ROOT_MAX];	/* images_dir */
	char			 b_tmp[MVM_ROOT_MAX];
	char			 b_dst[MVM_ROOT_MAX];
	struct image		 b_base;		/* the default */
	uint64_t		 b_size;		/* announced layer */
	int			 b_wfd;			/* the worker's end */
	atomic_int		 b_cancel;		/* set by the loop */
	/* the loop's */
	pthread_t		 b_thread;
	int			 b_fd;			/* the loop's end */
	struct event		*b_rev;			/* the report */
	struct event		*b_wev;			/* room for b_pend */
	struct chunk		*b_pend[IMAGE_PEND_MAX];
	int			 b_npend;
	uint64_t		 b_reserved;		/* of images_mib */
	uint64_t		 b_bytes;		/* layer received */
	uint32_t		 b_client;
	int			 b_streaming;		/* the layer comes */
	int			 b_answered;		/* or the client left */
	int			 b_eof;			/* END came */
	int			 b_done;		/* the worker is done */
	struct build_res	 b_res;
};
TAILQ_HEAD(builds, build);
static struct builds	 builds = TAILQ_HEAD_INITIALIZER(builds);

static void	 cache_put(const struct verified *);
static int	 file_sha256(int, char[MVM_SHA256_HEX]);
static void	 rm_dir(const char *);
static void	 build_cancel(struct build *);

static int
file_sha256(int fd, char out[MVM_SHA256_HEX])
{
	crypto_hash_sha256_state st;
	uint8_t			 buf[IMAGE_BUF], h[32];
	ssize_t			 n;

	crypto_hash_sha256_init(&st);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		crypto_hash_sha256_update(&st, buf, n);
	if (n == -1)
		return (-1);
	crypto_hash_sha256_final(&st, h);
	hex_encode(h, 32, out);
	return (0);
}

static void
verified_set(struct verified *v, const struct stat *st, const char *sha)
{
	v->v_dev = st->st_dev;
	v->v_ino = st->st_ino;
	v->v_size = st->st_size;
	v->v_mtime = st->st_mtim;
	(void)strlcpy(v->v_sha256, sha, sizeof(v->v_sha256));
}

static void
cache_put(const struct verified *v)
{
	cache[cache_next++ % IMAGE_CACHE] = *v;
}

/*
 * Does the file at path have the SHA-256 want?  Hashes once per
 * version of the file.  Returns 0 yes, -1 no (or unreadable).
 */
static int
image_check_file(const char *path, const char *want)
{
	struct verified	 v;
	struct stat	 st;
	char		 have[MVM_SHA256_HEX];
	int		 fd, i, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return (-1);
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		return (-1);
	}
	for (i = 0; i < IMAGE_CACHE; i++)
		if (cache[i].v_dev == st.st_dev && cache[i].v_ino == st.st_ino &&
		    cache[i].v_size == st.st_size &&
		    cache[i].v_mtime.tv_sec == st.st_mtim.tv_sec &&
		    cache[i].v_mtime.tv_nsec == st.st_mtim.tv_nsec) {
			close(fd);
			return (strcmp(cache[i].v_sha256, want) == 0 ? 0 : -1);
		}
	rc = file_sha256(fd, have);
	close(fd);
	if (rc == -1)
		return (-1);
	verified_set(&v, &st, have);
	cache_put(&v);
	return (strcmp(have, want) == 0 ? 0 : -1);
}

static int
manifest_file(json_t *root, const char *key, const char *dir, char *path,
    size_t plen, char *sha, size_t slen)
{
	json_t		*o = json_object_get(root, key);
	const char	*file, *h;

	file = json_string_value(json_object_get(o, "file"));
	h = json_string_value(json_object_get(o, "sha256"));
	if (file == NULL || h == NULL || strchr(file, '/') != NULL ||
	    file[0] == '.' || !is_hex(h, 64))
		return (-1);
	if ((size_t)snprintf(path, plen, "%s/%s", dir, file) >= plen)
		return (-1);
	(void)strlcpy(sha, h, slen);
	return (0);
}

/*
 * An image as its manifest describes it, files not checked.  Returns
 * 0, or -1 with *err MVM_ENOIMAGE (no such image) or MVM_EIMAGE
 * (manifest wrong).
 */
static int
image_manifest(const char *name, struct image *im, uint32_t *err)
{
	json_error_t	 je;
	json_t		*root;
	const char	*kv;
	char		 mpath[MVM_ROOT_MAX + 32];
	int		 rc = -1;

	memset(im, 0, sizeof(*im));
	*err = MVM_ENOIMAGE;
	if (!name_valid(name))
		return (-1);
	(void)strlcpy(im->im_name, name, sizeof(im->im_name));
	if ((size_t)snprintf(im->im_dir, sizeof(im->im_dir), "%s/%s",
	    sv.images_dir, name) >= sizeof(im->im_dir))
		return (-1);
	(void)snprintf(mpath, sizeof(mpath), "%s/manifest.json", im->im_dir);
	if (access(im->im_dir, F_OK) == -1)
		return (-1);
	*err = MVM_EIMAGE;
	if ((root = json_load_file(mpath, JSON_REJECT_DUPLICATES, &je)) ==
	    NULL) {
		log_warnx("image %s: manifest: %s", name, je.text);
		return (-1);
	}
	if (manifest_file(root, "kernel", im->im_dir, im->im_kernel,
	    sizeof(im->im_kernel), im->im_kernel_sha256,
	    sizeof(im->im_kernel_sha256)) == -1 ||
	    manifest_file(root, "initramfs", im->im_dir, im->im_initrd,
	    sizeof(im->im_initrd), im->im_initrd_sha256,
	    sizeof(im->im_initrd_sha256)) == -1) {
		log_warnx("image %s: manifest incomplete", name);
		goto done;
	}
	if ((kv = json_string_value(json_object_get(root, "kernel_version"))))
		(void)strlcpy(im->im_kernel_version, kv,
		    sizeof(im->im_kernel_version));
	rc = 0;
done:
	json_decref(root);
	return (rc);
}

/*
 * Find and check an image.  Returns 0, or -1 with *err MVM_ENOIMAGE
 * (no such image) or MVM_EIMAGE (manifest, file or hash wrong).
 */
int
image_get(const char *name, struct image *im, uint32_t *err)
{
	if (image_manifest(name, im, err) == -1)
		return (-1);
	if (image_check_file(im->im_kernel, im->im_kernel_sha256) == -1 ||
	    image_check_file(im->im_initrd, im->im_initrd_sha256) == -1) {
		log_warnx("image %s: kernel or initramfs missing or not as "
		    "its manifest says", name);
		*err = MVM_EIMAGE;
		return (-1);
	}
	*err = 0;
	return (0);
}

/* Names of the image directories, for mvmctl image ls. */
int
image_list(char names[][MVM_NAME_MAX], int max)
{
	DIR		*d;
	struct dirent	*de;
	int		 n = 0;

	if ((d = opendir(sv.images_dir)) == NULL)
		return (0);
	while ((de = readdir(d)) != NULL && n < max) {
		if (!name_valid(de->d_name))
			continue;
		(void)strlcpy(names[n++], de->d_name, MVM_NAME_MAX);
	}
	closedir(d);
	return (n);
}

/* ------------------------------------------------------------------ */
/* quotas: what the images on disk take, counted when asked */

/* The inodes of the default image's files: built images share them. */
static int
default_inodes(struct stat *out, int max)
{
	struct dirent	*de;
	DIR		*d;
	char		 p[MVM_ROOT_MAX];
	int		 n = 0;

	xsnprintf(p, sizeof(p), "%s/default", sv.images_dir);
	if ((d = opendir(p)) == NULL)
		return (0);
	while ((de = readdir(d)) != NULL && n < max)
		if (fstatat(dirfd(d), de->d_name, &out[n],
		    AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(out[n].st_mode))
			n++;
	closedir(d);
	return (n);
}

/* Bytes of the regular files in dir, but for the default's own. */
static uint64_t
dir_bytes(const char *dir, const struct stat *skip, int nskip)
{
	struct dirent	*de;
	struct stat	 st;
	DIR		*d;
	uint64_t	 sum = 0;
	int		 i;

	if ((d = opendir(dir)) == NULL)
		return (0);
	while ((de = readdir(d)) != NULL) {
		if (fstatat(dirfd(d), de->d_name, &st,
		    AT_SYMLINK_NOFOLLOW) == -1 || !S_ISREG(st.st_mode))
			continue;
		for (i = 0; i < nskip; i++)
			if (skip[i].st_dev == st.st_dev &&
			    skip[i].st_ino == st.st_ino)
				break;
		if (i == nskip)
			sum += st.st_size;
	}
	closedir(d);
	return (sum);
}

/*
 * The images other than "default" (built or put there by hand) and
 * their bytes, a file hard-linked to the default's counted as free.
 * Counted from the disk each time: an image made or removed by hand
 * counts as soon as it is there, and no counter can drift.
 */
static void
image_usage(int *np, uint64_t *bytesp)
{
	struct stat	 skip[IMAGE_FILES_MAX], st;
	struct dirent	*de;
	DIR		*d;
	char		 p[MVM_ROOT_MAX + MVM_NAME_MAX];
	int		 nskip;

	*np = 0;
	*bytesp = 0;
	nskip = default_inodes(skip, IMAGE_FILES_MAX);
	if ((d = opendir(sv.images_dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (!name_valid(de->d_name) ||
		    strcmp(de->d_name, "default") == 0 ||
		    fstatat(dirfd(d), de->d_name, &st,
		    AT_SYMLINK_NOFOLLOW) == -1 || !S_ISDIR(st.st_mode))
			continue;
		xsnprintf(p, sizeof(p), "%s/%s", sv.images_dir, de->d_name);
		(*np)++;
		*bytesp += dir_bytes(p, skip, nskip);
	}
	closedir(d);
}

/* What the builds under way hold of the quotas. */
static void
build_held(int *np, uint64_t *bytesp)
{
	struct build	*b;

	*np = 0;
	*bytesp = 0;
	TAILQ_FOREACH(b, &builds, b_entry)
		if (!b->b_done) {
			(*np)++;
			*bytesp += b->b_reserved;
		}
}

/*
 * May a layer of size bytes, making an image of need bytes, be built?
 * 0, or MVM_EQUOTA with msg naming the limit.
 */
static uint32_t
build_quota(uint64_t size, uint64_t need, char *msg, size_t len)
{
	const struct mvm_config	*c = &sv.conf;
	uint64_t		 used, held;
	int			 n, nheld;

	if (size > (uint64_t)c->c_image_layer_mib << 20) {
		(void)snprintf(msg, len, "image_layer_mib %u: the layer has "
		    "%llu bytes", c->c_image_layer_mib,
		    (unsigned long long)size);
		return (MVM_EQUOTA);
	}
	image_usage(&n, &used);
	build_held(&nheld, &held);
	if ((uint64_t)n + nheld >= c->c_images_max) {
		(void)snprintf(msg, len, "images_max %u: %d images built%s "
		    "(mvmctl image rm)", c->c_images_max, n + nheld,
		    nheld > 0 ? " or being built" : "");
		return (MVM_EQUOTA);
	}
	if (used + held + need > (uint64_t)c->c_images_mib << 20) {
		(void)snprintf(msg, len, "images_mib %u: images take %llu MiB"
		    "%s, this one needs %llu more", c->c_images_mib,
		    (unsigned long long)MIB_UP(used + held),
		    nheld > 0 ? " with the builds under way" : "",
		    (unsigned long long)MIB_UP(need));
		return (MVM_EQUOTA);
	}
	return (0);
}

/* .name.build or .name.rm: a build or a removal that never ended */
static int
image_leftover(const char *d)
{
	size_t	 len = strlen(d);

	if (d[0] != '.')
		return (0);
	return ((len > 7 && strcmp(d + len - 6, ".build") == 0) ||
	    (len > 4 && strcmp(d + len - 3, ".rm") == 0));
}

/*
 * At start: what a crash left (a build or a removal half done) goes;
 * then say how much of the quotas the images on disk already use.
 */
void
image_init(void)
{
	struct dirent	*de;
	DIR		*d;
	char		 p[MVM_ROOT_MAX + MVM_NAME_MAX + 8];
	uint64_t	 bytes;
	int		 n;

	if ((d = opendir(sv.images_dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (!image_leftover(de->d_name))
				continue;
			xsnprintf(p, sizeof(p), "%s/%s", sv.images_dir,
			    de->d_name);
			log_info("images: removing %s, left by a crash",
			    de->d_name);
			rm_dir(p);
		}
		closedir(d);
	}
	image_usage(&n, &bytes);
	log_info("images: %d built of images_max %u, %llu MiB of images_mib "
	    "%u", n, sv.conf.c_images_max, (unsigned long long)MIB_UP(bytes),
	    sv.conf.c_images_mib);
}

/* ------------------------------------------------------------------ */
/* image rm */

/* A directory of files (an image has no subdirectories), and it. */
static void
rm_dir(const char *path)
{
	struct dirent	*de;
	DIR		*d;

	if ((d = opendir(path)) == NULL)
		return;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			(void)unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
	(void)rmdir(path);
}

/* Who holds the image name; 0 if it may go, else an MVM_E* and msg. */
static uint32_t
rm_check(const char *name, char *msg, size_t len)
{
	struct guest	*g;
	struct build	*b;
	struct stat	 st;
	char		 p[MVM_ROOT_MAX + MVM_NAME_MAX];

	if (!name_valid(name))
		return (MVM_EINVAL);
	if (strcmp(name, "default") == 0) {
		(void)snprintf(msg, len, "default: the image that run and up "
		    "use when none is named, and that builds start from");
		return (MVM_EINUSE);
	}
	xsnprintf(p, sizeof(p), "%s/%s", sv.images_dir, name);
	if (lstat(p, &st) == -1 || !S_ISDIR(st.st_mode))
		return (MVM_ENOIMAGE);
	TAILQ_FOREACH(b, &builds, b_entry)
		if (!b->b_done && strcmp(b->b_name, name) == 0)
			return (MVM_EBUSY);
	TAILQ_FOREACH(g, &sv.guests, g_entry)
		if (strcmp(g->g_image.im_name, name) == 0) {
			(void)snprintf(msg, len, "%s: guest %s uses it (mvmctl "
			    "rm %s first)", name, g->g_name, g->g_name);
			return (MVM_EINUSE);
		}
	return (0);
}

/*
 * mvmctl image rm: refused while a guest (running, stopped or failed,
 * until it is removed) uses the image, and for the default.  Renamed
 * out of sight first, so a crash halfway leaves no damaged image, only
 * a .name.rm that image_init clears.  Answers the client once removed;
 * else returns the MVM_E* code (and msg) for the caller's refusal.
 */
uint32_t
image_rm(struct ctl_client *cl, const char *name, char *msg, size_t len)
{
	struct mvm_audit_event	 ev;
	struct stat		 skip[IMAGE_FILES_MAX];
	char			 dst[MVM_ROOT_MAX], tmp[MVM_ROOT_MAX];
	uint64_t		 bytes;
	uint32_t		 err;
	int			 nskip;

	if ((err = rm_check(name, msg, len)) != 0)
		return (err);
	xsnprintf(dst, sizeof(dst), "%s/%s", sv.images_dir, name);
	xsnprintf(tmp, sizeof(tmp), "%s/.%s.rm", sv.images_dir, name);
	nskip = default_inodes(skip, IMAGE_FILES_MAX);
	bytes = dir_bytes(dst, skip, nskip);
	rm_dir(tmp);
	if (rename(dst, tmp) == -1) {
		log_warn("image %s: rm", name);
		(void)snprintf(msg, len, "image %s: %s", name, strerror(errno));
		return (MVM_EINVAL);
	}
	rm_dir(tmp);
	(void)fsync_dir(sv.images_dir);
	log_info("image %s: removed (%llu bytes)", name,
	    (unsigned long long)bytes);
	aev_init(&ev, "image.removed");
	aev_subject(&ev, "image", name);
	aev_label_int(&ev, "bytes", bytes);
	(void)audit_send(&ev, NULL, NULL);
	(void)control_send(cl->cl_id, IMSG_CTL_OK, NULL, 0, NULL, 0);
	return (0);
}

/* ------------------------------------------------------------------ */
/* image build, the worker's side: nothing here touches the loop's */

static int
build_fail(struct build_res *r, uint32_t error, const char *step)
{
	r->r_error = error;
	r->r_errno = errno;
	(void)strlcpy(r->r_step, step, sizeof(r->r_step));
	return (-1);
}

/* A short write to a file means the disk is full. */
static int
write_full(int fd, const void *p, size_t len)
{
	ssize_t	 n;

	if ((n = write(fd, p, len)) == (ssize_t)len)
		return (0);
	if (n >= 0)
		errno = ENOSPC;
	return (-1);
}

/* The default's initramfs into out, checked against its manifest. */
static int
build_base(const struct build *b, int out, crypto_hash_sha256_state *all,
    struct build_res *r)
{
	crypto_hash_sha256_state own;
	uint8_t			 buf[IMAGE_BUF], h[32];
	char			 hex[MVM_SHA256_HEX];
	ssize_t			 n;
	int			 fd;

	if ((fd = open(b->b_base.im_initrd, O_RDONLY | O_CLOEXEC |
	    O_NOFOLLOW)) == -1)
		return (build_fail(r, MVM_EIMAGE, "open default initramfs"));
	crypto_hash_sha256_init(&own);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		crypto_hash_sha256_update(&own, buf, n);
		crypto_hash_sha256_update(all, buf, n);
		if (write_full(out, buf, n) == -1) {
			close(fd);
			return (build_fail(r, errno, "write initramfs"));
		}
	}
	close(fd);
	if (n == -1)
		return (build_fail(r, MVM_EIMAGE, "read default initramfs"));
	crypto_hash_sha256_final(&own, h);
	hex_encode(h, 32, hex);
	if (strcmp(hex, b->b_base.im_initrd_sha256) != 0) {
		errno = EINVAL;
		return (build_fail(r, MVM_EIMAGE, "default initramfs hash"));
	}
	return (0);
}

/* The client's layer, as the loop passes it on, appended to out. */
static int
build_layer(const struct build *b, int out, crypto_hash_sha256_state *all,
    struct build_res *r)
{
	uint8_t		 buf[MVM_DATA_MAX];
	uint64_t	 total = 0;
	ssize_t		 n;

	while ((n = recv(b->b_wfd, buf, sizeof(buf), 0)) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return (build_fail(r, errno, "layer socket"));
		}
		/* the loop stops a longer layer: this cannot happen */
		if ((total += n) > b->b_size) {
			errno = EFBIG;
			return (build_fail(r, MVM_EQUOTA, "layer size"));
		}
		crypto_hash_sha256_update(all, buf, n);
		if (write_full(out, buf, n) == -1)
			return (build_fail(r, errno, "write initramfs"));
	}
	if (atomic_load(&b->b_cancel) || total != b->b_size) {
		errno = ECANCELED;
		return (build_fail(r, ECANCELED, "cancelled"));
	}
	return (0);
}

/* The default's kernel, linked (not copied) and checked. */
static int
build_kernel(const struct build *b, struct build_res *r)
{
	struct stat	 st;
	char		 p[MVM_ROOT_MAX + 32], hex[MVM_SHA256_HEX];
	int		 fd, rc;

	xsnprintf(p, sizeof(p), "%s/vmlinux", b->b_tmp);
	if (link(b->b_base.im_kernel, p) == -1)
		return (build_fail(r, errno, "link kernel"));
	if ((fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return (build_fail(r, errno, "open kernel"));
	if ((rc = fstat(fd, &st)) == 0)
		rc = file_sha256(fd, hex);
	close(fd);
	if (rc == -1)
		return (build_fail(r, MVM_EIMAGE, "read kernel"));
	verified_set(&r->r_kernel, &st, hex);
	if (strcmp(hex, b->b_base.im_kernel_sha256) != 0) {
		errno = EINVAL;
		return (build_fail(r, MVM_EIMAGE, "default kernel hash"));
	}
	return (0);
}

/* manifest.json, synced: after the rename it must be whole. */
static int
build_manifest(const struct build *b, struct build_res *r)
{
	json_t	*m;
	char	 p[MVM_ROOT_MAX + 32], *text = NULL;
	size_t	 len = 0;
	int	 fd = -1, rc = -1;

	m = json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s}, s:s, s:I}",
	    "name", b->b_name, "base", "default",
	    "kernel", "file", "vmlinux", "sha256", b->b_base.im_kernel_sha256,
	    "initramfs", "file", "initramfs.cpio",
	    "sha256", r->r_initrd.v_sha256,
	    "kernel_version", b->b_base.im_kernel_version,
	    "layer_bytes", (json_int_t)b->b_size);
	if (m != NULL)
		text = json_dumps(m, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(m);
	errno = ENOMEM;
	xsnprintf(p, sizeof(p), "%s/manifest.json", b->b_tmp);
	if (text != NULL && (len = strlen(text)) < IMAGE_MANIFEST_MAX &&
	    (fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) !=
	    -1 && write_full(fd, text, len) == 0 && fsync(fd) == 0)
		rc = 0;
	if (fd != -1)
		close(fd);
	free(text);
	r->r_bytes += len;
	return (rc == 0 ? 0 : build_fail(r, errno, "write manifest"));
}

/* The whole build, in b_tmp, then renamed into place. */
static void
build_run(struct build *b, struct build_res *r)
{
	crypto_hash_sha256_state all;
	struct stat		 st;
	uint8_t			 h[32];
	char			 p[MVM_ROOT_MAX + 32];
	char			 hex[MVM_SHA256_HEX];
	int			 fd;

	xsnprintf(p, sizeof(p), "%s/initramfs.cpio", b->b_tmp);
	if ((fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) ==
	    -1) {
		(void)build_fail(r, errno, "create initramfs");
		return;
	}
	crypto_hash_sha256_init(&all);
	if (build_base(b, fd, &all, r) == -1 ||
	    build_layer(b, fd, &all, r) == -1) {
		close(fd);
		return;
	}
	if (fsync(fd) == -1 || fstat(fd, &st) == -1) {
		(void)build_fail(r, errno, "sync initramfs");
		close(fd);
		return;
	}
	close(fd);
	crypto_hash_sha256_final(&all, h);
	hex_encode(h, 32, hex);
	verified_set(&r->r_initrd, &st, hex);
	r->r_bytes = st.st_size;
	if (build_kernel(b, r) == -1 || build_manifest(b, r) == -1)
		return;
	if (atomic_load(&b->b_cancel)) {
		errno = ECANCELED;
		(void)build_fail(r, ECANCELED, "cancelled");
		return;
	}
	if (rename(b->b_tmp, b->b_dst) == -1) {
		(void)build_fail(r, errno, "rename");
		return;
	}
	/* in place now; a crash before this sync loses it whole */
	(void)fsync_dir(b->b_dir);
}

static void *
build_main(void *arg)
{
	struct build		*b = arg;
	struct build_res	 r;

	memset(&r, 0, sizeof(r));
	build_run(b, &r);
	if (r.r_error != 0)
		rm_dir(b->b_tmp);
	/* one record on a socket only we write to: all of it goes */
	if (send(b->b_wfd, &r, sizeof(r), MSG_NOSIGNAL) != sizeof(r))
		fatal("%s: %s: report", __func__, b->b_name);
	return (NULL);
}

/* ------------------------------------------------------------------ */
/* image build, the loop's side */

static struct build *
build_by_client(uint32_t id)
{
	struct build	*b;

	TAILQ_FOREACH(b, &builds, b_entry)
		if (b->b_streaming && b->b_client == id)
			return (b);
	return (NULL);
}

static void
build_drop_pending(struct build *b)
{
	while (b->b_npend > 0)
		free(b->b_pend[--b->b_npend]);
	if (b->b_wev != NULL)
		event_del(b->b_wev);
}

/* Once the worker is done and the client no longer streams to it. */
static void
build_free(struct build *b)
{
	if (!b->b_done || b->b_streaming)
		return;
	build_drop_pending(b);
	event_free(b->b_rev);
	event_free(b->b_wev);
	close(b->b_fd);
	close(b->b_wfd);
	TAILQ_REMOVE(&builds, b, b_entry);
	free(b);
}

/*
 * Hand the held pieces to the worker.  0 once all are out, -1 while the
 * socket is full.  Past END, the worker then gets EOF.
 */
static int
build_flush(struct build *b)
{
	struct chunk	*c;

	while (b->b_npend > 0) {
		c = b->b_pend[0];
		if (send(b->b_fd, c->ch_data, c->ch_len, MSG_DONTWAIT |
		    MSG_NOSIGNAL) == -1 && (errno == EAGAIN || errno == EINTR))
			return (-1);
		/* any other error: the worker is gone, its report says why */
		free(c);
		memmove(&b->b_pend[0], &b->b_pend[1],
		    --b->b_npend * sizeof(struct chunk *));
	}
	if (b->b_eof)
		(void)shutdown(b->b_fd, SHUT_WR);
	return (0);
}

static void
build_write_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct build	*b = arg;

	(void)fd;
	(void)ev;
	if (build_flush(b) == -1)
		return;
	event_del(b->b_wev);
	control_pause(b->b_client, 0);
}

/*
 * Stop the worker: it reads to EOF, finds b_cancel set and removes
 * what it made.  What the client still sends goes nowhere.
 */
static void
build_cancel(struct build *b)
{
	atomic_store(&b->b_cancel, 1);
	build_drop_pending(b);
	control_pause(b->b_client, 0);
	(void)shutdown(b->b_fd, SHUT_WR);
}

static void
build_refuse(struct build *b, uint32_t code, const char *msg)
{
	log_info("image %s: build refused: %s", b->b_name,
	    msg != NULL ? msg : mvm_strerror(code));
	(void)control_error(b->b_client, code, msg);
	b->b_answered = 1;
	build_cancel(b);
}

/* The worker's report: the image is in place, or why not. */
static void
build_done(struct build *b)
{
	struct mvm_audit_event	 ev;
	const struct build_res	*r = &b->b_res;

	if (r->r_error == 0) {
		cache_put(&r->r_kernel);
		cache_put(&r->r_initrd);
		log_info("image %s: built, %llu byte layer", b->b_name,
		    (unsigned long long)b->b_size);
		aev_init(&ev, "image.built");
		aev_subject(&ev, "image", b->b_name);
		aev_label(&ev, "initrd_sha256", r->r_initrd.v_sha256);
		aev_label(&ev, "kernel_sha256", b->b_base.im_kernel_sha256);
		aev_label_int(&ev, "layer_bytes", b->b_size);
		(void)audit_send(&ev, NULL, NULL);
		if (!b->b_answered)
			(void)control_send(b->b_client, IMSG_CTL_OK, NULL, 0,
			    NULL, 0);
		return;
	}
	if (b->b_answered) {
		log_debug("image %s: build stopped", b->b_name);
		return;
	}
	errno = r->r_errno;
	log_warn("image %s: build failed: %s", b->b_name, r->r_step);
	(void)control_error(b->b_client, r->r_error, NULL);
	b->b_answered = 1;
	if (b->b_streaming)
		build_cancel(b);	/* the rest of its layer is not read */
}

static void
build_read_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct build	*b = arg;
	ssize_t		 n;
	int		 rc;

	(void)ev;
	n = recv(fd, &b->b_res, sizeof(b->b_res), MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n != sizeof(b->b_res))
		fatalx("%s: %s: report of %zd bytes", __func__, b->b_name, n);
	if ((rc = pthread_join(b->b_thread, NULL)) != 0)
		fatalx("%s: pthread_join: %s", __func__, strerror(rc));
	b->b_done = 1;
	event_del(b->b_rev);
	build_done(b);
	build_free(b);
}

/* The worker, with every signal blocked: the loop takes them. */
static int
build_start(struct build *b)
{
	sigset_t	 all, old;
	int		 rc, sp[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) == -1)
		return (-1);
	b->b_fd = sp[0];
	b->b_wfd = sp[1];
	if (fd_nonblock(b->b_fd) == -1 ||
	    (b->b_rev = event_new(sv.base, b->b_fd, EV_READ | EV_PERSIST,
	    build_read_cb, b)) == NULL ||
	    (b->b_wev = event_new(sv.base, b->b_fd, EV_WRITE | EV_PERSIST,
	    build_write_cb, b)) == NULL ||
	    event_add(b->b_rev, NULL) == -1)
		return (-1);
	(void)sigfillset(&all);
	(void)pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&b->b_thread, NULL, build_main, b);
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		errno = rc;
		return (-1);
	}
	return (0);
}

/* A build whose worker never started: what it made goes. */
static void
build_discard(struct build *b)
{
	if (b->b_rev != NULL)
		event_free(b->b_rev);
	if (b->b_wev != NULL)
		event_free(b->b_wev);
	if (b->b_fd != -1) {
		close(b->b_fd);
		close(b->b_wfd);
	}
	rm_dir(b->b_tmp);
	free(b);
}

/* Checks before a build starts: 0, or an MVM_E* code and maybe msg. */
static uint32_t
build_check(const struct mvm_ctl_guest *cg, struct image *base,
    uint64_t *need, char *msg, size_t len)
{
	struct build	*b;
	struct stat	 st;
	char		 p[MVM_ROOT_MAX + MVM_NAME_MAX];
	uint32_t	 err;
	int		 n = 0;

	if (!name_valid(cg->cg_name) || strcmp(cg->cg_name, "default") == 0)
		return (MVM_EINVAL);
	xsnprintf(p, sizeof(p), "%s/%s", sv.images_dir, cg->cg_name);
	if (access(p, F_OK) == 0)
		return (MVM_EEXIST);
	TAILQ_FOREACH(b, &builds, b_entry) {
		if (!b->b_done && strcmp(b->b_name, cg->cg_name) == 0)
			return (MVM_EBUSY);
		n += !b->b_done;
	}
	if (n >= IMAGE_BUILDS_MAX) {
		(void)snprintf(msg, len, "%d image builds under way; try "
		    "again", n);
		return (MVM_EBUSY);
	}
	if (image_manifest("default", base, &err) == -1)
		return (err);
	if (stat(base->im_initrd, &st) == -1)
		return (MVM_EIMAGE);
	*need = st.st_size + cg->cg_size + IMAGE_MANIFEST_MAX;
	return (build_quota(cg->cg_size, *need, msg, len));
}

/*
 * mvmctl image build: checked against the quotas with the layer's
 * announced size, so a refusal comes before a byte is written; then
 * the worker starts and the client may send the layer.  Answers the
 * client once it may; else returns the MVM_E* code (and msg) for the
 * caller's refusal.
 */
uint32_t
image_build_begin(struct ctl_client *cl, const struct mvm_ctl_guest *cg,
    char *msg, size_t len)
{
	struct build	*b;
	uint64_t	 need = 0;
	uint32_t	 err;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		fatal("calloc");
	b->b_fd = b->b_wfd = -1;
	if ((err = build_check(cg, &b->b_base, &need, msg, len)) != 0) {
		log_info("image %s: build refused: %s", cg->cg_name,
		    msg[0] != '\0' ? msg : mvm_strerror(err));
		free(b);
		return (err);
	}
	(void)strlcpy(b->b_name, cg->cg_name, sizeof(b->b_name));
	(void)strlcpy(b->b_dir, sv.images_dir, sizeof(b->b_dir));
	xsnprintf(b->b_tmp, sizeof(b->b_tmp), "%s/.%s.build", sv.images_dir,
	    b->b_name);
	xsnprintf(b->b_dst, sizeof(b->b_dst), "%s/%s", sv.images_dir,
	    b->b_name);
	b->b_size = cg->cg_size;
	b->b_reserved = need;
	b->b_client = cl->cl_id;
	rm_dir(b->b_tmp);		/* an earlier, broken attempt */
	if (mkdir(b->b_tmp, 0755) == -1 || build_start(b) == -1) {
		log_warn("image %s: build", b->b_name);
		(void)snprintf(msg, len, "image %s: %s", b->b_name,
		    strerror(errno));
		build_discard(b);
		return (MVM_EINVAL);
	}
	b->b_streaming = 1;
	TAILQ_INSERT_TAIL(&builds, b, b_entry);
	cl->cl_build_fd = b->b_fd;
	(void)control_send(cl->cl_id, IMSG_CTL_OK, NULL, 0, NULL, 0);
	return (0);
}

/* A piece of the layer: on to the worker, or held while it is busy. */
static void
build_data(struct build *b, const void *p, size_t len)
{
	struct chunk	*c;
	char		 msg[MVM_ERRMSG_MAX];

	if (b->b_answered || len == 0)
		return;			/* refused: the rest goes nowhere */
	if ((b->b_bytes += len) > b->b_size) {
		(void)snprintf(msg, sizeof(msg), "the layer is over the %llu "
		    "bytes it announced and the quotas allowed",
		    (unsigned long long)b->b_size);
		build_refuse(b, MVM_EQUOTA, msg);
		return;
	}
	/* paused at the first held piece: a few more may be read already */
	if (b->b_npend == IMAGE_PEND_MAX) {
		build_refuse(b, MVM_EBUSY, "the client was not paused");
		return;
	}
	if ((c = malloc(sizeof(*c) + len)) == NULL) {
		build_refuse(b, ENOMEM, NULL);
		return;
	}
	memcpy(c->ch_data, p, len);
	c->ch_len = len;
	b->b_pend[b->b_npend++] = c;
	/* held: read no more of this client until the worker catches up */
	if (build_flush(b) == -1) {
		control_pause(b->b_client, 1);
		(void)event_add(b->b_wev, NULL);
	}
}

/* The client's END: the worker gets EOF and finishes the image. */
static void
build_end(struct ctl_client *cl, struct build *b)
{
	char	 msg[MVM_ERRMSG_MAX];

	if (!b->b_answered && b->b_bytes != b->b_size) {
		(void)snprintf(msg, sizeof(msg), "the layer ended after %llu "
		    "of the %llu bytes it announced",
		    (unsigned long long)b->b_bytes,
		    (unsigned long long)b->b_size);
		build_refuse(b, MVM_EINVAL, msg);
	}
	cl->cl_build_fd = -1;
	b->b_streaming = 0;
	b->b_eof = 1;
	if (!b->b_answered && build_flush(b) == -1)
		(void)event_add(b->b_wev, NULL);
	build_free(b);
}

/*
 * CTL_FILE_DATA and the empty CTL_FILE that ends them, for the build
 * the client started (cl_build_fd is set).  The answer to END comes
 * when the worker is done.
 */
int
image_build_file(struct ctl_client *cl, struct imsg *imsg)
{
	struct build	*b;

	if ((b = build_by_client(cl->cl_id)) == NULL)
		fatalx("%s: client %u: no build", __func__, cl->cl_id);
	if (imsg->fd != -1 || imsg->datalen > MVM_DATA_MAX)
		return (PEER_BAD);
	if (imsg_type(imsg) == IMSG_CTL_FILE_DATA) {
		build_data(b, imsg->data, imsg->datalen);
		return (PEER_OK);
	}
	if (imsg->datalen != 0)
		return (PEER_BAD);
	build_end(cl, b);
	return (PEER_OK);
}

/* The client went away before its END: nothing of the build stays. */
void
image_build_abort(struct ctl_client *cl)
{
	struct build	*b;

	if ((b = build_by_client(cl->cl_id)) == NULL)
		return;
	cl->cl_build_fd = -1;
	b->b_streaming = 0;
	b->b_answered = 1;
	build_cancel(b);
	build_free(b);
}
