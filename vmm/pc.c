#include "vmm/pc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devices/acpi/pm.h"
#include "devices/char/serial.h"
#include "devices/error.h"
#include "devices/input/i8042.h"
#include "devices/intc/i8259.h"
#include "devices/intc/ioapic.h"
#include "devices/intc/lapic.h"
#include "devices/misc/debug_exit.h"
#include "devices/misc/port61.h"
#include "devices/misc/port80.h"
#include "devices/misc/port92.h"
#include "devices/nvram/fw_cfg.h"
#include "devices/pci/pci.h"
#include "devices/timer/hpet.h"
#include "devices/timer/i8254.h"
#include "devices/timer/mc146818rtc.h"
#include "devices/virtio/virtio_blk.h"
#include "memory/address_space.h"
#include "memory/region.h"
#include "vmm/boot.h"
#include "vmm/layout.h"
#include "vmm/machine.h"
#include "vmm/sandbox.h"

static void pc_guest_exit(void *host, int status)
{
	machine_stop(host, status);
}

static int pc_msi(void *host, uint64_t addr, uint32_t data)
{
	struct machine *m = host;

	return m->apic.bus ? apic_bus_deliver_msi(m->apic.bus, addr, data) : -1;
}

static int pc_ioeventfd(void *host, uint64_t gpa, int fd, bool assign)
{
	return kvm_ioeventfd(&((struct machine *)host)->kvm, gpa, fd, assign);
}

/* --disk: a virtio-blk-pci device, its properties set directly (a file
 * name may hold the ',' that -device uses between properties). */
static int pc_add_disk(struct machine *m, const struct vmm_disk *d,
			    struct error *err)
{
	struct object *blk = object_new(TYPE_VIRTIO_BLK_PCI);

	object_add_child(m->devices, TYPE_VIRTIO_BLK_PCI, blk);
	if (object_property_set(blk, "path", d->path, err) ||
	    object_property_set(blk, "ro", d->ro ? "on" : "off", err) ||
	    (d->serial[0] && object_property_set(blk, "serial", d->serial, err)))
		return -1;
	return device_realize((struct device *)blk, &m->env, err);
}

/* A device only the board makes (not user-creatable), realized at once. */
static struct device *pc_add(struct machine *m, const char *type,
			     struct error *err)
{
	struct object *obj = object_new(type);

	object_add_child(m->devices, type, obj);
	return device_realize((struct device *)obj, &m->env, err) ? NULL :
	       (struct device *)obj;
}

static void cmos_set16(struct device *rtc, unsigned addr, uint64_t v)
{
	rtc_set_cmos(rtc, addr, (uint8_t)v);
	rtc_set_cmos(rtc, addr + 1, (uint8_t)(v >> 8));
}

static uint64_t clamp16(uint64_t v)
{
	return v > 0xffff ? 0xffff : v;
}

/* The NVRAM as QEMU's pc fills it (pc_cmos_init): memory sizes, CPUs,
 * equipment. tinyvmm has no floppy or IDE disks, so those bytes stay 0. */
static void pc_cmos_init(struct machine *m, struct device *rtc)
{
	uint64_t size = m->opts->mem_size;
	uint64_t low = size < LOW_RAM_MAX ? size : LOW_RAM_MAX, high = size - low;
	uint64_t ext_kib = clamp16(low / 1024 - 1024);

	cmos_set16(rtc, 0x15, 640);			/* base memory, KiB */
	cmos_set16(rtc, 0x17, ext_kib);			/* from 1 MiB, KiB */
	cmos_set16(rtc, 0x30, ext_kib);
	cmos_set16(rtc, 0x34, low > (16 << 20) ? clamp16((low - (16 << 20)) >> 16) : 0);
	cmos_set16(rtc, 0x5b, high >> 16);		/* above 4 GiB, 64 KiB */
	rtc_set_cmos(rtc, 0x5d, (uint8_t)(high >> 32));
	rtc_set_cmos(rtc, 0x5f, (uint8_t)(m->opts->ncpus - 1));
	rtc_set_cmos(rtc, 0x14, 0x06);			/* FPU, PS/2 mouse */
}

/* Port 0x61 bits 0 and 5: PIT channel 2's gate and output. */
static void pit2_set_gate(void *pit, bool level)
{
	i8254_set_gate(pit, 2, level);
}

static bool pit2_output(void *pit)
{
	return i8254_get_out(pit, 2);
}

/* The HPET sits between the PIT and RTC and the interrupt controllers
 * (legacy replacement takes IRQ 0 and 8 from them), so it drives the
 * controllers' own lines. It uses nothing of the environment that is
 * filled in later (the LAPIC bus). */
static int pc_add_hpet(struct machine *m, struct error *err)
{
	struct object *obj = object_new(TYPE_HPET);

	m->hpet_env = m->env;
	m->hpet_env.isa_irq = m->isa_lines;
	object_add_child(m->devices, TYPE_HPET, obj);
	m->hpet = (struct device *)obj;
	return device_realize(m->hpet, &m->hpet_env, err);
}

/* The legacy ISA devices of QEMU's pc, at their fixed ports. */
static int pc_init_isa(struct machine *m, struct error *err)
{
	struct device *pit, *port61;

	if (!m->opts->no_hpet && pc_add_hpet(m, err))
		return -1;
	m->acpi_pm = pc_add(m, TYPE_ACPI_PM, err);
	m->rtc = m->acpi_pm ? pc_add(m, TYPE_MC146818_RTC, err) : NULL;
	pit = m->rtc ? pc_add(m, TYPE_I8254, err) : NULL;
	port61 = pit ? pc_add(m, TYPE_PORT61, err) : NULL;
	if (!port61 || !pc_add(m, TYPE_PORT80, err) || !pc_add(m, TYPE_PORT92, err) ||
	    !pc_add(m, TYPE_I8042, err) || !(m->fw_cfg = pc_add(m, TYPE_FW_CFG_IO, err)))
		return -1;
	pc_cmos_init(m, m->rtc);
	port61_connect_pit(port61, &(struct port61_pit){ pit2_set_gate, pit2_output, pit });
	m->pit = pit;
	return 0;
}

#define FW_CFG_USER_FILE_MAX	(64u << 20)

/* A whole --fw-cfg file=PATH, as QEMU reads it at start-up. */
static void *read_user_file(const char *path, size_t *len, struct error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	void *buf = NULL;

	if (fd < 0 || fstat(fd, &st) < 0) {
		error_setf(err, "--fw-cfg file '%s': %s", path, strerror(errno));
	} else if (!S_ISREG(st.st_mode) || st.st_size > FW_CFG_USER_FILE_MAX) {
		error_setf(err, "--fw-cfg file '%s': not a regular file of at most %u MiB",
			   path, FW_CFG_USER_FILE_MAX >> 20);
	} else if (!(buf = malloc(st.st_size ? (size_t)st.st_size : 1))) {
		error_setf(err, "out of memory");
	} else if (pread(fd, buf, (size_t)st.st_size, 0) != st.st_size) {
		error_setf(err, "--fw-cfg file '%s': short read", path);
		free(buf);
		buf = NULL;
	}
	*len = buf ? (size_t)st.st_size : 0;
	if (fd >= 0)
		close(fd);
	return buf;
}

static int fw_cfg_add_user(struct device *fw, const struct vmm_fw_cfg *f,
			   struct error *err)
{
	size_t len = strlen(f->value);
	void *data = f->is_file ? read_user_file(f->value, &len, err) : NULL;
	int r;

	if (f->is_file && !data)
		return -1;
	if (strncmp(f->name, "opt/", 4))
		fprintf(stderr, "tinyvmm: warning: --fw-cfg name '%s': names from the "
			"user should start with \"opt/\", as QEMU warns\n", f->name);
	r = fw_cfg_add_file(fw, f->name, data ? data : f->value, len, err);
	free(data);
	return r;
}

/* QEMU's etc/e820: packed little-endian { u64 addr, u64 len, u32 type }.
 * With no firmware to refine it, it is the same map multiboot gives. */
static int fw_cfg_add_e820(struct device *fw, const struct boot_layout *l,
			   struct error *err)
{
	struct e820_entry map[BOOT_E820_MAX];
	unsigned n = boot_e820(l, map);
	uint8_t buf[BOOT_E820_MAX * 20];

	for (unsigned i = 0; i < n; i++) {
		memcpy(buf + i * 20, &map[i].addr, 8);
		memcpy(buf + i * 20 + 8, &map[i].len, 8);
		memcpy(buf + i * 20 + 16, &map[i].type, 4);
	}
	return fw_cfg_add_file(fw, "etc/e820", buf, n * 20, err);
}

/* What QEMU's pc tells its firmware. The kernel and module items say where
 * the image already is (QEMU's hand them to its option ROM as data). */
int pc_init_firmware(struct machine *m, struct error *err)
{
	struct device *fw = m->fw_cfg;
	const char *cmdline = m->boot.cmdline;
	uint32_t cmd_len = (uint32_t)strlen(cmdline) + 1;

	if (fw_cfg_add_i64(fw, FW_CFG_RAM_SIZE, m->opts->mem_size, err) ||
	    fw_cfg_add_i16(fw, FW_CFG_NB_CPUS, (uint16_t)m->ncpus, err) ||
	    fw_cfg_add_i16(fw, FW_CFG_MAX_CPUS, (uint16_t)m->ncpus, err) ||
	    fw_cfg_add_i16(fw, FW_CFG_NOGRAPHIC, 1, err) ||
	    fw_cfg_add_i16(fw, FW_CFG_BOOT_MENU, 0, err) ||
	    fw_cfg_add_bytes(fw, FW_CFG_UUID, (uint8_t[16]){ 0 }, 16, err) ||
	    fw_cfg_add_i32(fw, FW_CFG_KERNEL_ADDR, (uint32_t)m->image.load_start, err) ||
	    fw_cfg_add_i32(fw, FW_CFG_KERNEL_SIZE,
			   (uint32_t)(m->image.load_end - m->image.load_start), err) ||
	    fw_cfg_add_i32(fw, FW_CFG_KERNEL_ENTRY, (uint32_t)m->image.entry, err) ||
	    fw_cfg_add_i32(fw, FW_CFG_CMDLINE_SIZE, cmd_len, err) ||
	    fw_cfg_add_bytes(fw, FW_CFG_CMDLINE_DATA, cmdline, cmd_len, err) ||
	    fw_cfg_add_e820(fw, &m->layout, err))
		return -1;
	if (m->layout.nmodules &&
	    (fw_cfg_add_i32(fw, FW_CFG_INITRD_ADDR, (uint32_t)m->layout.modules[0], err) ||
	     fw_cfg_add_i32(fw, FW_CFG_INITRD_SIZE, (uint32_t)m->boot.modules[0].size, err)))
		return -1;
	for (unsigned i = 0; i < m->opts->nfw_cfg; i++)
		if (fw_cfg_add_user(fw, &m->opts->fw_cfg[i], err))
			return -1;
	return 0;
}

/* Each device thread under its allowlist, as the machine's own threads. */
static void pc_device_thread_start(void *host, enum device_thread kind)
{
	(void)host;
	sandbox_enter(kind == DEVICE_THREAD_BLK_IO ? SANDBOX_BLK_IO : SANDBOX_SERIAL_IN);
}

static int pc_create_devices(struct machine *m, struct error *err)
{
	struct object *serial;

	m->env = (struct device_env){
		.system_memory = &m->system_root, .io_space = &m->io_root,
		.dma = m->system, .pci = &m->pci,
		.guest_exit = pc_guest_exit, .msi = pc_msi,
		.ioeventfd = pc_ioeventfd, .host = m,
		.clock = &m->clock.clock, .isa_irq = m->isa_irq,
		.system_event = machine_system_event, .wakeup = machine_wakeup,
		.thread_start = pc_device_thread_start,
	};
	m->devices = object_new(TYPE_CONTAINER);
	m->pci.env = &m->env;		/* the reset control register at 0xCF9 */
	/* Set directly: a file name may hold the ',' that separates properties. */
	serial = object_new(TYPE_ISA_SERIAL);
	m->serial = (struct device *)serial;
	object_add_child(m->devices, TYPE_ISA_SERIAL, serial);
	/* As QEMU's -serial stdio: what is typed (or piped) is COM1's input. */
	if (object_property_set(serial, "path", m->opts->serial, err) ||
	    object_property_set(serial, "input",
				strcmp(m->opts->serial, "stdio") ? "none" : "stdin", err) ||
	    device_realize((struct device *)serial, &m->env, err) ||
	    (!m->opts->no_exit_port &&
	     !device_create(TYPE_ISA_DEBUG_EXIT, &m->env, m->devices, err)))
		return -1;
	if (pc_init_isa(m, err))
		return -1;
	for (unsigned i = 0; i < m->opts->ndisks; i++)
		if (pc_add_disk(m, &m->opts->disks[i], err))
			return -1;
	for (unsigned i = 0; i < m->opts->ndevices; i++)
		if (!device_create(m->opts->devices[i], &m->env, m->devices, err))
			return -1;
	return 0;
}

/* One memory transaction for every device's regions: the views are
 * rendered, and KVM's memslots updated, once rather than per device. */
int pc_init_devices(struct machine *m, struct error *err)
{
	int r;

	memory_transaction_begin();
	r = pc_create_devices(m, err);
	memory_transaction_commit();
	return r;
}

/* As a PC's firmware learns from the CMOS shutdown status that this start
 * is a resume (QEMU sets it too). */
void pc_suspend(struct machine *m)
{
	rtc_set_cmos(m->rtc, 0x0f, 0xfe);
}

static void pc_pic_firmware_setup(struct machine *m);

/* The chipset lost power in S3: the I/O APIC is reset, and the 8259s get
 * what firmware's resume path gives them (SeaBIOS sets them up again); the
 * LAPICs are reset by their own vCPUs (vcpu.c). */
bool pc_wake_event(struct machine *m, enum wakeup_source src)
{
	if (!acpi_pm_wake_event(m->acpi_pm, src))
		return false;
	acpi_pm_resumed(m->acpi_pm);
	ioapic_reset(m->ioapic);
	pc_pic_firmware_setup(m);
	return true;
}

int pc_extint_ack(struct machine *m)
{
	return i8259_intack(m->pic);
}

/* ISA IRQ n reaches 8259 input n and I/O APIC pin n, but IRQ 0, which is
 * pin 2 (the MADT says so, as QEMU's pc), and IRQ 2, which only the HPET
 * drives (its route 2, QEMU's GSI 2): pin 2 alone, as the master 8259's
 * input 2 is the slave's cascade. */
static void pc_isa_irq(void *opaque, unsigned n, bool level)
{
	struct machine *m = opaque;

	if (m->opts->trace)
		fprintf(stderr, "irq  isa %u %s\n", n, level ? "high" : "low");
	if (n != 2)
		irq_set_level(&i8259_inputs(m->pic)[n], level);
	irq_set_level(&ioapic_inputs(m->ioapic)[n ? n : 2], level);
}

/* The 8259's INT pin is the BSP's LINT0 (virtual wire). */
static void pc_pic_output(void *opaque, unsigned n, bool level)
{
	struct machine *m = opaque;

	(void)n;
	lapic_set_lint(apic_bus_cpu(m->apic.bus, 0), 0, level);
}

static void pc_io_write8(struct machine *m, uint16_t port, uint8_t value)
{
	address_space_write(m->io, port, &value, 1);
}

/* What SeaBIOS leaves for a -kernel guest on QEMU's pc, done here through
 * the ports as firmware does: the 8259s at vectors 0x08 and 0x70, every
 * line masked but the cascade (SeaBIOS also leaves IRQ 0 and 1 unmasked
 * and the PIT at 18.2 Hz: tinyvmm starts quiet); the ELCR marks the
 * level-triggered ISA lines the MADT names (5, 9, 10, 11). */
static void pc_pic_firmware_setup(struct machine *m)
{
	static const uint8_t init[][2] = {
		{ 0x20, 0x11 }, { 0x21, 0x08 }, { 0x21, 0x04 }, { 0x21, 0x01 },
		{ 0xa0, 0x11 }, { 0xa1, 0x70 }, { 0xa1, 0x02 }, { 0xa1, 0x01 },
		{ 0x21, 0xfb }, { 0xa1, 0xff },
	};

	for (size_t i = 0; i < sizeof(init) / sizeof(init[0]); i++)
		pc_io_write8(m, init[i][0], init[i][1]);
	address_space_write(m->io, I8259_ELCR_PORT, (uint8_t[]){ 0x20, 0x0e }, 2);
}

/* PCI INTx as SeaBIOS routes it on QEMU's pc (PIIX3): slot S, pin P
 * (INTA = 1) → link (S - 1 + P - 1) & 3 → IRQ 10, 10, 11, 11; the IRQ goes
 * into the Interrupt Line register, as firmware writes it. */
static uint8_t pc_pci_irq(unsigned slot, unsigned pin)
{
	static const uint8_t link_irq[4] = { 10, 10, 11, 11 };

	return link_irq[(slot + pin - 2) & 3];
}

/* Shared, level-triggered lines are a wired OR: the IRQ is high while any
 * device asserts it. @n = slot << 4 | IRQ. */
static void pc_pci_intx(void *opaque, unsigned n, bool level)
{
	struct machine *m = opaque;
	unsigned irq = n & 15;
	uint32_t bit = 1u << (n >> 4);
	bool was, now;

	pthread_mutex_lock(&m->pci_intx_lock);
	was = m->pci_intx[irq] != 0;
	if (level)
		m->pci_intx[irq] |= bit;
	else
		m->pci_intx[irq] &= ~bit;
	now = m->pci_intx[irq] != 0;
	if (was != now)
		irq_set_level(&m->isa_irq[irq], now);
	pthread_mutex_unlock(&m->pci_intx_lock);
}

static void pc_connect_pci_intx(struct machine *m)
{
	for (unsigned slot = 0; slot < PCI_SLOTS; slot++) {
		struct pci_device *d = m->pci.devices[slot];
		unsigned pin = d ? pci_get(d, PCI_INTERRUPT_PIN, 1) : 0;
		uint8_t irq;

		if (!pin)
			continue;
		irq = pc_pci_irq(slot, pin);
		pci_connect_intx(d, &(struct irq_line){ pc_pci_intx, m, slot << 4 | irq }, irq);
	}
}

int pc_init_interrupts(struct machine *m, struct error *err)
{
	struct device *io;

	memory_transaction_begin();
	m->pic = pc_add(m, TYPE_I8259, err);
	io = m->pic ? pc_add(m, TYPE_IOAPIC, err) : NULL;
	memory_transaction_commit();
	if (!io)
		return -1;
	m->ioapic = io;
	for (unsigned n = 0; n < ISA_NUM_IRQS; n++)
		m->isa_irq[n] = m->isa_lines[n] = (struct irq_line){ pc_isa_irq, m, n };
	if (m->hpet) {
		m->isa_irq[I8254_IRQ] = hpet_legacy_inputs(m->hpet)[HPET_LEGACY_PIT];
		m->isa_irq[RTC_ISA_IRQ] = hpet_legacy_inputs(m->hpet)[HPET_LEGACY_RTC];
	}
	pc_connect_pci_intx(m);
	i8259_connect_output(m->pic, (struct irq_line){ pc_pic_output, m, 0 });
	pc_pic_firmware_setup(m);
	/* The BSP's LAPIC as firmware leaves it: the 8259 reaches the CPU. */
	lapic_set_virtual_wire(apic_bus_cpu(m->apic.bus, 0));
	return 0;
}
