# What limits the virtio-blk figures: the prose of BENCHMARKS.md's virtio-blk
# section, computed from bench_blk.sh's CSV of the same run, so that no
# figure is written in and the text stays true on any host.
#
#   awk -F, -v date=YYYY-MM-DD -v reps=N -v kvm="KVM MODULES" \
#       -f tests/bench/blk_limits.awk BLK_CSV
#
# CSV lines: figure,who,median,min,max (who: tinyvmm, qemu, dd, ...). The
# guest's own figures (guest/bench_blk.c): busy_us_per_req is its own time
# per request (driver instructions and exits), idle_us_per_req its time in
# HLT waiting for the device, so IOPS = 1e6 / (busy + idle) exactly;
# insn-cost.ns is one dec/jnz, pio-exit.ns one exit to the VMM's user space.

{ med[$1, $2] = $3; lo[$1, $2] = $4; hi[$1, $2] = $5 }

function has(f, w) { return ((f, w) in med) && med[f, w] != "" }
function pct(a, b) { return sprintf("%.0f%%", 100 * a / b) }

END {
	if (!has("insn-cost.ns", "tinyvmm") || !has("rand-read-4k-qd1.busy_us_per_req", "tinyvmm")) {
		print "No tinyvmm figures this run (see above), so nothing to explain them by."
		exit
	}
	insn = med["insn-cost.ns", "tinyvmm"]
	pio = med["pio-exit.ns", "tinyvmm"]
	printf "Measured on %s; tinyvmm's medians of this run unless named otherwise.\n\n", date

	# QD1: one request at a time, so its time per request is the whole story.
	b1 = med["rand-read-4k-qd1.busy_us_per_req", "tinyvmm"]
	i1 = med["rand-read-4k-qd1.idle_us_per_req", "tinyvmm"]
	k1 = med["rand-read-4k-qd1.kicks_per_req", "tinyvmm"]
	printf "- **The guest's own time per request.** Its driver runs at CPL0, which on this host\n"
	printf "  (KVM modules: %s) goes through KVM's instruction emulator: a simple instruction\n", kvm
	printf "  costs %.0f ns and a PIO exit to user space %.0f ns (the \"guest:\" rows). A 4 KiB read at\n", insn, pio
	printf "  QD1 keeps the guest busy %.1f µs (the time of about %.0f such instructions; its %.2f kicks,\n", b1, b1 * 1000 / insn, k1
	printf "  about one such exit each, take some %.1f µs of that) and idle in HLT, waiting for the\n", k1 * pio / 1000
	printf "  device, %.1f µs.\n", i1
	printf "  Requests run one at a time, so IOPS = 1 / (busy + idle per request) ≈ %.0f (measured: %.0f),\n", 1e6 / (b1 + i1), med["rand-read-4k-qd1.IOPS", "tinyvmm"]
	printf "  and %s of that time is the guest's own: a VMM can shorten only the kick exits and the\n", pct(b1, b1 + i1)
	printf "  idle time.\n"
	if (has("rand-read-4k-qd32.busy_us_per_req", "tinyvmm")) {
		b32 = med["rand-read-4k-qd32.busy_us_per_req", "tinyvmm"]
		i32 = med["rand-read-4k-qd32.idle_us_per_req", "tinyvmm"]
		printf "  At QD32 the device works while the guest does; the guest's own %.1f µs per request\n", b32
		printf "  (idle: %.1f µs) still bound it to about %.0f IOPS (measured: %.0f).\n", i32, 1e6 / (b32 + i32), med["rand-read-4k-qd32.IOPS", "tinyvmm"]
	}

	# Sequential, 1 MiB at QD8: the host's side of a request is one copy,
	# the guest's side its per-request work; the slower one sets the pace.
	n = split("read write", dir, " ")
	shown = 0
	far = 1
	for (d = 1; d <= n; d++) {
		ph = "seq-" dir[d] "-1m-qd8"
		if (!has("seq-" dir[d] ".MBps", "dd") || !has(ph ".busy_us_per_req", "tinyvmm"))
			continue
		dd = med["seq-" dir[d] ".MBps", "dd"]
		host_us = 1048576 / dd		# MB/s = bytes per µs
		busy = med[ph ".busy_us_per_req", "tinyvmm"]
		cap = 1048576 / busy		# MB/s if only the guest's work counted
		if (cap >= 0.8 * dd)
			far = 0
		if (!shown++)
			printf "- **1 MiB requests: the host's copy vs the guest's work.**\n"
		printf "  Host dd %ss 1 MiB in %.0f µs; the guest's own work per 1 MiB %s request at QD8\n", dir[d] == "read" ? "read" : "write", host_us, dir[d]
		printf "  takes %.0f µs. Were the VMM and the host to take no time at all, a guest would still\n", busy
		printf "  %s only about 1 MiB per %.0f µs = %.0f MB/s, %s of dd (measured: %.1f MB/s, %s).\n", dir[d], busy, cap, pct(cap, dd),
		       med[ph ".MBps", "tinyvmm"], pct(med[ph ".MBps", "tinyvmm"], dd)
	}
	if (shown) {
		if (far)
			printf "  So 80%% of dd or more is out of reach for any VMM on this host, tinyvmm or QEMU.\n"
		else
			printf "  This run's ceiling reaches 80%% of dd in at least one direction.\n"
	}

	# tinyvmm vs QEMU: the same guest, so judge medians against the spread.
	if (!has("insn-cost.ns", "qemu")) {
		printf "- **tinyvmm vs QEMU:** no QEMU figures this run.\n"
		exit
	}
	nf = split("seq-read-1m-qd8.MBps seq-read-1m-qd1.MBps seq-write-1m-qd8.MBps " \
		   "seq-write-1m-qd1.MBps rand-read-4k-qd1.IOPS rand-read-4k-qd32.IOPS", fig, " ")
	tot = ov = 0
	apart = ""
	bmax = 1
	for (f = 1; f <= nf; f++) {
		t = fig[f]
		if (!has(t, "tinyvmm") || !has(t, "qemu"))
			continue
		tot++
		if (lo[t, "tinyvmm"] <= hi[t, "qemu"] && lo[t, "qemu"] <= hi[t, "tinyvmm"])
			ov++
		else
			apart = apart sprintf("%s %s (tinyvmm/QEMU %.2f)", apart == "" ? "" : ",",
					      t, med[t, "tinyvmm"] / med[t, "qemu"])
		b = t
		sub(/\.(MBps|IOPS)$/, ".busy_us_per_req", b)
		if (has(b, "tinyvmm") && has(b, "qemu") && med[b, "qemu"] > 0) {
			r = med[b, "tinyvmm"] / med[b, "qemu"]
			if (r < 1)
				r = 1 / r
			if (r > bmax)
				bmax = r
		}
	}
	printf "- **tinyvmm vs QEMU:** both run the same guest, whose busy time per request differs\n"
	printf "  between them by at most %s (the busy rows). Of the %d throughput figures, %d have\n", pct(bmax - 1, 1), tot, ov
	printf "  overlapping tinyvmm and QEMU min–max ranges over %d repetition(s)%s", reps,
	       reps < 3 ? "\n  (too few to judge the noise by)" : ""
	printf "%s\n", apart == "" ? ": the differences are within the noise." : ";\n  apart:" apart "."
}
