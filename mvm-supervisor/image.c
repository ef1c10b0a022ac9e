/*
 * image.c: guest images.  An image is a directory under images_dir
 * holding a kernel, an initramfs and manifest.json with their SHA-256.
 * The supervisor hashes both files before a guest uses them and
 * remembers the result by (device, inode, size, mtime), so an image
 * changed behind its back is hashed again and refused if it no longer
 * matches its manifest.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "crypto.h"
#include "log.h"
#include "supervisor.h"

#define IMAGE_CACHE	16

struct verified {
	dev_t		 v_dev;
	ino_t		 v_ino;
	off_t		 v_size;
	struct timespec	 v_mtime;
	char		 v_sha256[MVM_SHA256_HEX];
};
static struct verified	 cache[IMAGE_CACHE];
static int		 cache_next;

static int
file_sha256(int fd, char out[MVM_SHA256_HEX])
{
	crypto_hash_sha256_state st;
	uint8_t			 buf[65536], h[32];
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

/*
 * Does the file at path have the SHA-256 want?  Hashes once per
 * version of the file.  Returns 0 yes, -1 no (or unreadable).
 */
static int
image_check_file(const char *path, const char *want)
{
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
	i = cache_next++ % IMAGE_CACHE;
	cache[i].v_dev = st.st_dev;
	cache[i].v_ino = st.st_ino;
	cache[i].v_size = st.st_size;
	cache[i].v_mtime = st.st_mtim;
	(void)strlcpy(cache[i].v_sha256, have, sizeof(cache[i].v_sha256));
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
 * Find and check an image.  Returns 0, or -1 with *err MVM_ENOIMAGE
 * (no such image) or MVM_EIMAGE (manifest, file or hash wrong).
 */
int
image_get(const char *name, struct image *im, uint32_t *err)
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
	if (image_check_file(im->im_kernel, im->im_kernel_sha256) == -1 ||
	    image_check_file(im->im_initrd, im->im_initrd_sha256) == -1) {
		log_warnx("image %s: kernel or initramfs missing or not as "
		    "its manifest says", name);
		goto done;
	}
	*err = 0;
	rc = 0;
done:
	json_decref(root);
	return (rc);
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
/* image build: a client's cpio layer over the default initramfs */

static void
build_paths(const char *name, char *tmp, size_t tlen, char *dst, size_t dlen)
{
	xsnprintf(tmp, tlen, "%s/.%s.build", sv.images_dir, name);
	xsnprintf(dst, dlen, "%s/%s", sv.images_dir, name);
}

static void
rm_build(const char *tmp)
{
	static const char	*const files[] = { "layer.cpio",
				    "initramfs.cpio", "vmlinux",
				    "manifest.json" };
	char			 p[MVM_ROOT_MAX + 32];
	size_t			 i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		xsnprintf(p, sizeof(p), "%s/%s", tmp, files[i]);
		(void)unlink(p);
	}
	(void)rmdir(tmp);
}

/* Returns 0 or an MVM_E* code. */
int
image_build_begin(struct ctl_client *cl, const char *name)
{
	char	 tmp[MVM_ROOT_MAX], dst[MVM_ROOT_MAX];
	char	 p[MVM_ROOT_MAX + 32];

	if (!name_valid(name) || strcmp(name, "default") == 0)
		return (MVM_EINVAL);
	build_paths(name, tmp, sizeof(tmp), dst, sizeof(dst));
	if (access(dst, F_OK) == 0)
		return (MVM_EEXIST);
	rm_build(tmp);			/* an earlier, broken attempt */
	if (mkdir(tmp, 0755) == -1)
		return (errno == EEXIST ? MVM_EBUSY : MVM_EINVAL);
	xsnprintf(p, sizeof(p), "%s/layer.cpio", tmp);
	if ((cl->cl_build_fd = open(p, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
	    0644)) == -1) {
		rm_build(tmp);
		return (MVM_EINVAL);
	}
	(void)strlcpy(cl->cl_build, name, sizeof(cl->cl_build));
	cl->cl_build_bytes = 0;
	return (0);
}

int
image_build_data(struct ctl_client *cl, const void *p, size_t len)
{
	cl->cl_build_bytes += len;
	if (cl->cl_build_bytes > MVM_IMAGE_LAYER_MAX ||
	    write(cl->cl_build_fd, p, len) != (ssize_t)len)
		return (-1);
	return (0);
}

void
image_build_abort(struct ctl_client *cl)
{
	char	 tmp[MVM_ROOT_MAX], dst[MVM_ROOT_MAX];

	if (cl->cl_build_fd == -1)
		return;
	close(cl->cl_build_fd);
	cl->cl_build_fd = -1;
	build_paths(cl->cl_build, tmp, sizeof(tmp), dst, sizeof(dst));
	rm_build(tmp);
}

static int
copy_into(int out, const char *path, crypto_hash_sha256_state *st)
{
	uint8_t	 buf[65536];
	ssize_t	 n;
	int	 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return (-1);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		crypto_hash_sha256_update(st, buf, n);
		if (write(out, buf, n) != n) {
			close(fd);
			return (-1);
		}
	}
	close(fd);
	return (n == 0 ? 0 : -1);
}

/*
 * The layer is complete: initramfs = the default one, then the layer
 * (the kernel unpacks concatenated archives in order, later entries
 * winning); the kernel is the default one's.  Built in a temporary
 * directory, then renamed into place.
 */
int
image_build_end(struct ctl_client *cl)
{
	struct mvm_audit_event	 ev;
	struct image		 base;
	crypto_hash_sha256_state st;
	json_t			*m;
	char			 tmp[MVM_ROOT_MAX], dst[MVM_ROOT_MAX];
	char			 p[MVM_ROOT_MAX + 32], layer[MVM_ROOT_MAX + 32];
	char			 hex[65];
	uint8_t			 h[32];
	uint32_t		 err;
	int			 fd, rc = MVM_EINVAL;

	build_paths(cl->cl_build, tmp, sizeof(tmp), dst, sizeof(dst));
	if (fsync(cl->cl_build_fd) == -1 || close(cl->cl_build_fd) == -1) {
		cl->cl_build_fd = -1;
		goto fail;
	}
	cl->cl_build_fd = -1;
	if (image_get("default", &base, &err) == -1) {
		rc = err;
		goto fail;
	}
	xsnprintf(layer, sizeof(layer), "%s/layer.cpio", tmp);
	xsnprintf(p, sizeof(p), "%s/initramfs.cpio", tmp);
	if ((fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) == -1)
		goto fail;
	crypto_hash_sha256_init(&st);
	if (copy_into(fd, base.im_initrd, &st) == -1 ||
	    copy_into(fd, layer, &st) == -1 || fsync(fd) == -1) {
		close(fd);
		goto fail;
	}
	close(fd);
	crypto_hash_sha256_final(&st, h);
	hex_encode(h, 32, hex);
	(void)unlink(layer);
	xsnprintf(p, sizeof(p), "%s/vmlinux", tmp);
	if (link(base.im_kernel, p) == -1)
		goto fail;
	m = json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s}, s:s, s:I}",
	    "name", cl->cl_build, "base", "default",
	    "kernel", "file", "vmlinux", "sha256", base.im_kernel_sha256,
	    "initramfs", "file", "initramfs.cpio", "sha256", hex,
	    "kernel_version", base.im_kernel_version,
	    "layer_bytes", (json_int_t)cl->cl_build_bytes);
	xsnprintf(p, sizeof(p), "%s/manifest.json", tmp);
	if (m == NULL || json_dump_file(m, p, JSON_INDENT(2) |
	    JSON_SORT_KEYS) == -1) {
		json_decref(m);
		goto fail;
	}
	json_decref(m);
	if (rename(tmp, dst) == -1 || fsync_dir(sv.images_dir) == -1)
		goto fail;
	aev_init(&ev, "image.built");
	aev_subject(&ev, "image", cl->cl_build);
	aev_label(&ev, "initrd_sha256", hex);
	aev_label(&ev, "kernel_sha256", base.im_kernel_sha256);
	aev_label_int(&ev, "layer_bytes", cl->cl_build_bytes);
	(void)audit_send(&ev, NULL, NULL);
	return (0);
fail:
	log_warn("image %s: build failed", cl->cl_build);
	rm_build(tmp);
	return (rc);
}
