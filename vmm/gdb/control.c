/* All-stop run control: the debugger holds the VM, every vCPU parks at its
 * next checkpoint (before an entry, or in a sleep), and the stub touches
 * registers and memory only while all are parked. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vmm/gdb/internal.h"
#include "vmm/gdb/stub.h"
#include "vmm/machine.h"
#include "vmm/vcpu.h"

int gdb_control_init(struct gdb_stub *s)
{
	s->vcpu = calloc(s->m->ncpus, sizeof(*s->vcpu));
	s->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!s->vcpu || s->event_fd < 0)
		return -1;
	for (unsigned i = 0; i < s->m->ncpus; i++)
		s->vcpu[i].action = GDB_CONTINUE;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->resume_cond, NULL);
	pthread_cond_init(&s->parked_cond, NULL);
	s->stop_cpu = -1;
	return 0;
}

void gdb_control_destroy(struct gdb_stub *s)
{
	if (s->event_fd >= 0)
		close(s->event_fd);
	free(s->vcpu);
	pthread_cond_destroy(&s->parked_cond);
	pthread_cond_destroy(&s->resume_cond);
	pthread_mutex_destroy(&s->lock);
}

void gdb_signal_stub(struct gdb_stub *s)
{
	uint64_t one = 1;

	if (write(s->event_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		perror("tinyvmm: gdb: eventfd");
}

void gdb_drain_events(struct gdb_stub *s)
{
	uint64_t n;

	while (read(s->event_fd, &n, sizeof(n)) == sizeof(n))
		;
}

static void kick_all(struct gdb_stub *s)
{
	for (unsigned i = 0; i < s->m->ncpus; i++)
		vcpu_kick(&s->m->vcpus[i]);
}

/* Under s->lock: the first holder names the stop (@cpu, @ev). */
static bool hold_locked(struct gdb_stub *s, int cpu, struct gdb_event ev)
{
	if (atomic_load(&s->held))
		return false;
	s->stop_cpu = cpu;
	s->stop_event = ev;
	atomic_store(&s->held, true);
	return true;
}

bool gdb_stop_all(struct gdb_stub *s)
{
	pthread_mutex_lock(&s->lock);
	hold_locked(s, -1, (struct gdb_event){ GDB_EV_NONE, 0 });
	pthread_mutex_unlock(&s->lock);
	kick_all(s);
	pthread_mutex_lock(&s->lock);
	while (s->parked < s->m->ncpus && !s->finishing && !machine_stopping(s->m))
		pthread_cond_wait(&s->parked_cond, &s->lock);
	pthread_mutex_unlock(&s->lock);
	return !s->finishing && !machine_stopping(s->m);
}

void gdb_resume(struct gdb_stub *s)
{
	pthread_mutex_lock(&s->lock);
	s->stop_cpu = -1;
	s->stop_event = (struct gdb_event){ GDB_EV_NONE, 0 };
	atomic_store(&s->held, false);
	s->generation++;
	pthread_cond_broadcast(&s->resume_cond);
	pthread_mutex_unlock(&s->lock);
}

int gdb_cpu_get(struct gdb_stub *s, unsigned cpu, struct gdb_cpu *out)
{
	int fd = s->m->vcpus[cpu].kvm.fd;

	memset(out, 0, sizeof(*out));
	if (ioctl(fd, KVM_GET_REGS, &out->regs) < 0 ||
	    ioctl(fd, KVM_GET_SREGS, &out->sregs) < 0 ||
	    ioctl(fd, KVM_GET_FPU, &out->fpu) < 0)
		return -1;
	return 0;
}

int gdb_cpu_set(struct gdb_stub *s, unsigned cpu, const struct gdb_cpu *in)
{
	int fd = s->m->vcpus[cpu].kvm.fd;

	if (ioctl(fd, KVM_SET_SREGS, &in->sregs) < 0 ||
	    ioctl(fd, KVM_SET_REGS, &in->regs) < 0 ||
	    ioctl(fd, KVM_SET_FPU, &in->fpu) < 0)
		return -1;
	return 0;
}

/* An I/O or MMIO exit is finished by the next KVM_RUN (RIP moves past the
 * instruction then): do that now, without running the guest, so that the
 * debugger sees the state after it. A vCPU stepping over the instruction
 * gets its step exit here, which is then moot: the VM is stopping. */
static void complete_pending_exit(struct vcpu *v)
{
	struct kvm_run *run = v->kvm.run;

	run->immediate_exit = 1;
	ioctl(v->kvm.fd, KVM_RUN, 0);
	run->immediate_exit = 0;
}

/* Waits, parked, until a resume lets this vCPU go (or the VM ends); then
 * loads the debug state it runs with. */
static void park(struct gdb_stub *s, struct vcpu *v)
{
	struct gdb_vcpu_state *vs = &s->vcpu[v->id];
	enum gdb_action action;
	uint64_t gen;

	complete_pending_exit(v);
	pthread_mutex_lock(&s->lock);
	vs->parked = true;
	s->parked++;
	pthread_cond_broadcast(&s->parked_cond);
	gen = s->generation;
	while (!s->finishing && !machine_stopping(s->m) &&
	       (gen == s->generation || vs->action == GDB_STAY ||
		atomic_load(&s->held))) {
		gen = s->generation;
		pthread_cond_wait(&s->resume_cond, &s->lock);
	}
	vs->parked = false;
	s->parked--;
	action = vs->action;
	pthread_mutex_unlock(&s->lock);
	gdb_break_apply(s, v, action);
}

/* The vCPU's own event stops the VM, unless another stop came first (then
 * it is dropped: a breakpoint hits again when the vCPU re-executes). */
static void report(struct gdb_stub *s, struct vcpu *v)
{
	struct gdb_vcpu_state *vs = &s->vcpu[v->id];
	bool first;

	pthread_mutex_lock(&s->lock);
	first = hold_locked(s, (int)v->id, vs->pending);
	vs->pending.kind = GDB_EV_NONE;
	pthread_mutex_unlock(&s->lock);
	if (first) {
		kick_all(s);
		gdb_signal_stub(s);
	}
}

bool gdb_vcpu_checkpoint(struct vcpu *v)
{
	struct gdb_stub *s = v->m->gdb;

	if (!s)
		return false;
	if (s->vcpu[v->id].pending.kind != GDB_EV_NONE)
		report(s, v);
	if (atomic_load(&s->held))
		park(s, v);
	return s->vcpu[v->id].action == GDB_STEP;
}

bool gdb_vcpu_park_if_held(struct vcpu *v)
{
	struct gdb_stub *s = v->m->gdb;

	if (!s || !atomic_load(&s->held))
		return false;
	park(s, v);
	return true;
}

void gdb_vcpu_debug_exit(struct vcpu *v)
{
	struct gdb_stub *s = v->m->gdb;

	if (!s) {
		fprintf(stderr, "tinyvmm: vcpu%u: debug exit without a debugger\n", v->id);
		return;
	}
	s->vcpu[v->id].pending = gdb_break_classify(s, v);
}
