/* IPI storm benchmark, multiboot v1 so tinyvmm and QEMU (-smp STORM_CPUS)
 * run the same file; start-up in mb_smp_start.S, as ipi_pingpong_mb.S (all
 * CPUs switch to long mode; kvm_pvm's emulator cannot do a 32-bit IRET).
 *
 * Every CPU sends STORM_K fixed IPIs to every other CPU, all at once, on
 * STORM_WINDOW lanes per (sender, receiver) pair: sender s's lane j is vector
 * 0x80 + s * STORM_WINDOW + j, and s sends on a lane again only once the
 * receiver's handler has counted that lane's previous IPI (recv[r][s][j]).
 * So up to STORM_WINDOW IPIs per pair are in flight, none can coalesce in an
 * IRR, and exactly STORM_CPUS * (STORM_CPUS - 1) * STORM_K are delivered.
 * Senders wait with interrupts on, so a CPU takes IPIs while it sends its
 * own. Then status 0. Too few CPUs: status 2; a lost IPI (a sender waits too
 * long): status 4. Built with -DSTORM_K=0 it does all the rest (AP start-up,
 * exit) without IPIs: tests/bench/run.sh subtracts that run's time. Built
 * with -DX2APIC every CPU uses x2APIC MSRs (ipi_apic.h; status 5 without). */
#include "loop.h"

#ifndef STORM_K
#define STORM_K		IPI_STORM_K
#endif
#define NCPUS		STORM_CPUS
#define W		STORM_WINDOW
#define ROUNDS		(STORM_K / W)
#define MAXC		8		/* APIC IDs 0..7 */
#define VEC_STORM	0x80
/* CPU n's stack is the 4 KiB page below STACKS + (n + 1) * 4096, so a handler
 * finds its CPU in %rsp. */
#define STACKS		0x70000
#define SPIN_BUDGET	5000000		/* pause loops before a wait gives up */

#if NCPUS < 2 || NCPUS > MAXC
#error "STORM_CPUS must be 2..8"
#endif
#if W != 8 || STORM_K % W
#error "the handler table below has 8 lanes, and STORM_K is a multiple of them"
#endif
#define NVEC		(MAXC * W)	/* vectors 0x80..0xbf */

/* For mb_smp_start.S: the BSP starts on CPU 0's stack, the APs on a
 * shared one only until long_mode moves each to its own; gates up to the last
 * storm vector. */
#define BSP_STACK	(STACKS + 0x1000)
#define AP_STACK	0x7000
#define IDT_VECTORS	(VEC_STORM + NVEC)
#include "mb_smp_start.S"
#include "ipi_apic.h"

	.text
	.code64
/* Every CPU: %rbx = LAPIC, %r12 = own APIC ID, its own stack. */
long_mode:
	movq $LAPIC, %rbx
	apic_enable			/* software-enable the LAPIC */
	apic_id
	movl %eax, %r12d
	cmpl $MAXC, %r12d
	jae bad_id
	leaq 1(%r12), %rsp
	shlq $12, %rsp
	addq $STACKS, %rsp
	lidt idt_desc
	cmpl $0, bsp_done
	jne ap_main
	movl $1, bsp_done

	movq $idt + VEC_STORM * 16, %rdi	/* gates 0x80.. for handlers 0.. */
	movq $handlers, %rsi
	movl $NVEC, %ecx
3:	movq (%rsi), %rax
	call set_gate
	addq $16, %rdi
	addq $8, %rsi
	loop 3b

	apic_send_sh $0xc4500		/* INIT, SIPI, SIPI to all but self */
	apic_send_sh $0xc4608
	apic_send_sh $0xc4608
	movl $SPIN_BUDGET, %ecx		/* wait for the APs, but not forever */
4:	cmpl $NCPUS - 1, ap_ready
	jae 5f
	pause
	loop 4b
	movb $2, %al
	outb %al, $0xf4

5:	movl $1, go
	sti
	call storm
	movl $SPIN_BUDGET, %ecx		/* the APs' last IPIs are counted too */
6:	cmpl $NCPUS - 1, ap_done
	jae 7f
	pause
	loop 6b
	jmp lost
7:	xorl %eax, %eax
	outb %al, $0xf4

bad_id:
	movb $3, %al
	outb %al, $0xf4

ap_main:
	lock incl ap_ready
8:	cmpl $0, go
	jne 9f
	pause
	jmp 8b
9:	sti
	call storm
	lock incl ap_done
10:	hlt				/* keep taking the others' IPIs */
	jmp 10b

/* for round in 0..ROUNDS: for each other CPU r, for each lane j: wait until
 * r has counted round IPIs on that lane, then (unless round == ROUNDS) send
 * it the next one. */
storm:
	xorl %r13d, %r13d		/* round */
11:	xorl %r14d, %r14d		/* r */
12:	cmpl %r12d, %r14d
	je 16f
	movl %r14d, %eax		/* &recv[r][me][0] */
	imull $MAXC, %eax
	addl %r12d, %eax
	imull $W, %eax
	leaq recv(,%rax,4), %rdi
	xorl %r15d, %r15d		/* lane j */
13:	movl $SPIN_BUDGET, %ecx
14:	cmpl %r13d, (%rdi,%r15,4)
	jae 15f
	pause
	loop 14b
	jmp lost
15:	cmpl $ROUNDS, %r13d		/* the last round only waits */
	je 17f
	movl %r12d, %esi		/* fixed, assert, 0x80 + me * W + j */
	imull $W, %esi
	leal 0x4000 + VEC_STORM(%rsi,%r15), %esi
	movl %r14d, %eax		/* to r (clobbers %ecx: reset at 13) */
#ifndef X2APIC
	shll $24, %eax
#endif
	apic_send %eax, %esi
17:	incl %r15d
	cmpl $W, %r15d
	jne 13b
16:	incl %r14d
	cmpl $NCPUS, %r14d
	jne 12b
	incl %r13d
	cmpl $ROUNDS, %r13d
	jbe 11b
	ret

lost:
	movb $4, %al
	outb %al, $0xf4

/* Vector 0x80 + k (k = sender * W + lane): recv[me][k]++ (me from the
 * stack), EOI. */
	.irp k, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63
handler\k:
	pushq %rax
#ifdef X2APIC
	pushq %rcx			/* the EOI's WRMSR */
	pushq %rdx
#endif
	movq %rsp, %rax
	subq $STACKS, %rax
	shrq $12, %rax
	imull $NVEC, %eax
	incl recv + 4 * \k(,%rax,4)
	apic_eoi			/* %rbx holds LAPIC on every CPU */
#ifdef X2APIC
	popq %rdx
	popq %rcx
#endif
	popq %rax
	iretq
	.endr

	.data
	.align 8
handlers:
	.irp k, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63
	.quad handler\k
	.endr
ap_ready:	.long 0
ap_done:	.long 0
go:		.long 0

	.bss
	.align 4
recv:	.skip MAXC * NVEC * 4	/* recv[receiver][sender][lane] */
