/* The debugger's monitor commands on a small machine built by hand (no
 * /dev/kvm): the dispatcher, `info registers` in both widths, `info mtree`,
 * `info pci` and `info lapic`. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/intc/lapic.h"
#include "devices/pci/msix.h"
#include "devices/pci/pci.h"
#include "memory/ramblock.h"
#include "vmm/gdb/monitor.h"
#include "vmm/gdb/regs.h"
#include "vmm/machine.h"

static const struct memory_region_ops nop_ops;

static struct machine M;
static struct ram_block rb;
static struct memory_region ram, serial;
static struct pci_device dev;
static struct msix msix;
static struct memory_region bar_io, bar_msix, bar_big;

/* A PCI device as virtio-blk has one: INTA#, an I/O BAR, MSI-X in a
 * 32-bit BAR, a 64-bit prefetchable BAR the guest has not placed. */
static void plug_device(void)
{
	pci_device_init(&dev, "test-dev", 0x1af4, 0x1042, 0x010000, 1);
	pci_set(&dev, PCI_INTERRUPT_PIN, 1, PCI_INTERRUPT_PIN_A);
	memory_region_init_io(&bar_io, "test-io", &nop_ops, NULL, 0x40);
	memory_region_init_container(&bar_msix, "test-msix", 0x1000);
	memory_region_init_io(&bar_big, "test-big", &nop_ops, NULL, 0x4000);
	cr_assert_eq(pci_register_bar(&dev, 0, PCI_BAR_IO, &bar_io), 0);
	cr_assert_eq(pci_register_bar(&dev, 1, PCI_BAR_MEM32, &bar_msix), 0);
	cr_assert_eq(pci_register_bar(&dev, 4, PCI_BAR_MEM64 | PCI_BAR_PREFETCH,
				      &bar_big), 0);
	cr_assert_eq(msix_init(&msix, &dev, 3, 1, &bar_msix, 0, 0x800), 0);
	cr_assert_eq(pci_bus_add_device(&M.pci, &dev, 3), 3);
	pci_connect_intx(&dev, NULL, 11);
	/* What firmware and the guest's driver do. */
	pci_config_write(&dev, PCI_BASE_ADDRESS_0, 0xc000, 4);
	pci_config_write(&dev, PCI_BASE_ADDRESS_0 + 4, 0xfebd1000, 4);
	pci_config_write(&dev, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY |
			 PCI_COMMAND_MASTER, 2);
	pci_config_write(&dev, pci_find_capability(&dev, PCI_CAP_ID_MSIX) + 2,
			 MSIX_CTRL_ENABLE, 2);
}

static void setup(void)
{
	memset(&M, 0, sizeof(M));
	cr_assert_eq(ram_block_init(&rb, "ram", 0x100000), 0);
	memory_region_init_container(&M.system_root, "system", UINT64_MAX);
	memory_region_init_container(&M.io_root, "io", 0x10000);
	memory_region_init_container(&M.pci_mem, "pci-mem", UINT64_MAX);
	memory_region_init_ram(&ram, "pc.ram", &rb, 0, 0x100000);
	memory_region_init_io(&serial, "serial", &nop_ops, NULL, 8);
	memory_region_add_subregion(&M.system_root, 0, &ram, 0);
	memory_region_add_subregion(&M.system_root, 0, &M.pci_mem, -1);
	memory_region_add_subregion(&M.io_root, 0x3f8, &serial, 0);
	pci_bus_init(&M.pci, &M.pci_mem, &M.io_root);
}

static void teardown(void)
{
	pci_bus_destroy(&M.pci);
	ram_block_destroy(&rb);
}

TestSuite(gdb_monitor, .init = setup, .fini = teardown);

static char *run(const char *cmd, const struct gdb_cpu *regs, int expect_rc)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int rc;

	cr_assert_not_null(f);
	rc = gdb_monitor_run(&M, 0, regs, cmd, f);
	fclose(f);
	cr_assert_eq(rc, expect_rc, "\"%s\" returned %d:\n%s", cmd, rc, buf);
	return buf;
}

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

#define assert_output(cmd, regs, rc, expect) do {			\
	char *got_ = run(cmd, regs, rc);				\
	cr_assert_str_eq(got_, expect, "got:\n%s", got_);		\
	free(got_);							\
} while (0)

Test(gdb_monitor, unknown_command_says_so)
{
	assert_output("info tlb", NULL, -1,
		      "unknown command: 'info tlb' (\"monitor help\" lists them)\n");
	assert_output("  info\tregisterz ", NULL, -1,
		      "unknown command: 'info registerz' (\"monitor help\" lists them)\n");
	assert_output("info\x01", NULL, -1,
		      "unknown command: 'info?' (\"monitor help\" lists them)\n");
}

Test(gdb_monitor, an_overlong_command_is_cut_and_refused)
{
	char cmd[300], *got;

	memset(cmd, 'x', sizeof(cmd) - 1);
	cmd[sizeof(cmd) - 1] = '\0';
	got = run(cmd, NULL, -1);
	cr_assert(starts_with(got, "unknown command: 'xxx"), "%s", got);
	cr_assert_not_null(strstr(got, "x...' ("), "%s", got);
	cr_assert_lt(strlen(got), 120);
	free(got);
}

Test(gdb_monitor, help_lists_ours_and_the_stubs)
{
	char *got = run("help", NULL, 0);

	cr_assert_not_null(strstr(got, "info registers "), "%s", got);
	cr_assert_not_null(strstr(got, "info lapic "), "%s", got);
	cr_assert_not_null(strstr(got, "info mtree "), "%s", got);
	cr_assert_not_null(strstr(got, "info mtree -f "), "%s", got);
	cr_assert_not_null(strstr(got, "info pci "), "%s", got);
	cr_assert_not_null(strstr(got, "\nphys on|off "), "%s", got);
	cr_assert_not_null(strstr(got, "\narch i386|x86-64|dual "), "%s", got);
	free(got);
}

Test(gdb_monitor, blanks_around_and_between_words_do_not_matter)
{
	char *a = run("info mtree -f", NULL, 0), *b = run(" info  mtree\t-f\n", NULL, 0);

	cr_assert_str_eq(a, b);
	free(a);
	free(b);
}

static void flat_segment(struct kvm_segment *s, uint16_t sel, uint8_t type,
			 bool code64)
{
	*s = (struct kvm_segment){ .selector = sel, .limit = 0xffffffff, .type = type,
				   .present = 1, .s = 1, .g = 1, .l = code64,
				   .db = !code64 };
}

/* A 64-bit vCPU as the ELF64 boot leaves it (CPL 0, flat segments). */
Test(gdb_monitor, info_registers_in_long_mode)
{
	struct gdb_cpu c = { 0 };

	c.regs = (struct kvm_regs){ .rax = 0x1122334455667788, .rsp = 0x9f000,
				    .r15 = 0xf, .rip = 0x100123, .rflags = 0x46 };
	flat_segment(&c.sregs.cs, 0x8, 0xb, true);
	flat_segment(&c.sregs.ss, 0x10, 0x3, false);
	flat_segment(&c.sregs.ds, 0x10, 0x3, false);
	flat_segment(&c.sregs.es, 0x10, 0x3, false);
	c.sregs.tr = (struct kvm_segment){ .limit = 0x67, .type = 0xb, .present = 1 };
	c.sregs.ldt = (struct kvm_segment){ .limit = 0xffff, .type = 0x2, .unusable = 1 };
	c.sregs.gdt = (struct kvm_dtable){ .base = 0x9e000, .limit = 0x17 };
	c.sregs.cr0 = 0x80000011;
	c.sregs.cr3 = 0x9c000;
	c.sregs.cr4 = 0x20;
	c.sregs.efer = 0x500;
	c.sregs.apic_base = 0xfee00900;
	c.fpu.fcw = 0x37f;
	c.fpu.mxcsr = 0x1f80;
	assert_output("info registers", &c, 0,
		"RAX=1122334455667788 RBX=0000000000000000 RCX=0000000000000000 RDX=0000000000000000\n"
		"RSI=0000000000000000 RDI=0000000000000000 RBP=0000000000000000 RSP=000000000009f000\n"
		"R8 =0000000000000000 R9 =0000000000000000 R10=0000000000000000 R11=0000000000000000\n"
		"R12=0000000000000000 R13=0000000000000000 R14=0000000000000000 R15=000000000000000f\n"
		"RIP=0000000000100123 RFL=00000046 [---Z-P-] CPL=0\n"
		"ES =0010 0000000000000000 ffffffff 00c09300 DPL=0 DS   [-WA]\n"
		"CS =0008 0000000000000000 ffffffff 00a09b00 DPL=0 CS64 [-RA]\n"
		"SS =0010 0000000000000000 ffffffff 00c09300 DPL=0 DS   [-WA]\n"
		"DS =0010 0000000000000000 ffffffff 00c09300 DPL=0 DS   [-WA]\n"
		"FS =0000 0000000000000000 00000000 00000000\n"
		"GS =0000 0000000000000000 00000000 00000000\n"
		"LDT=0000 0000000000000000 0000ffff 00000200\n"
		"TR =0000 0000000000000000 00000067 00008b00 DPL=0 TSS64-busy\n"
		"GDT=     000000000009e000 00000017\n"
		"IDT=     0000000000000000 00000000\n"
		"CR0=80000011 CR2=0000000000000000 CR3=000000000009c000 CR4=00000020\n"
		"EFER=0000000000000500 CR8=0 APIC_BASE=00000000fee00900\n"
		"FCW=037f FSW=0000 [ST=0] FTW=00 MXCSR=00001f80\n");
}

/* Real mode, as at reset: 32-bit columns, no descriptors decoded. */
Test(gdb_monitor, info_registers_in_real_mode)
{
	struct gdb_cpu c = { 0 };
	char *got;

	c.regs = (struct kvm_regs){ .rdx = 0x600, .rip = 0xfff0, .rflags = 0x2 };
	c.sregs.cs = (struct kvm_segment){ .selector = 0xf000, .base = 0xffff0000,
					   .limit = 0xffff, .type = 0xb, .present = 1,
					   .s = 1 };
	c.sregs.cr0 = 0x60000010;
	got = run("info registers", &c, 0);
	cr_assert(starts_with(got, "EAX=00000000 EBX=00000000 ECX=00000000 EDX=00000600\n"
			  "ESI=00000000 EDI=00000000 EBP=00000000 ESP=00000000\n"
			  "EIP=0000fff0 EFL=00000002 [-------] CPL=0\n"
			  "ES =0000 00000000 00000000 00000000\n"
			  "CS =f000 ffff0000 0000ffff 00009b00\n"), "%s", got);
	cr_assert_not_null(strstr(got, "\nCR0=60000010 CR2=00000000 CR3=00000000 CR4=00000000\n"),
			   "%s", got);
	free(got);
}

Test(gdb_monitor, info_registers_needs_registers)
{
	assert_output("info registers", NULL, -1, "no registers for CPU 0\n");
}

Test(gdb_monitor, info_mtree_prints_both_trees_and_both_views)
{
	char *got;

	plug_device();
	got = run("info mtree", NULL, 0);
	cr_assert(starts_with(got,
		"address-space: memory\n"
		"  0000000000000000-ffffffffffffffff (prio 0, container): system\n"
		"    0000000000000000-00000000000fffff (prio 0, ram): pc.ram\n"
		"    0000000000000000-ffffffffffffffff (prio -1, container): pci-mem\n"
		"      00000000febd1000-00000000febd1fff (prio 0, container): test-msix\n"
		"        00000000febd1000-00000000febd102f (prio 0, i/o): msix-table\n"),
		"%s", got);
	cr_assert_not_null(strstr(got, "\naddress-space: I/O\n"
		"  0000000000000000-000000000000ffff (prio 0, container): io\n"), "%s", got);
	cr_assert_not_null(strstr(got, "    00000000000003f8-00000000000003ff (prio 0, i/o): serial\n"
		"    0000000000000cf8-0000000000000cfb (prio 1, i/o): pci-conf-addr/rcr\n"
		"    0000000000000cfc-0000000000000cff (prio 1, i/o): pci-conf-data\n"
		"    000000000000c000-000000000000c03f (prio 0, i/o): test-io\n"), "%s", got);
	cr_assert_not_null(strstr(got, "\nFlatView #0\n AS \"memory\", root: system\n"
		" Root memory region: system\n"
		"  0000000000000000-00000000000fffff (prio 0, ram): pc.ram\n"
		"  00000000febd1000-00000000febd102f (prio 0, i/o): msix-table\n"), "%s", got);
	cr_assert_not_null(strstr(got, "\nFlatView #1\n AS \"I/O\", root: io\n"
		" Root memory region: io\n"
		"  00000000000003f8-00000000000003ff (prio 0, i/o): serial\n"), "%s", got);
	free(got);
}

Test(gdb_monitor, info_pci)
{
	plug_device();
	pci_set_irq(&dev, true);
	assert_output("info pci", NULL, 0,
		"  Bus  0, device   0, function 0:\n"
		"    Host bridge: PCI device 8086:29c0 (rev 00, prog-if 00)\n"
		"      PCI subsystem 8086:29c0\n"
		"      Command 0x0000: none\n"
		"      name \"host-bridge\"\n"
		"  Bus  0, device   3, function 0:\n"
		"    SCSI controller: PCI device 1af4:1042 (rev 01, prog-if 00)\n"
		"      PCI subsystem 1af4:1042\n"
		"      Command 0x0007: I/O memory bus-master\n"
		"      IRQ 11, pin A, asserted\n"
		"      BAR0: I/O at 0xc000 [0xc03f].\n"
		"      BAR1: 32 bit memory at 0xfebd1000 [0xfebd1fff].\n"
		"      BAR4: 64 bit prefetchable memory at 0x00000000 [0x00003fff], not mapped.\n"
		"      MSI-X: enabled, 3 vectors, table BAR1 + 0x0, PBA BAR1 + 0x800\n"
		"      name \"test-dev\"\n");
}

static void f_notify(void *o, unsigned cpu)
{
	(void)o; (void)cpu;
}

static uint64_t f_now(void *o)
{
	(void)o;
	return 0;
}

static void f_arm(void *o, unsigned cpu, uint64_t deadline)
{
	(void)o; (void)cpu; (void)deadline;
}

static const struct apic_host_ops apic_ops = {
	.notify = f_notify, .now_ns = f_now, .timer_arm = f_arm,
};

Test(gdb_monitor, info_lapic_of_the_selected_cpu)
{
	char *got;

	got = run("info lapic", NULL, -1);
	cr_assert_str_eq(got, "no LAPIC for CPU 0\n");
	free(got);
	M.apic.bus = apic_bus_new(1, 0, &apic_ops, NULL);
	cr_assert_not_null(M.apic.bus);
	got = run("info lapic", NULL, 0);
	cr_assert(starts_with(got, "LAPIC of CPU 0: APIC ID 0, "), "%s", got);
	free(got);
	apic_bus_free(M.apic.bus);
}
