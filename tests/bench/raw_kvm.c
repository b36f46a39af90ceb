/* The raw-KVM floor: the same guest, the same boot state, but an exit loop
 * with no VMM logic (no address spaces, no devices, no tracing): PIO and
 * MMIO exits are counted and dropped, a write to port 0xf4 ends the run
 * with tinyvmm's exit code. What tinyvmm costs above this is its own.
 *
 *   raw_kvm [-m SIZE] GUEST.elf
 */
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "devices/error.h"
#include "devices/parse.h"
#include "memory/address_space.h"
#include "memory/ramblock.h"
#include "memory/region.h"
#include "vmm/acpi.h"
#include "vmm/boot.h"
#include "vmm/layout.h"
#include "vmm/kvm.h"
#include "vmm/loader.h"
#include "vmm/memslots.h"

static int die(const char *what)
{
	fprintf(stderr, "raw_kvm: %s\n", what);
	return 4;
}

static int run_vcpu(int vcpu, struct kvm_run *run)
{
	for (;;) {
		if (ioctl(vcpu, KVM_RUN, 0) < 0)
			return die("KVM_RUN failed");
		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			if (run->io.port == 0xf4 && run->io.direction == KVM_EXIT_IO_OUT)
				return ((*((uint8_t *)run + run->io.data_offset) << 1) | 1) & 0xff;
			if (run->io.direction == KVM_EXIT_IO_IN)
				memset((uint8_t *)run + run->io.data_offset, 0xff,
				       run->io.size * run->io.count);
			break;
		case KVM_EXIT_MMIO:
			if (!run->mmio.is_write)
				memset(run->mmio.data, 0xff, sizeof(run->mmio.data));
			break;
		case KVM_EXIT_HLT:
			return 10;
		default:
			return 6;
		}
	}
}

int main(int argc, char **argv)
{
	uint64_t mem = 128ull << 20;
	struct ram_block ram;
	struct memory_region root, ram_mr;
	struct address_space *as;
	struct guest_image img;
	struct boot_config bc = { .acpi_size = ACPI_TABLES_SIZE, .cmdline = "raw_kvm" };
	struct boot_layout bl;
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct error err;
	struct kvm kvm;
	struct kvm_memslots slots;
	struct kvm_vcpu_handle vcpu;

	if (argc == 4 && !strcmp(argv[1], "-m") && !parse_size(argv[2], &mem))
		argv += 2;
	else if (argc != 2)
		return die("usage: raw_kvm [-m SIZE] GUEST.elf");
	if (mem > LOW_RAM_MAX || ram_block_init(&ram, "ram", mem))
		return die("bad memory size (at most 3G here)");
	memory_region_init_container(&root, "system", UINT64_MAX);
	memory_region_init_ram(&ram_mr, "ram", &ram, 0, mem);
	memory_region_add_subregion(&root, 0, &ram_mr, 0);
	as = address_space_new("system", &root);
	bc.ram_size = mem;
	if (loader_open(argv[1], &img, &err))
		return die(err.msg);
	if (boot_plan(&bl, &bc, &img, &err) || loader_copy(&img, as, &err))
		return die(err.msg);
	loader_close(&img);

	/* The same KVM set-up as tinyvmm: only the exit loop differs. */
	if (kvm_init(&kvm, &err) || kvm_memslots_init(&slots, kvm.vm_fd, kvm.max_memslots))
		return die(err.msg);
	address_space_add_listener(as, &slots.listener);
	if (slots.failed || kvm_vcpu_init(&kvm, 0, &vcpu, &err))
		return die("cannot map RAM or create a vCPU");
	if (ioctl(vcpu.fd, KVM_GET_SREGS, &sregs) < 0 ||
	    boot_prepare(as, &bl, &bc, &img, &regs, &sregs, &err) ||
	    ioctl(vcpu.fd, KVM_SET_SREGS, &sregs) < 0 ||
	    ioctl(vcpu.fd, KVM_SET_REGS, &regs) < 0)
		return die("cannot set the boot state");
	return run_vcpu(vcpu.fd, vcpu.run);
}
