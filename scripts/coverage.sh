#!/usr/bin/env bash
# make coverage: gcov line and branch coverage of the unit and boot tests for
# the VMM's own code (vmm/, devices/, memory/; tests/ and guest/ are not
# counted), per file and per directory. Runs the tests of a --coverage build
# (make coverage builds it), prints the report and keeps it in
# BUILD/coverage.txt.
#
#   scripts/coverage.sh [BUILD]    (default build-cov)
set -euo pipefail
cd "$(dirname "$0")/.."

B=${1:-build-cov}
[ -x "$B/unit_tests" ] && [ -x "$B/boot_tests" ] && [ -x "$B/tinyvmm" ] ||
	{ echo "$B has no --coverage build: run make coverage" >&2; exit 1; }

# gcov adds a run's counts to those already on disk: start from zero, so the
# figures are this run's. A failing test still counts what it ran, but the
# report then ends in an error: such figures are not the suite's.
find "$B" -name '*.gcda' -delete
failed=()
"$B/unit_tests" || failed+=(unit)
TINYVMM="$B/tinyvmm" "$B/boot_tests" || failed+=(boot)

# Unreachable branches are the ones gcc emits on lines with no code of
# ours (a closing brace, a compiler-made cleanup); they cannot be taken.
gcovr -r . --object-directory "$B" -f vmm/ -f devices/ -f memory/ \
	--exclude-unreachable-branches -j 2 --json "$B/coverage.json" \
	--json-summary "$B/coverage-summary.json"

# gcovr 5.2 reports per file only: the totals per directory, per tree and
# for all three are summed here.
per_directory() {
	python3 - "$B/coverage-summary.json" <<'EOF'
import json, os, sys
keys = ("line_covered", "line_total", "branch_covered", "branch_total")
totals = {}
for f in json.load(open(sys.argv[1]))["files"]:
    d = os.path.dirname(f["filename"])
    for group in (d + "/", d.split("/")[0] + "/**", "all"):
        t = totals.setdefault(group, [0] * 4)
        for i, k in enumerate(keys):
            t[i] += f[k]
pct = lambda c, n: f"{100.0 * c / n:5.1f}%" if n else "     -"
print(f"{'Directory':<18} {'Lines':>13} {'Cover':>6}   {'Branches':>11} {'Cover':>6}")
for d in sorted(totals, key=lambda d: (d == "all", d)):
    lc, lt, bc, bt = totals[d]
    print(f"{d:<18} {lc:>6}/{lt:<6} {pct(lc, lt)}   {bc:>5}/{bt:<5} {pct(bc, bt)}")
EOF
}

{
	echo "coverage of the unit and boot tests, $(date -u '+%Y-%m-%d %H:%M UTC')," \
		"git $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
	gcovr -r . --add-tracefile "$B/coverage.json" --txt
	gcovr -r . --add-tracefile "$B/coverage.json" --txt --branches
	per_directory
} | tee "$B/coverage.txt"
if [ ${#failed[@]} -gt 0 ]; then
	echo "make coverage: the ${failed[*]} tests failed: the figures above are not the suite's" >&2
	exit 1
fi
