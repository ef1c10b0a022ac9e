/* Minimal TAP output for the C unit tests. */
#ifndef MVM_TAP_H
#define MVM_TAP_H

#include <stdio.h>
#include <string.h>

static int	 tap_n;
static int	 tap_fail;

#define TAP_OK(cond, ...) do {						\
	int tap_c_ = (cond) ? 1 : 0;					\
	tap_n++;							\
	if (tap_c_) {							\
		printf("ok %d - ", tap_n);				\
	} else {							\
		tap_fail++;						\
		printf("not ok %d - ", tap_n);				\
	}								\
	printf(__VA_ARGS__);						\
	printf("\n");							\
	if (!tap_c_)							\
		printf("#   failed at %s:%d: %s\n", __FILE__, __LINE__, \
		    #cond);						\
} while (0)

#define TAP_DONE()	return (tap_fail == 0 ? 0 : 1)

#endif
