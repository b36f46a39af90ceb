/* SMP start-up shared by the multiboot bench guests (ipi_pingpong_mb.S,
 * ipi_storm_mb.S; pit_tick_mb.S uses only the BSP's part): pulled in with #include before a guest's own code, it
 * emits the multiboot v1 header, the real-mode AP trampoline (copied to
 * 0x8000, SIPI vector 8), the BSP's 32-bit _start, a 4 GiB identity map,
 * the switch to long mode, set_gate, the GDT and the IDT.
 *
 * Every CPU, BSP and APs alike, ends up in 64-bit mode at the guest's
 * `long_mode` label with flat segments and paging on, interrupts off, and
 * %esp at BSP_STACK (BSP) or AP_STACK (APs). Long mode because KVM's
 * instruction emulator, which runs CPL0 code on kvm_pvm hosts, cannot do a
 * 32-bit IRET.
 *
 * The including file defines, before the #include:
 *   BSP_STACK    the BSP's initial stack top (below 4 GiB)
 *   AP_STACK     the APs' initial stack top (below 64 KiB: real mode sets it)
 *   IDT_VECTORS  how many IDT gates to reserve (vectors 0..IDT_VECTORS-1)
 * and, after it, the 64-bit label `long_mode`. It may use `bsp_done` (0
 * until the guest sets it: which CPU came first), `idt`, `set_gate`, and the
 * LAPIC register offsets below. Sections: code goes to .multiboot and .text,
 * tables to .data and .bss; the including file continues in any of them. */

#ifndef BSP_STACK
#error "define BSP_STACK before including mb_smp_start.S"
#endif
#ifndef AP_STACK
#error "define AP_STACK before including mb_smp_start.S"
#endif
#ifndef IDT_VECTORS
#error "define IDT_VECTORS before including mb_smp_start.S"
#endif

/* The local APIC (xAPIC MMIO) and the registers the guests touch. */
#define LAPIC		0xfee00000
#define LAPIC_ID	0x20
#define LAPIC_EOI	0xb0
#define LAPIC_SVR	0xf0
#define LAPIC_ICR	0x300
#define LAPIC_ICR2	0x310

/* Multiboot v1: magic, no flags, checksum. The ELF entry is _start (the
 * linker script puts this section first, in one image at 1 MiB). */
	.section .multiboot, "ax"
	.align 4
	.long 0x1badb002, 0, -0x1badb002

/* ---- APs start here in real mode, from a copy at 0x8000 (SIPI vector 8):
 * only label differences and absolute addresses above 1 MiB inside, so the
 * copy runs wherever it lies. ---- */
	.text
	.code16
trampoline:
	cli
	xorw %ax, %ax
	movw %ax, %ds
	lgdtl tramp_gdt_desc - trampoline + 0x8000
	movl $AP_STACK, %esp
	movl %cr0, %eax			/* protected mode, paging still off */
	orl $1, %eax
	movl %eax, %cr0
	ljmpl $0x18, $enter_long_mode	/* 32-bit code, then long mode */
/* Real mode reaches only the first 64 KiB: a descriptor copy lives here. */
tramp_gdt_desc:
	.word gdt_end - gdt - 1
	.long gdt
trampoline_end:

/* ---- The BSP starts here in 32-bit protected mode (multiboot state). ---- */
	.code32
	.globl _start
_start:
	lgdt gdt_desc			/* multiboot leaves GDTR to us */
	movl $BSP_STACK, %esp
	movl $trampoline, %esi		/* QEMU loads one contiguous image: */
	movl $0x8000, %edi		/* the trampoline is copied down */
	movl $trampoline_end - trampoline, %ecx
	rep movsb
	call build_page_tables		/* once, by the BSP; APs reuse them */
	ljmp $0x18, $enter_long_mode

/* 4 GiB identity map with 2 MiB pages: PML4 -> PDPT -> 4 page directories. */
build_page_tables:
	movl $pdpt + 3, pml4		/* present, writable */
	xorl %ecx, %ecx
1:	movl %ecx, %eax			/* PDPT[i] = pds + i * 4 KiB */
	shll $12, %eax
	addl $pds + 3, %eax
	movl %eax, pdpt(,%ecx,8)
	incl %ecx
	cmpl $4, %ecx
	jne 1b
	xorl %ecx, %ecx
2:	movl %ecx, %eax			/* PD entry j = j * 2 MiB, 2 MiB page */
	shll $21, %eax
	orl $0x83, %eax			/* present, writable, PS */
	movl %eax, pds(,%ecx,8)
	incl %ecx
	cmpl $2048, %ecx
	jne 2b
	ret

/* Either CPU, 32-bit with flat segments: PAE, CR3, EFER.LME, paging. */
enter_long_mode:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movl %cr4, %eax
	orl $0x20, %eax			/* CR4.PAE */
	movl %eax, %cr4
	movl $pml4, %eax
	movl %eax, %cr3
	movl $0xc0000080, %ecx		/* EFER */
	rdmsr
	orl $0x100, %eax		/* EFER.LME */
	wrmsr
	movl %cr0, %eax
	orl $0x80000001, %eax		/* CR0.PG | CR0.PE */
	movl %eax, %cr0
	ljmp $0x08, $long_mode		/* the including guest's code */

	.code64
/* A 64-bit interrupt gate at %rdi for the handler at %rax (clobbers %rax). */
set_gate:
	movw %ax, (%rdi)		/* offset 15:0 */
	movw $0x08, 2(%rdi)		/* 64-bit code selector */
	movw $0x8e00, 4(%rdi)		/* present, DPL 0, interrupt gate */
	shrq $16, %rax
	movw %ax, 6(%rdi)		/* offset 31:16 */
	shrq $16, %rax
	movl %eax, 8(%rdi)		/* offset 63:32 */
	ret

	.data
	.align 8
gdt:
	.quad 0
	.quad 0x00af9a000000ffff	/* 0x08: 64-bit code */
	.quad 0x00cf92000000ffff	/* 0x10: data */
	.quad 0x00cf9a000000ffff	/* 0x18: 32-bit code */
gdt_end:
gdt_desc:
	.word gdt_end - gdt - 1
	.long gdt
	.align 8
idt_desc:				/* lidt'd in long mode: 64-bit base */
	.word idt_end - idt - 1
	.quad idt
bsp_done:	.long 0			/* set by the first CPU in long_mode */
	.align 8

	.bss
	.align 4096
pml4:	.skip 4096
pdpt:	.skip 4096
pds:	.skip 4 * 4096
	.align 16
idt:	.skip (IDT_VECTORS) * 16	/* gates set by the guest (set_gate) */
idt_end:
