/* The 8254 PIT; see i8254.h for the ports, IRQ 0, lost ticks and locks.
 *
 * Each counter is the datasheet's count register (CR) and counting element
 * (CE). The CE is described, not stepped: it was loaded with the initial
 * count @n at CLK tick @load_tick and is decremented on every later tick
 * while its GATE lets it count; the count read and OUT follow from that and
 * the mode. A count written (or a GATE trigger) reaches the CE on a later
 * tick (the next CLK; in modes 2 and 3 while counting, the end of the
 * period): it waits in @pending_tick and channel_advance() applies it
 * before anything reads or changes the counter.
 *
 * As the datasheet says: mode 0 and 4 pause while GATE is low; modes 1
 * and 5 start on a GATE rising edge; in modes 2 and 3 GATE low forces OUT
 * high and a rising edge reloads; mode 2's OUT is low for the last tick of
 * each period and modes 4 and 5 strobe OUT low for one tick; a control
 * word stops the counter and sets OUT to the mode's initial state; the
 * first byte of a two-byte count stops mode 0. QEMU's and KVM's PITs
 * differ there (they count through GATE in modes 0 and 4, start modes 1
 * and 5 at the count write, pulse OUT high in modes 2, 4 and 5, keep
 * counting across a control word, and restart modes 2 and 3 at once on a
 * new count).
 *
 * IRQ 0 is pulsed for the edges of counting itself (terminal count, each
 * reload, the end of a strobe); OUT rising because of a control word or
 * GATE (mode 2/3 GATE low) sends none, as on QEMU and KVM.
 *
 * As QEMU's pc shows it, where the datasheet says otherwise or nothing:
 * mode 3 counts N, N-2, ... down by two from N even for odd N (high for
 * (N+1)/2 ticks, low for (N-1)/2); a latched count or status survives a
 * control word; the latched count has its own LSB/MSB sequence, apart
 * from the live count's flip-flop; port 0x43 reads 0.
 *
 * Ours, where the chip is undefined: a count of 1 in modes 2 and 3 counts
 * as 2 (the smallest legal one); a BCD digit above 9 counts as 9; a new
 * count in mode 3 waits for the end of the period (the datasheet: the
 * half-cycle); before any count is loaded the CE reads what it held. */
#include "devices/timer/i8254.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>

#include "devices/clock.h"
#include "devices/device.h"
#include "devices/error.h"
#include "devices/irq.h"
#include "memory/region.h"

#define NUM_CHANNELS	3
#define CONTROL_PORT	3
#define NEVER		UINT64_MAX

/* Control word: SC (counter), RW (access), M (mode), BCD. */
#define CW_SC(v)	((v) >> 6)
#define CW_RW(v)	(((v) >> 4) & 3)
#define CW_MODE(v)	(((v) >> 1) & 7)
#define CW_BCD		0x01
#define SC_READ_BACK	3
#define RW_LATCH	0
#define RW_LSB		1
#define RW_MSB		2
#define RW_WORD		3
/* Read-back: COUNT and STATUS are active low; bits 1..3 select counters. */
#define RB_NO_COUNT	0x20
#define RB_NO_STATUS	0x10
#define RB_COUNTER(i)	(2u << (i))
/* Status byte. */
#define ST_OUT		0x80
#define ST_NULL_COUNT	0x40

struct channel {
	/* What the last control word set, and GATE. */
	uint8_t mode;		/* 0..7 as written: 6 and 7 are 2 and 3 */
	uint8_t rw;		/* RW_LSB, RW_MSB or RW_WORD */
	bool bcd;
	bool gate;

	/* The count register and the byte flip-flops. */
	uint16_t cr;
	bool have_count;	/* a whole count written since the control word */
	bool write_msb;		/* RW_WORD: the next write is the MSB */
	bool read_msb;		/* RW_WORD: the next live read is the MSB */
	bool null_count;	/* the CR holds what the CE has not taken yet */

	/* The output latch (counter latch, read-back). */
	uint16_t latched;	/* the count as read: binary or BCD */
	uint8_t latched_rw;	/* its access mode, fixed when latched */
	uint8_t latched_left;	/* bytes of it still to read */
	uint8_t status;
	bool status_latched;

	/* The counting element. */
	bool loaded;		/* counts from @n; else it holds @frozen */
	uint32_t frozen;
	uint32_t n;		/* the initial count, 2^16 (BCD 10^4) for 0 */
	uint64_t load_tick;	/* the CLK tick that loaded @n */
	bool counting;		/* GATE lets it count */
	uint64_t run_tick;	/* counting since: later ticks decrement */
	uint64_t done;		/* decrements before @run_tick */
	uint64_t pending_tick;	/* CR → CE on this tick; NEVER: none */

	/* OUT's rising edges up to @edge_tick not yet sent (counter 0). */
	uint64_t edge_tick;
	uint64_t rises;
};

struct i8254 {
	struct device parent_obj;

	struct memory_region io;
	struct clock_timer timer;	/* counter 0's next rising edge */
	pthread_mutex_t lock;
	struct channel ch[NUM_CHANNELS];
	uint64_t deadline;		/* of @timer; 0: not armed */
	uint64_t last_pulse_ns;
	uint64_t edges, coalesced;	/* on IRQ 0 */
	bool stopped;			/* unrealizing: arm nothing */
	bool count1_logged, bad_bcd_logged;
};

static unsigned channel_mode(const struct channel *c)
{
	return c->mode > 5 ? c->mode & 3 : c->mode;
}

static bool periodic(const struct channel *c)
{
	return channel_mode(c) == 2 || channel_mode(c) == 3;
}

/* Modes 1 and 5 count whatever GATE does; it only triggers them. */
static bool gate_lets_count(const struct channel *c)
{
	return channel_mode(c) == 1 || channel_mode(c) == 5 || c->gate;
}

static uint32_t modulus(const struct channel *c)
{
	return c->bcd ? 10000 : 65536;
}

static void log_once(bool *logged, const char *what)
{
	if (*logged)
		return;
	*logged = true;
	fprintf(stderr, "tinyvmm: i8254: %s (logged once)\n", what);
}

static uint32_t bcd_decode(struct i8254 *s, uint16_t v)
{
	uint32_t n = 0;

	for (int shift = 12; shift >= 0; shift -= 4) {
		unsigned digit = (v >> shift) & 0xf;

		if (digit > 9) {
			log_once(&s->bad_bcd_logged, "BCD count digit above 9 taken as 9");
			digit = 9;
		}
		n = n * 10 + digit;
	}
	return n;
}

static uint16_t bcd_encode(uint32_t n)
{
	uint16_t v = 0;

	for (int shift = 0; shift < 16; shift += 4, n /= 10)
		v |= (uint16_t)((n % 10) << shift);
	return v;
}

/* A CE value as the guest reads it: binary, or four BCD digits. */
static uint16_t encode_count(const struct channel *c, uint32_t value)
{
	value %= modulus(c);
	return c->bcd ? bcd_encode(value) : (uint16_t)value;
}

static uint32_t initial_count(struct i8254 *s, const struct channel *c)
{
	uint32_t n = c->bcd ? bcd_decode(s, c->cr) : c->cr;

	if (!n)
		return modulus(c);
	if (n == 1 && periodic(c)) {
		log_once(&s->count1_logged, "count 1 in mode 2 or 3 (illegal) taken as 2");
		return 2;
	}
	return n;
}

static uint64_t decrements(const struct channel *c, uint64_t t)
{
	return c->done + (c->counting && t > c->run_tick ? t - c->run_tick : 0);
}

/* The CE at tick @t, as a number below modulus() (or @frozen). */
static uint32_t channel_count(const struct channel *c, uint64_t t)
{
	uint64_t d;

	if (!c->loaded)
		return c->frozen;
	d = decrements(c, t);
	switch (channel_mode(c)) {
	case 2:
		return c->n - (uint32_t)(d % c->n);
	case 3:
		return c->n - (uint32_t)(d % c->n * 2 % c->n);
	default:	/* down to 0, then on from the top */
		return (c->n + modulus(c) - (uint32_t)(d % modulus(c))) % modulus(c);
	}
}

static bool channel_out(const struct channel *c, uint64_t t)
{
	uint64_t d;

	if (!c->loaded)
		return channel_mode(c) != 0;	/* the control word's state */
	d = decrements(c, t);
	switch (channel_mode(c)) {
	case 0:
	case 1:
		return d >= c->n;
	case 2:
		return !c->counting || d % c->n != c->n - 1;
	case 3:
		return !c->counting || d % c->n < (c->n + 1) / 2;
	default:
		return d != c->n;
	}
}

/* Modes 2 and 3 (counting): reloads by tick @t, one per period. */
static uint64_t periods(const struct channel *c, uint64_t t)
{
	return t > c->load_tick ? (t - c->load_tick) / c->n : 0;
}

/* Modes 0, 1, 4 and 5: the tick OUT rises, at terminal count (0, 1) or
 * one tick after it (the end of 4 and 5's strobe); NEVER once past or
 * while paused. */
static uint64_t one_shot_rise(const struct channel *c)
{
	uint64_t target = c->n + (channel_mode(c) >= 4);

	if (!c->counting || target <= c->done)
		return NEVER;
	return c->run_tick + (target - c->done);
}

/* The first tick after @t at which OUT rises, as the counter stands. In
 * modes 2 and 3 OUT rises at each reload. */
static uint64_t next_rise(const struct channel *c, uint64_t t)
{
	uint64_t r;

	if (!c->loaded || !c->counting)
		return NEVER;
	if (periodic(c))
		return c->load_tick + (periods(c, t) + 1) * c->n;
	r = one_shot_rise(c);
	return r > t ? r : NEVER;
}

static uint64_t rises_between(const struct channel *c, uint64_t from,
			      uint64_t to)
{
	uint64_t r;

	if (!c->loaded || !c->counting || to <= from)
		return 0;
	if (periodic(c))
		return periods(c, to) - periods(c, from);
	r = one_shot_rise(c);
	return r > from && r <= to;
}

/* CR → CE at tick @tick. */
static void channel_load(struct i8254 *s, struct channel *c, uint64_t tick)
{
	c->n = initial_count(s, c);
	c->loaded = true;
	c->load_tick = c->run_tick = tick;
	c->done = 0;
	c->counting = gate_lets_count(c);
	c->null_count = false;
	c->pending_tick = NEVER;
}

/* Brings @c to tick @t: a load that fell due is applied, OUT's rising
 * edges so far are added up. First thing whenever a counter is looked at
 * or changed. */
static void channel_advance(struct i8254 *s, struct channel *c, uint64_t t)
{
	if (c->pending_tick <= t) {
		c->rises += rises_between(c, c->edge_tick, c->pending_tick);
		c->edge_tick = c->pending_tick;
		channel_load(s, c, c->pending_tick);
	}
	c->rises += rises_between(c, c->edge_tick, t);
	c->edge_tick = t;
}

/* The CE stops and holds its count; nothing is pending. */
static void channel_stop(struct channel *c, uint64_t t)
{
	c->frozen = channel_count(c, t);
	c->loaded = false;
	c->pending_tick = NEVER;
}

static void channel_program(struct channel *c, uint8_t cw, uint64_t t)
{
	channel_stop(c, t);
	c->rw = CW_RW(cw);
	c->mode = CW_MODE(cw);
	c->bcd = cw & CW_BCD;
	c->write_msb = c->read_msb = false;
	c->have_count = false;
	c->null_count = true;
}

static void channel_count_written(struct channel *c, uint64_t t)
{
	c->have_count = true;
	c->null_count = true;
	switch (channel_mode(c)) {
	case 0:		/* OUT low at once, counts anew from the next CLK */
		channel_stop(c, t);
		/* fall through */
	case 4:
		c->pending_tick = t + 1;
		break;
	case 2:
	case 3:		/* the first count on the next CLK, then per period */
		if (!c->loaded)
			c->pending_tick = t + 1;
		else if (c->counting)
			c->pending_tick = next_rise(c, t);
		break;	/* GATE low: its rising edge loads it */
	default:	/* 1, 5: the next trigger loads it */
		break;
	}
}

static void channel_write(struct channel *c, uint8_t v, uint64_t t)
{
	switch (c->rw) {
	case RW_LSB:
		c->cr = v;
		break;
	case RW_MSB:
		c->cr = (uint16_t)(v << 8);
		break;
	default:
		if (!c->write_msb) {
			c->cr = (uint16_t)((c->cr & 0xff00) | v);
			c->write_msb = true;
			if (channel_mode(c) == 0)
				channel_stop(c, t);	/* the LSB stops mode 0 */
			return;
		}
		c->cr = (uint16_t)((c->cr & 0xff) | v << 8);
		c->write_msb = false;
	}
	channel_count_written(c, t);
}

/* Only the first latch counts until the latched value is read. */
static void channel_latch_count(struct channel *c, uint64_t t)
{
	if (c->latched_left)
		return;
	c->latched = encode_count(c, channel_count(c, t));
	c->latched_rw = c->rw;
	c->latched_left = c->rw == RW_WORD ? 2 : 1;
}

static void channel_latch_status(struct channel *c, uint64_t t)
{
	if (c->status_latched)
		return;
	c->status = (uint8_t)((channel_out(c, t) ? ST_OUT : 0) |
			      (c->null_count ? ST_NULL_COUNT : 0) |
			      c->rw << 4 | c->mode << 1 | c->bcd);
	c->status_latched = true;
}

static uint8_t count_byte(uint16_t v, bool msb)
{
	return (uint8_t)(msb ? v >> 8 : v);
}

/* A latched status first, then a latched count, else the live count. */
static uint8_t channel_read(struct channel *c, uint64_t t)
{
	bool msb;

	if (c->status_latched) {
		c->status_latched = false;
		return c->status;
	}
	if (c->latched_left) {
		msb = c->latched_rw == RW_MSB ||
		      (c->latched_rw == RW_WORD && c->latched_left == 1);
		c->latched_left--;
		return count_byte(c->latched, msb);
	}
	msb = c->rw == RW_MSB || (c->rw == RW_WORD && c->read_msb);
	if (c->rw == RW_WORD)
		c->read_msb = !c->read_msb;
	return count_byte(encode_count(c, channel_count(c, t)), msb);
}

static void channel_set_gate(struct channel *c, bool gate, uint64_t t)
{
	bool rising = gate && !c->gate;

	if (gate == c->gate)
		return;
	c->gate = gate;
	switch (channel_mode(c)) {
	case 0:
	case 4:		/* level: pause and go on */
		if (!c->loaded)
			break;
		if (gate) {
			c->counting = true;
			c->run_tick = t > c->load_tick ? t : c->load_tick;
		} else {
			c->done = decrements(c, t);
			c->counting = false;
		}
		break;
	case 2:
	case 3:		/* low: stop, OUT high; rising: reload */
		if (!rising && c->loaded) {
			c->done = decrements(c, t);
			c->counting = false;
			c->pending_tick = NEVER;
		}
		/* fall through */
	default:	/* 1, 5: a rising edge (re)starts the count */
		if (rising && c->have_count)
			c->pending_tick = t + 1;
		break;
	}
}

/* Clock time and CLK tick now. */
static uint64_t pit_now(const struct i8254 *s, uint64_t *ns)
{
	*ns = clock_now_ns(s->parent_obj.env->clock);
	return clock_ns_to_ticks(*ns, I8254_HZ);
}

/* The next tick at which OUT rises, a load that falls due first
 * included: no wake-up just to apply it. */
static uint64_t next_event(struct i8254 *s, const struct channel *c)
{
	uint64_t next = next_rise(c, c->edge_tick);
	struct channel after;

	if (c->pending_tick < next) {
		after = *c;
		channel_load(s, &after, c->pending_tick);
		next = next_rise(&after, c->pending_tick);
	}
	return next;
}

/* Counter 0 → IRQ 0: one pulse for the rising edges added up (however
 * many: the rest are coalesced), then the timer for the next edge, if
 * any. Lock held. */
static void pit_irq_update(struct i8254 *s, uint64_t now_ns)
{
	const struct device_env *env = s->parent_obj.env;
	struct channel *c = &s->ch[0];
	uint64_t next, deadline = 0;

	if (!env->isa_irq) {	/* nothing to tell: no timer */
		c->rises = 0;
		return;
	}
	if (c->rises) {
		s->edges++;
		s->coalesced += c->rises - 1;
		c->rises = 0;
		s->last_pulse_ns = now_ns;
		irq_pulse(&env->isa_irq[I8254_IRQ]);
	}
	next = next_event(s, c);
	if (next != NEVER && !s->stopped) {
		deadline = clock_ticks_to_ns(next, I8254_HZ);
		if (periodic(c) && deadline - s->last_pulse_ns < I8254_MIN_IRQ_PERIOD_NS)
			deadline = s->last_pulse_ns + I8254_MIN_IRQ_PERIOD_NS;
	}
	if (deadline != s->deadline) {
		s->deadline = deadline;
		clock_timer_mod(env->clock, &s->timer, deadline);
	}
}

static void pit_timer_expired(void *opaque)
{
	struct i8254 *s = opaque;
	uint64_t ns, t;

	pthread_mutex_lock(&s->lock);
	s->deadline = 0;		/* it fired: no longer armed */
	t = pit_now(s, &ns);
	channel_advance(s, &s->ch[0], t);
	pit_irq_update(s, ns);
	pthread_mutex_unlock(&s->lock);
}

static void pit_control(struct i8254 *s, uint8_t v, uint64_t t)
{
	struct channel *c;

	if (CW_SC(v) == SC_READ_BACK) {
		for (unsigned i = 0; i < NUM_CHANNELS; i++) {
			if (!(v & RB_COUNTER(i)))
				continue;
			channel_advance(s, &s->ch[i], t);
			if (!(v & RB_NO_COUNT))
				channel_latch_count(&s->ch[i], t);
			if (!(v & RB_NO_STATUS))
				channel_latch_status(&s->ch[i], t);
		}
		return;
	}
	c = &s->ch[CW_SC(v)];
	channel_advance(s, c, t);
	if (CW_RW(v) == RW_LATCH)
		channel_latch_count(c, t);
	else
		channel_program(c, v, t);
}

static uint64_t pit_read(void *opaque, uint64_t offset, unsigned size)
{
	struct i8254 *s = opaque;
	struct channel *c;
	uint64_t ns, t;
	uint8_t v;

	(void)size;
	if (offset >= CONTROL_PORT)
		return 0;	/* the control word is write-only */
	c = &s->ch[offset];
	pthread_mutex_lock(&s->lock);
	t = pit_now(s, &ns);
	channel_advance(s, c, t);
	v = channel_read(c, t);
	pthread_mutex_unlock(&s->lock);
	return v;
}

static void pit_write(void *opaque, uint64_t offset, uint64_t value,
		      unsigned size)
{
	struct i8254 *s = opaque;
	uint64_t ns, t;

	(void)size;
	pthread_mutex_lock(&s->lock);
	t = pit_now(s, &ns);
	if (offset >= CONTROL_PORT) {
		pit_control(s, (uint8_t)value, t);
	} else {
		channel_advance(s, &s->ch[offset], t);
		channel_write(&s->ch[offset], (uint8_t)value, t);
	}
	/* IRQ 0's timer is armed from counter 0 as of now, whichever counter
	 * was written: its edges due meanwhile (a late timer thread) first. */
	channel_advance(s, &s->ch[0], t);
	pit_irq_update(s, ns);
	pthread_mutex_unlock(&s->lock);
}

/* Byte registers; wider accesses are split, as QEMU does. */
static const struct memory_region_ops pit_ops = {
	.read = pit_read,
	.write = pit_write,
	.valid = { .min = 1, .max = 4 },
	.impl = { .min = 1, .max = 1 },
};

void i8254_set_gate(struct device *dev, unsigned channel, bool gate)
{
	struct i8254 *s = (struct i8254 *)dev;
	uint64_t ns, t;

	if (channel >= NUM_CHANNELS || !dev->realized)
		return;
	pthread_mutex_lock(&s->lock);
	t = pit_now(s, &ns);
	channel_advance(s, &s->ch[channel], t);
	channel_set_gate(&s->ch[channel], gate, t);
	if (channel == 0)
		pit_irq_update(s, ns);
	pthread_mutex_unlock(&s->lock);
}

bool i8254_get_out(struct device *dev, unsigned channel)
{
	struct i8254 *s = (struct i8254 *)dev;
	uint64_t ns, t;
	bool out;

	if (channel >= NUM_CHANNELS || !dev->realized)
		return false;
	pthread_mutex_lock(&s->lock);
	t = pit_now(s, &ns);
	channel_advance(s, &s->ch[channel], t);
	out = channel_out(&s->ch[channel], t);
	pthread_mutex_unlock(&s->lock);
	return out;
}

void i8254_print_stats(struct device *dev, FILE *out)
{
	struct i8254 *s = (struct i8254 *)dev;
	uint64_t edges, coalesced;

	pthread_mutex_lock(&s->lock);
	edges = s->edges;
	coalesced = s->coalesced;
	pthread_mutex_unlock(&s->lock);
	fprintf(out, "i8254: IRQ 0 edges %" PRIu64 ", ticks coalesced %" PRIu64 "\n",
		edges, coalesced);
}

/* As QEMU's reset: GATE 0 and 1 high, 2 low (port 0x61 bit 0); no count. */
static int pit_realize(struct device *dev, struct error *err)
{
	struct i8254 *s = (struct i8254 *)dev;
	uint64_t ns, t;

	if (!dev->env->clock)
		return error_setf(err, "i8254: needs a clock");
	clock_timer_init(&s->timer, pit_timer_expired, s);
	t = pit_now(s, &ns);
	for (unsigned i = 0; i < NUM_CHANNELS; i++)
		s->ch[i] = (struct channel){
			.rw = RW_WORD, .gate = i != 2, .pending_tick = NEVER,
			.edge_tick = t,
		};
	memory_region_init_io(&s->io, "i8254", &pit_ops, s, I8254_NUM_PORTS);
	memory_region_add_subregion(dev->env->io_space, I8254_PORT, &s->io, 0);
	return 0;
}

/* Stopped under the lock first, so that nothing (a port access still in
 * flight, the board's gate) arms the timer once it is deleted. */
static void pit_unrealize(struct device *dev)
{
	struct i8254 *s = (struct i8254 *)dev;

	pthread_mutex_lock(&s->lock);
	s->stopped = true;
	pthread_mutex_unlock(&s->lock);
	clock_timer_del(dev->env->clock, &s->timer);
	memory_region_del_subregion(dev->env->io_space, &s->io);
}

static void pit_instance_init(struct object *obj)
{
	pthread_mutex_init(&((struct i8254 *)obj)->lock, NULL);
}

static void pit_instance_finalize(struct object *obj)
{
	pthread_mutex_destroy(&((struct i8254 *)obj)->lock);
}

static void pit_class_init(struct object_class *oc)
{
	struct device_class *dc = DEVICE_CLASS(oc);

	dc->realize = pit_realize;
	dc->unrealize = pit_unrealize;
	dc->user_creatable = false;	/* the board makes the one there is */
}

static const struct type_info pit_type_info = {
	.name = TYPE_I8254,
	.parent = TYPE_DEVICE,
	.description = "8254 programmable interval timer (QEMU's isa-pit)",
	.instance_size = sizeof(struct i8254),
	.class_size = sizeof(struct device_class),
	.class_init = pit_class_init,
	.instance_init = pit_instance_init,
	.instance_finalize = pit_instance_finalize,
};

static void pit_register_types(void)
{
	type_register(&pit_type_info);
}
type_init(pit_register_types)
