/*
 * jail.c: the guest's jail.  The vmm starts as root in fresh mount, pid,
 * net, ipc and uts namespaces (and the supervisor has put it in its
 * cgroups).  It mounts an empty tmpfs on the guest's root directory,
 * binds in read-only exactly what QEMU needs (its binary, libraries and
 * firmware, the kernel and initramfs, a few device nodes), gives the
 * guest's uid a private /run for QEMU's sockets, makes the rest
 * read-only, pivots into it and drops to the guest's uid.  QEMU runs in
 * the same jail, under the same uid.
 */
#include <sys/mount.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "vmm.h"

/* mkdir -p under the jail root; path is absolute inside the jail */
static void
mkdirs(const char *root, const char *path, mode_t mode)
{
	char	 buf[PATH_MAX], *p;

	if ((size_t)snprintf(buf, sizeof(buf), "%s%s", root, path) >=
	    sizeof(buf))
		fatalx("%s: path too long", path);
	for (p = buf + strlen(root) + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		if (mkdir(buf, 0755) == -1 && errno != EEXIST)
			fatal("mkdir %s", buf);
		*p = '/';
	}
	if (mkdir(buf, mode) == -1 && errno != EEXIST)
		fatal("mkdir %s", buf);
}

/* An empty file to bind a file onto. */
static void
mkfile(const char *root, const char *path)
{
	char	 buf[PATH_MAX], dir[PATH_MAX];
	int	 fd;

	(void)strlcpy(dir, path, sizeof(dir));
	mkdirs(root, dirname(dir), 0755);
	if ((size_t)snprintf(buf, sizeof(buf), "%s%s", root, path) >=
	    sizeof(buf))
		fatalx("%s: path too long", path);
	if ((fd = open(buf, O_WRONLY | O_CREAT | O_CLOEXEC, 0444)) == -1)
		fatal("create %s", buf);
	close(fd);
}

/*
 * Bind src at dst (dst inside the jail root), read-only, no set-uid, no
 * devices unless asked, recursive for directories.
 */
static void
bind_ro(const char *root, const char *src, const char *dst, int flags)
{
	char		 target[PATH_MAX];
	unsigned long	 ro = MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID;
	struct stat	 st;

	if (stat(src, &st) == -1)
		fatal("%s", src);
	if (S_ISDIR(st.st_mode))
		mkdirs(root, dst, 0755);
	else
		mkfile(root, dst);
	(void)snprintf(target, sizeof(target), "%s%s", root, dst);
	if (mount(src, target, NULL, MS_BIND | MS_REC, NULL) == -1)
		fatal("bind %s", src);
	if (!(flags & MVM_BIND_DEV))
		ro |= MS_NODEV;
	if (mount(NULL, target, NULL, ro, NULL) == -1)
		fatal("remount %s read-only", target);
}

/* /lib -> usr/lib and friends, as the host has them (merged /usr) */
static void
copy_symlinks(const char *root)
{
	static const char	*const names[] = { "/lib", "/lib64", "/bin",
				    "/sbin" };
	char			 target[PATH_MAX], link[PATH_MAX];
	ssize_t			 n;
	size_t			 i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if ((n = readlink(names[i], target, sizeof(target) - 1)) == -1)
			continue;
		target[n] = '\0';
		(void)snprintf(link, sizeof(link), "%s%s", root, names[i]);
		if (symlink(target, link) == -1 && errno != EEXIST)
			fatal("symlink %s", link);
	}
}

void
jail_build(void)
{
	const char	*root = vm.conf.cc_root;
	char		 run[PATH_MAX], hn[MVM_NAME_MAX + 8];
	int		 i;

	(void)snprintf(hn, sizeof(hn), "mvm-%s", vm.vc.vc_name);
	if (sandbox_sethostname(hn) == -1)
		fatal("sethostname");
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1)
		fatal("make / private");
	if (mount("mvm-guest", root, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
	    "mode=0755,size=1m") == -1)
		fatal("tmpfs on %s", root);
	copy_symlinks(root);
	for (i = 0; i < vm.nbinds; i++)
		bind_ro(root, vm.binds[i].vb_path, vm.binds[i].vb_path,
		    vm.binds[i].vb_flags);
	bind_ro(root, vm.vc.vc_kernel, VMM_KERNEL, 0);
	bind_ro(root, vm.vc.vc_initrd, VMM_INITRD, 0);
	/* QEMU's sockets: a private, writable, size-bounded /run */
	mkdirs(root, VMM_RUNDIR, 0700);
	(void)snprintf(run, sizeof(run), "%s%s", root, VMM_RUNDIR);
	if (mount("mvm-run", run, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
	    "mode=0700,size=64k") == -1)
		fatal("tmpfs on %s", run);
	if (chown(run, vm.conf.cc_uid, vm.conf.cc_gid) == -1)
		fatal("chown %s", run);
	/* everything else is read-only from here */
	if (mount(NULL, root, NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID |
	    MS_NODEV | MS_NOEXEC, NULL) == -1)
		fatal("remount %s read-only", root);
	if (sandbox_pivot(root) == -1)
		fatal("pivot_root %s", root);
}

/*
 * Drop to the guest's uid: no capabilities, no way back, not
 * dumpable (QEMU runs under the same uid and must not ptrace us).
 */
void
jail_demote(void)
{
	if (sandbox_caps_drop() == -1)
		fatal("dropping capabilities");
	if (sandbox_setids(vm.conf.cc_uid, vm.conf.cc_gid,
	    vm.conf.cc_group) == -1)
		fatal("cannot drop privileges");
	if (sandbox_nodump() == -1)
		fatal("PR_SET_DUMPABLE");
	if (sandbox_nnp() == -1)
		fatal("PR_SET_NO_NEW_PRIVS");
}
