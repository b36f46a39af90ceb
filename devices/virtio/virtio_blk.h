/* virtio-blk over virtio-pci (virtio 1.2, 5.2): a raw disk image served to
 * the guest, requests done by the device's own I/O thread straight between
 * guest buffers and the file (preadv/pwritev, zero copy). */
#ifndef DEVICES_VIRTIO_BLK_H
#define DEVICES_VIRTIO_BLK_H

#include <stdio.h>

#define TYPE_VIRTIO_BLK_PCI "virtio-blk-pci"

struct object;

/* --stats lines for one virtio-blk-pci object (no-op for other types). */
void virtio_blk_print_stats(struct object *obj, FILE *out);

#endif
