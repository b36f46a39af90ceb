/* Entry of the mbinfo guests: the multiboot v1 header, then the machine
 * state the boot loader left (EAX, EBX, ESP, EFLAGS, CR0, segments) saved
 * before anything changes it, then mbinfo_main on our own stack.
 * -DAOUT: the a.out kludge (flag 16) with its address fields; its entry is
 * aout_start, not the ELF entry _start, so the guest can say which one a
 * loader used for an ELF that sets flag 16. */
#define MB_MAGIC	0x1badb002
#ifdef AOUT
#define MB_FLAGS	0x10003		/* a.out kludge, page-aligned modules, memory info */
#else
#define MB_FLAGS	0x3		/* page-aligned modules, memory info */
#endif

	.text
	.code32
	.align 4
	.globl mb_header
mb_header:
	.long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)
#ifdef AOUT
	.long mb_header, mb_header, _edata, _end, aout_start

aout_start:
	movl $2, entered_by
	jmp save_state
#endif

	.globl _start
_start:
	movl $1, entered_by
save_state:
	movl %eax, entry_eax
	movl %ebx, entry_ebx
	movl %esp, entry_esp
	pushfl				/* on the loader's stack: it may be anywhere */
	popl entry_eflags
	movl %cr0, %eax
	movl %eax, entry_cr0
	movw %cs, entry_cs
	movw %ds, entry_ds
	movw %ss, entry_ss
	movl $stack_top, %esp
	call mbinfo_main
1:	cli
	hlt
	jmp 1b

	.bss
	.align 16
	.space 8192
stack_top:

	.section .note.GNU-stack, "", @progbits
