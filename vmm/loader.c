#include "vmm/loader.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devices/error.h"
#include "memory/address_space.h"

#define MULTIBOOT_MAGIC		0x1badb002u
#define MULTIBOOT_SEARCH	8192	/* the header must be in the first 8 KiB */
#define MULTIBOOT_FLAG_AOUT	(1u << 16)
/* Requirement bits we honour: page-aligned modules (we load none) and the
 * memory map (always given). A loader must refuse the ones it cannot meet. */
#define MULTIBOOT_FLAGS_KNOWN	0x3u
#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define MAX_SEGMENTS		64

struct segment {
	uint64_t paddr, vaddr, memsz, offset, filesz;
};

struct elf_file {
	const char *path;
	int fd;
	uint64_t size;
	Elf *elf;
	GElf_Ehdr ehdr;
	struct segment seg[MAX_SEGMENTS];
	unsigned nseg;
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
	if (elf_version(EV_CURRENT) == EV_NONE)
		return error_setf(err, "libelf: %s", elf_errmsg(-1));
	f->elf = elf_begin(f->fd, ELF_C_READ, NULL);
	if (!f->elf || elf_kind(f->elf) != ELF_K_ELF)
		return error_setf(err, has_elf_magic(f) ?
				  "'%s': truncated or corrupt ELF header" :
				  "'%s' is not an ELF file", f->path);
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
	struct segment *s;

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
	if (f->nseg == MAX_SEGMENTS)
		return error_setf(err, "'%s': more than %d loadable segments",
				  f->path, MAX_SEGMENTS);
	s = &f->seg[f->nseg++];
	*s = (struct segment){ ph->p_paddr, ph->p_vaddr, ph->p_memsz,
			       ph->p_offset, ph->p_filesz };
	return 0;
}

static int compare_segments(const void *a, const void *b)
{
	const struct segment *x = a, *y = b;

	return x->paddr < y->paddr ? -1 : x->paddr > y->paddr;
}

static int read_segments(struct elf_file *f, struct error *err)
{
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
	if (!f->nseg)
		return error_setf(err, "'%s' has no loadable segment", f->path);
	qsort(f->seg, f->nseg, sizeof(f->seg[0]), compare_segments);
	for (unsigned i = 1; i < f->nseg; i++)
		if (f->seg[i].paddr < f->seg[i - 1].paddr + f->seg[i - 1].memsz)
			return error_setf(err, "'%s': segments at %#llx and %#llx overlap",
					  f->path, (unsigned long long)f->seg[i - 1].paddr,
					  (unsigned long long)f->seg[i].paddr);
	return 0;
}

/* 0: found (flags in *flags), 1: none, -1: a header we must refuse. */
static int find_multiboot_header(const struct elf_file *f, uint32_t *flags,
				 struct error *err)
{
	uint32_t buf[MULTIBOOT_SEARCH / 4];
	ssize_t got = pread(f->fd, buf, sizeof(buf), 0);

	for (ssize_t i = 0; i + 3 <= got / 4; i++) {
		if (buf[i] != MULTIBOOT_MAGIC ||
		    (uint32_t)(buf[i] + buf[i + 1] + buf[i + 2]) != 0)
			continue;
		*flags = buf[i + 1];
		if (*flags & MULTIBOOT_FLAG_AOUT)
			return error_setf(err, "'%s': multiboot a.out kludge (flag 16) "
					  "is not supported; tinyvmm loads ELF segments",
					  f->path);
		if (*flags & 0xffff & ~MULTIBOOT_FLAGS_KNOWN)
			return error_setf(err, "'%s': multiboot header requires flags "
					  "%#x that tinyvmm cannot meet (e.g. a video mode)",
					  f->path, *flags & 0xffff & ~MULTIBOOT_FLAGS_KNOWN);
		return 0;
	}
	return 1;
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

static int pick_format(struct elf_file *f, struct guest_image *img,
		       struct error *err)
{
	int r;

	if (gelf_getclass(f->elf) == ELFCLASS64) {
		img->format = GUEST_ELF64;
		return 0;
	}
	r = find_multiboot_header(f, &img->multiboot_flags, err);
	if (r < 0)
		return -1;
	if (r == 0) {
		img->format = GUEST_MULTIBOOT;
		return 0;
	}
	if (has_pvh_note(f))
		return error_setf(err, "'%s': PVH boot (a 32-bit ELF with only a "
				  "XEN_ELFNOTE_PHYS32_ENTRY note) is not supported yet",
				  f->path);
	return error_setf(err, "'%s' is a 32-bit ELF without a multiboot header; "
			  "tinyvmm boots ELF64 or multiboot v1 images", f->path);
}

static int check_placement(const struct elf_file *f, const struct segment *s,
			   const struct loader_reserved *res, unsigned nres,
			   struct error *err)
{
	uint64_t end = s->paddr + s->memsz;

	for (unsigned i = 0; i < nres; i++)
		if (s->paddr < res[i].end && res[i].start < end)
			return error_setf(err, "'%s': segment [%#llx, %#llx) overlaps "
					  "%s [%#llx, %#llx)", f->path,
					  (unsigned long long)s->paddr,
					  (unsigned long long)end, res[i].what,
					  (unsigned long long)res[i].start,
					  (unsigned long long)res[i].end);
	return 0;
}

static int copy_segment(const struct elf_file *f, const struct segment *s,
			uint8_t *host, struct error *err)
{
	uint64_t done = 0;

	while (done < s->filesz) {
		ssize_t n = pread(f->fd, host + done, s->filesz - done,
				  (off_t)(s->offset + done));

		if (n <= 0)
			return error_setf(err, "'%s': read failed: %s", f->path,
					  n ? strerror(errno) : "unexpected end of file");
		done += (uint64_t)n;
	}
	memset(host + s->filesz, 0, s->memsz - s->filesz);	/* .bss */
	return 0;
}

/* Check every segment first, so a bad image leaves guest RAM untouched. */
static int load_segments(const struct elf_file *f, struct address_space *as,
			 const struct loader_reserved *res, unsigned nres,
			 struct error *err)
{
	uint8_t *host[MAX_SEGMENTS];

	for (unsigned i = 0; i < f->nseg; i++) {
		const struct segment *s = &f->seg[i];

		host[i] = address_space_map_ram(as, s->paddr, s->memsz, true);
		if (!host[i])
			return error_setf(err, "'%s': segment [%#llx, %#llx) is outside "
					  "guest RAM (or overlaps a device hole); try a larger --mem",
					  f->path, (unsigned long long)s->paddr,
					  (unsigned long long)(s->paddr + s->memsz));
		if (check_placement(f, s, res, nres, err))
			return -1;
	}
	for (unsigned i = 0; i < f->nseg; i++)
		if (copy_segment(f, &f->seg[i], host[i], err))
			return -1;
	return 0;
}

/* The entry is a virtual address; images may link high and load low, so it
 * is translated through the segment that contains it. */
static int resolve_entry(const struct elf_file *f, struct guest_image *img,
			 struct error *err)
{
	uint64_t e = f->ehdr.e_entry;

	for (unsigned i = 0; i < f->nseg; i++) {
		const struct segment *s = &f->seg[i];

		if (e >= s->vaddr && e - s->vaddr < s->memsz) {
			img->entry = s->paddr + (e - s->vaddr);
			return 0;
		}
	}
	return error_setf(err, "'%s': entry point %#llx is outside every loadable "
			  "segment", f->path, (unsigned long long)e);
}

int loader_load(const char *path, struct address_space *system,
		const struct loader_reserved *reserved, unsigned nreserved,
		struct guest_image *img, struct error *err)
{
	struct elf_file f = { .path = path, .fd = -1 };
	int ret;

	memset(img, 0, sizeof(*img));
	ret = open_guest(&f, err);
	if (!ret)
		ret = read_ehdr(&f, err);
	if (!ret)
		ret = check_machine(&f, err);
	if (!ret)
		ret = pick_format(&f, img, err);
	if (!ret)
		ret = read_segments(&f, err);
	if (!ret)
		ret = resolve_entry(&f, img, err);
	if (!ret)
		ret = load_segments(&f, system, reserved, nreserved, err);
	if (!ret) {
		img->load_start = f.seg[0].paddr;
		img->load_end = f.seg[f.nseg - 1].paddr + f.seg[f.nseg - 1].memsz;
	}
	if (f.elf)
		elf_end(f.elf);
	if (f.fd >= 0)
		close(f.fd);
	return ret;
}
