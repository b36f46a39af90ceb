/* The 16550A UART (see serial.h): the registers as the PC16550D datasheet
 * has them, an RX FIFO fed by a reader thread, and the interrupt line.
 *
 * IIR is not stored: it is computed from the sources (LSR errors, the RX
 * FIFO against its trigger level, the character timeout, the THRE latch,
 * the MSR deltas) each time, and the line follows it after every change
 * (serial_update_irq), so the level can never disagree with IIR. */
#define _GNU_SOURCE	/* O_CLOEXEC, eventfd */
#include "devices/char/serial.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <termios.h>
#include <unistd.h>

#include "devices/clock.h"
#include "devices/device.h"
#include "devices/error.h"
#include "devices/irq.h"
#include "memory/region.h"

enum {
	UART_RBR_THR = 0, UART_IER = 1, UART_IIR_FCR = 2, UART_LCR = 3,
	UART_MCR = 4, UART_LSR = 5, UART_MSR = 6, UART_SCR = 7,
};

#define IER_RDI		0x01	/* ERBFI: received data, character timeout */
#define IER_THRI	0x02	/* ETBEI */
#define IER_RLSI	0x04	/* ELSI */
#define IER_MSI		0x08	/* EDSSI */

#define IIR_NONE	0x01
#define IIR_MSI		0x00
#define IIR_THRI	0x02
#define IIR_RDI		0x04
#define IIR_RLSI	0x06
#define IIR_CTI		0x0c
#define IIR_FIFO	0xc0

#define FCR_ENABLE	0x01
#define FCR_CLEAR_RX	0x02
#define FCR_CLEAR_TX	0x04
#define FCR_KEPT	0xc9	/* enable, DMA mode, trigger; 1-2 self-clear */

#define LCR_STOP2	0x04
#define LCR_PARITY	0x08
#define LCR_DLAB	0x80

#define MCR_LOOP	0x10
#define MCR_MASK	0x1f

#define LSR_DR		0x01
#define LSR_OE		0x02
#define LSR_ERRORS	0x1e	/* OE, PE, FE, BI: cleared by reading LSR */
#define LSR_THRE	0x20
#define LSR_TEMT	0x40

#define MSR_CTS		0x10
#define MSR_DSR		0x20
#define MSR_RI		0x40
#define MSR_DCD		0x80
#define MSR_CONNECTED	(MSR_DCD | MSR_DSR | MSR_CTS)	/* a terminal is attached */

#define UART_CLOCK_HZ	1843200u	/* the PC's crystal: 115200 baud at divisor 1 */
#define RESET_DIVISOR	12		/* 9600 baud */

/* The host side of receive: where bytes come from and the thread that
 * moves them, at most the FIFO's free room at a time. */
struct serial_input {
	int fd, wake_fd;		/* -1: none */
	bool owns_fd, raw, started;	/* raw: the terminal is ours */
	pthread_t thread;
	pthread_cond_t room;		/* the FIFO may have room again */
	bool stopping;
	uint8_t held[SERIAL_FIFO_SIZE];	/* read, not yet in the FIFO */
	unsigned nheld, held_off;
	bool logged_error;
};

struct serial {
	struct device parent_obj;
	uint32_t iobase, irq;
	char *path, *input;

	FILE *out;
	bool owns_out;
	bool out_failed;	/* a write failed: said once */
	struct memory_region io;
	pthread_mutex_t lock;
	struct vm_clock *clock;			/* NULL: no character timeout timer */
	struct clock_timer timeout_timer;
	uint64_t timeout_deadline;		/* 0: not armed */

	uint8_t ier, fcr, lcr, mcr, lsr, msr_delta, scr;
	uint16_t divisor;
	uint8_t rbr;				/* the last byte read */
	uint8_t rx[SERIAL_FIFO_SIZE];
	unsigned rx_head, rx_count;
	bool thr_pending;	/* THRE interrupt latched, not yet read from IIR */
	bool timeout_pending;	/* character timeout, until RBR is read */
	bool irq_level;

	struct serial_input in;
	uint64_t bytes_in, bytes_out, irqs;
};

static bool fifo_enabled(const struct serial *s)
{
	return s->fcr & FCR_ENABLE;
}

static unsigned rx_capacity(const struct serial *s)
{
	return fifo_enabled(s) ? SERIAL_FIFO_SIZE : 1;
}

static unsigned rx_trigger(const struct serial *s)
{
	static const unsigned level[4] = { 1, 4, 8, 14 };

	return fifo_enabled(s) ? level[s->fcr >> 6] : 1;
}

/* Room for bytes from the input: none in loopback, where the receiver is
 * cut from the wire. */
static unsigned rx_room(const struct serial *s)
{
	return (s->mcr & MCR_LOOP) ? 0 : rx_capacity(s) - s->rx_count;
}

/* The modem inputs: a terminal's lines, or in loopback the modem outputs
 * (CTS = RTS, DSR = DTR, RI = OUT1, DCD = OUT2). */
static uint8_t msr_inputs(const struct serial *s)
{
	uint8_t m = s->mcr;

	if (!(m & MCR_LOOP))
		return MSR_CONNECTED;
	return ((m & 0x02) << 3) | ((m & 0x01) << 5) | ((m & 0x04) << 4) |
	       ((m & 0x08) << 4);
}

/* The interrupt IIR reports, highest priority first. */
static uint8_t serial_iir_id(const struct serial *s)
{
	if ((s->ier & IER_RLSI) && (s->lsr & LSR_ERRORS))
		return IIR_RLSI;
	if ((s->ier & IER_RDI) && s->rx_count >= rx_trigger(s))
		return IIR_RDI;
	if ((s->ier & IER_RDI) && s->timeout_pending)
		return IIR_CTI;
	if ((s->ier & IER_THRI) && s->thr_pending)
		return IIR_THRI;
	if ((s->ier & IER_MSI) && s->msr_delta)
		return IIR_MSI;
	return IIR_NONE;
}

static void serial_update_irq(struct serial *s)
{
	const struct irq_line *lines = s->parent_obj.env->isa_irq;
	bool level = serial_iir_id(s) != IIR_NONE;

	if (level == s->irq_level)
		return;
	s->irq_level = level;
	s->irqs += level;
	if (lines)
		irq_set_level(&lines[s->irq], level);
}

/* One character on the wire: start bit, data, parity, stop bits, counted
 * in half bits for the 1.5 stop bits of 5-bit characters. */
static uint64_t char_half_bits(const struct serial *s)
{
	unsigned data = 5 + (s->lcr & 3);
	unsigned stop = !(s->lcr & LCR_STOP2) ? 2 : data == 5 ? 3 : 4;

	return 2 + 2 * data + ((s->lcr & LCR_PARITY) ? 2 : 0) + stop;
}

/* Four character times at the programmed rate. A divisor of 0 divides by
 * 65536, as a 16-bit down counter reloaded with 0 does. */
static uint64_t timeout_ns(const struct serial *s)
{
	uint64_t divisor = s->divisor ? s->divisor : 0x10000;

	return clock_ticks_to_ns(4 * char_half_bits(s) * divisor * 16,
				 2ull * UART_CLOCK_HZ);
}

/* The character timeout starts again (a byte came in, or the guest read
 * one): bytes in the FIFO that then sit untouched raise IIR 0x0C. */
static void rx_timeout_restart(struct serial *s)
{
	bool wanted = fifo_enabled(s) && s->rx_count;

	if (!s->clock) {
		s->timeout_pending = wanted;
		return;
	}
	s->timeout_deadline = wanted ? clock_now_ns(s->clock) + timeout_ns(s) : 0;
	clock_timer_mod(s->clock, &s->timeout_timer, s->timeout_deadline);
}

static void serial_timeout_cb(void *opaque)
{
	struct serial *s = opaque;

	pthread_mutex_lock(&s->lock);
	/* A read may have moved the deadline while this call waited. */
	if (s->timeout_deadline && clock_now_ns(s->clock) >= s->timeout_deadline) {
		s->timeout_deadline = 0;
		s->timeout_pending = fifo_enabled(s) && s->rx_count;
		serial_update_irq(s);
	}
	pthread_mutex_unlock(&s->lock);
}

/* A byte arrives from the wire (or the loopback). Full: overrun; the FIFO
 * keeps what it has, the single holding register is overwritten. */
static void rx_push(struct serial *s, uint8_t c)
{
	if (s->rx_count == rx_capacity(s)) {
		s->lsr |= LSR_OE;
		if (!fifo_enabled(s))
			s->rx[s->rx_head] = c;
		return;
	}
	s->rx[(s->rx_head + s->rx_count++) % SERIAL_FIFO_SIZE] = c;
	if (!s->timeout_pending)
		rx_timeout_restart(s);
}

static uint8_t rx_pop(struct serial *s)
{
	if (s->rx_count) {
		s->rbr = s->rx[s->rx_head];
		s->rx_head = (s->rx_head + 1) % SERIAL_FIFO_SIZE;
		s->rx_count--;
		pthread_cond_signal(&s->in.room);
	}
	s->timeout_pending = false;
	rx_timeout_restart(s);
	return s->rbr;
}

static void rx_clear(struct serial *s)
{
	s->rx_count = 0;
	s->timeout_pending = false;
	rx_timeout_restart(s);
	pthread_cond_signal(&s->in.room);
}

/* Output that cannot be written (a closed pipe: SIGPIPE is ignored, so
 * the write fails with EPIPE) is dropped, said once; the VM runs on. */
static void serial_check_output(struct serial *s)
{
	if (!ferror(s->out))
		return;
	if (!s->out_failed)
		fprintf(stderr, "tinyvmm: serial output: %s; output dropped (logged once)\n",
			strerror(errno));
	s->out_failed = true;
	clearerr(s->out);
}

static void serial_transmit(struct serial *s, uint8_t c)
{
	if (s->mcr & MCR_LOOP) {
		rx_push(s, c);
	} else if (s->out) {
		s->bytes_out++;
		fputc(c, s->out);
		if (c == '\n')
			fflush(s->out);
		serial_check_output(s);
	}
	/* Transmission is instant: the holding register is empty again. */
	s->thr_pending = true;
}

static uint8_t serial_read_iir(struct serial *s)
{
	uint8_t id = serial_iir_id(s);

	if (id == IIR_THRI)
		s->thr_pending = false;	/* reading IIR clears it, if reported */
	return id | (fifo_enabled(s) ? IIR_FIFO : 0);
}

static uint8_t serial_read_lsr(struct serial *s)
{
	uint8_t v = s->lsr | LSR_THRE | LSR_TEMT | (s->rx_count ? LSR_DR : 0);

	s->lsr &= (uint8_t)~LSR_ERRORS;
	return v;
}

static uint8_t serial_read_msr(struct serial *s)
{
	uint8_t v = msr_inputs(s) | s->msr_delta;

	s->msr_delta = 0;
	return v;
}

static uint8_t serial_read_reg(struct serial *s, unsigned reg)
{
	bool dlab = s->lcr & LCR_DLAB;

	switch (reg) {
	case UART_RBR_THR:
		return dlab ? (uint8_t)s->divisor : rx_pop(s);
	case UART_IER:
		return dlab ? (uint8_t)(s->divisor >> 8) : s->ier;
	case UART_IIR_FCR:
		return serial_read_iir(s);
	case UART_LCR:
		return s->lcr;
	case UART_MCR:
		return s->mcr;
	case UART_LSR:
		return serial_read_lsr(s);
	case UART_MSR:
		return serial_read_msr(s);
	default:
		return s->scr;
	}
}

static void serial_write_ier(struct serial *s, uint8_t v)
{
	uint8_t old = s->ier;

	s->ier = v & 0x0f;
	/* ETBEI turned on while THRE is 1 (always, here): the interrupt is due. */
	if (!(old & IER_THRI) && (s->ier & IER_THRI))
		s->thr_pending = true;
}

/* Changing the enable bit clears both FIFOs; the datasheet's "first THRE
 * interrupt after enabling FIFO mode is immediate" follows from that. */
static void serial_write_fcr(struct serial *s, uint8_t v)
{
	if ((v ^ s->fcr) & FCR_ENABLE) {
		v |= FCR_CLEAR_RX | FCR_CLEAR_TX;
		s->thr_pending = true;
	}
	/* Without the enable bit the other bits are not programmed. */
	s->fcr = (v & FCR_ENABLE) ? v & FCR_KEPT : 0;
	if (v & FCR_CLEAR_RX)
		rx_clear(s);
	/* The TX FIFO is always empty: transmission is instant. */
}

/* The modem inputs may change with MCR (loopback): record the deltas the
 * datasheet defines (RI: only its trailing edge). */
static void serial_write_mcr(struct serial *s, uint8_t v)
{
	uint8_t before = msr_inputs(s), after, changed;

	s->mcr = v & MCR_MASK;
	after = msr_inputs(s);
	changed = before ^ after;
	s->msr_delta |= (changed & (MSR_CTS | MSR_DSR | MSR_DCD)) >> 4;
	if (before & ~after & MSR_RI)
		s->msr_delta |= MSR_RI >> 4;
	pthread_cond_signal(&s->in.room);	/* out of loopback: the wire is back */
}

static void serial_write_reg(struct serial *s, unsigned reg, uint8_t v)
{
	bool dlab = s->lcr & LCR_DLAB;

	switch (reg) {
	case UART_RBR_THR:
		if (dlab)
			s->divisor = (uint16_t)((s->divisor & 0xff00) | v);
		else
			serial_transmit(s, v);
		break;
	case UART_IER:
		if (dlab)
			s->divisor = (uint16_t)((s->divisor & 0xff) | v << 8);
		else
			serial_write_ier(s, v);
		break;
	case UART_IIR_FCR:
		serial_write_fcr(s, v);
		break;
	case UART_LCR:
		s->lcr = v;
		break;
	case UART_MCR:
		serial_write_mcr(s, v);
		break;
	case UART_SCR:
		s->scr = v;
		break;
	default:		/* LSR, MSR: read-only */
		break;
	}
}

static uint64_t serial_io_read(void *opaque, uint64_t offset, unsigned size)
{
	struct serial *s = opaque;
	uint8_t v;

	(void)size;
	pthread_mutex_lock(&s->lock);
	v = serial_read_reg(s, offset & 7);
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return v;
}

static void serial_io_write(void *opaque, uint64_t offset, uint64_t value,
			    unsigned size)
{
	struct serial *s = opaque;

	(void)size;
	pthread_mutex_lock(&s->lock);
	serial_write_reg(s, offset & 7, (uint8_t)value);
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

/* As QEMU: a wider access is that many byte accesses, lowest port first. */
static const struct memory_region_ops serial_io_ops = {
	.read = serial_io_read,
	.write = serial_io_write,
	.valid = { .min = 1, .max = 4, .unaligned = true },
	.impl = { .min = 1, .max = 1 },
};

/* ---- The input: a reader thread that moves bytes into the FIFO ---- */

/* Held bytes into the FIFO, as far as it has room. */
static void serial_feed_held(struct serial *s)
{
	struct serial_input *in = &s->in;

	if (!in->nheld)
		return;
	while (in->nheld && rx_room(s)) {
		rx_push(s, in->held[in->held_off++]);
		in->nheld--;
		s->bytes_in++;
	}
	serial_update_irq(s);
}

/* Wait for input or a stop; read at most @max bytes into in->held.
 * Returns the count (0: nothing this time), or -1 at EOF or on an error. */
static int serial_read_input(struct serial_input *in, unsigned max)
{
	struct pollfd fds[2] = {
		{ .fd = in->fd, .events = POLLIN },
		{ .fd = in->wake_fd, .events = POLLIN },
	};
	ssize_t n;

	if (poll(fds, 2, -1) < 0 || fds[1].revents || !fds[0].revents)
		return 0;
	n = read(in->fd, in->held, max);
	if (n > 0)
		return (int)n;
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n < 0 && !in->logged_error) {
		in->logged_error = true;
		fprintf(stderr, "tinyvmm: serial input: %s; input ends\n",
			strerror(errno));
	}
	return -1;
}

static void *serial_reader(void *opaque)
{
	struct serial *s = opaque;
	struct serial_input *in = &s->in;
	unsigned room;
	int n;

	device_thread_start(&s->parent_obj, DEVICE_THREAD_SERIAL_IN);
	pthread_mutex_lock(&s->lock);
	while (!in->stopping) {
		serial_feed_held(s);
		room = rx_room(s);
		if (in->nheld || !room) {
			pthread_cond_wait(&in->room, &s->lock);
			continue;
		}
		pthread_mutex_unlock(&s->lock);
		n = serial_read_input(in, room);
		pthread_mutex_lock(&s->lock);
		if (n < 0)
			break;
		in->nheld = (unsigned)n;
		in->held_off = 0;
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

/* ---- The terminal: raw while the VM runs, restored however it ends ---- */

static int raw_fd = -1;
static struct termios raw_saved;
static const int fatal_signals[] = {
	SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL,
};
#define NFATAL (sizeof(fatal_signals) / sizeof(fatal_signals[0]))
static bool fatal_hooked[NFATAL];

static void term_restore(void)
{
	if (raw_fd >= 0)
		tcsetattr(raw_fd, TCSANOW, &raw_saved);
}

/* Async-signal-safe; SA_RESETHAND made the action the default again, so
 * the signal, raised again, does what it would have done. */
static void term_fatal_signal(int sig)
{
	term_restore();
	raise(sig);
}

static void term_hook_signals(void)
{
	struct sigaction sa = { .sa_handler = term_fatal_signal,
				.sa_flags = SA_RESETHAND };
	struct sigaction old;

	for (unsigned i = 0; i < NFATAL; i++) {
		/* A handler someone else installed is theirs. */
		fatal_hooked[i] = !sigaction(fatal_signals[i], NULL, &old) &&
				  old.sa_handler == SIG_DFL &&
				  !sigaction(fatal_signals[i], &sa, NULL);
	}
}

static void term_unhook_signals(void)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL }, cur;

	for (unsigned i = 0; i < NFATAL; i++) {
		/* Not if someone has put a handler of their own there since. */
		if (fatal_hooked[i] && !sigaction(fatal_signals[i], NULL, &cur) &&
		    cur.sa_handler == term_fatal_signal)
			sigaction(fatal_signals[i], &dfl, NULL);
		fatal_hooked[i] = false;
	}
}

static void term_register_atexit(void)
{
	atexit(term_restore);
}

/* Raw input, but ISIG (Ctrl-C) and OPOST ("\n" → "\r\n") stay. */
static int term_make_raw(int fd, struct error *err)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct termios t;

	if (raw_fd >= 0)
		return error_setf(err, "isa-serial: only one serial input may "
				  "be a terminal");
	if (tcgetattr(fd, &raw_saved))
		return error_setf(err, "isa-serial: terminal: %s", strerror(errno));
	t = raw_saved;
	t.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR |
				 IGNCR | ICRNL | IXON);
	t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | IEXTEN);
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	if (tcsetattr(fd, TCSANOW, &t))
		return error_setf(err, "isa-serial: terminal: %s", strerror(errno));
	raw_fd = fd;
	pthread_once(&once, term_register_atexit);
	term_hook_signals();
	return 0;
}

static void term_release(void)
{
	term_unhook_signals();
	term_restore();
	raw_fd = -1;
}

/* ---- Realize ---- */

static int serial_open_output(struct serial *s, struct error *err)
{
	if (!s->path || !strcmp(s->path, "stdio")) {
		s->out = stdout;
		return 0;
	}
	if (!strcmp(s->path, "none"))
		return 0;
	s->out = fopen(s->path, "w");
	if (!s->out)
		return error_setf(err, "serial output '%s': %s", s->path,
				  strerror(errno));
	s->owns_out = true;
	return 0;
}

/* in->fd := the fd the input property names (-1: none). */
static int serial_input_fd(struct serial *s, struct error *err)
{
	struct serial_input *in = &s->in;

	if (!s->input || !strcmp(s->input, "none"))
		return 0;
	if (!strcmp(s->input, "stdin")) {
		/* A background job reading its terminal would be stopped. */
		if (isatty(STDIN_FILENO) && tcgetpgrp(STDIN_FILENO) != getpgrp()) {
			fprintf(stderr, "tinyvmm: serial: stdin is a terminal "
				"this job does not own; no serial input\n");
			return 0;
		}
		in->fd = STDIN_FILENO;
		return 0;
	}
	in->fd = open(s->input, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (in->fd < 0)
		return error_setf(err, "serial input '%s': %s", s->input,
				  strerror(errno));
	in->owns_fd = true;
	return 0;
}

static void serial_close_input(struct serial *s)
{
	struct serial_input *in = &s->in;

	if (in->started) {
		pthread_mutex_lock(&s->lock);
		in->stopping = true;
		pthread_cond_signal(&in->room);
		pthread_mutex_unlock(&s->lock);
		eventfd_write(in->wake_fd, 1);	/* out of poll() */
		pthread_join(in->thread, NULL);
		in->started = false;
	}
	if (in->wake_fd >= 0)
		close(in->wake_fd);
	if (in->raw)
		term_release();
	in->raw = false;
	if (in->owns_fd)
		close(in->fd);
	in->fd = in->wake_fd = -1;
	in->owns_fd = false;
}

static int serial_open_input(struct serial *s, struct error *err)
{
	struct serial_input *in = &s->in;
	int e;

	if (serial_input_fd(s, err))
		return -1;
	if (in->fd < 0)
		return 0;
	if (isatty(in->fd)) {
		if (term_make_raw(in->fd, err))
			goto fail;
		in->raw = true;
	}
	in->wake_fd = eventfd(0, EFD_CLOEXEC);
	if (in->wake_fd < 0) {
		error_setf(err, "isa-serial: eventfd: %s", strerror(errno));
		goto fail;
	}
	e = pthread_create(&in->thread, NULL, serial_reader, s);
	if (e) {
		error_setf(err, "isa-serial: reader thread: %s", strerror(e));
		goto fail;
	}
	in->started = true;
	return 0;
fail:
	serial_close_input(s);
	return -1;
}

static int serial_realize(struct device *dev, struct error *err)
{
	struct serial *s = (struct serial *)dev;

	if (s->iobase > 0xfff8)
		return error_setf(err, "isa-serial: iobase %#x is not a port",
				  s->iobase);
	if (s->irq >= ISA_NUM_IRQS)
		return error_setf(err, "isa-serial: irq %u is not an ISA IRQ",
				  s->irq);
	s->clock = dev->env->clock;
	if (serial_open_output(s, err))
		return -1;
	if (serial_open_input(s, err)) {
		if (s->owns_out)
			fclose(s->out);
		s->out = NULL;
		s->owns_out = false;
		return -1;
	}
	memory_region_init_io(&s->io, "serial", &serial_io_ops, s, 8);
	memory_region_add_subregion(dev->env->io_space, s->iobase, &s->io, 0);
	return 0;
}

static void serial_unrealize(struct device *dev)
{
	struct serial *s = (struct serial *)dev;

	memory_region_del_subregion(dev->env->io_space, &s->io);
	serial_close_input(s);
	if (s->clock)
		clock_timer_del(s->clock, &s->timeout_timer);
	if (s->out)
		fflush(s->out);
	if (s->owns_out)
		fclose(s->out);
	s->out = NULL;
	s->owns_out = false;
}

void serial_print_stats(struct device *dev, FILE *out)
{
	struct serial *s = (struct serial *)dev;

	pthread_mutex_lock(&s->lock);
	fprintf(out, "serial %#x: %llu bytes in, %llu bytes out, %llu interrupts\n",
		s->iobase, (unsigned long long)s->bytes_in,
		(unsigned long long)s->bytes_out, (unsigned long long)s->irqs);
	pthread_mutex_unlock(&s->lock);
}

static void serial_instance_init(struct object *obj)
{
	struct serial *s = (struct serial *)obj;

	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->in.room, NULL);
	clock_timer_init(&s->timeout_timer, serial_timeout_cb, s);
	s->in.fd = s->in.wake_fd = -1;
	s->divisor = RESET_DIVISOR;
}

static void serial_instance_finalize(struct object *obj)
{
	struct serial *s = (struct serial *)obj;

	pthread_cond_destroy(&s->in.room);
	pthread_mutex_destroy(&s->lock);
}

static const struct property serial_props[] = {
	{ .name = "iobase", .type = PROP_U32, .offset = offsetof(struct serial, iobase),
	  .def = 0x3f8, .help = "first I/O port of the 8 registers" },
	{ .name = "irq", .type = PROP_U32, .offset = offsetof(struct serial, irq),
	  .def = 4, .help = "ISA IRQ line" },
	{ .name = "path", .type = PROP_STRING, .offset = offsetof(struct serial, path),
	  .def_str = "stdio", .help = "output: stdio, none, or a file" },
	{ .name = "input", .type = PROP_STRING, .offset = offsetof(struct serial, input),
	  .def_str = "none", .help = "input: none, stdin, or a file, FIFO or tty" },
	PROP_END,
};

static void serial_class_init(struct object_class *oc)
{
	struct device_class *dc = DEVICE_CLASS(oc);

	oc->props = serial_props;
	dc->realize = serial_realize;
	dc->unrealize = serial_unrealize;
	dc->user_creatable = true;
}

static const struct type_info serial_type_info = {
	.name = TYPE_ISA_SERIAL,
	.parent = TYPE_DEVICE,
	.description = "16550A UART",
	.instance_size = sizeof(struct serial),
	.class_size = sizeof(struct device_class),
	.class_init = serial_class_init,
	.instance_init = serial_instance_init,
	.instance_finalize = serial_instance_finalize,
};

static void serial_register_types(void)
{
	type_register(&serial_type_info);
}
type_init(serial_register_types)
