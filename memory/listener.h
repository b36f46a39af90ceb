/* Memory listeners: told of every change to an address space's RAM ranges
 * (QEMU's MemoryListener). The KVM memslot code is one; tests use fakes. */
#ifndef MEMORY_LISTENER_H
#define MEMORY_LISTENER_H

struct flat_range;

struct memory_listener {
	/* Around each commit that changed the view. Optional. */
	void (*begin)(struct memory_listener *l);
	void (*commit)(struct memory_listener *l);
	/* Only RAM and ROM ranges are announced. On a commit every removed
	 * range is announced (region_del) before any added one (region_add);
	 * a range that changed in any way (start, size, host, readonly) is a
	 * del of the old plus an add of the new; an unchanged one is silent. */
	void (*region_add)(struct memory_listener *l, const struct flat_range *r);
	void (*region_del)(struct memory_listener *l, const struct flat_range *r);
	struct memory_listener *next;	/* owned by the address space */
};

#endif
