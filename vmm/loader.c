#include "vmm/loader.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devices/error.h"
#include "memory/address_space.h"
#include "vmm/multiboot.h"

#define XEN_ELFNOTE_PHYS32_ENTRY 18

/* The file while it is parsed; @img receives what is found. */
struct elf_file {
	const char *path;
	int fd;
	uint64_t size;
	Elf *elf;
	GElf_Ehdr ehdr;
	struct guest_image *img;
};

static int open_guest(struct elf_file *f, struct error *err)
{
	struct stat st;

	f->fd = open(f->path, O_RDONLY | O_CLOEXEC);
	if (f->fd < 0)
		return error_setf(err, "cannot open guest '%s': %s", f->path,
				  strerror(errno));
	if (fstat(f->fd, &st) < 0)
		return error_setf(err, "'%s': %s", f->path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return error_setf(err, "'%s' is not a regular file", f->path);
	if (st.st_size == 0)
		return error_setf(err, "'%s' is empty", f->path);
	f->size = (uint64_t)st.st_size;
	return 0;
}

/* libelf calls a file too short for its header "not ELF"; the user is
 * better told that an ELF file is truncated. */
static bool has_elf_magic(const struct elf_file *f)
{
	char magic[SELFMAG];

	return pread(f->fd, magic, SELFMAG, 0) == SELFMAG &&
	       !memcmp(magic, ELFMAG, SELFMAG);
}


static int read_ehdr(struct elf_file *f, struct error *err)
{
	if (!gelf_getehdr(f->elf, &f->ehdr))
		return error_setf(err, "'%s': truncated or corrupt ELF header", f->path);
	if (f->ehdr.e_ident[EI_DATA] != ELFDATA2LSB)
		return error_setf(err, "'%s' is big-endian; x86 guests are little-endian",
				  f->path);
	if (f->ehdr.e_type != ET_EXEC)
		return error_setf(err, "'%s' is not an executable ELF (e_type %u; "
				  "relocatable and PIE images are not supported)",
				  f->path, f->ehdr.e_type);
	return 0;
}

static int check_machine(const struct elf_file *f, struct error *err)
{
	int cls = gelf_getclass(f->elf);

	if (cls == ELFCLASS64 && f->ehdr.e_machine == EM_X86_64)
		return 0;
	if (cls == ELFCLASS32 && f->ehdr.e_machine == EM_386)
		return 0;
	return error_setf(err, "'%s' is a %d-bit ELF for machine %u, not x86 "
			  "(EM_X86_64 or EM_386)", f->path,
			  cls == ELFCLASS64 ? 64 : 32, f->ehdr.e_machine);
}

static int add_segment(struct elf_file *f, unsigned idx, const GElf_Phdr *ph,
		       struct error *err)
{
	struct guest_image *img = f->img;

	if (ph->p_filesz > ph->p_memsz)
		return error_setf(err, "'%s': segment %u has p_filesz %#llx > p_memsz %#llx",
				  f->path, idx, (unsigned long long)ph->p_filesz,
				  (unsigned long long)ph->p_memsz);
	if (ph->p_offset > f->size || ph->p_filesz > f->size - ph->p_offset)
		return error_setf(err, "'%s': segment %u lies beyond the end of the "
				  "file (truncated?)", f->path, idx);
	if (ph->p_paddr + ph->p_memsz < ph->p_paddr ||
	    ph->p_vaddr + ph->p_memsz < ph->p_vaddr)
		return error_setf(err, "'%s': segment %u wraps around the address space",
				  f->path, idx);
	if (img->nseg == LOADER_MAX_SEGMENTS)
		return error_setf(err, "'%s': more than %d loadable segments",
				  f->path, LOADER_MAX_SEGMENTS);
	img->seg[img->nseg++] = (struct guest_segment){
		ph->p_paddr, ph->p_vaddr, ph->p_memsz, ph->p_offset, ph->p_filesz,
	};
	return 0;
}

static int compare_segments(const void *a, const void *b)
{
	const struct guest_segment *x = a, *y = b;

	return x->paddr < y->paddr ? -1 : x->paddr > y->paddr;
}

static int read_segments(struct elf_file *f, struct error *err)
{
	struct guest_image *img = f->img;
	size_t n;

	/* libelf quietly reports fewer headers for a truncated file. */
	if (elf_getphdrnum(f->elf, &n) || n != f->ehdr.e_phnum ||
	    f->ehdr.e_phoff > f->size ||
	    (uint64_t)n * f->ehdr.e_phentsize > f->size - f->ehdr.e_phoff)
		return error_setf(err, "'%s': truncated or corrupt program headers",
				  f->path);
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(f->elf, (int)i, &ph))
			return error_setf(err, "'%s': truncated or corrupt program "
					  "header %zu", f->path, i);
		if (ph.p_type == PT_LOAD && ph.p_memsz &&
		    add_segment(f, (unsigned)i, &ph, err))
			return -1;
	}
	if (!img->nseg)
		return error_setf(err, "'%s' has no loadable segment", f->path);
	qsort(img->seg, img->nseg, sizeof(img->seg[0]), compare_segments);
	for (unsigned i = 1; i < img->nseg; i++)
		if (img->seg[i].paddr < img->seg[i - 1].paddr + img->seg[i - 1].memsz)
			return error_setf(err, "'%s': segments at %#llx and %#llx overlap",
					  f->path, (unsigned long long)img->seg[i - 1].paddr,
					  (unsigned long long)img->seg[i].paddr);
	return 0;
}

/* The entry is a virtual address; images may link high and load low, so it
 * is translated through the segment that contains it. */
static int resolve_entry(struct elf_file *f, struct error *err)
{
	struct guest_image *img = f->img;
	uint64_t e = f->ehdr.e_entry;

	for (unsigned i = 0; i < img->nseg; i++) {
		const struct guest_segment *s = &img->seg[i];

		if (e >= s->vaddr && e - s->vaddr < s->memsz) {
			img->entry = s->paddr + (e - s->vaddr);
			return 0;
		}
	}
	return error_setf(err, "'%s': entry point %#llx is outside every loadable "
			  "segment", f->path, (unsigned long long)e);
}

static int read_elf_segments(struct elf_file *f, struct error *err)
{
	return read_segments(f, err) || resolve_entry(f, err) ? -1 : 0;
}

/* 0: found at file offset *@off, 1: none, -1: a truncated one. The header
 * is 4-byte aligned in the first MULTIBOOT_SEARCH bytes. */
static int find_multiboot_header(const struct elf_file *f,
				 struct multiboot_header *h, uint64_t *off,
				 struct error *err)
{
	uint32_t buf[(MULTIBOOT_SEARCH + sizeof(*h)) / 4];
	ssize_t got = pread(f->fd, buf, sizeof(buf), 0);
	size_t words = got > 0 ? (size_t)got / 4 : 0;

	for (size_t i = 0; i + 3 <= words && i < MULTIBOOT_SEARCH / 4; i++) {
		if (buf[i] != MULTIBOOT_HEADER_MAGIC ||
		    (uint32_t)(buf[i] + buf[i + 1] + buf[i + 2]) != 0)
			continue;
		if ((buf[i + 1] & MULTIBOOT_AOUT_KLUDGE) && i + 8 > words)
			return error_setf(err, "'%s': multiboot header cut short by "
					  "the end of the file", f->path);
		memset(h, 0, sizeof(*h));
		memcpy(h, &buf[i], (words - i < 8 ? words - i : 8) * 4);
		*off = i * 4;
		return 0;
	}
	return 1;
}

/* The a.out kludge: the file from the header's offset less (header_addr -
 * load_addr) is loaded at load_addr up to load_end_addr (0: the end of the
 * file), then zeroes up to bss_end_addr (0: none). */
static int load_by_header(struct elf_file *f, const struct multiboot_header *h,
			  uint64_t hoff, struct error *err)
{
	struct guest_image *img = f->img;
	uint64_t before = (uint64_t)h->header_addr - h->load_addr;
	uint64_t offset, filesz, memsz;

	if (h->load_addr > h->header_addr || before > hoff)
		return error_setf(err, "'%s': multiboot load_addr %#x and header_addr %#x "
				  "do not fit the header's file offset %#llx", f->path,
				  h->load_addr, h->header_addr, (unsigned long long)hoff);
	offset = hoff - before;
	if (h->load_end_addr && h->load_end_addr < h->load_addr)
		return error_setf(err, "'%s': multiboot load_end_addr %#x is below "
				  "load_addr %#x", f->path, h->load_end_addr, h->load_addr);
	filesz = h->load_end_addr ? h->load_end_addr - h->load_addr : f->size - offset;
	if (filesz > f->size - offset)
		return error_setf(err, "'%s': multiboot load_end_addr %#x lies beyond the "
				  "end of the file (truncated?)", f->path, h->load_end_addr);
	memsz = filesz;
	if (h->bss_end_addr) {
		if (h->bss_end_addr < h->load_addr + filesz)
			return error_setf(err, "'%s': multiboot bss_end_addr %#x is below "
					  "the end of the loaded bytes %#llx", f->path,
					  h->bss_end_addr,
					  (unsigned long long)(h->load_addr + filesz));
		memsz = h->bss_end_addr - h->load_addr;
	}
	if (h->entry_addr < h->load_addr || h->entry_addr - h->load_addr >= memsz)
		return error_setf(err, "'%s': multiboot entry_addr %#x is outside the "
				  "loaded image [%#x, %#llx)", f->path, h->entry_addr,
				  h->load_addr, (unsigned long long)(h->load_addr + memsz));
	img->seg[0] = (struct guest_segment){ h->load_addr, h->load_addr, memsz,
					      offset, filesz };
	img->nseg = 1;
	img->aout_kludge = true;
	img->entry = h->entry_addr;
	return 0;
}

static bool has_pvh_note(const struct elf_file *f)
{
	size_t n;

	if (elf_getphdrnum(f->elf, &n))
		return false;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;
		Elf_Data *d;
		GElf_Nhdr nh;
		size_t off = 0, name_off, desc_off;

		if (!gelf_getphdr(f->elf, (int)i, &ph) || ph.p_type != PT_NOTE)
			continue;
		d = elf_getdata_rawchunk(f->elf, (int64_t)ph.p_offset, ph.p_filesz,
					 ELF_T_NHDR);
		while (d && (off = gelf_getnote(d, off, &nh, &name_off, &desc_off)))
			if (nh.n_type == XEN_ELFNOTE_PHYS32_ENTRY && nh.n_namesz == 4 &&
			    !memcmp((char *)d->d_buf + name_off, "Xen", 4))
				return true;
	}
	return false;
}

/* ELF64: long mode. ELF32: multiboot, by its ELF segments or, with flag
 * 16, by the header's addresses (QEMU does the same). */
static int parse_elf(struct elf_file *f, struct error *err)
{
	struct multiboot_header h;
	uint64_t hoff;
	int r;

	if (read_ehdr(f, err) || check_machine(f, err))
		return -1;
	if (gelf_getclass(f->elf) == ELFCLASS64) {
		f->img->format = GUEST_ELF64;
		return read_elf_segments(f, err);
	}
	r = find_multiboot_header(f, &h, &hoff, err);
	if (r < 0)
		return -1;
	if (r > 0 && has_pvh_note(f))
		return error_setf(err, "'%s': PVH boot (a 32-bit ELF with only a "
				  "XEN_ELFNOTE_PHYS32_ENTRY note) is not supported yet",
				  f->path);
	if (r > 0)
		return error_setf(err, "'%s' is a 32-bit ELF without a multiboot header; "
				  "tinyvmm boots ELF64 or multiboot v1 images", f->path);
	f->img->format = GUEST_MULTIBOOT;
	f->img->multiboot_flags = h.flags;
	if (h.flags & MULTIBOOT_AOUT_KLUDGE)
		return load_by_header(f, &h, hoff, err);
	return read_elf_segments(f, err);
}

/* Not ELF: a multiboot image with the a.out kludge, or nothing we boot. */
static int parse_flat(struct elf_file *f, struct error *err)
{
	struct multiboot_header h;
	uint64_t hoff;
	int r = find_multiboot_header(f, &h, &hoff, err);

	if (r < 0)
		return -1;
	if (r > 0)
		return error_setf(err, "'%s' is not an ELF file, nor a multiboot image",
				  f->path);
	if (!(h.flags & MULTIBOOT_AOUT_KLUDGE))
		return error_setf(err, "'%s' is not an ELF file and its multiboot header "
				  "has no load addresses (flag 16, the a.out kludge)",
				  f->path);
	f->img->format = GUEST_MULTIBOOT;
	f->img->multiboot_flags = h.flags;
	return load_by_header(f, &h, hoff, err);
}

static int parse_guest(struct elf_file *f, struct error *err)
{
	if (elf_version(EV_CURRENT) == EV_NONE)
		return error_setf(err, "libelf: %s", elf_errmsg(-1));
	f->elf = elf_begin(f->fd, ELF_C_READ, NULL);
	if (f->elf && elf_kind(f->elf) == ELF_K_ELF)
		return parse_elf(f, err);
	if (has_elf_magic(f))
		return error_setf(err, "'%s': truncated or corrupt ELF header", f->path);
	return parse_flat(f, err);
}

int loader_open(const char *path, struct guest_image *img, struct error *err)
{
	struct elf_file f = { .path = path, .fd = -1, .img = img };
	int ret;

	memset(img, 0, sizeof(*img));
	img->path = path;
	img->fd = -1;
	ret = open_guest(&f, err);
	if (!ret)
		ret = parse_guest(&f, err);
	if (f.elf)
		elf_end(f.elf);
	if (ret) {
		if (f.fd >= 0)
			close(f.fd);
		return ret;
	}
	img->fd = f.fd;
	img->load_start = img->seg[0].paddr;
	img->load_end = img->seg[img->nseg - 1].paddr + img->seg[img->nseg - 1].memsz;
	return 0;
}

static int copy_segment(const struct guest_image *img, const struct guest_segment *s,
			uint8_t *host, struct error *err)
{
	uint64_t done = 0;

	while (done < s->filesz) {
		ssize_t n = pread(img->fd, host + done, s->filesz - done,
				  (off_t)(s->offset + done));

		if (n <= 0)
			return error_setf(err, "'%s': read failed: %s", img->path,
					  n ? strerror(errno) : "unexpected end of file");
		done += (uint64_t)n;
	}
	memset(host + s->filesz, 0, s->memsz - s->filesz);	/* .bss */
	return 0;
}

/* Map every segment first, so a bad image leaves guest RAM untouched. */
int loader_copy(const struct guest_image *img, struct address_space *as,
		struct error *err)
{
	uint8_t *host[LOADER_MAX_SEGMENTS];

	for (unsigned i = 0; i < img->nseg; i++) {
		const struct guest_segment *s = &img->seg[i];

		host[i] = address_space_map_ram(as, s->paddr, s->memsz, true);
		if (!host[i])
			return error_setf(err, "'%s': segment [%#llx, %#llx) is outside "
					  "guest RAM (or overlaps a device hole); try a larger --mem",
					  img->path, (unsigned long long)s->paddr,
					  (unsigned long long)(s->paddr + s->memsz));
	}
	for (unsigned i = 0; i < img->nseg; i++)
		if (copy_segment(img, &img->seg[i], host[i], err))
			return -1;
	return 0;
}

void loader_close(struct guest_image *img)
{
	if (img->fd >= 0)
		close(img->fd);
	img->fd = -1;
}
