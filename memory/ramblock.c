#include "memory/ramblock.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int ram_block_init(struct ram_block *rb, const char *name, uint64_t size)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	void *host;

	memset(rb, 0, sizeof(*rb));
	if (size == 0 || size > UINT64_MAX - page)
		return -EINVAL;
	size = (size + page - 1) & ~(page - 1);
	host = mmap(NULL, size, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (host == MAP_FAILED)
		return -errno;
	snprintf(rb->name, sizeof(rb->name), "%s", name);
	rb->host = host;
	rb->size = size;
	return 0;
}

void ram_block_destroy(struct ram_block *rb)
{
	if (rb->host)
		munmap(rb->host, rb->size);
	rb->host = NULL;
	rb->size = 0;
}

void *ram_block_host(const struct ram_block *rb, uint64_t offset, uint64_t len)
{
	if (!rb->host || offset > rb->size || len > rb->size - offset)
		return NULL;
	return rb->host + offset;
}
