/* The debugger's view of guest memory: virtual addresses through the
 * selected vCPU's page tables (or physical ones), RAM only (reading a device
 * register could change it), breakpoint bytes hidden. */
#include <string.h>
#include <sys/ioctl.h>

#include "memory/address_space.h"
#include "vmm/gdb/internal.h"
#include "vmm/gdb/mmu.h"
#include "vmm/machine.h"
#include "vmm/vcpu.h"

uint8_t *gdb_ram_ptr(struct gdb_stub *s, uint64_t gpa, uint64_t len,
			bool write)
{
	for (unsigned i = 0; i < GDB_MAX_WATCH_PAGES; i++) {
		struct gdb_watch_page *p = &s->pages[i];

		if (p->refs && gpa >= p->gpa && gpa - p->gpa < 4096)
			return p->host + (gpa - p->gpa);
	}
	return address_space_map_ram(s->m->system, gpa, len, write);
}

static int read_phys(void *opaque, uint64_t gpa, void *buf, size_t len)
{
	uint8_t *p = gdb_ram_ptr(opaque, gpa, len, false);

	if (!p)
		return -1;
	memcpy(buf, p, len);
	return 0;
}

int gdb_translate(struct gdb_stub *s, unsigned cpu, uint64_t addr,
		  uint64_t *gpa, uint64_t *left)
{
	struct kvm_sregs sr;
	struct mmu_regs mr;

	if (s->phys) {
		*gpa = addr;
		*left = 4096 - (addr & 4095);
		return 0;
	}
	if (ioctl(s->m->vcpus[cpu].kvm.fd, KVM_GET_SREGS, &sr) < 0)
		return -1;
	mr = (struct mmu_regs){ sr.cr0, sr.cr3, sr.cr4, sr.efer };
	return mmu_translate(&mr, addr, read_phys, s, gpa, left);
}

/* Software breakpoints show their saved bytes, never the 0xCC. */
static void hide_breakpoints(struct gdb_stub *s, uint64_t gpa, uint8_t *buf,
			     uint64_t len)
{
	for (unsigned i = 0; i < GDB_MAX_SW_BPS; i++)
		if (s->sw[i].used && s->sw[i].gpa - gpa < len)
			buf[s->sw[i].gpa - gpa] = s->sw[i].saved;
}

/* A debugger write over a breakpoint changes the byte it restores. */
static void keep_breakpoints(struct gdb_stub *s, uint64_t gpa, uint8_t *ram,
			     uint64_t len)
{
	for (unsigned i = 0; i < GDB_MAX_SW_BPS; i++) {
		if (s->sw[i].used && s->sw[i].gpa - gpa < len) {
			s->sw[i].saved = ram[s->sw[i].gpa - gpa];
			ram[s->sw[i].gpa - gpa] = 0xcc;
		}
	}
}

static uint64_t mem_access(struct gdb_stub *s, unsigned cpu, uint64_t addr,
			   uint8_t *buf, uint64_t len, bool write)
{
	uint64_t done = 0;

	while (done < len) {
		uint64_t gpa, left, n;
		uint8_t *ram;

		if (gdb_translate(s, cpu, addr + done, &gpa, &left))
			break;
		n = len - done < left ? len - done : left;
		ram = gdb_ram_ptr(s, gpa, n, write);
		if (!ram)
			break;
		if (write) {
			memcpy(ram, buf + done, n);
			keep_breakpoints(s, gpa, ram, n);
		} else {
			memcpy(buf + done, ram, n);
			hide_breakpoints(s, gpa, buf + done, n);
		}
		done += n;
	}
	return done;
}

uint64_t gdb_mem_read(struct gdb_stub *s, unsigned cpu, uint64_t addr,
		      void *buf, uint64_t len)
{
	return mem_access(s, cpu, addr, buf, len, false);
}

uint64_t gdb_mem_write(struct gdb_stub *s, unsigned cpu, uint64_t addr,
		       const void *buf, uint64_t len)
{
	return mem_access(s, cpu, addr, (uint8_t *)buf, len, true);
}
