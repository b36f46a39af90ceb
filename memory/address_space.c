/* Address spaces: the published view, the lock-free per-thread lookup, the
 * access rules, the listeners, and the one bounds-checked way into RAM.
 *
 * Why the lookup needs no lock: a commit publishes a new view with one
 * atomic store and drops the address space's reference to the old one.
 * Each thread keeps its own reference to the view it last used; on every
 * access it compares that pointer with the published one (one atomic load)
 * and only on a change takes a reference to the new view, under as->lock so
 * that the reference is taken before any commit can drop the last other
 * one. A view is freed when its last reference goes: a thread in the middle
 * of an access always holds one, so there is no use-after-free, and a vCPU
 * keeps using the old view until its next access picks up the new one. */
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
	pthread_mutex_t lock;			/* taking a reference to current */
	struct memory_listener *listeners;
	atomic_uint_fast64_t unassigned_reads, unassigned_writes;
	struct address_space *next;		/* all of them, for commits */
};

static struct address_space *address_spaces;	/* under the topology lock */
static atomic_uint_fast64_t next_id = 1;

/* ---- the per-thread view cache ---- */

#define VIEW_CACHE_SLOTS 4

struct view_cache {
	uint64_t as_id;
	struct flat_view *fv;
	const struct flat_range *mru;	/* QEMU's mru_section */
};

static __thread struct view_cache view_cache[VIEW_CACHE_SLOTS];
static pthread_key_t view_cache_key;
static pthread_once_t view_cache_once = PTHREAD_ONCE_INIT;

static void view_cache_release(void *unused)
{
	(void)unused;
	for (unsigned i = 0; i < VIEW_CACHE_SLOTS; i++) {
		flat_view_unref(view_cache[i].fv);
		view_cache[i] = (struct view_cache){ 0 };
	}
}

static void view_cache_key_create(void)
{
	pthread_key_create(&view_cache_key, view_cache_release);
}

static struct view_cache *view_cache_slot(const struct address_space *as)
{
	unsigned i;

	for (i = 0; i < VIEW_CACHE_SLOTS; i++)
		if (view_cache[i].as_id == as->id)
			return &view_cache[i];
	/* A new address space for this thread: arrange the release at thread
	 * exit, and evict the last slot if all are taken. */
	pthread_once(&view_cache_once, view_cache_key_create);
	pthread_setspecific(view_cache_key, view_cache);
	for (i = 0; i < VIEW_CACHE_SLOTS - 1 && view_cache[i].as_id; i++)
		;
	flat_view_unref(view_cache[i].fv);
	view_cache[i] = (struct view_cache){ .as_id = as->id };
	return &view_cache[i];
}

static struct view_cache *view_get(struct address_space *as)
{
	struct view_cache *c = view_cache_slot(as);
	struct flat_view *cur = atomic_load_explicit(&as->current, memory_order_acquire);

	if (c->fv != cur) {
		pthread_mutex_lock(&as->lock);
		cur = atomic_load_explicit(&as->current, memory_order_relaxed);
		flat_view_ref(cur);
		pthread_mutex_unlock(&as->lock);
		flat_view_unref(c->fv);
		c->fv = cur;
		c->mru = NULL;
	}
	return c;
}

static const struct flat_range *view_lookup(struct view_cache *c, uint64_t addr)
{
	const struct flat_range *r = c->mru;

	if (r && addr - r->start < r->size)
		return r;
	r = flat_view_lookup(c->fv, addr);
	if (r)
		c->mru = r;
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
		if (view_cache[i].as_id == as->id) {
			flat_view_unref(view_cache[i].fv);
			view_cache[i] = (struct view_cache){ 0 };
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

/* Calls @fn for each RAM range of @a that @b lacks; returns how many. */
static unsigned for_each_missing(const struct flat_view *a, const struct flat_view *b,
				 struct memory_listener *l,
				 void (*fn)(struct memory_listener *, const struct flat_range *))
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
	struct flat_view *cur;

	memory_topology_lock();
	cur = atomic_load(&as->current);
	if (l->begin)
		l->begin(l);
	for_each_missing(cur, NULL, l, l->region_add);
	if (l->commit)
		l->commit(l);
	l->next = as->listeners;
	as->listeners = l;
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
	memory_topology_unlock();
}

/* ---- accesses ---- */

static unsigned size_or(unsigned v, unsigned dflt)
{
	return v ? v : dflt;
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

/* One access the callbacks implement as it is. */
static void io_exact(const struct memory_region *mr, uint64_t off, uint8_t *buf,
		     unsigned size, bool is_write)
{
	uint64_t v = 0;

	if (is_write) {
		memcpy(&v, buf, size);
		io_write(mr, off, v, size);
	} else {
		v = io_read(mr, off, size);
		memcpy(buf, &v, size);
	}
}

/* A narrower access than the callbacks implement: read the wider unit and
 * pick the bytes; write the bytes shifted into place, the rest zero. */
static void io_widen(const struct memory_region *mr, uint64_t off, uint8_t *buf,
		     unsigned size, unsigned unit, bool is_write)
{
	uint64_t base = off & ~(uint64_t)(unit - 1);
	unsigned shift = (unsigned)(off - base);
	uint64_t v = 0;

	if (shift + size > unit) {	/* straddles two units: byte by byte */
		for (unsigned i = 0; i < size; i++)
			io_widen(mr, off + i, buf + i, 1, unit, is_write);
		return;
	}
	if (is_write) {
		memcpy((uint8_t *)&v + shift, buf, size);
		io_write(mr, base, v, unit);
	} else {
		v = io_read(mr, base, unit);
		memcpy(buf, (uint8_t *)&v + shift, size);
	}
}

static memtx_result io_access(struct memory_region *mr, uint64_t off,
			      uint8_t *buf, uint64_t size, bool is_write)
{
	const struct memory_region_ops *ops = mr->ops;
	unsigned vmin = size_or(ops->valid.min, 1), vmax = size_or(ops->valid.max, 4);
	/* Callbacks carry a uint64_t: never more than 8 bytes at a time. */
	unsigned imax = size_or(ops->impl.max, 4) < 8 ? size_or(ops->impl.max, 4) : 8;
	unsigned imin = size_or(ops->impl.min, 1) < imax ? size_or(ops->impl.min, 1) : imax;

	if (size < vmin || size > vmax || (size & (size - 1)) ||
	    (!ops->valid.unaligned && (off & (size - 1))))
		return MEMTX_ERROR;
	if (size > imax)
		for (unsigned i = 0; i < size; i += imax)
			io_exact(mr, off + i, buf + i, imax, is_write);
	else if (size < imin || (!ops->impl.unaligned && (off & (size - 1))))
		io_widen(mr, off, buf, (unsigned)size, imin > size ? imin : (unsigned)size,
			 is_write);
	else
		io_exact(mr, off, buf, (unsigned)size, is_write);
	atomic_fetch_add_explicit(is_write ? &mr->writes : &mr->reads, 1,
				  memory_order_relaxed);
	return MEMTX_OK;
}

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

/* Bytes from @addr to the next mapped range (or @len), when nothing is
 * mapped at @addr. */
static uint64_t unassigned_span(const struct flat_view *fv, uint64_t addr,
				uint64_t len)
{
	for (unsigned i = 0; i < fv->nr; i++)
		if (fv->ranges[i].start > addr)
			return fv->ranges[i].start - addr < len ? fv->ranges[i].start - addr : len;
	return len;
}

memtx_result address_space_rw(struct address_space *as, uint64_t addr,
			      void *buf, uint64_t len, bool is_write,
			      const struct memory_region **hit)
{
	struct view_cache *c;
	memtx_result result = MEMTX_OK;
	uint8_t *p = buf;

	if (hit)
		*hit = NULL;
	if (len == 0)
		return MEMTX_OK;
	if (addr + (len - 1) < addr)
		return MEMTX_DECODE_ERROR;	/* wraps around */
	c = view_get(as);
	for (bool first = true; len; first = false) {
		const struct flat_range *r = view_lookup(c, addr);
		uint64_t n;
		memtx_result res;

		if (r) {
			n = r->size - (addr - r->start);
			n = n < len ? n : len;
			res = range_access(r, addr, p, n, is_write);
		} else {
			n = unassigned_span(c->fv, addr, len);
			if (!is_write)
				memset(p, 0xff, n);
			atomic_fetch_add_explicit(is_write ? &as->unassigned_writes :
						  &as->unassigned_reads, 1, memory_order_relaxed);
			res = MEMTX_DECODE_ERROR;
		}
		if (first && hit)
			*hit = r ? r->mr : NULL;
		if (res != MEMTX_OK)
			result = res;
		addr += n;
		p += n;
		len -= n;
	}
	return result;
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

/* The RAM range at @gpa, if the guest memory there may be used as asked. */
static const struct flat_range *ram_at(struct view_cache *c, uint64_t gpa,
				       bool is_write)
{
	const struct flat_range *r = view_lookup(c, gpa);

	if (!r || !is_ram(r) || (is_write && r->readonly))
		return NULL;
	return r;
}

void *address_space_map_ram(struct address_space *as, uint64_t gpa,
			    uint64_t len, bool is_write)
{
	struct view_cache *c = view_get(as);
	const struct flat_range *r;

	if (len == 0 || gpa + (len - 1) < gpa)
		return NULL;
	r = ram_at(c, gpa, is_write);
	if (!r || len > r->size - (gpa - r->start))
		return NULL;
	return r->host + (gpa - r->start);
}

int address_space_map_ram_iov(struct address_space *as, uint64_t gpa,
			      uint64_t len, bool is_write, struct iovec *iov,
			      int max_iov)
{
	struct view_cache *c = view_get(as);
	int n = 0;

	if (gpa + len < gpa && gpa + len != 0)
		return -1;
	while (len) {
		const struct flat_range *r = ram_at(c, gpa, is_write);
		uint64_t chunk;

		if (!r || n == max_iov)
			return -1;
		chunk = r->size - (gpa - r->start);
		chunk = chunk < len ? chunk : len;
		iov[n].iov_base = r->host + (gpa - r->start);
		iov[n].iov_len = chunk;
		n++;
		gpa += chunk;
		len -= chunk;
	}
	return n;
}

/* ---- --stats ---- */

void address_space_print_stats(struct address_space *as, FILE *out)
{
	struct view_cache *c = view_get(as);
	const struct flat_view *fv = c->fv;

	fprintf(out, "%s: unassigned %llu reads, %llu writes\n", as->name,
		(unsigned long long)atomic_load(&as->unassigned_reads),
		(unsigned long long)atomic_load(&as->unassigned_writes));
	for (unsigned i = 0; i < fv->nr; i++) {
		const struct memory_region *mr = fv->ranges[i].mr;
		bool seen = false;

		for (unsigned j = 0; j < i && !seen; j++)
			seen = fv->ranges[j].mr == mr;
		if (seen || mr->kind != MR_IO || !(mr->reads + mr->writes))
			continue;
		fprintf(out, "  %s: %llu reads, %llu writes\n", mr->name,
			(unsigned long long)mr->reads, (unsigned long long)mr->writes);
	}
}
