# Shared by the bench scripts (sourced): medians and table cells from
# $RES, a file of "who figure value" lines, one per sample; whether QEMU
# is here to compare with.

# check_qemu: have_qemu=1 when $QEMU can be run; else 0, and NO_QEMU_NOTE
# says so, on stderr now and in the report (Markdown, stdout) later.
check_qemu() {
	have_qemu=0
	NO_QEMU_NOTE=""
	if command -v "$QEMU" >/dev/null 2>&1; then
		have_qemu=1
	else
		NO_QEMU_NOTE="QEMU: $QEMU not installed: its figures are skipped (\"-\")."
		echo "# $NO_QEMU_NOTE" >&2
	fi
}

# stats WHO FIGURE: "median min max" of the samples, or nothing. %.10g so
# large values are not printed in e-notation.
stats() {
	awk -v who="$1" -v fig="$2" '$1 == who && $2 == fig { print $3 }' "$RES" |
	sort -g | awk '{ v[NR] = $1 }
	END {
		if (!NR) exit
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.10g %.10g %.10g\n", m, v[1], v[NR]
	}'
}

median() {
	stats "$1" "$2" | awk '{ print $1 }'
}

# A number for a table, DECIMALS places; "-" for none.
fmt() {
	awk -v v="$1" -v d="$2" 'BEGIN { if (v == "") print "-"; else printf "%.*f\n", d, v }'
}

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "-";
					 else printf "%.2f\n", a / b }'
}
