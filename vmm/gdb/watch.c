/* Watchpoints of any number and length on any KVM: the watched page gets an
 * I/O region over its RAM (priority above everything), so the flat view,
 * and the KVM memslots that follow it, leave a hole there and every guest
 * access to the page exits to us. The region completes the access on the
 * RAM and, if it touched a watched range, the vCPU stops after it. This
 * host's DR7 data breakpoints never fire (../shared/KVM-NOTES.md); these
 * work everywhere. The page must not hold code or page tables: the CPU
 * cannot fetch or walk through MMIO. Devices' DMA goes to the RAM as before
 * (memory_region_set_dma_ram): it is no CPU access. */
#include <string.h>

#include "memory/address_space.h"
#include "memory/region.h"
#include "vmm/gdb/internal.h"
#include "vmm/machine.h"
#include "vmm/vcpu.h"

#define WATCH_PRIORITY	0x7fff	/* above every device and RAM region */

static bool type_matches(int type, bool write)
{
	return type == 4 || (type == 2) == write;
}

static enum gdb_event_kind event_kind(int type)
{
	return type == 2 ? GDB_EV_WATCH : type == 3 ? GDB_EV_RWATCH : GDB_EV_AWATCH;
}

/* Called on the vCPU thread that made the access; another thread's access
 * (a device) is no CPU access and does not stop. */
static void check_hit(struct gdb_watch_page *p, uint64_t off, unsigned size,
		      bool write)
{
	struct gdb_stub *s = p->stub;
	struct vcpu *v = vcpu_current();
	uint64_t gpa = p->gpa + off;

	if (!v || v->m != s->m)
		return;
	for (unsigned i = 0; i < GDB_MAX_WATCHES; i++) {
		const struct gdb_watch *w = &s->watch[i];

		if (!w->used || !type_matches(w->type, write))
			continue;
		for (unsigned k = 0; k < w->nseg; k++) {
			const struct gdb_watch_seg *g = &w->seg[k];
			uint64_t first = gpa > g->gpa ? gpa : g->gpa;

			if (gpa < g->gpa + g->len && g->gpa < gpa + size) {
				s->vcpu[v->id].pending = (struct gdb_event){
					event_kind(w->type), g->vaddr + (first - g->gpa) };
				return;
			}
		}
	}
}

static uint64_t watch_read(void *opaque, uint64_t off, unsigned size)
{
	struct gdb_watch_page *p = opaque;
	uint64_t v = 0;

	memcpy(&v, p->host + off, size);
	check_hit(p, off, size, false);
	return v;
}

static void watch_write(void *opaque, uint64_t off, uint64_t value, unsigned size)
{
	struct gdb_watch_page *p = opaque;

	memcpy(p->host + off, &value, size);
	check_hit(p, off, size, true);
}

static const struct memory_region_ops watch_ops = {
	.read = watch_read,
	.write = watch_write,
	.valid = { .min = 1, .max = 8, .unaligned = true },
	.impl = { .min = 1, .max = 8, .unaligned = true },
};

static struct gdb_watch_page *page_get(struct gdb_stub *s, uint64_t gpa)
{
	struct gdb_watch_page *free_page = NULL;
	struct ram_block *ram = &s->m->ram;
	uint8_t *host;

	for (unsigned i = 0; i < GDB_MAX_WATCH_PAGES; i++) {
		struct gdb_watch_page *p = &s->pages[i];

		if (p->refs && p->gpa == gpa) {
			p->refs++;
			return p;
		}
		if (!p->refs && !free_page)
			free_page = p;
	}
	host = address_space_map_ram(s->m->system, gpa, 4096, true);
	if (!free_page || !host || host < ram->host ||
	    (uint64_t)(host - ram->host) > ram->size - 4096)
		return NULL;	/* not RAM (ROM, a device): not watchable */
	*free_page = (struct gdb_watch_page){ .refs = 1, .gpa = gpa, .host = host,
					      .stub = s };
	memory_region_init_io(&free_page->mr, "gdb-watch", &watch_ops, free_page, 4096);
	/* Devices' DMA still reaches the page: only the CPU's accesses exit. */
	memory_region_set_dma_ram(&free_page->mr, ram, (uint64_t)(host - ram->host));
	memory_region_add_subregion(&s->m->system_root, gpa, &free_page->mr,
				    WATCH_PRIORITY);
	return free_page;
}

static void page_put(struct gdb_watch_page *p)
{
	if (--p->refs == 0)
		memory_region_del_subregion(&p->stub->m->system_root, &p->mr);
}

static void watch_release(struct gdb_watch *w)
{
	memory_transaction_begin();
	for (unsigned k = 0; k < w->nseg; k++)
		page_put(w->seg[k].page);
	memory_transaction_commit();
	w->used = false;
}

/* Splits [addr, addr + len) at page boundaries, translating each piece
 * through the selected vCPU's page tables. */
static int watch_map(struct gdb_stub *s, struct gdb_watch *w)
{
	uint64_t done = 0;

	w->nseg = 0;
	while (done < w->len) {
		struct gdb_watch_seg *g = &w->seg[w->nseg];
		uint64_t gpa, left;

		if (gdb_translate(s, s->g_cpu, w->addr + done, &gpa, &left))
			return -1;
		if (left > 4096 - (gpa & 4095))
			left = 4096 - (gpa & 4095);
		g->gpa = gpa;
		g->vaddr = w->addr + done;
		g->len = w->len - done < left ? w->len - done : left;
		g->page = page_get(s, gpa & ~4095ull);
		if (!g->page)
			return -1;
		w->nseg++;
		done += g->len;
	}
	return 0;
}

int gdb_watch_insert(struct gdb_stub *s, int type, uint64_t addr, uint64_t len)
{
	struct gdb_watch *w = NULL;
	int r;

	if (!len || len > GDB_WATCH_MAX_LEN || addr + len < addr)
		return -1;
	for (unsigned i = 0; i < GDB_MAX_WATCHES && !w; i++)
		if (!s->watch[i].used)
			w = &s->watch[i];
	if (!w)
		return -1;
	*w = (struct gdb_watch){ .used = true, .type = type, .addr = addr, .len = len };
	memory_transaction_begin();
	r = watch_map(s, w);
	memory_transaction_commit();
	if (r)
		watch_release(w);
	return r;
}

int gdb_watch_remove(struct gdb_stub *s, int type, uint64_t addr, uint64_t len)
{
	for (unsigned i = 0; i < GDB_MAX_WATCHES; i++) {
		struct gdb_watch *w = &s->watch[i];

		if (w->used && w->type == type && w->addr == addr && w->len == len) {
			watch_release(w);
			return 0;
		}
	}
	return -1;
}

void gdb_watch_remove_all(struct gdb_stub *s)
{
	for (unsigned i = 0; i < GDB_MAX_WATCHES; i++)
		if (s->watch[i].used)
			watch_release(&s->watch[i]);
}
