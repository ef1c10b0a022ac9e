/*
 * mvm-marker: /init of the boot benchmark's initramfs.  Prints
 * "MVM-MARKER-OK" on the console and powers the guest off, nothing else:
 * launch-to-marker time is the floor for a guest with this kernel.
 */
#include <sys/mount.h>
#include <sys/reboot.h>

#include <fcntl.h>
#include <unistd.h>

#define MARKER	"MVM-MARKER-OK\n"

int
main(void)
{
	int	 fd;

	(void)mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	if ((fd = open("/dev/console", O_WRONLY | O_NOCTTY)) == -1)
		fd = 1;
	if (write(fd, MARKER, sizeof(MARKER) - 1) == -1)
		_exit(1);	/* PID 1 exits: kernel panic, QEMU stays */
	sync();
	for (;;) {
		(void)reboot(RB_POWER_OFF);
		pause();
	}
}
