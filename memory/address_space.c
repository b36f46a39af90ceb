/* Address spaces: the published view, the lock-free per-thread lookup, the
 * access rules, the listeners, and the one bounds-checked way into RAM.
 *
 * Why the lookup needs no lock. A commit renders a new view, publishes it
 * with one atomic store (under as->lock) and then drops the address space's
 * reference to the old one. Each thread caches, per address space, its own
 * reference to the view it last used. An access loads the published pointer
 * once: equal to the cached one, the thread already holds a reference and
 * reads the view with no lock and no atomic write. Different, it takes a
 * reference to the new view under as->lock; since publish() swaps the
 * pointer under the same lock, the view it loads cannot have had its last
 * reference dropped yet (the address space's own is dropped only after the
 * swap, outside the lock, and only for the view it swapped out). Then it
 * drops its reference to the old view. A view is freed when its last
 * reference goes, and a thread in the middle of an access always holds one:
 * no use-after-free. A vCPU keeps using the old view until its next access
 * picks up the new one, as with QEMU's RCU.
 *
 * An access can re-enter: a device callback may commit a change and then
 * access the same address space, which moves this thread's cached view
 * on while the outer access still walks the old one. So while this thread
 * is inside an access, the references it would drop are kept on a per-thread
 * list and dropped when the outermost access returns. */
#include "memory/address_space.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "memory/flatview.h"
#include "memory/internal.h"
#include "memory/listener.h"

struct address_space {
	const char *name;
	struct memory_region *root;
	uint64_t id;				/* never reused: the thread caches' key */
	_Atomic(struct flat_view *) current;
	pthread_mutex_t lock;			/* swapping / referencing current */
	struct memory_listener *listeners;	/* under the topology lock */
	atomic_uint_fast64_t unassigned_reads, unassigned_writes;
	struct address_space *next;		/* all of them, for commits */
};

static struct address_space *address_spaces;	/* under the topology lock */
static atomic_uint_fast64_t next_id = 1;

/* ---- the per-thread view cache ---- */

#define VIEW_CACHE_SLOTS 4	/* tinyvmm has two address spaces */

struct view_cache {
	uint64_t as_id;			/* 0: free */
	struct flat_view *fv;		/* a reference this thread holds */
	const struct flat_range *mru;	/* QEMU's mru_section, inside @fv */
};

struct thread_views {
	struct view_cache slot[VIEW_CACHE_SLOTS];
	unsigned victim;		/* round robin when all slots are taken */
	unsigned depth;			/* accesses in progress (re-entry) */
	struct flat_view **deferred;	/* unrefs held back until depth is 0 */
	unsigned ndeferred, cap;
	bool registered;		/* for the release at thread exit */
};

static __thread struct thread_views tv;
static pthread_key_t tv_key;
static pthread_once_t tv_once = PTHREAD_ONCE_INIT;

/* Thread exit: drop every view reference this thread still holds. */
static void tv_release(void *arg)
{
	struct thread_views *t = arg;

	for (unsigned i = 0; i < VIEW_CACHE_SLOTS; i++)
		flat_view_unref(t->slot[i].fv);
	for (unsigned i = 0; i < t->ndeferred; i++)
		flat_view_unref(t->deferred[i]);
	free(t->deferred);
	memset(t, 0, sizeof(*t));
}

static void tv_key_create(void)
{
	if (pthread_key_create(&tv_key, tv_release))
		abort();
}

static void tv_register(void)
{
	pthread_once(&tv_once, tv_key_create);
	pthread_setspecific(tv_key, &tv);
	tv.registered = true;
}

/* Drops a cached reference, or holds it back while an access that may
 * still use the view is in progress on this thread. */
static void tv_drop(struct flat_view *fv)
{
	if (!fv)
		return;
	if (!tv.depth) {
		flat_view_unref(fv);
		return;
	}
	if (tv.ndeferred == tv.cap) {
		tv.cap = tv.cap ? 2 * tv.cap : 4;
		tv.deferred = realloc(tv.deferred, tv.cap * sizeof(tv.deferred[0]));
		if (!tv.deferred)
			abort();
	}
	tv.deferred[tv.ndeferred++] = fv;
}

static void access_begin(void)
{
	tv.depth++;
}

static void access_end(void)
{
	if (--tv.depth)
		return;
	while (tv.ndeferred)
		flat_view_unref(tv.deferred[--tv.ndeferred]);
}

static struct view_cache *view_cache_slot(const struct address_space *as)
{
	struct view_cache *c;
	unsigned i;

	for (i = 0; i < VIEW_CACHE_SLOTS; i++)
		if (tv.slot[i].as_id == as->id)
			return &tv.slot[i];
	if (!tv.registered)
		tv_register();
	for (i = 0; i < VIEW_CACHE_SLOTS && tv.slot[i].as_id; i++)
		;
	if (i == VIEW_CACHE_SLOTS)
		i = tv.victim++ % VIEW_CACHE_SLOTS;
	c = &tv.slot[i];
	tv_drop(c->fv);
	*c = (struct view_cache){ .as_id = as->id };
	return c;
}

/* This thread's view of @as, brought up to date: one atomic load when it
 * already is (see the top of the file). */
static inline struct view_cache *view_get(struct address_space *as)
{
	struct view_cache *c = view_cache_slot(as);
	struct flat_view *cur = atomic_load_explicit(&as->current, memory_order_acquire);

	if (c->fv != cur) {
		pthread_mutex_lock(&as->lock);
		cur = atomic_load_explicit(&as->current, memory_order_relaxed);
		flat_view_ref(cur);
		pthread_mutex_unlock(&as->lock);
		tv_drop(c->fv);
		c->fv = cur;
		c->mru = NULL;
	}
	return c;
}

/* The MRU range first, else the binary search. */
static const struct flat_range *lookup(const struct flat_view *fv,
				       const struct flat_range **mru, uint64_t addr)
{
	const struct flat_range *r = *mru;

	if (r && addr - r->start < r->size)
		return r;
	r = flat_view_lookup(fv, addr);
	if (r)
		*mru = r;
	return r;
}

/* ---- creation, commits, listeners ---- */

struct address_space *address_space_new(const char *name,
					struct memory_region *root)
{
	struct address_space *as = calloc(1, sizeof(*as));

	if (!as)
		return NULL;
	as->name = name;
	as->root = root;
	as->id = atomic_fetch_add(&next_id, 1);
	pthread_mutex_init(&as->lock, NULL);
	memory_topology_lock();
	atomic_init(&as->current, flat_view_render(root));
	as->next = address_spaces;
	address_spaces = as;
	memory_topology_unlock();
	return as;
}

/* No access to @as may be in progress or follow, on any thread. Other
 * threads' cached references to its views go when those threads exit or
 * reuse the slot (ids are never reused, so no slot can match a later
 * address space); a view points at nothing of the address space itself. */
void address_space_destroy(struct address_space *as)
{
	struct address_space **pp;

	if (!as)
		return;
	memory_topology_lock();
	for (pp = &address_spaces; *pp; pp = &(*pp)->next)
		if (*pp == as) {
			*pp = as->next;
			break;
		}
	memory_topology_unlock();
	for (unsigned i = 0; i < VIEW_CACHE_SLOTS; i++)
		if (tv.slot[i].as_id == as->id) {
			tv_drop(tv.slot[i].fv);
			tv.slot[i] = (struct view_cache){ 0 };
		}
	flat_view_unref(atomic_load(&as->current));
	pthread_mutex_destroy(&as->lock);
	free(as);
}

const char *address_space_name(const struct address_space *as)
{
	return as->name;
}

static bool is_ram(const struct flat_range *r)
{
	return r->mr->kind == MR_RAM || r->mr->kind == MR_ROM;
}

static bool same_range(const struct flat_range *a, const struct flat_range *b)
{
	return a->start == b->start && a->size == b->size && a->host == b->host &&
	       a->readonly == b->readonly;
}

static bool view_has(const struct flat_view *fv, const struct flat_range *r)
{
	const struct flat_range *found = flat_view_lookup(fv, r->start);

	return found && is_ram(found) && same_range(found, r);
}

typedef void (*range_fn)(struct memory_listener *, const struct flat_range *);

/* Calls @fn for each RAM range of @a that @b (may be NULL) lacks; returns
 * how many there are. */
static unsigned for_each_missing(const struct flat_view *a, const struct flat_view *b,
				 struct memory_listener *l, range_fn fn)
{
	unsigned n = 0;

	for (unsigned i = 0; i < a->nr; i++) {
		if (!is_ram(&a->ranges[i]) || (b && view_has(b, &a->ranges[i])))
			continue;
		if (fn)
			fn(l, &a->ranges[i]);
		n++;
	}
	return n;
}

static void notify_listeners(struct address_space *as, const struct flat_view *old,
			     const struct flat_view *new)
{
	if (!as->listeners || (!for_each_missing(old, new, NULL, NULL) &&
			       !for_each_missing(new, old, NULL, NULL)))
		return;		/* no RAM change: listeners hear nothing */
	for (struct memory_listener *l = as->listeners; l; l = l->next) {
		if (l->begin)
			l->begin(l);
		for_each_missing(old, new, l, l->region_del);
		for_each_missing(new, old, l, l->region_add);
		if (l->commit)
			l->commit(l);
	}
}

static void publish(struct address_space *as, struct flat_view *new)
{
	struct flat_view *old;

	pthread_mutex_lock(&as->lock);
	old = atomic_exchange_explicit(&as->current, new, memory_order_acq_rel);
	pthread_mutex_unlock(&as->lock);
	flat_view_unref(old);
}

/* Listeners hear of the change before the view is published, as in QEMU:
 * the KVM memslots are removed before MMIO exits can see the new layout. */
void address_spaces_commit(void)
{
	for (struct address_space *as = address_spaces; as; as = as->next) {
		struct flat_view *new = flat_view_render(as->root);

		notify_listeners(as, atomic_load(&as->current), new);
		publish(as, new);
	}
}

void address_space_add_listener(struct address_space *as,
				struct memory_listener *l)
{
	struct memory_listener **pp;
	struct flat_view *cur;

	memory_topology_lock();
	cur = atomic_load(&as->current);
	if (l->begin)
		l->begin(l);
	for_each_missing(cur, NULL, l, l->region_add);
	if (l->commit)
		l->commit(l);
	for (pp = &as->listeners; *pp; pp = &(*pp)->next)
		;
	l->next = NULL;
	*pp = l;		/* told in the order they registered */
	memory_topology_unlock();
}

void address_space_remove_listener(struct address_space *as,
				   struct memory_listener *l)
{
	struct memory_listener **pp;

	memory_topology_lock();
	for (pp = &as->listeners; *pp; pp = &(*pp)->next)
		if (*pp == l) {
			*pp = l->next;
			break;
		}
	l->next = NULL;
	memory_topology_unlock();
}

/* ---- I/O accesses and their size rules ---- */

/* 0 means @dflt; implemented sizes are powers of two of at most 8 bytes
 * (a callback's value is 64 bits). */
static unsigned impl_size(unsigned v, unsigned dflt)
{
	v = v ? v : dflt;
	if (v >= 8)
		return 8;
	return v & (v - 1) ? 1u << (31 - __builtin_clz(v)) : v;
}

static uint64_t io_read(const struct memory_region *mr, uint64_t off, unsigned size)
{
	return mr->ops->read ? mr->ops->read(mr->opaque, off, size) : 0;
}

static void io_write(const struct memory_region *mr, uint64_t off, uint64_t v,
		     unsigned size)
{
	if (mr->ops->write)
		mr->ops->write(mr->opaque, off, v, size);
}

/* The guest's bytes are little-endian, and so is every host KVM/x86 runs
 * on: the usual sizes are plain loads and stores, the rest byte by byte. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "little-endian host");

static uint64_t le_load(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	switch (n) {
	case 1: return *p;
	case 2: { uint16_t x; memcpy(&x, p, 2); return x; }
	case 4: { uint32_t x; memcpy(&x, p, 4); return x; }
	case 8: memcpy(&v, p, 8); return v;
	}
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void le_store(uint8_t *p, uint64_t v, unsigned n)
{
	switch (n) {
	case 1: *p = (uint8_t)v; return;
	case 2: { uint16_t x = (uint16_t)v; memcpy(p, &x, 2); return; }
	case 4: { uint32_t x = (uint32_t)v; memcpy(p, &x, 4); return; }
	case 8: memcpy(p, &v, 8); return;
	}
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* One callback of @unit bytes at @off, of which bytes [skip, skip + n) are
 * the guest's @buf. Writes put zeros in the other bytes: no
 * read-modify-write, as QEMU. */
static void io_unit(const struct memory_region *mr, uint64_t off, uint8_t *buf,
		    unsigned skip, unsigned n, unsigned unit, bool is_write)
{
	if (is_write)
		io_write(mr, off, le_load(buf, n) << (8 * skip), unit);
	else
		le_store(buf, io_read(mr, off, unit) >> (8 * skip), n);
}

/* The guest's access, already valid, as callbacks of @unit bytes: wider
 * ones are split, narrower ones widened. Unless the callbacks take
 * unaligned accesses, each callback is aligned to @unit and an access that
 * straddles two units becomes two callbacks. */
static void io_split(const struct memory_region *mr, uint64_t off, uint8_t *buf,
		     uint64_t size, unsigned unit, bool unaligned, bool is_write)
{
	uint64_t mask = unaligned ? 0 : unit - 1;

	for (uint64_t done = 0; done < size;) {
		uint64_t pos = off + done;	/* no wrap: off + size <= 2^64 */
		uint64_t base = pos & ~mask;
		unsigned skip = (unsigned)(pos - base);
		unsigned n = unit - skip < size - done ? unit - skip : (unsigned)(size - done);

		io_unit(mr, base, buf + done, skip, n, unit, is_write);
		done += n;
	}
}

/* ops->valid decides whether the device takes the access at all; ops->impl
 * how it is cut into callbacks. */
static memtx_result io_access(struct memory_region *mr, uint64_t off,
			      uint8_t *buf, uint64_t size, bool is_write)
{
	const struct memory_region_ops *ops = mr->ops;
	unsigned vmin = ops->valid.min ? ops->valid.min : 1;
	unsigned vmax = ops->valid.max ? ops->valid.max : 4;
	unsigned imax = impl_size(ops->impl.max, 4);
	unsigned imin = impl_size(ops->impl.min, 1);
	unsigned unit;

	if (size < vmin || size > vmax || (size & (size - 1)) ||
	    (!ops->valid.unaligned && (off & (size - 1)))) {
		if (!is_write)
			memset(buf, 0xff, size);
		return MEMTX_ERROR;
	}
	imin = imin < imax ? imin : imax;
	unit = size < imin ? imin : size > imax ? imax : (unsigned)size;
	if (unit == size && (ops->impl.unaligned || !(off & (size - 1))))
		io_unit(mr, off, buf, 0, unit, unit, is_write);	/* the usual case */
	else
		io_split(mr, off, buf, size, unit, ops->impl.unaligned, is_write);
	atomic_fetch_add_explicit(is_write ? &mr->writes : &mr->reads, 1,
				  memory_order_relaxed);
	return MEMTX_OK;
}

/* ---- guest accesses ---- */

static memtx_result range_access(const struct flat_range *r, uint64_t addr,
				 uint8_t *buf, uint64_t n, bool is_write)
{
	uint64_t off = addr - r->start;

	if (r->mr->kind == MR_IO)
		return io_access(r->mr, r->offset_in_region + off, buf, n, is_write);
	if (!is_write)
		memcpy(buf, r->host + off, n);
	else if (!r->readonly)
		memcpy(r->host + off, buf, n);
	return MEMTX_OK;	/* a ROM write is dropped, as hardware does */
}

static memtx_result unassigned_access(struct address_space *as, uint8_t *buf,
				      uint64_t n, bool is_write)
{
	if (!is_write)
		memset(buf, 0xff, n);
	atomic_fetch_add_explicit(is_write ? &as->unassigned_writes : &as->unassigned_reads,
				  1, memory_order_relaxed);
	return MEMTX_DECODE_ERROR;
}

/* Runs inside access_begin/end, with its own copies of the view and MRU:
 * a device callback may re-enter and move this thread's cache on. */
static memtx_result rw_sections(struct address_space *as, const struct flat_view *fv,
				const struct flat_range **mru, uint64_t addr,
				uint8_t *p, uint64_t len, bool is_write,
				const struct memory_region **hit)
{
	memtx_result result = MEMTX_OK;

	for (bool first = true; len; first = false) {
		const struct flat_range *r = lookup(fv, mru, addr);
		uint64_t n, gap;
		memtx_result res;

		if (first && hit)
			*hit = r ? r->mr : NULL;
		if (r) {
			n = r->size - (addr - r->start);
			n = n < len ? n : len;
			res = range_access(r, addr, p, n, is_write);
		} else {
			gap = flat_view_gap_after(fv, addr);
			n = gap && gap < len ? gap : len;
			res = unassigned_access(as, p, n, is_write);
		}
		if (result == MEMTX_OK)
			result = res;
		addr += n;
		p += n;
		len -= n;
	}
	return result;
}

/* Returns MEMTX_OK, or the first error met: the other sections are still
 * done, as each would be on its own. A range that wraps past 2^64 is one
 * unassigned access. */
memtx_result address_space_rw(struct address_space *as, uint64_t addr,
			      void *buf, uint64_t len, bool is_write,
			      const struct memory_region **hit)
{
	const struct flat_range *mru, *r;
	struct view_cache *c;
	struct flat_view *fv;
	memtx_result res;

	if (hit)
		*hit = NULL;
	if (len == 0)
		return MEMTX_OK;
	if (addr + (len - 1) < addr)
		return unassigned_access(as, buf, len, is_write);
	access_begin();
	c = view_get(as);
	fv = c->fv;
	mru = c->mru;
	r = lookup(fv, &mru, addr);
	if (r && len <= r->size - (addr - r->start)) {	/* one section: the usual */
		if (hit)
			*hit = r->mr;
		res = range_access(r, addr, buf, len, is_write);
	} else {
		res = rw_sections(as, fv, &mru, addr, buf, len, is_write, hit);
	}
	/* The slot may have moved on (or to another address space) meanwhile. */
	if (c->as_id == as->id && c->fv == fv)
		c->mru = mru;
	access_end();
	return res;
}

memtx_result address_space_read(struct address_space *as, uint64_t addr,
				void *buf, uint64_t len)
{
	return address_space_rw(as, addr, buf, len, false, NULL);
}

memtx_result address_space_write(struct address_space *as, uint64_t addr,
				 const void *buf, uint64_t len)
{
	return address_space_rw(as, addr, (void *)buf, len, true, NULL);
}

/* ---- guest memory for the loader and devices ---- */

/* The RAM range at @gpa, if the guest memory there may be used as asked:
 * RAM, ROM to read, and an I/O region's DMA RAM. */
static const struct flat_range *ram_at(struct view_cache *c, uint64_t gpa,
				       bool is_write)
{
	const struct flat_range *r = lookup(c->fv, &c->mru, gpa);

	if (!r || !r->host || (is_write && r->readonly))
		return NULL;
	return r;
}

void *address_space_map_ram(struct address_space *as, uint64_t gpa,
			    uint64_t len, bool is_write)
{
	const struct flat_range *r;
	struct view_cache *c;

	if (len == 0 || gpa + (len - 1) < gpa)
		return NULL;
	c = view_get(as);
	r = ram_at(c, gpa, is_write);
	if (!r || len > r->size - (gpa - r->start))
		return NULL;
	return r->host + (gpa - r->start);
}

int address_space_map_ram_iov(struct address_space *as, uint64_t gpa,
			      uint64_t len, bool is_write, struct iovec *iov,
			      int max_iov)
{
	struct view_cache *c;
	int n = 0;

	if (len == 0)
		return 0;
	if (gpa + (len - 1) < gpa)
		return -1;
	c = view_get(as);
	while (len) {
		const struct flat_range *r = ram_at(c, gpa, is_write);
		uint64_t chunk;

		if (!r || n >= max_iov)
			return -1;
		chunk = r->size - (gpa - r->start);
		chunk = chunk < len ? chunk : len;
		iov[n].iov_base = r->host + (gpa - r->start);
		iov[n].iov_len = chunk;
		n++;
		gpa += chunk;	/* may reach 0 (2^64) only as len reaches 0 */
		len -= chunk;
	}
	return n;
}

/* ---- --stats ---- */

static bool seen_before(const struct flat_view *fv, unsigned i)
{
	for (unsigned j = 0; j < i; j++)
		if (fv->ranges[j].mr == fv->ranges[i].mr)
			return true;
	return false;
}

/* The I/O regions of the current view, each once, however many ranges or
 * aliases show it. */
void address_space_print_stats(struct address_space *as, FILE *out)
{
	const struct flat_view *fv = view_get(as)->fv;

	fprintf(out, "%s: unassigned %llu reads, %llu writes\n", as->name,
		(unsigned long long)atomic_load(&as->unassigned_reads),
		(unsigned long long)atomic_load(&as->unassigned_writes));
	for (unsigned i = 0; i < fv->nr; i++) {
		struct memory_region *mr = fv->ranges[i].mr;
		uint64_t r, w;

		if (mr->kind != MR_IO || seen_before(fv, i))
			continue;
		r = atomic_load_explicit(&mr->reads, memory_order_relaxed);
		w = atomic_load_explicit(&mr->writes, memory_order_relaxed);
		if (r || w)
			fprintf(out, "  %s: %llu reads, %llu writes\n", mr->name,
				(unsigned long long)r, (unsigned long long)w);
	}
}
