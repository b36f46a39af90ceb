/* MSI-X table, PBA and capability. See msix.h. */
#include "devices/pci/msix.h"

#include <string.h>

#include "devices/pci/pci.h"

#define MSIX_CAP_SIZE		12
#define MSIX_CAP_CTRL		2
#define MSIX_CAP_TABLE		4
#define MSIX_CAP_PBA		8

enum { ENTRY_ADDR_LO, ENTRY_ADDR_HI, ENTRY_DATA, ENTRY_CTRL };

/* Through the config lock: vCPU threads write it while I/O threads send. */
static uint16_t msix_ctrl(const struct msix *x)
{
	return (uint16_t)pci_config_read(x->dev, x->cap + MSIX_CAP_CTRL, 2);
}

static bool vector_masked(const struct msix *x, unsigned vec)
{
	return (msix_ctrl(x) & MSIX_CTRL_MASKALL) ||
	       (x->table[vec][ENTRY_CTRL] & MSIX_VECTOR_MASKED);
}

/* Under x->lock. */
static void msix_send(struct msix *x, unsigned vec)
{
	const uint32_t *e = x->table[vec];

	x->sent++;
	if (x->deliver)
		x->deliver(x->host, (uint64_t)e[ENTRY_ADDR_HI] << 32 | e[ENTRY_ADDR_LO],
			   e[ENTRY_DATA]);
}

/* Under x->lock: send what is pending and no longer masked. */
static void msix_flush_pending(struct msix *x)
{
	if (!(msix_ctrl(x) & MSIX_CTRL_ENABLE))
		return;
	for (unsigned v = 0; v < x->nvec; v++)
		if ((x->pending >> v & 1) && !vector_masked(x, v)) {
			x->pending &= ~(1ull << v);
			msix_send(x, v);
		}
}

bool msix_enabled(struct msix *x)
{
	return msix_ctrl(x) & MSIX_CTRL_ENABLE;
}

bool msix_notify(struct msix *x, unsigned vec)
{
	bool enabled;

	pthread_mutex_lock(&x->lock);
	enabled = msix_enabled(x);
	if (enabled && vec < x->nvec) {
		if (vector_masked(x, vec)) {
			x->pending |= 1ull << vec;
			x->held++;
		} else {
			msix_send(x, vec);
		}
	}
	pthread_mutex_unlock(&x->lock);
	return enabled;
}

void msix_config_write(struct msix *x, unsigned off, unsigned size)
{
	if (off + size <= x->cap + MSIX_CAP_CTRL || off >= x->cap + MSIX_CAP_CTRL + 2)
		return;
	pthread_mutex_lock(&x->lock);
	msix_flush_pending(x);
	pthread_mutex_unlock(&x->lock);
}

/* ---- the table and the PBA: aligned dwords (qwords are split) ---- */

static uint64_t table_read(void *opaque, uint64_t off, unsigned size)
{
	struct msix *x = opaque;
	uint32_t v;

	(void)size;
	pthread_mutex_lock(&x->lock);
	v = x->table[off / MSIX_ENTRY_SIZE][off % MSIX_ENTRY_SIZE / 4];
	pthread_mutex_unlock(&x->lock);
	return v;
}

static void table_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
	struct msix *x = opaque;
	unsigned vec = (unsigned)(off / MSIX_ENTRY_SIZE);
	unsigned field = (unsigned)(off % MSIX_ENTRY_SIZE / 4);

	(void)size;
	pthread_mutex_lock(&x->lock);
	if (field == ENTRY_ADDR_LO)
		val &= ~3u;			/* dword aligned: bits 1:0 are 0 */
	else if (field == ENTRY_CTRL)
		val &= MSIX_VECTOR_MASKED;	/* the rest is reserved */
	x->table[vec][field] = (uint32_t)val;
	if (field == ENTRY_CTRL)
		msix_flush_pending(x);
	pthread_mutex_unlock(&x->lock);
}

static uint64_t pba_read(void *opaque, uint64_t off, unsigned size)
{
	struct msix *x = opaque;
	uint64_t v;

	(void)size;
	pthread_mutex_lock(&x->lock);
	v = off < 8 ? x->pending >> (8 * off) : 0;
	pthread_mutex_unlock(&x->lock);
	return (uint32_t)v;
}

static void pba_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
	(void)opaque; (void)off; (void)val; (void)size;	/* read-only */
}

static const struct memory_region_ops table_ops = {
	.read = table_read, .write = table_write,
	.valid = { .min = 4, .max = 8 }, .impl = { .min = 4, .max = 4 },
};

static const struct memory_region_ops pba_ops = {
	.read = pba_read, .write = pba_write,
	.valid = { .min = 4, .max = 8 }, .impl = { .min = 4, .max = 4 },
};

int msix_init(struct msix *x, struct pci_device *dev, unsigned nvec, int bar,
	      struct memory_region *bar_mr, uint32_t table_off, uint32_t pba_off)
{
	int cap;

	if (nvec < 1 || nvec > MSIX_MAX_VECTORS)
		return -1;
	cap = pci_add_capability(dev, PCI_CAP_ID_MSIX, MSIX_CAP_SIZE);
	if (cap < 0)
		return -1;
	memset(x, 0, sizeof(*x));
	x->dev = dev;
	x->cap = (unsigned)cap;
	x->nvec = nvec;
	pthread_mutex_init(&x->lock, NULL);
	for (unsigned v = 0; v < nvec; v++)
		x->table[v][ENTRY_CTRL] = MSIX_VECTOR_MASKED;	/* as after reset */
	pci_set(dev, x->cap + MSIX_CAP_CTRL, 2, nvec - 1);
	pci_set_wmask(dev, x->cap + MSIX_CAP_CTRL, 2,
		      MSIX_CTRL_ENABLE | MSIX_CTRL_MASKALL);
	pci_set(dev, x->cap + MSIX_CAP_TABLE, 4, table_off | (uint32_t)bar);
	pci_set(dev, x->cap + MSIX_CAP_PBA, 4, pba_off | (uint32_t)bar);
	memory_region_init_io(&x->table_mr, "msix-table", &table_ops, x,
			      nvec * MSIX_ENTRY_SIZE);
	memory_region_init_io(&x->pba_mr, "msix-pba", &pba_ops, x,
			      (nvec + 63) / 64 * 8);
	memory_transaction_begin();
	memory_region_add_subregion(bar_mr, table_off, &x->table_mr, 0);
	memory_region_add_subregion(bar_mr, pba_off, &x->pba_mr, 0);
	memory_transaction_commit();
	return 0;
}

void msix_destroy(struct msix *x, struct memory_region *bar_mr)
{
	memory_transaction_begin();
	memory_region_del_subregion(bar_mr, &x->table_mr);
	memory_region_del_subregion(bar_mr, &x->pba_mr);
	memory_transaction_commit();
	pthread_mutex_destroy(&x->lock);
}
