/* Per-thread seccomp allowlists (libseccomp). The lists were found with
 * strace -f on the boot tests (with --disk, --gdb, --serial stdio) and are
 * kept to what each thread kind does after set-up; docs/SECURITY.md. */
#include "vmm/sandbox.h"

#include <errno.h>
#include <linux/kvm.h>
#include <linux/sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vmm/exit_codes.h"
#include "vmm/signals.h"

#define SYSCALL_NAMES 512	/* above the highest x86-64 number */

/* The sanitizers' runtimes make calls of their own (sigaltstack in every
 * thread; LeakSanitizer's check at exit reads /proc and ptraces the
 * threads): a sanitizer build runs without the sandbox. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

static enum sandbox_mode mode;
/* Resolved before any filter: the SIGSYS handler may not allocate. */
static char *syscall_names[SYSCALL_NAMES];
static __thread enum sandbox_thread this_kind;

static const char *const kind_names[] = {
	[SANDBOX_MAIN] = "main", [SANDBOX_VCPU] = "vCPU",
	[SANDBOX_BLK_IO] = "virtio-blk I/O", [SANDBOX_TIMER] = "timer",
	[SANDBOX_GDB] = "GDB stub", [SANDBOX_SERIAL_IN] = "serial input",
	[SANDBOX_SIGNALS] = "signal",
};

/* Every thread: locks and condition variables, the clock, stderr, kicks
 * (pthread_kill), malloc's arenas (never executable), leaving, and what
 * the SIGSYS handler itself needs. */
static const int common_calls[] = {
	SCMP_SYS(futex), SCMP_SYS(clock_gettime), SCMP_SYS(write),
	SCMP_SYS(newfstatat), SCMP_SYS(fstat), SCMP_SYS(getpid), SCMP_SYS(gettid),
	SCMP_SYS(tgkill), SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigreturn),
	SCMP_SYS(madvise), SCMP_SYS(munmap), SCMP_SYS(brk), SCMP_SYS(getpgrp),
	SCMP_SYS(exit), SCMP_SYS(exit_group),
};

#ifdef TINYVMM_COVERAGE
/* A --coverage build (make coverage): gcov writes its counts at exit. */
static const int coverage_calls[] = {
	SCMP_SYS(openat), SCMP_SYS(fcntl), SCMP_SYS(read), SCMP_SYS(lseek),
	SCMP_SYS(close),
};
#endif

/* Joins, then machine_destroy (a raw terminal's signal hooks undone). */
static const int main_calls[] = {
	SCMP_SYS(close), SCMP_SYS(unlink), SCMP_SYS(flock), SCMP_SYS(rt_sigaction),
	SCMP_SYS(getrusage),	/* --stats: peak RSS */
};

/* The exits, eventfd kicks, /proc/loadavg (halt polling). */
static const int vcpu_calls[] = {
	SCMP_SYS(read), SCMP_SYS(pread64), SCMP_SYS(close), SCMP_SYS(ppoll),
	SCMP_SYS(poll),
};

static const int blk_io_calls[] = {
	SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(read), SCMP_SYS(preadv),
	SCMP_SYS(pwritev), SCMP_SYS(fdatasync), SCMP_SYS(fallocate),
};

static const int gdb_calls[] = {
	SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(accept4), SCMP_SYS(setsockopt),
	SCMP_SYS(read), SCMP_SYS(recvfrom), SCMP_SYS(sendto), SCMP_SYS(close),
};

static const int serial_in_calls[] = {
	SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(read),
};

static const int signal_calls[] = {
	SCMP_SYS(rt_sigtimedwait),
};

/* The ioctls each kind makes on KVM's fds after set-up. A memory topology
 * change (a BAR moved, a watchpoint) updates memslots and ioeventfds from
 * whichever thread makes it; machine_destroy does the same. */
static const unsigned long vcpu_ioctls[] = {
	KVM_RUN, KVM_GET_REGS, KVM_SET_REGS, KVM_GET_SREGS, KVM_SET_SREGS,
	KVM_GET_FPU, KVM_SET_FPU, KVM_INTERRUPT, KVM_NMI, KVM_GET_MSRS,
	KVM_SET_GUEST_DEBUG, KVM_SET_USER_MEMORY_REGION, KVM_IOEVENTFD,
};

static const unsigned long main_ioctls[] = {
	KVM_SET_USER_MEMORY_REGION, KVM_IOEVENTFD,
};

static const unsigned long gdb_ioctls[] = {
	KVM_GET_REGS, KVM_SET_REGS, KVM_GET_SREGS, KVM_SET_SREGS, KVM_GET_FPU,
	KVM_SET_FPU, KVM_GET_MSRS, KVM_SET_USER_MEMORY_REGION, KVM_IOEVENTFD,
};

/* The SIGSYS handler's terminal restore (tcsetattr reads back), in every
 * list. */
static const unsigned long common_ioctls[] = { TCSETS, TCGETS, TIOCGPGRP };

struct call_list {
	const int *calls;
	unsigned ncalls;
	const unsigned long *ioctls;
	unsigned nioctls;
	/* May start a thread: the clock starts its timer thread when a timer
	 * is first armed, from whichever thread arms it. */
	bool threads;
};

#define LIST(a) a, sizeof(a) / sizeof(a[0])
#define NONE NULL, 0

static const struct call_list lists[] = {
	[SANDBOX_MAIN] = { LIST(main_calls), LIST(main_ioctls), true },
	[SANDBOX_VCPU] = { LIST(vcpu_calls), LIST(vcpu_ioctls), true },
	[SANDBOX_BLK_IO] = { LIST(blk_io_calls), NONE, true },
	/* Its callbacks raise interrupts and kick vCPUs: the common calls. It
	 * also runs under the filter of the thread that started it. */
	[SANDBOX_TIMER] = { NONE, NONE, false },
	[SANDBOX_GDB] = { LIST(gdb_calls), LIST(gdb_ioctls), true },
	[SANDBOX_SERIAL_IN] = { LIST(serial_in_calls), NONE, true },
	[SANDBOX_SIGNALS] = { LIST(signal_calls), NONE, false },
};

/* ---- The violation: one line, then the exit ---- */

static void put_str(const char *s)
{
	ssize_t n = write(STDERR_FILENO, s, strlen(s));

	(void)n;
}

/* Async-signal-safe: no stdio, no allocation. */
static void sigsys_handler(int sig, siginfo_t *info, void *uc)
{
	int nr = info->si_syscall;
	char num[12], *p = num + sizeof(num);

	(void)sig;
	(void)uc;
	*--p = '\0';
	do
		*--p = (char)('0' + nr % 10);
	while ((nr /= 10) && p > num);
	put_str("tinyvmm: sandbox: the ");
	put_str(kind_names[this_kind]);
	put_str(" thread made a forbidden system call: ");
	nr = info->si_syscall;
	put_str(nr >= 0 && nr < SYSCALL_NAMES && syscall_names[nr] ?
		syscall_names[nr] : "?");
	put_str(" (");
	put_str(p);
	put_str(")\n");
	signals_restore_terminal();
	_exit(VMM_EXIT_SANDBOX);
}

/* ---- Building and loading a filter ---- */

/* libseccomp's SCMP_An() macros leave datum_b out, which clang warns of. */
static struct scmp_arg_cmp arg_is(unsigned arg, enum scmp_compare op,
				  uint64_t a, uint64_t b)
{
	return (struct scmp_arg_cmp){ .arg = arg, .op = op, .datum_a = a, .datum_b = b };
}

static int add_calls(scmp_filter_ctx ctx, const int *calls, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, calls[i], 0))
			return -1;
	return 0;
}

static int add_ioctls(scmp_filter_ctx ctx, const unsigned long *reqs, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				     arg_is(1, SCMP_CMP_EQ, reqs[i], 0)))
			return -1;
	return 0;
}

/* Memory is never made executable after set-up. */
static int add_memory(scmp_filter_ctx ctx)
{
	return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
				arg_is(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)) ||
	       seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
				arg_is(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
}

/* Threads only (CLONE_THREAD), never processes. clone3 passes its flags in
 * memory, out of a filter's reach: ENOSYS makes glibc fall back to clone.
 * The new thread then loads its own filter on top (filters only narrow). */
static int add_thread_creation(scmp_filter_ctx ctx)
{
	return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
				arg_is(0, SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD)) ||
	       seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0) ||
	       seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(set_robust_list), 0) ||
	       seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(rseq), 0) ||
	       seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
				arg_is(0, SCMP_CMP_EQ, PR_SET_NO_NEW_PRIVS, 0)) ||
	       seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(seccomp), 0);
}

static int add_build_calls(scmp_filter_ctx ctx)
{
#ifdef TINYVMM_COVERAGE
	return add_calls(ctx, LIST(coverage_calls));
#else
	(void)ctx;
	return 0;
#endif
}

static int load_filter(enum sandbox_thread kind)
{
	const struct call_list *l = &lists[kind];
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
	int r = -1;

	if (!ctx)
		return -1;
	if (!add_build_calls(ctx) && !add_calls(ctx, LIST(common_calls)) &&
	    !add_calls(ctx, l->calls, l->ncalls) &&
	    !add_ioctls(ctx, LIST(common_ioctls)) &&
	    !add_ioctls(ctx, l->ioctls, l->nioctls) && !add_memory(ctx) &&
	    (!l->threads || !add_thread_creation(ctx)))
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	return r;
}

static void install_sigsys_handler(void)
{
	struct sigaction sa = { .sa_sigaction = sigsys_handler,
				.sa_flags = SA_SIGINFO };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGSYS, &sa, NULL);
}

void sandbox_set_mode(enum sandbox_mode m)
{
	mode = SANITIZED ? SANDBOX_OFF : m;
	if (mode == SANDBOX_OFF)
		return;
	for (int nr = 0; nr < SYSCALL_NAMES; nr++)
		syscall_names[nr] = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
	install_sigsys_handler();
}

/* The test-only trigger (tests/boot/test_signals.c): a call no thread may
 * make (not even in a coverage build, whose gcov opens files), right
 * after the main thread's filter is in place. */
static void selftest(void)
{
	int fd = (int)syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);

	fprintf(stderr, "tinyvmm: sandbox self-test: socket was not stopped\n");
	if (fd >= 0)
		close(fd);
}

void sandbox_enter(enum sandbox_thread kind)
{
	bool want_selftest = kind == SANDBOX_MAIN &&
			     getenv("TINYVMM_SANDBOX_SELFTEST");

	if (want_selftest && SANITIZED)
		fprintf(stderr, "tinyvmm: sandbox self-test: no sandbox in a "
			"sanitizer build\n");
	if (mode == SANDBOX_OFF || (kind == SANDBOX_MAIN && mode != SANDBOX_ALL))
		return;
	this_kind = kind;
	if (load_filter(kind)) {
		fprintf(stderr, "tinyvmm: sandbox: cannot load the %s thread's "
			"seccomp filter (--no-sandbox runs without)\n",
			kind_names[kind]);
		signals_restore_terminal();
		_exit(VMM_EXIT_SANDBOX);
	}
	if (want_selftest)
		selftest();
}
