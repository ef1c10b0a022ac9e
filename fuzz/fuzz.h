/*
 * Fuzz targets (fuzz/<name>.c): each defines LLVMFuzzerTestOneInput and
 * feeds the input to the real parser in libshared.  The same file links
 * two ways: with clang's libFuzzer (make fuzz, make fuzz-smoke) and,
 * with gcc, against fuzz/replay.c, which runs the checked-in corpus
 * once per input for make check (regress/fuzz/replay.t).
 *
 * Helpers in fuzz/common.c: inputs in several sections, the fixed test
 * key (RFC 8032 section 7.1, test 1, named "mvm-rfc8032"), and signing
 * again what a target has changed, so that a mutated record or note
 * still gets past its signature check to the code behind it, and which
 * fds are open (a target that must not leak one compares before and
 * after).
 */
#ifndef MVM_FUZZ_H
#define MVM_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "mvm.h"

/* sections of one input are separated by these 4 bytes (NUL, "--", NUL) */
#define FUZZ_SEP		"\0--\0"
#define FUZZ_SEP_LEN		4
#define FUZZ_SECT_MAX		8
#define FUZZ_KEYNAME		"mvm-rfc8032"
#define FUZZ_FD_SCAN		256	/* fds compared before and after */

/* abort (the fuzzer reports a crash) when a stated property fails */
#define FUZZ_ASSERT(c) do {						\
	if (!(c)) {							\
		fprintf(stderr, "%s:%d: property failed: %s\n",		\
		    __FILE__, __LINE__, #c);				\
		abort();						\
	}								\
} while (0)

/* fuzz/vmmagent.c: what the supervisor or a remote does in a segment */
#define VA_NOP			0
#define VA_EXEC			1	/* arg: env, secret file, stdin, tier */
#define VA_GET			2	/* FILE_GET, if no file request is on */
#define VA_PUT			3	/* FILE_PUT, arg bytes, FILE_END */
#define VA_STDIN		4	/* arg: exec, bytes (0: EOF) */
#define VA_SIGNAL		5	/* arg: exec, signal */
#define VA_NET			6	/* answer the oldest NET_OPEN */
#define VA_REMOTE		7	/* arg: what, which flow, how much */
#define VA_STOP			8	/* the supervisor's STOP: SHUTDOWN */
#define VA_SLOW			9	/* supervisor: stop or go on reading */
#define VA_MAX			10

/* fuzz/manifest.c: the files in every image directory */
#define FUZZ_IMG_KERNEL		"vmlinux"
#define FUZZ_IMG_INITRD		"initramfs.cpio"
#define FUZZ_IMG_BZIMAGE	"bzImage"	/* more than one read() */
#define FUZZ_IMG_EMPTY		"empty"
#define FUZZ_IMG_LINK		"link"		/* a symlink to vmlinux */
#define FUZZ_IMG_DIR		"dir"		/* a directory */

struct fuzz_sect {
	const uint8_t	*s_p;
	size_t		 s_len;
};

struct fuzz_key {
	char		 k_name[MVM_KEYNAME_MAX];
	uint8_t		 k_pk[32];
	uint8_t		 k_sk[64];
	uint32_t	 k_id;
};

extern struct fuzz_key	 fuzz_rfc;

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

void	 fuzz_init(void);
size_t	 fuzz_split(const uint8_t *, size_t, struct fuzz_sect *, size_t);
char	*fuzz_str(const uint8_t *, size_t);
int	 fuzz_resign_record(char *, size_t);
char	*fuzz_resign_note(const char *, size_t, size_t *);
void	 fuzz_fix_log(char *, size_t);
uint8_t	*fuzz_fix_ckpts(const uint8_t *, size_t, const uint8_t *, size_t,
	    size_t *);
int	 fuzz_image_files(const char *);
void	 fuzz_fd_snapshot(uint8_t[FUZZ_FD_SCAN]);

#endif /* MVM_FUZZ_H */
