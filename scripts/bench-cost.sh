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
#   PROFILE            1 (default): a second, profiled pass per kernel (--kernel-profile-ns PROFILE_NS,
#                      default 50000 instructions; PROFILE_REPS repetitions, default 1): where the
#                      instructions go, by kernel function (docs/cost.md); 0: none
#
# Each kernel's run lands in results/ with its report (results/latest-cost points at the last);
# the profiled passes land beside them (results/latest-cost-profile); the cross-kernel report (one
# kernel or more, with the profiles) goes to results/kernels-cost-<time>/.
# Exit: the worst of the guests' exit codes (0 ok, 1 a result failed; see `pathbench vm --help`).
set -uo pipefail
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
PB=$BUILD/pathbench
[ -x "$PB" ] || { echo "bench-cost: $PB not built (make build)" >&2; exit 3; }
ks=${KERNELS:-${KERNEL:-}}
[ -n "$ks" ] || ks=auto
[ -n "${KERNEL_IMAGE:-}" ] && ks="$ks image"
common=(--paths "${PATHS:-default}" --workloads "${WORKLOADS:-default}" --duration-s "${DURATION:-0.3}"
        --warmup-s "${WARMUP:-0.15}" --cooldown-s "${COOLDOWN:-0.05}")
# shellcheck disable=SC2206
suite=("${common[@]}" --repetitions "${REPS:-3}" ${RUN_ARGS:-})
# shellcheck disable=SC2206
vm_args=(${VM_ARGS:-})
profile=${PROFILE:-1}
# shellcheck disable=SC2206
profile_suite=("${common[@]}" --repetitions "${PROFILE_REPS:-1}" --kernel-profile-ns "${PROFILE_NS:-50000}" ${RUN_ARGS:-})
mkdir -p results
rc=0
dirs=()
profiles=()
# guest KERNEL LINK RUN-OPTIONS...: one guest of kernel KERNEL, its results linked from LINK.
guest() {
  local k=$1 link=$2
  shift 2
  rm -f "$link"
  if [ "$k" = image ]; then
    "$PB" vm --accel tcg-icount --kernel-image "$KERNEL_IMAGE" ${KERNEL_MODULES:+--modules "$KERNEL_MODULES"} \
      "${vm_args[@]}" --out-parent results --latest-link "$link" -- "$@"
  else
    "$PB" vm --accel tcg-icount --kernel "$k" "${vm_args[@]}" --out-parent results --latest-link "$link" -- "$@"
  fi
}
for k in $ks; do
  r=0
  start=$(date +%s)
  guest "$k" results/latest-cost "${suite[@]}" || r=$?
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
  if [ "$profile" = 1 ] && [ "$r" -le 1 ]; then
    start=$(date +%s)
    p=0
    guest "$k" results/latest-cost-profile "${profile_suite[@]}" || p=$?
    echo "bench-cost: $k profiled pass took $(( $(date +%s) - start )) s (wall, boot included)"
    [ -f results/latest-cost-profile/run.json ] && profiles+=("$(readlink -f results/latest-cost-profile)")
    [ "$p" -le 1 ] || echo "bench-cost: $k profiled pass exited $p"
  fi
done
if [ "${#dirs[@]}" -gt 1 ] || [ "${#profiles[@]}" -gt 0 ]; then
  out=results/kernels-cost-$(date -u +%Y%m%dT%H%M%SZ)
  $PYTHON -m analysis kernels --out "$out" "${dirs[@]}" ${profiles[@]:+--profiles "${profiles[@]}"} &&
    echo "cross-kernel report: $out/kernels.html"
fi
exit "$rc"
