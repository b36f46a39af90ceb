/* The GDB stub's packet handlers (vmm/gdb/commands.c) without KVM: a stub
 * on a socketpair, a machine with guest RAM but no vCPU file descriptors
 * (so register access fails as a dead vCPU would), and the exact replies. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "memory/address_space.h"
#include "memory/ramblock.h"
#include "memory/region.h"
#include "vmm/exit_codes.h"
#include "vmm/gdb/internal.h"
#include "vmm/machine.h"
#include "vmm/vcpu.h"

static struct machine m;
static struct gdb_stub s;
static int peer;
static char reply[GDB_PACKET_MAX + 8];

static void setup(void)
{
	int sv[2];

	memset(&m, 0, sizeof(m));
	memset(&s, 0, sizeof(s));
	m.ncpus = 2;
	m.vcpus = calloc(2, sizeof(*m.vcpus));
	m.vcpus[0].kvm.fd = m.vcpus[1].kvm.fd = -1;
	cr_assert_eq(ram_block_init(&m.ram, "ram", 0x10000), 0);
	memory_region_init_container(&m.system_root, "system", UINT64_MAX);
	memory_region_init_ram(&m.ram_mr, "ram", &m.ram, 0, 0x10000);
	memory_region_add_subregion(&m.system_root, 0, &m.ram_mr, 0);
	m.system = address_space_new("memory", &m.system_root);
	s.m = &m;
	s.arch = GDB_ARCH_X86_64;
	cr_assert_eq(gdb_control_init(&s), 0);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	s.client_fd = sv[0];
	peer = sv[1];
	s.no_ack = true;
}

static void teardown(void)
{
	close(s.client_fd);
	close(peer);
	gdb_control_destroy(&s);
	free(s.last);
	address_space_destroy(m.system);
	ram_block_destroy(&m.ram);
	free(m.vcpus);
}

TestSuite(gdb_commands, .init = setup, .fini = teardown);

/* Undoes the framer's run-length encoding ("c*N": N - 29 more of c), as
 * gdb does after unescaping. */
static void expand_runs(char *p)
{
	char out[sizeof(reply)];
	size_t n = 0;

	for (size_t i = 0; p[i] && n < sizeof(out) - 128; i++) {
		if (p[i] == '*' && i && p[i + 1]) {
			for (int k = 0; k < p[i + 1] - 29; k++)
				out[n++] = p[i - 1];
			i++;
		} else {
			out[n++] = p[i];
		}
	}
	out[n] = 0;
	strcpy(p, out);
}

/* Sends @packet's payload to the handler; returns the reply's payload. */
static const char *ask(const char *packet)
{
	struct gdb_rx rx;
	ssize_t n;
	size_t len;

	gdb_handle_packet(&s, packet, strlen(packet));
	gdb_rx_init(&rx);
	n = recv(peer, reply, sizeof(reply) - 1, MSG_DONTWAIT);
	cr_assert_gt(n, 0, "no reply to '%s'", packet);
	for (ssize_t i = 0; i < n; i++)
		if (gdb_rx_feed(&rx, (uint8_t)reply[i]) == GDB_RX_PACKET) {
			strcpy(reply, gdb_rx_payload(&rx, &len));
			expand_runs(reply);
			return reply;
		}
	cr_assert_fail("no whole reply to '%s'", packet);
	return NULL;
}

static void drain(void)
{
	while (recv(peer, reply, sizeof(reply), MSG_DONTWAIT) > 0)
		;
}

static void no_reply(const char *packet)
{
	gdb_handle_packet(&s, packet, strlen(packet));
	cr_assert_eq(recv(peer, reply, sizeof(reply), MSG_DONTWAIT), -1, "'%s' answered", packet);
}

Test(gdb_commands, supported_and_queries)
{
	cr_assert(strstr(ask("qSupported:multiprocess+;swbreak+"), "PacketSize=1000;"));
	cr_assert(strstr(reply, "qXfer:features:read+") && strstr(reply, "QStartNoAckMode+"));
	cr_assert_str_eq(ask("qAttached"), "1");
	cr_assert_str_eq(ask("qC"), "QC1");
	cr_assert_str_eq(ask("qfThreadInfo"), "m1,2");
	cr_assert_str_eq(ask("qsThreadInfo"), "l");
	cr_assert_str_eq(ask("qSymbol::"), "OK");
	cr_assert_str_eq(ask("qTStatus"), "", "unknown: the empty reply");
	cr_assert_str_eq(ask("vMustReplyEmpty"), "");
	cr_assert_str_eq(ask("vCont?"), "vCont;c;C;s;S;t");
	cr_assert_str_eq(ask("j"), "");
	cr_assert_str_eq(ask(""), "");
}

Test(gdb_commands, thread_names_and_extra_info)
{
	char hex[64];

	gdb_hex_encode("vCPU 1", 6, hex);
	cr_assert_str_eq(ask("qThreadExtraInfo,2"), hex);
	cr_assert_str_eq(ask("qThreadExtraInfo,3"), "E16", "no thread 3");
	cr_assert(strstr(ask("qXfer:threads:read::0,fff"), "name=\"vCPU 1\""));
	cr_assert_eq(reply[0], 'l', "all of it in one reply");
}

Test(gdb_commands, target_description_in_pieces)
{
	const char *doc = gdb_tdesc(GDB_ARCH_X86_64, "target.xml");
	size_t total = strlen(doc);

	cr_assert_gt(total, 20);
	ask("qXfer:features:read:target.xml:0,10");
	cr_assert_eq(reply[0], 'm');
	cr_assert(!strncmp(reply + 1, doc, 10));
	/* The rest, as gdb asks for it: pieces of at most a packet. */
	for (size_t off = 10; off < total; off += strlen(reply + 1)) {
		char q[64];

		snprintf(q, sizeof(q), "qXfer:features:read:target.xml:%zx,fff", off);
		ask(q);
		cr_assert(!strncmp(reply + 1, doc + off, strlen(reply + 1)), "piece at %zu", off);
		cr_assert_eq(reply[0], off + strlen(reply + 1) < total ? 'm' : 'l');
	}
	cr_assert_str_eq(ask("qXfer:features:read:target.xml:ffff,10"), "l", "past the end");
	cr_assert_str_eq(ask("qXfer:features:read:nosuch.xml:0,10"), "E00");
	cr_assert_str_eq(ask("qXfer:features:read:target.xml:zz"), "E16");
}

Test(gdb_commands, threads_select_and_alive)
{
	cr_assert_str_eq(ask("Hg2"), "OK");
	cr_assert_eq(s.g_cpu, 1);
	cr_assert_str_eq(ask("Hc-1"), "OK");
	cr_assert_eq(s.c_cpu, 0, "-1: all, the selection stays");
	cr_assert_str_eq(ask("Hg3"), "E16");
	cr_assert_str_eq(ask("Hx1"), "E16");
	cr_assert_str_eq(ask("T1"), "OK");
	cr_assert_str_eq(ask("T0"), "E01");
	cr_assert_str_eq(ask("T99999999999999999"), "E01");
}

/* No vCPU to read: the replies are errors, never a crash. */
Test(gdb_commands, registers_of_a_dead_vcpu)
{
	cr_assert_str_eq(ask("g"), "E0e");
	cr_assert_str_eq(ask("G00"), "E16");
	cr_assert_str_eq(ask("p10"), "E0e");
	cr_assert_str_eq(ask("pzz"), "E0e");
	cr_assert_str_eq(ask("P10=00"), "E16");
	cr_assert_str_eq(ask("P10"), "E16");
}

Test(gdb_commands, physical_memory_read_and_write)
{
	s.phys = true;
	memcpy(m.ram.host + 0x1000, "\x12\x34\x56", 3);
	cr_assert_str_eq(ask("m1000,3"), "123456");
	cr_assert_str_eq(ask("M1000,2:abcd"), "OK");
	cr_assert_eq(m.ram.host[0x1001], 0xcd);
	cr_assert_str_eq(ask("X1002,1:\x7f"), "OK");
	cr_assert_eq(m.ram.host[0x1002], 0x7f);
	cr_assert_str_eq(ask("X1002,0:"), "OK", "gdb's probe for X");
	cr_assert_str_eq(ask("mfffe,4"), "0000", "stops short at the end of RAM: '%s'", reply);
	cr_assert_str_eq(ask("m20000,4"), "E0e", "no RAM at all");
	cr_assert_str_eq(ask("M20000,1:00"), "E0e");
	cr_assert_str_eq(ask("M1000,2:ab"), "E16", "fewer bytes than said");
	cr_assert_str_eq(ask("M1000,1:zz"), "E16");
	cr_assert_str_eq(ask("X1000,2:\x01"), "E16");
	cr_assert_str_eq(ask("m1000"), "E16");
	cr_assert_str_eq(ask("m1000,"), "E16");
}

/* Virtual addresses need the vCPU's page tables: none here. */
Test(gdb_commands, virtual_memory_without_a_vcpu)
{
	cr_assert_str_eq(ask("m1000,4"), "E0e");
}

Test(gdb_commands, breakpoint_packets)
{
	cr_assert_str_eq(ask("Z1,1000,1"), "OK");
	cr_assert(s.hw[0].used && s.hw[0].addr == 0x1000 && !s.hw[0].for_sw);
	cr_assert_str_eq(ask("Z1,1000,1"), "OK", "twice is once");
	cr_assert_str_eq(ask("Z1,2000,1"), "OK");
	cr_assert_str_eq(ask("Z1,3000,1"), "OK");
	cr_assert_str_eq(ask("Z1,4000,1"), "OK");
	cr_assert_str_eq(ask("Z1,5000,1"), "E01", "four debug registers");
	cr_assert_str_eq(ask("z1,1000,1"), "OK");
	cr_assert_str_eq(ask("z1,1000,1"), "E01", "not there");
	cr_assert_str_eq(ask("Z5,1000,1"), "", "no such type");
	cr_assert_str_eq(ask("Z1,1000"), "E16");
	cr_assert_str_eq(ask("Z1,1000,1;X1,0"), "OK", "conditions are gdb's");
	cr_assert_str_eq(ask("Z2,1000,0"), "E01", "a zero-length watchpoint");
}

Test(gdb_commands, vcont_sets_each_threads_action)
{
	no_reply("vCont;s:2;c");
	cr_assert(s.running);
	cr_assert_eq(s.vcpu[1].action, GDB_STEP);
	cr_assert_eq(s.vcpu[0].action, GDB_CONTINUE);
	s.running = false;
	no_reply("vCont;c:1");
	cr_assert_eq(s.vcpu[0].action, GDB_CONTINUE);
	cr_assert_eq(s.vcpu[1].action, GDB_STAY, "not named: stays stopped");
	s.running = false;
	cr_assert_str_eq(ask("vCont;t"), "OK", "nothing resumes");
	cr_assert_str_eq(ask("vCont;x"), "E16");
	cr_assert_str_eq(ask("vCont;c:9"), "E16");
	cr_assert_str_eq(ask("vCont;C"), "E16", "a signal number is needed");
	cr_assert_str_eq(ask("vCont;cz"), "E16");
	cr_assert_not(s.running);
	no_reply("vCont;S05:1");
	cr_assert_eq(s.vcpu[0].action, GDB_STEP);
}

Test(gdb_commands, legacy_step_holds_the_others)
{
	cr_assert_str_eq(ask("Hc2"), "OK");
	no_reply("s");
	cr_assert_eq(s.vcpu[1].action, GDB_STEP);
	cr_assert_eq(s.vcpu[0].action, GDB_STAY);
	s.running = false;
	no_reply("C05");
	cr_assert_eq(s.vcpu[0].action, GDB_CONTINUE);
	cr_assert_eq(s.vcpu[1].action, GDB_CONTINUE);
}

Test(gdb_commands, stop_reply_names_the_thread_and_why)
{
	s.g_cpu = 1;
	cr_assert_str_eq(ask("?"), "T05thread:2;");
	s.stop_event = (struct gdb_event){ GDB_EV_WATCH, 0x1234 };
	cr_assert_str_eq(ask("?"), "T05thread:2;watch:1234;");
	s.stop_event = (struct gdb_event){ GDB_EV_HWBREAK, 0 };
	cr_assert_str_eq(ask("?"), "T05thread:2;hwbreak:;");
	s.sigint = true;
	s.stop_event = (struct gdb_event){ GDB_EV_NONE, 0 };
	cr_assert_str_eq(ask("?"), "T02thread:2;");
}

Test(gdb_commands, monitor_the_stubs_own_commands)
{
	char hex[64], text[128];

	gdb_hex_encode("phys on", 7, hex);
	snprintf(text, sizeof(text), "qRcmd,%s", hex);
	gdb_handle_packet(&s, text, strlen(text));
	cr_assert(s.phys);
	drain();
	gdb_hex_encode("arch dual", 9, hex);
	snprintf(text, sizeof(text), "qRcmd,%s", hex);
	gdb_handle_packet(&s, text, strlen(text));
	cr_assert_eq(s.arch, GDB_ARCH_DUAL);
	drain();
	cr_assert_str_eq(ask("qRcmd,zz"), "E16");
}

Test(gdb_commands, detach_kill_and_no_ack)
{
	cr_assert_str_eq(ask("QStartNoAckMode"), "OK");
	cr_assert(s.no_ack);
	cr_assert_str_eq(ask("QNonStop:1"), "", "all-stop only");
	cr_assert_str_eq(ask("D"), "OK");
	cr_assert(s.detached);
	s.detached = false;
	pthread_mutex_init(&m.lock, NULL);
	pthread_cond_init(&m.cond, NULL);
	no_reply("k");
	cr_assert(s.detached);
	cr_assert(machine_stopping(&m));
	cr_assert_eq(m.exit_code, VMM_EXIT_KILLED);
}
