/* The PCI bus as text. See pci_info.h. */
#include "devices/pci/pci_info.h"

#include <inttypes.h>
#include <pthread.h>

#include "devices/pci/msix.h"
#include "devices/pci/pci.h"

#define MSIX_CAP_CTRL		2
#define MSIX_CAP_TABLE		4
#define MSIX_CAP_PBA		8
#define MSIX_TABLE_SIZE_MASK	0x7ffu	/* N - 1 */
#define MSIX_BIR_MASK		7u
#define COMMAND_SHOWN		(PCI_COMMAND_IO | PCI_COMMAND_MEMORY | \
				 PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE)

/* The classes a PC guest meets; others show as their number. */
static const char *class_name(uint16_t class)
{
	static const struct { uint16_t class; const char *name; } names[] = {
		{ 0x0100, "SCSI controller" },
		{ 0x0101, "IDE controller" },
		{ 0x0106, "SATA controller" },
		{ 0x0108, "NVMe controller" },
		{ 0x0180, "Storage controller" },
		{ 0x0200, "Ethernet controller" },
		{ 0x0300, "VGA controller" },
		{ 0x0600, "Host bridge" },
		{ 0x0601, "ISA bridge" },
		{ 0x0604, "PCI bridge" },
		{ 0x0680, "Bridge" },
		{ 0x0780, "Communication controller" },
		{ 0x0c03, "USB controller" },
	};

	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].class == class)
			return names[i].name;
	return NULL;
}

static void print_identity(FILE *out, const struct pci_device *d)
{
	uint16_t class = (uint16_t)pci_get(d, PCI_CLASS_PROG + 1, 2);
	const char *name = class_name(class);

	if (name)
		fprintf(out, "    %s: ", name);
	else
		fprintf(out, "    Class %04x: ", class);
	fprintf(out, "PCI device %04x:%04x (rev %02x, prog-if %02x)\n",
		pci_get(d, PCI_VENDOR_ID, 2), pci_get(d, PCI_DEVICE_ID, 2),
		pci_get(d, PCI_REVISION_ID, 1), pci_get(d, PCI_CLASS_PROG, 1));
	fprintf(out, "      PCI subsystem %04x:%04x\n",
		pci_get(d, PCI_SUBSYSTEM_VENDOR_ID, 2), pci_get(d, PCI_SUBSYSTEM_ID, 2));
}

/* Command and status. Status is read under the config lock: the device's
 * own threads change its Interrupt Status bit. */
static void print_command(FILE *out, struct pci_device *d)
{
	uint16_t cmd = (uint16_t)pci_get(d, PCI_COMMAND, 2);
	uint16_t status = (uint16_t)pci_config_read(d, PCI_STATUS, 2);
	uint8_t pin = (uint8_t)pci_get(d, PCI_INTERRUPT_PIN, 1);

	fprintf(out, "      Command 0x%04x:%s%s%s%s%s\n", cmd,
		cmd & PCI_COMMAND_IO ? " I/O" : "",
		cmd & PCI_COMMAND_MEMORY ? " memory" : "",
		cmd & PCI_COMMAND_MASTER ? " bus-master" : "",
		cmd & PCI_COMMAND_INTX_DISABLE ? " INTx-disabled" : "",
		cmd & COMMAND_SHOWN ? "" : " none");
	if (pin >= PCI_INTERRUPT_PIN_A && pin <= 4)
		fprintf(out, "      IRQ %u, pin %c%s\n",
			pci_get(d, PCI_INTERRUPT_LINE, 1), 'A' + pin - 1,
			status & PCI_STATUS_INTERRUPT ? ", asserted" : "");
}

static void print_bars(FILE *out, const struct pci_device *d)
{
	for (int i = 0; i < PCI_NUM_BARS; i++) {
		const struct pci_bar *b = &d->bars[i];
		uint64_t addr = pci_bar_address(d, i);

		if (!b->size)
			continue;	/* also the upper half of a 64-bit BAR */
		if (b->type & PCI_BAR_IO)
			fprintf(out, "      BAR%d: I/O at 0x%04" PRIx64 " [0x%04" PRIx64 "]",
				i, addr, addr + b->size - 1);
		else
			fprintf(out, "      BAR%d: %d bit%s memory at 0x%08" PRIx64
				" [0x%08" PRIx64 "]", i,
				b->type & PCI_BAR_MEM64 ? 64 : 32,
				b->type & PCI_BAR_PREFETCH ? " prefetchable" : "",
				addr, addr + b->size - 1);
		fputs(b->mapped ? ".\n" : ", not mapped.\n", out);
	}
}

/* The capability's view (PCI 3.0, 6.8.2.3-6.8.2.5): enable, function mask,
 * table size, and where the table and PBA sit. */
static void print_msix(FILE *out, const struct pci_device *d)
{
	unsigned cap = pci_find_capability(d, PCI_CAP_ID_MSIX);
	uint16_t ctrl;
	uint32_t table, pba;

	if (!cap)
		return;
	ctrl = (uint16_t)pci_get(d, cap + MSIX_CAP_CTRL, 2);
	table = pci_get(d, cap + MSIX_CAP_TABLE, 4);
	pba = pci_get(d, cap + MSIX_CAP_PBA, 4);
	fprintf(out, "      MSI-X: %s%s, %u vectors, table BAR%u + 0x%x, PBA BAR%u + 0x%x\n",
		ctrl & MSIX_CTRL_ENABLE ? "enabled" : "disabled",
		ctrl & MSIX_CTRL_MASKALL ? ", function masked" : "",
		(ctrl & MSIX_TABLE_SIZE_MASK) + 1, table & MSIX_BIR_MASK,
		table & ~MSIX_BIR_MASK, pba & MSIX_BIR_MASK, pba & ~MSIX_BIR_MASK);
}

void pci_info_print(struct pci_bus *bus, FILE *out)
{
	pthread_mutex_lock(&bus->lock);
	for (int slot = 0; slot < PCI_SLOTS; slot++) {
		struct pci_device *d = bus->devices[slot];

		if (!d)
			continue;
		fprintf(out, "  Bus  0, device %3d, function 0:\n", slot);
		print_identity(out, d);
		print_command(out, d);
		print_bars(out, d);
		print_msix(out, d);
		fprintf(out, "      name \"%s\"\n", d->name ? d->name : "");
	}
	pthread_mutex_unlock(&bus->lock);
}
