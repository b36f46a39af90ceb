/* Multiboot v1 entry: 32-bit flat protected mode, EAX = 0x2BADB002, EBX =
 * the multiboot info. Build identity page tables for the low 8 GiB with
 * 2 MiB pages, enable PAE and long mode, load a 64-bit GDT and IDT, and call
 * guest_main(magic, info). */
#define MB_MAGIC	0x1badb002
#define MB_FLAGS	0x2		/* bit 1: give us the memory map */
#define PT_GIBS		8

	.section .multiboot, "a"
	.align 4
	.long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

	.section .text.boot, "ax"
	.code32
	.globl _start
_start:
	cli
	movl %eax, boot_magic
	movl %ebx, boot_info
	movl $stack_top, %esp

	/* PML4[0] -> PDPT; PDPT[i] -> PD i; PD entries: 2 MiB, P|RW|PS */
	movl $pdpt, %eax
	orl $3, %eax
	movl %eax, pml4
	xorl %ecx, %ecx
1:	movl %ecx, %eax
	shll $12, %eax
	addl $pds, %eax
	orl $3, %eax
	movl %eax, pdpt(,%ecx,8)
	incl %ecx
	cmpl $PT_GIBS, %ecx
	jne 1b
	xorl %ecx, %ecx			/* entry index over all PDs */
2:	movl %ecx, %eax
	shll $21, %eax			/* low 32 bits of the address */
	orl $0x83, %eax
	movl %eax, pds(,%ecx,8)
	movl %ecx, %eax
	shrl $11, %eax			/* high bits: index >> 11 = GiB / 4 */
	movl %eax, pds+4(,%ecx,8)
	incl %ecx
	cmpl $(PT_GIBS * 512), %ecx
	jne 2b

	movl %cr4, %eax
	orl $0x20, %eax			/* PAE */
	movl %eax, %cr4
	movl $pml4, %eax
	movl %eax, %cr3
	movl $0xc0000080, %ecx		/* EFER.LME */
	rdmsr
	orl $0x100, %eax
	wrmsr
	movl %cr0, %eax
	orl $0x80000001, %eax		/* PG | PE */
	movl %eax, %cr0
	lgdt gdt_ptr
	ljmp $0x08, $long_mode

	.code64
long_mode:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movw %ax, %fs
	movw %ax, %gs
	movq $stack_top, %rsp
	call idt_init
	movl boot_magic, %edi
	movl boot_info, %esi
	call guest_main
3:	cli
	hlt
	jmp 3b

/* Exception stubs: push a uniform frame and call exception_handler. */
.macro stub n, has_error
	.globl isr\n
isr\n:
	.if !\has_error
	pushq $0
	.endif
	pushq $\n
	jmp isr_common
.endm
	stub 0,0; stub 1,0; stub 2,0; stub 3,0; stub 4,0; stub 5,0; stub 6,0; stub 7,0
	stub 8,1; stub 9,0; stub 10,1; stub 11,1; stub 12,1; stub 13,1; stub 14,1; stub 15,0
	stub 16,0; stub 17,1; stub 18,0; stub 19,0; stub 20,0; stub 21,1
isr_common:
	movq %rsp, %rdi			/* &{vector, error, rip, cs, rflags, ...} */
	call exception_handler
4:	cli
	hlt
	jmp 4b

	.section .note.GNU-stack, "", @progbits
	.section .rodata
	.globl isr_table
isr_table:
	.quad isr0, isr1, isr2, isr3, isr4, isr5, isr6, isr7, isr8, isr9, isr10
	.quad isr11, isr12, isr13, isr14, isr15, isr16, isr17, isr18, isr19, isr20, isr21

	.align 8
gdt:
	.quad 0
	.quad 0x00af9a000000ffff		/* 0x08: 64-bit code */
	.quad 0x00cf92000000ffff		/* 0x10: data */
gdt_ptr:
	.word gdt_ptr - gdt - 1
	.long gdt

	.section .data
	.globl boot_magic, boot_info
boot_magic:	.long 0
boot_info:	.long 0

	.section .bss
	.align 16
stack:	.skip 16384
stack_top:

	.section .bss.pagetables, "aw", @nobits
	.align 4096
pml4:	.skip 4096
pdpt:	.skip 4096
pds:	.skip 4096 * PT_GIBS
