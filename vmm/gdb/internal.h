/* The GDB stub's parts (stub.c: the connection and the packets; control.c:
 * stopping and resuming vCPUs; break.c: breakpoints and watchpoints) share
 * this state. Not for the rest of the VMM. */
#ifndef VMM_GDB_INTERNAL_H
#define VMM_GDB_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "memory/region.h"
#include "vmm/gdb/packet.h"
#include "vmm/gdb/regs.h"

struct machine;
struct vcpu;

#define GDB_HW_SLOTS	4	/* DR0-DR3 */
#define GDB_MAX_SW_BPS	64
#define GDB_MAX_WATCHES	16
#define GDB_WATCH_MAX_LEN	(16 * 4096)
#define GDB_MAX_WATCH_PAGES	64

enum gdb_action {
	GDB_STAY,		/* remains stopped when the others resume */
	GDB_CONTINUE,
	GDB_STEP,
};

enum gdb_event_kind {
	GDB_EV_NONE,
	GDB_EV_STEP,
	GDB_EV_SWBREAK,
	GDB_EV_HWBREAK,
	GDB_EV_WATCH,		/* Z2 write */
	GDB_EV_RWATCH,		/* Z3 read */
	GDB_EV_AWATCH,		/* Z4 access */
	GDB_EV_TRAP,		/* a debug exception that is not ours */
};

struct gdb_event {
	enum gdb_event_kind kind;
	uint64_t addr;		/* the data address, for watchpoints */
};

struct gdb_vcpu_state {
	enum gdb_action action;
	bool parked;
	struct gdb_event pending;	/* seen by this vCPU, not yet reported */
};

/* A hardware breakpoint slot: Z1, or a Z0 this KVM cannot trap as int3. */
struct gdb_hw_bp {
	bool used;
	bool for_sw;		/* backs a Z0: the stop reply says swbreak */
	uint64_t addr;
};

struct gdb_sw_bp {
	bool used;
	uint64_t addr;		/* virtual, as gdb gave it */
	uint64_t gpa;
	uint8_t saved;		/* the byte under the 0xCC */
};

/* A watched page: an I/O region over the RAM, so every access exits. */
struct gdb_watch_page {
	unsigned refs;		/* watch segments on this page; 0: free */
	uint64_t gpa;
	uint8_t *host;		/* the RAM underneath */
	struct memory_region mr;
	struct gdb_stub *stub;
};

/* A watchpoint, as up to one physical segment per page it spans. */
struct gdb_watch {
	bool used;
	int type;		/* 2 write, 3 read, 4 access: the Z packet's */
	uint64_t addr, len;	/* virtual, as gdb gave it */
	unsigned nseg;
	struct gdb_watch_seg {
		uint64_t gpa, len, vaddr;
		struct gdb_watch_page *page;
	} seg[GDB_WATCH_MAX_LEN / 4096 + 1];
};

struct gdb_stub {
	struct machine *m;
	enum gdb_arch arch;

	/* Run control (control.c). vCPUs park while @held; the first to
	 * report an event (or the stub, for Ctrl-C and attach) sets it. */
	pthread_mutex_t lock;
	pthread_cond_t resume_cond;	/* parked vCPUs wait here */
	pthread_cond_t parked_cond;	/* the stub waits for all to park */
	atomic_bool held;
	unsigned parked;
	uint64_t generation;		/* bumped on every resume */
	bool finishing;
	int event_fd;			/* a vCPU stopped the VM; or finish */
	int stop_cpu;			/* who stopped it; -1: the debugger */
	struct gdb_event stop_event;
	struct gdb_vcpu_state *vcpu;	/* one per vCPU */

	/* Breakpoints and watchpoints (break.c), changed only while held. */
	bool int3_exits;		/* this KVM reports int3 to userspace */
	bool told_hw_backed;
	struct gdb_hw_bp hw[GDB_HW_SLOTS];
	struct gdb_sw_bp sw[GDB_MAX_SW_BPS];
	struct gdb_watch watch[GDB_MAX_WATCHES];
	struct gdb_watch_page pages[GDB_MAX_WATCH_PAGES];

	/* The connection (stub.c). */
	pthread_t thread;
	bool thread_started;
	int listen_fd, client_fd;
	char unix_path[108];
	struct gdb_rx rx;
	bool running;			/* the debugger let the VM go */
	bool detached;
	bool sigint;			/* the VM stopped for Ctrl-C */
	bool no_ack;
	bool phys;			/* m/M/X addresses are guest-physical */
	unsigned g_cpu, c_cpu;		/* Hg / Hc */
	char *last;			/* the last framed reply, for '-' */
	size_t last_len;
};

/* stub.c: replies (framed, kept for a '-' resend), the stop reply. */
void gdb_send(struct gdb_stub *s, const char *payload, size_t len);
void gdb_send_str(struct gdb_stub *s, const char *payload);
void gdb_stop_reply(struct gdb_stub *s, char *out, size_t cap);

/* commands.c: one packet from the debugger, answered. */
void gdb_handle_packet(struct gdb_stub *s, const char *p, size_t len);

/* control.c */
int gdb_control_init(struct gdb_stub *s);
void gdb_control_destroy(struct gdb_stub *s);
/* Holds the VM and waits until every vCPU is parked; false if the VM ended. */
bool gdb_stop_all(struct gdb_stub *s);
/* Lets the vCPUs go as their actions say (GDB_STAY ones stay parked). */
void gdb_resume(struct gdb_stub *s);
/* Wakes the stub's poll (event_fd). */
void gdb_signal_stub(struct gdb_stub *s);
void gdb_drain_events(struct gdb_stub *s);
int gdb_cpu_get(struct gdb_stub *s, unsigned cpu, struct gdb_cpu *out);
int gdb_cpu_set(struct gdb_stub *s, unsigned cpu, const struct gdb_cpu *in);

/* break.c: Z0/Z1, the debug registers, what a debug exit means. */
void gdb_break_init(struct gdb_stub *s);
/* Z/z packets: 0 done, -1 error, 1 unsupported type. */
int gdb_break_insert(struct gdb_stub *s, int type, uint64_t addr, uint64_t len);
int gdb_break_remove(struct gdb_stub *s, int type, uint64_t addr, uint64_t len);
void gdb_break_remove_all(struct gdb_stub *s);
/* The debug registers and flags vCPU @v runs with, for its action. */
void gdb_break_apply(struct gdb_stub *s, struct vcpu *v, enum gdb_action a);
/* What the debug exit in @v's kvm_run means. */
struct gdb_event gdb_break_classify(struct gdb_stub *s, struct vcpu *v);
/* memory.c: debugger memory access through vCPU @cpu's page tables (or physical
 * with s->phys); sw breakpoints are invisible to it. Returns the bytes
 * done: a read may stop short at the first unmapped page. */
uint64_t gdb_mem_read(struct gdb_stub *s, unsigned cpu, uint64_t addr,
		      void *buf, uint64_t len);
uint64_t gdb_mem_write(struct gdb_stub *s, unsigned cpu, uint64_t addr,
		       const void *buf, uint64_t len);
/* The guest-physical address of @addr as vCPU @cpu sees it, and the bytes
 * left in its page; -1 if unmapped. */
int gdb_translate(struct gdb_stub *s, unsigned cpu, uint64_t addr,
		  uint64_t *gpa, uint64_t *left);
/* Guest RAM at [gpa, gpa + len) within one page, found under a watched
 * page's overlay too; NULL if it is not RAM. */
uint8_t *gdb_ram_ptr(struct gdb_stub *s, uint64_t gpa, uint64_t len, bool write);

/* watch.c: Z2-Z4 as I/O overlays on the watched pages. */
int gdb_watch_insert(struct gdb_stub *s, int type, uint64_t addr, uint64_t len);
int gdb_watch_remove(struct gdb_stub *s, int type, uint64_t addr, uint64_t len);
void gdb_watch_remove_all(struct gdb_stub *s);

#endif
