/* The registers as gdb sees them: the target descriptions (XML) for the
 * i386, x86-64 and dual layouts, and the 'g'/'G'/'p'/'P' packet bodies
 * built from and applied to KVM's register structures. Pure: the caller
 * reads the structures before and writes them back after (KVM_GET/SET_REGS,
 * _SREGS, _FPU). Register numbers ('p'/'P') are the description's regnum,
 * which is also the order of 'g'. */
#ifndef VMM_GDB_REGS_H
#define VMM_GDB_REGS_H

#include <stddef.h>
#include <linux/kvm.h>

enum gdb_arch {
	/* gdb's i386: every register is its low 32 bits, also in long mode
	 * (a write changes only those). For ELF32 files; gdb 13 refuses it
	 * with an ELF64 file. */
	GDB_ARCH_I386,
	/* gdb's amd64. gdb refuses it with an ELF32 file unless the user
	 * says `set architecture i386:x86-64` before `target remote`. */
	GDB_ARCH_X86_64,
	/* Both at once: the x86-64 registers plus eax..eip as aliases, no
	 * <architecture>. gdb takes the ELF's class, and `set architecture
	 * i386` / `i386:x86-64` switch mid-session (after the guest's switch
	 * to long mode) with the same 'g' layout. Works with either ELF. */
	GDB_ARCH_DUAL,
};

/* One vCPU's registers, read while it is stopped. */
struct gdb_cpu {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_fpu fpu;
};

/* The document qXfer:features:read:@annex serves: everything is in
 * "target.xml" (no includes); NULL for any other annex. */
const char *gdb_tdesc(enum gdb_arch arch, const char *annex);

/* 'g': every register in the description's order, as hex; returns the
 * length written (NUL-terminated), 0 if @cap is too small. Segment
 * registers are the selectors; ftag is the full x87 tag word (computed
 * from KVM's abridged one and the st registers); fiseg/foseg are the high
 * halves of the 64-bit FPU instruction/operand pointers, as gdb reads
 * FXSAVE64. */
size_t gdb_regs_read_all(enum gdb_arch arch, const struct gdb_cpu *cpu,
			 char *hex, size_t cap);
/* 'G': -1 (and @cpu untouched) if @hex is malformed or not exactly one
 * whole layout. Only registers whose value differs from @cpu's are
 * written, so of two aliases (dual layout) the one gdb changed wins.
 * A selector write changes only the selector, not the cached descriptor
 * (base, limit, attributes); nothing is refused as read-only. */
int gdb_regs_write_all(enum gdb_arch arch, struct gdb_cpu *cpu,
		       const char *hex, size_t len);
/* 'p'/'P' on register number @n: -1 if there is no such register, @cap is
 * too small or the value is malformed (a 'P' value must be the register's
 * whole width); a read returns the hex length. */
long gdb_reg_read(enum gdb_arch arch, const struct gdb_cpu *cpu, unsigned n,
		  char *hex, size_t cap);
int gdb_reg_write(enum gdb_arch arch, struct gdb_cpu *cpu, unsigned n,
		  const char *hex, size_t len);
/* The numbers of the program counter and stack pointer (stop replies):
 * rip/rsp in the x86-64 and dual layouts. */
unsigned gdb_reg_pc(enum gdb_arch arch);
unsigned gdb_reg_sp(enum gdb_arch arch);

#endif
