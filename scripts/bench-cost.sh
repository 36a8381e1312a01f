#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# scripts/bench-cost.sh (`make bench-cost`): the suite in cost mode, one qemu guest per kernel with
# `-icount shift=0,sleep=off` on one vCPU (docs/cost.md): every figure is an instruction count.
#
#   KERNEL / KERNELS   auto (default: the running kernel where /boot and /lib/modules have it, else
#                      Debian's current one), running, a Debian package name, or PACKAGE/SUITE;
#                      KERNEL_IMAGE (+ KERNEL_MODULES) adds a kernel you built
#   PATHS WORKLOADS DURATION WARMUP COOLDOWN REPS RUN_ARGS    as for `make bench`
#   VM_ARGS            more `pathbench vm` options (--memory-mib, --timeout-s)
#   NATIVE             a time-based run directory to put the cost ratios beside (report --native)
#
# Each kernel's run lands in results/ with its report (results/latest-cost points at the last);
# with more than one kernel, the cross-kernel report goes to results/kernels-cost-<time>/.
# Exit: the worst of the guests' exit codes (0 ok, 1 a result failed; see `pathbench vm --help`).
set -uo pipefail
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
PB=$BUILD/pathbench
[ -x "$PB" ] || { echo "bench-cost: $PB not built (make build)" >&2; exit 3; }
ks=${KERNELS:-${KERNEL:-}}
[ -n "$ks" ] || ks=auto
[ -n "${KERNEL_IMAGE:-}" ] && ks="$ks image"
suite=(--paths "${PATHS:-default}" --workloads "${WORKLOADS:-default}" --duration-s "${DURATION:-0.3}"
       --warmup-s "${WARMUP:-0.15}" --cooldown-s "${COOLDOWN:-0.05}" --repetitions "${REPS:-3}")
# shellcheck disable=SC2206
suite+=(${RUN_ARGS:-})
# shellcheck disable=SC2206
vm_args=(${VM_ARGS:-})
mkdir -p results
rc=0
dirs=()
for k in $ks; do
  r=0
  rm -f results/latest-cost
  start=$(date +%s)
  if [ "$k" = image ]; then
    "$PB" vm --accel tcg-icount --kernel-image "$KERNEL_IMAGE" ${KERNEL_MODULES:+--modules "$KERNEL_MODULES"} \
      "${vm_args[@]}" --out-parent results --latest-link results/latest-cost -- "${suite[@]}" || r=$?
  else
    "$PB" vm --accel tcg-icount --kernel "$k" "${vm_args[@]}" --out-parent results --latest-link results/latest-cost \
      -- "${suite[@]}" || r=$?
  fi
  echo "bench-cost: $k took $(( $(date +%s) - start )) s (wall, boot included)"
  if [ -f results/latest-cost/run.json ]; then
    d=$(readlink -f results/latest-cost)
    dirs+=("$d")
    $PYTHON -m analysis report "$d" ${NATIVE:+--native "$NATIVE"} && echo "report ($k): $d/report.html"
    [ "$r" -le 1 ] || echo "bench-cost: $k exited $r (its results came back: see the report)"
  else
    echo "bench-cost: $k failed (exit $r), no results"
  fi
  [ "$r" -gt "$rc" ] && rc=$r
done
if [ "${#dirs[@]}" -gt 1 ]; then
  out=results/kernels-cost-$(date -u +%Y%m%dT%H%M%SZ)
  $PYTHON -m analysis kernels --out "$out" "${dirs[@]}" && echo "cross-kernel report: $out/kernels.html"
fi
exit "$rc"
