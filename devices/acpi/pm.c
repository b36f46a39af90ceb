/* ACPI PM1 registers and PM timer; see pm.h for the register map and locks.
 *
 * Nothing ticks: the timer value and TMR_STS are computed from the guest
 * clock when read. TMR_STS is "bit 23 of the counter changed since the
 * guest last cleared it", i.e. the counter's bit-23 epoch (ticks >> 23)
 * differs from the one recorded at the clear. A clock timer is armed for
 * the next toggle only while TMR_EN is set and TMR_STS is clear: that is
 * the only moment the SCI can rise unasked. */
#include "devices/acpi/pm.h"

#include <pthread.h>
#include <stdio.h>

#include "devices/clock.h"
#include "devices/error.h"
#include "devices/irq.h"
#include "memory/region.h"

#define PM1_STS_BITS	(ACPI_PM1_TMR | ACPI_PM1_PWRBTN | ACPI_PM1_RTC | ACPI_PM1_WAK_STS)
#define PM1_EN_BITS	(ACPI_PM1_TMR | ACPI_PM1_GBL | ACPI_PM1_PWRBTN | ACPI_PM1_RTC)
/* The events that raise the SCI when enabled (GBL_STS never sets: no
 * firmware ever releases the global lock). */
#define PM1_SCI_BITS	(ACPI_PM1_TMR | ACPI_PM1_PWRBTN | ACPI_PM1_RTC)
#define PM1_CNT_BITS	(ACPI_PM1_SCI_EN | ACPI_PM1_BM_RLD | ACPI_PM1_SLP_TYP)
#define TMR_MASK	0xffffffu
#define TMR_EPOCH_SHIFT	23
#define PM_IO_SIZE	(ACPI_PM_TMR_BLK + ACPI_PM_TMR_LEN - ACPI_PM_BASE)

struct acpi_pm {
	struct device parent_obj;

	struct memory_region io, evt_io, cnt_io, tmr_io;
	struct clock_timer tmr_timer;
	pthread_mutex_t lock;
	uint16_t sts;		/* PWRBTN_STS, RTC_STS, WAK_STS: TMR_STS is derived */
	uint16_t en;
	uint16_t cnt;
	uint64_t tmr_epoch;	/* ticks >> 23 when TMR_STS was last cleared */
	uint64_t tmr_deadline;	/* of tmr_timer; 0: not armed */
	bool bad_sleep_logged;
};

static struct vm_clock *pm_clock(const struct acpi_pm *pm)
{
	return pm->parent_obj.env->clock;
}

static uint64_t pm_ticks(const struct acpi_pm *pm)
{
	return clock_ns_to_ticks(clock_now_ns(pm_clock(pm)), ACPI_PM_TIMER_HZ);
}

static uint16_t pm_sts(const struct acpi_pm *pm)
{
	bool toggled = pm_ticks(pm) >> TMR_EPOCH_SHIFT != pm->tmr_epoch;

	return pm->sts | (toggled ? ACPI_PM1_TMR : 0);
}

/* The SCI's level and the TMR_STS timer follow the registers; called with
 * the lock held after every change. */
static void pm_update(struct acpi_pm *pm)
{
	const struct device_env *env = pm->parent_obj.env;
	uint16_t sts = pm_sts(pm);
	bool sci = (pm->cnt & ACPI_PM1_SCI_EN) && (sts & pm->en & PM1_SCI_BITS);
	uint64_t deadline = 0;

	if (env->isa_irq)
		irq_set_level(&env->isa_irq[ACPI_SCI_IRQ], sci);
	if ((pm->en & ACPI_PM1_TMR) && !(sts & ACPI_PM1_TMR))
		deadline = clock_ticks_to_ns((pm->tmr_epoch + 1) << TMR_EPOCH_SHIFT,
					     ACPI_PM_TIMER_HZ);
	if (deadline != pm->tmr_deadline) {
		pm->tmr_deadline = deadline;
		clock_timer_mod(pm_clock(pm), &pm->tmr_timer, deadline);
	}
}

static void pm_tmr_expired(void *opaque)
{
	struct acpi_pm *pm = opaque;

	pthread_mutex_lock(&pm->lock);
	pm->tmr_deadline = 0;		/* it fired: no longer armed */
	pm_update(pm);
	pthread_mutex_unlock(&pm->lock);
}

/* The bits of a 16-bit register that an access of @size bytes at byte
 * @off (0 or 1) carries: a byte access leaves the other byte alone. */
static uint16_t byte_lanes(unsigned off, unsigned size)
{
	return size >= 2 ? 0xffff : (uint16_t)(0xff << (8 * off));
}

static uint64_t pm_evt_read(void *opaque, uint64_t offset, unsigned size)
{
	struct acpi_pm *pm = opaque;
	uint16_t v;

	(void)size;
	pthread_mutex_lock(&pm->lock);
	v = offset < 2 ? pm_sts(pm) : pm->en;
	pthread_mutex_unlock(&pm->lock);
	return v >> (8 * (offset & 1));
}

static void pm_sts_clear(struct acpi_pm *pm, uint16_t bits)
{
	if (bits & ACPI_PM1_TMR)
		pm->tmr_epoch = pm_ticks(pm) >> TMR_EPOCH_SHIFT;
	pm->sts &= ~bits;
}

static void pm_evt_write(void *opaque, uint64_t offset, uint64_t value,
			 unsigned size)
{
	struct acpi_pm *pm = opaque;
	uint16_t lanes = byte_lanes(offset & 1, size);
	uint16_t v = (uint16_t)(value << (8 * (offset & 1))) & lanes;

	pthread_mutex_lock(&pm->lock);
	if (offset < 2)
		pm_sts_clear(pm, v & PM1_STS_BITS);
	else
		pm->en = (pm->en & ~lanes) | (v & PM1_EN_BITS);
	pm_update(pm);
	pthread_mutex_unlock(&pm->lock);
}

static uint64_t pm_cnt_read(void *opaque, uint64_t offset, unsigned size)
{
	struct acpi_pm *pm = opaque;
	uint16_t v;

	(void)size;
	pthread_mutex_lock(&pm->lock);
	v = pm->cnt;
	pthread_mutex_unlock(&pm->lock);
	return v >> (8 * (offset & 1));
}

/* What SLP_EN with @slp_typ asks of the machine, in *@ev; false: nothing
 * (logged once). */
static bool pm_sleep_event(struct acpi_pm *pm, unsigned slp_typ, enum system_event *ev)
{
	switch (slp_typ) {
	case ACPI_SLP_TYP_S3:
		*ev = SYSTEM_SUSPEND;
		return true;
	case ACPI_SLP_TYP_S4:	/* the guest saved itself to disk: off, as QEMU */
	case ACPI_SLP_TYP_S5:
		*ev = SYSTEM_POWEROFF;
		return true;
	}
	if (!pm->bad_sleep_logged) {
		pm->bad_sleep_logged = true;
		fprintf(stderr, "tinyvmm: acpi-pm: SLP_EN with SLP_TYP %u, which no "
			"\\_Sx_ object names; ignored (logged once)\n", slp_typ);
	}
	return false;
}

static void pm_cnt_write(void *opaque, uint64_t offset, uint64_t value,
			 unsigned size)
{
	struct acpi_pm *pm = opaque;
	const struct device_env *env = pm->parent_obj.env;
	uint16_t lanes = byte_lanes(offset & 1, size);
	uint16_t v = (uint16_t)(value << (8 * (offset & 1))) & lanes;
	enum system_event ev;
	bool sleep = false;

	pthread_mutex_lock(&pm->lock);
	pm->cnt = (pm->cnt & ~lanes) | (v & PM1_CNT_BITS);
	if (v & ACPI_PM1_SLP_EN)
		sleep = pm_sleep_event(pm, (pm->cnt & ACPI_PM1_SLP_TYP) >>
				       ACPI_PM1_SLP_TYP_SHIFT, &ev);
	pm_update(pm);
	pthread_mutex_unlock(&pm->lock);
	if (sleep && env->system_event)
		env->system_event(env->host, ev);
}

/* Lock-free: the counter is the clock, nothing else. */
static uint64_t pm_tmr_read(void *opaque, uint64_t offset, unsigned size)
{
	(void)offset; (void)size;
	return pm_ticks(opaque) & TMR_MASK;
}

static void pm_tmr_write(void *opaque, uint64_t offset, uint64_t value,
			 unsigned size)
{
	(void)opaque; (void)offset; (void)value; (void)size;	/* read-only */
}

/* A dword reaches both registers, as byte enables do on the chipset (and
 * QEMU's memory core splits it so too). */
static const struct memory_region_ops pm_evt_ops = {
	.read = pm_evt_read,
	.write = pm_evt_write,
	.valid = { .min = 1, .max = 4 },
	.impl = { .min = 1, .max = 2 },
};

static const struct memory_region_ops pm_cnt_ops = {
	.read = pm_cnt_read,
	.write = pm_cnt_write,
	.valid = { .min = 1, .max = 2 },
	.impl = { .min = 1, .max = 2 },
};

static const struct memory_region_ops pm_tmr_ops = {
	.read = pm_tmr_read,
	.write = pm_tmr_write,
	.valid = { .min = 1, .max = 4 },
	.impl = { .min = 4, .max = 4 },
};

bool acpi_pm_wake_event(struct device *dev, enum wakeup_source src)
{
	struct acpi_pm *pm = (struct acpi_pm *)dev;
	uint16_t bit = src == WAKEUP_RTC ? ACPI_PM1_RTC :
		       src == WAKEUP_PWRBTN ? ACPI_PM1_PWRBTN : 0;
	bool wakes;

	pthread_mutex_lock(&pm->lock);
	pm->sts |= bit;
	wakes = bit == ACPI_PM1_PWRBTN || (pm->en & bit);
	pm_update(pm);
	pthread_mutex_unlock(&pm->lock);
	return wakes;
}

void acpi_pm_resumed(struct device *dev)
{
	struct acpi_pm *pm = (struct acpi_pm *)dev;

	pthread_mutex_lock(&pm->lock);
	pm->sts |= ACPI_PM1_WAK_STS;
	pm_update(pm);
	pthread_mutex_unlock(&pm->lock);
}

static int pm_realize(struct device *dev, struct error *err)
{
	struct acpi_pm *pm = (struct acpi_pm *)dev;

	if (!dev->env->clock)
		return error_setf(err, "acpi-pm: the PM timer needs a clock");
	clock_timer_init(&pm->tmr_timer, pm_tmr_expired, pm);
	pm->cnt = ACPI_PM1_SCI_EN;
	pm->tmr_epoch = pm_ticks(pm) >> TMR_EPOCH_SHIFT;

	memory_region_init_container(&pm->io, "acpi-pm", PM_IO_SIZE);
	memory_region_init_io(&pm->evt_io, "acpi-evt", &pm_evt_ops, pm, ACPI_PM1_EVT_LEN);
	memory_region_init_io(&pm->cnt_io, "acpi-cnt", &pm_cnt_ops, pm, ACPI_PM1_CNT_LEN);
	memory_region_init_io(&pm->tmr_io, "acpi-tmr", &pm_tmr_ops, pm, ACPI_PM_TMR_LEN);
	memory_region_add_subregion(&pm->io, ACPI_PM1A_EVT_BLK - ACPI_PM_BASE, &pm->evt_io, 0);
	memory_region_add_subregion(&pm->io, ACPI_PM1A_CNT_BLK - ACPI_PM_BASE, &pm->cnt_io, 0);
	memory_region_add_subregion(&pm->io, ACPI_PM_TMR_BLK - ACPI_PM_BASE, &pm->tmr_io, 0);
	memory_region_add_subregion(dev->env->io_space, ACPI_PM_BASE, &pm->io, 0);
	return 0;
}

/* Unmapped first, so no guest access re-arms the timer once it is gone. */
static void pm_unrealize(struct device *dev)
{
	struct acpi_pm *pm = (struct acpi_pm *)dev;

	memory_region_del_subregion(dev->env->io_space, &pm->io);
	clock_timer_del(pm_clock(pm), &pm->tmr_timer);
}

static void pm_instance_init(struct object *obj)
{
	pthread_mutex_init(&((struct acpi_pm *)obj)->lock, NULL);
}

static void pm_instance_finalize(struct object *obj)
{
	pthread_mutex_destroy(&((struct acpi_pm *)obj)->lock);
}

static void pm_class_init(struct object_class *oc)
{
	struct device_class *dc = DEVICE_CLASS(oc);

	dc->realize = pm_realize;
	dc->unrealize = pm_unrealize;
	dc->user_creatable = false;	/* the board makes the one there is */
}

static const struct type_info pm_type_info = {
	.name = TYPE_ACPI_PM,
	.parent = TYPE_DEVICE,
	.description = "ACPI PM1 event/control registers and PM timer (PIIX4 PM)",
	.instance_size = sizeof(struct acpi_pm),
	.class_size = sizeof(struct device_class),
	.class_init = pm_class_init,
	.instance_init = pm_instance_init,
	.instance_finalize = pm_instance_finalize,
};

static void pm_register_types(void)
{
	type_register(&pm_type_info);
}
type_init(pm_register_types)
