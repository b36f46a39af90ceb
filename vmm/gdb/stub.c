/* The GDB stub's connection: one debugger at a time on a TCP or unix
 * socket, the Remote Serial Protocol's packets answered in all-stop mode.
 * Run control lives in control.c, breakpoints in break.c and watch.c. */
#define _GNU_SOURCE	/* accept4 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "devices/error.h"
#include "vmm/exit_codes.h"
#include "vmm/gdb/internal.h"
#include "vmm/gdb/stub.h"
#include "vmm/machine.h"
#include "vmm/sandbox.h"

static int listen_tcp(struct gdb_stub *s, const struct vmm_gdb_addr *a,
		      struct error *err)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(a->port) };
	int one = 1;

	if (inet_pton(AF_INET, a->host, &sin.sin_addr) != 1)
		return error_setf(err, "--gdb: '%s' is not an IPv4 address", a->host);
	s->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->listen_fd < 0)
		return error_setf(err, "--gdb: socket: %s", strerror(errno));
	setsockopt(s->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s->listen_fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		return error_setf(err, "--gdb: cannot listen on %s:%u: %s", a->host,
				  a->port, strerror(errno));
	return 0;
}

static int listen_unix(struct gdb_stub *s, const struct vmm_gdb_addr *a,
		       struct error *err)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	memcpy(sun.sun_path, a->path, strlen(a->path) + 1);
	s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->listen_fd < 0)
		return error_setf(err, "--gdb: socket: %s", strerror(errno));
	if (bind(s->listen_fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		return error_setf(err, "--gdb: cannot listen on %s: %s", a->path,
				  strerror(errno));
	memcpy(s->unix_path, a->path, sizeof(s->unix_path));
	return 0;
}

static int stub_listen(struct gdb_stub *s, struct error *err)
{
	const struct vmm_gdb_addr *a = &s->m->opts->gdb_addr;

	if (a->is_unix ? listen_unix(s, a, err) : listen_tcp(s, a, err))
		return -1;
	if (listen(s->listen_fd, 1) < 0)
		return error_setf(err, "--gdb: listen: %s", strerror(errno));
	if (a->is_unix)
		fprintf(stderr, "tinyvmm: gdb: listening on %s\n", a->path);
	else
		fprintf(stderr, "tinyvmm: gdb: listening on %s:%u\n", a->host, a->port);
	return 0;
}

void gdb_send(struct gdb_stub *s, const char *payload, size_t len)
{
	size_t cap = 2 * len + 4, n, off = 0;
	char *buf = realloc(s->last, cap);

	if (!buf)
		return;
	s->last = buf;
	n = gdb_frame(payload, len, true, buf, cap);
	s->last_len = n;
	while (off < n) {
		ssize_t w = send(s->client_fd, buf + off, n - off, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;	/* the reader sees the hang-up */
		off += (size_t)w;
	}
}

void gdb_send_str(struct gdb_stub *s, const char *payload)
{
	gdb_send(s, payload, strlen(payload));
}

static void resend_last(struct gdb_stub *s)
{
	if (s->last_len)
		send(s->client_fd, s->last, s->last_len, MSG_NOSIGNAL);
}

static void send_ack(struct gdb_stub *s, char c)
{
	if (!s->no_ack)
		send(s->client_fd, &c, 1, MSG_NOSIGNAL);
}

/* A second debugger gets one answer to every packet, for a few seconds
 * at most: the message, which gdb prints (as its reply to
 * vMustReplyEmpty) before it gives up and closes. */
static void refuse_client(struct gdb_stub *s)
{
	static const char msg[] = "E.tinyvmm: a debugger is already attached";
	char frame[2 * sizeof(msg) + 5], buf[512];
	int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	size_t n = gdb_frame(msg, sizeof(msg) - 1, false, frame + 1, sizeof(frame) - 1);
	ssize_t got;

	if (fd < 0)
		return;
	frame[0] = '+';
	for (int i = 0; i < 16 && poll(&pfd, 1, 1000) == 1; i++) {
		got = recv(fd, buf, sizeof(buf), 0);
		if (got <= 0)
			break;
		if (memchr(buf, '#', (size_t)got))
			send(fd, frame, n + 1, MSG_NOSIGNAL);
	}
	close(fd);
	fprintf(stderr, "tinyvmm: gdb: refused a second debugger\n");
}

/* The stop reply: signal, thread, and why. */
void gdb_stop_reply(struct gdb_stub *s, char *out, size_t cap)
{
	static const char *const reason[] = {
		[GDB_EV_SWBREAK] = "swbreak:;", [GDB_EV_HWBREAK] = "hwbreak:;",
		[GDB_EV_WATCH] = "watch", [GDB_EV_RWATCH] = "rwatch",
		[GDB_EV_AWATCH] = "awatch",
	};
	const struct gdb_event *ev = &s->stop_event;
	int sig = s->sigint ? 2 : 5;
	int n = snprintf(out, cap, "T%02xthread:%x;", sig, s->g_cpu + 1);

	if (ev->kind >= GDB_EV_WATCH && ev->kind <= GDB_EV_AWATCH)
		snprintf(out + n, cap - (size_t)n, "%s:%llx;", reason[ev->kind],
			 (unsigned long long)ev->addr);
	else if (ev->kind == GDB_EV_SWBREAK || ev->kind == GDB_EV_HWBREAK)
		snprintf(out + n, cap - (size_t)n, "%s", reason[ev->kind]);
}

/* After a stop, gdb's current thread is the one that stopped. */
static void report_stop(struct gdb_stub *s)
{
	char reply[96];

	if (s->stop_cpu >= 0)
		s->g_cpu = s->c_cpu = (unsigned)s->stop_cpu;
	gdb_stop_reply(s, reply, sizeof(reply));
	gdb_send_str(s, reply);
}

static void handle_rx(struct gdb_stub *s, uint8_t byte)
{
	size_t len;
	const char *p;

	switch (gdb_rx_feed(&s->rx, byte)) {
	case GDB_RX_PACKET:
		send_ack(s, '+');
		p = gdb_rx_payload(&s->rx, &len);
		gdb_handle_packet(s, p, len);
		break;
	case GDB_RX_BAD_CHECKSUM:
		send_ack(s, '-');
		break;
	case GDB_RX_OVERFLOW:
		send_ack(s, '+');
		gdb_send_str(s, "E.packet too long");
		break;
	case GDB_RX_NACK:
		resend_last(s);
		break;
	case GDB_RX_INTERRUPT:
		if (s->running) {
			s->sigint = true;
			if (gdb_stop_all(s)) {
				s->running = false;
				report_stop(s);
			}
		}
		break;
	default:
		break;
	}
}

/* While the VM runs: the first vCPU that stopped it is reported. */
static void handle_event(struct gdb_stub *s)
{
	gdb_drain_events(s);
	if (!s->running || !atomic_load(&s->held))
		return;
	s->sigint = false;
	if (gdb_stop_all(s)) {
		s->running = false;
		report_stop(s);
	}
}

static bool vm_over(struct gdb_stub *s)
{
	return s->finishing || machine_stopping(s->m);
}

/* Serves one debugger until it detaches, hangs up or the VM ends. */
static void serve_client(struct gdb_stub *s)
{
	struct pollfd pfd[3] = {
		{ .fd = s->client_fd, .events = POLLIN },
		{ .fd = s->event_fd, .events = POLLIN },
		{ .fd = s->listen_fd, .events = POLLIN },
	};
	uint8_t buf[4096];

	gdb_rx_init(&s->rx);
	s->no_ack = s->phys = s->detached = s->running = s->sigint = false;
	while (!s->detached && !vm_over(s)) {
		if (poll(pfd, 3, -1) < 0 && errno != EINTR)
			break;
		if (pfd[2].revents & POLLIN)
			refuse_client(s);
		if (pfd[1].revents & POLLIN)
			handle_event(s);
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = recv(s->client_fd, buf, sizeof(buf), 0);

			if (n <= 0)
				break;
			for (ssize_t i = 0; i < n && !s->detached; i++)
				handle_rx(s, buf[i]);
		}
	}
}

/* The debugger is gone: the VM runs on without breakpoints. */
static void release_vm(struct gdb_stub *s)
{
	if (!s->running && !gdb_stop_all(s))
		return;
	gdb_break_remove_all(s);
	for (unsigned i = 0; i < s->m->ncpus; i++)
		s->vcpu[i].action = GDB_CONTINUE;
	gdb_resume(s);
	s->running = true;
}

static void tell_exit(struct gdb_stub *s)
{
	char reply[8];

	snprintf(reply, sizeof(reply), "W%02x", s->m->exit_code & 0xff);
	gdb_send_str(s, reply);
}

static void *stub_thread(void *arg)
{
	struct gdb_stub *s = arg;
	struct pollfd pfd[2] = {
		{ .fd = s->listen_fd, .events = POLLIN },
		{ .fd = s->event_fd, .events = POLLIN },
	};

	sandbox_enter(SANDBOX_GDB);
	while (!vm_over(s)) {
		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			break;
		if (pfd[1].revents & POLLIN)
			gdb_drain_events(s);
		if (!(pfd[0].revents & POLLIN))
			continue;
		s->client_fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (s->client_fd < 0)
			continue;
		setsockopt(s->client_fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
		fprintf(stderr, "tinyvmm: gdb: debugger attached\n");
		s->stop_cpu = -1;
		if (gdb_stop_all(s))
			serve_client(s);
		if (vm_over(s))
			tell_exit(s);
		else
			release_vm(s);
		close(s->client_fd);
		s->client_fd = -1;
		fprintf(stderr, "tinyvmm: gdb: debugger detached\n");
	}
	return NULL;
}

static enum gdb_arch default_arch(const struct machine *m)
{
	switch (m->opts->gdb_arch) {
	case VMM_GDB_ARCH_I386:
		return GDB_ARCH_I386;
	case VMM_GDB_ARCH_X86_64:
		return GDB_ARCH_X86_64;
	case VMM_GDB_ARCH_DUAL:
		return GDB_ARCH_DUAL;
	default:	/* multiboot code starts in 32-bit mode, then switches */
		return m->image.format == GUEST_MULTIBOOT ? GDB_ARCH_DUAL : GDB_ARCH_X86_64;
	}
}

static void stub_free(struct gdb_stub *s)
{
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	if (s->unix_path[0])
		unlink(s->unix_path);
	gdb_control_destroy(s);
	free(s->last);
	free(s);
}

int gdb_stub_start(struct machine *m, struct error *err)
{
	struct gdb_stub *s;

	if (!m->opts->gdb)
		return 0;
	s = calloc(1, sizeof(*s));
	if (!s)
		return error_setf(err, "out of memory");
	s->m = m;
	s->listen_fd = s->client_fd = s->event_fd = -1;
	s->arch = default_arch(m);
	if (gdb_control_init(s) || stub_listen(s, err)) {
		if (!err->msg[0])
			error_setf(err, "gdb: cannot set up: %s", strerror(errno));
		stub_free(s);
		return -1;
	}
	gdb_break_init(s);
	atomic_store(&s->held, m->opts->gdb_wait);	/* parked before the first entry */
	if (pthread_create(&s->thread, NULL, stub_thread, s)) {
		stub_free(s);
		return error_setf(err, "gdb: cannot start the stub's thread");
	}
	m->gdb = s;
	return 0;
}

void gdb_stub_finish(struct machine *m)
{
	struct gdb_stub *s = m->gdb;

	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->finishing = true;
	pthread_cond_broadcast(&s->resume_cond);
	pthread_cond_broadcast(&s->parked_cond);
	pthread_mutex_unlock(&s->lock);
	gdb_signal_stub(s);
	pthread_join(s->thread, NULL);
}

void gdb_stub_destroy(struct machine *m)
{
	if (m->gdb)
		stub_free(m->gdb);
	m->gdb = NULL;
}
