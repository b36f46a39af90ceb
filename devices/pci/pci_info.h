/* The PCI bus as text, in the manner of QEMU's `info pci`, for the
 * debugger's `monitor info pci`: each device's bus/device/function, IDs and
 * class, command register, INTx pin and line, BARs (programmed address,
 * size, and whether they decode now) and MSI-X state.
 *
 * Holds the bus lock while it prints, so guest config writes (which move
 * BARs) wait; @out should be a memory stream or a file, not something that
 * can block for long. */
#ifndef DEVICES_PCI_INFO_H
#define DEVICES_PCI_INFO_H

#include <stdio.h>

struct pci_bus;

void pci_info_print(struct pci_bus *bus, FILE *out);

#endif
