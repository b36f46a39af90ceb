/* Boot state: the data the VMM leaves in guest RAM (multiboot info, page
 * tables, GDT) and the bootstrap vCPU's first registers. */
#ifndef VMM_BOOT_H
#define VMM_BOOT_H

#include <linux/kvm.h>
#include <stdint.h>

struct address_space;
struct error;
struct guest_image;

struct boot_ram {
	uint64_t low_size;	/* RAM at 0 */
	uint64_t high_size;	/* RAM at 4 GiB */
};

/* Writes the boot data for @img and fills @regs and @sregs (which must hold
 * the vCPU's reset state, from KVM_GET_SREGS) for its entry. @cmdline is
 * the multiboot command line. */
int boot_prepare(struct address_space *system, const struct guest_image *img,
		 const struct boot_ram *ram, const char *cmdline,
		 struct kvm_regs *regs, struct kvm_sregs *sregs,
		 struct error *err);

#endif
