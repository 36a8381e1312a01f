# SPDX-License-Identifier: Apache-2.0
# Thin wrapper over CMake: `make` builds everything into build/, the main binary is build/pathbench.
BUILD ?= build
JOBS ?= $(shell nproc)
PYTHON ?= /usr/bin/python3
# Default suite for `make bench` (override on the command line, e.g. `make bench DURATION=5`).
# 9 paths x 6 workloads x 8 repetitions of 0.3 s: about 4.5 minutes on 2 cores. Why 8 short
# repetitions rather than 3 long ones: a distribution-free 95% interval of a median needs at least
# 6, the noise is a state of the machine rather than of the window, and medians of 8 paired
# ratios reproduced within 5% at p90 where 6 did not (docs/noise.md).
DURATION ?= 0.3
WARMUP ?= 0.15
COOLDOWN ?= 0.05
REPS ?= 8
PATHS ?= default
WORKLOADS ?= default
RUN_ARGS ?=

# WERROR=ON: compiler warnings are errors (what CI runs: .ci/run). Given on the command line it
# reconfigures an existing build directory; otherwise the directory keeps what it had (default off).
WERROR ?=

.PHONY: all build build-suite configure test test-unprivileged bench bench-api bench-cost bench-peers bench-scale bench-power kernel-bench report compare clean

all: build

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(if $(WERROR),-DPATHBENCH_WERROR=$(WERROR))

configure: $(BUILD)/CMakeCache.txt
	$(if $(WERROR),cmake -S . -B $(BUILD) -DPATHBENCH_WERROR=$(WERROR) > /dev/null)

# Everything: the suite, the tests, pathbench-micro.
build: configure
	cmake --build $(BUILD) -j $(JOBS)

# What the suite runs and nothing else (a first `make bench` does not wait for the tests):
# pathbench with its BPF objects and the proxy.
build-suite: configure
	cmake --build $(BUILD) -j $(JOBS) --target pathbench pathbench-tproxy

test: build
	cd $(BUILD) && ctest --output-on-failure --timeout 900

test-unprivileged: build
	cd $(BUILD) && ctest --output-on-failure -L unit

# The report is made even when a result failed (exit 1): the failures are in it, with reasons.
bench: build-suite
	@rc=0; $(BUILD)/pathbench run --paths $(PATHS) --workloads $(WORKLOADS) \
	    --duration-s $(DURATION) --warmup-s $(WARMUP) --cooldown-s $(COOLDOWN) --repetitions $(REPS) \
	    --out-parent results --latest-link results/latest $(RUN_ARGS) || rc=$$?; \
	if [ -f results/latest/run.json ] && [ $$rc -le 1 ]; then \
	    $(PYTHON) -m analysis report results/latest && \
	    echo "report: $$(readlink -f results/latest)/report.html"; \
	fi; exit $$rc

# The suite on other kernels in a qemu guest (`pathbench vm`; README "Other kernels in a VM"):
#   make kernel-bench KERNEL=linux-image-6.1.0-50-amd64-unsigned
#   make kernel-bench KERNELS="host linux-image-6.1.0-50-amd64-unsigned"   (+ kernels.html)
#   make kernel-bench KERNEL_IMAGE=~/linux/arch/x86/boot/bzImage KERNEL_MODULES=/tmp/mods/lib/modules/6.19.0
# "host" is this machine's kernel, bare. Each kernel whose run.json came back (whatever the exit
# code: a failed result or a guest killed mid-run still brings it) gets a results directory with its report and
# (guests) console.log; results/latest points at the last; the cross-kernel report goes to
# results/kernels-<time>/. VM_ARGS go to `pathbench vm` (e.g. --memory-mib 3072 --accel tcg).
KERNEL ?=
KERNELS ?= $(KERNEL)
KERNEL_IMAGE ?=
KERNEL_MODULES ?=
VM_ARGS ?=
kernel-bench: build-suite
	@suite="--paths $(PATHS) --workloads $(WORKLOADS) --duration-s $(DURATION) --warmup-s $(WARMUP) \
	    --cooldown-s $(COOLDOWN) --repetitions $(REPS) $(RUN_ARGS)"; \
	ks="$(KERNELS)"; [ -n "$(KERNEL_IMAGE)" ] && ks="$$ks image"; \
	[ -n "$$ks" ] || { echo "make kernel-bench: set KERNEL=<package>, KERNELS=\"host <package> ...\" or KERNEL_IMAGE=<bzImage>"; exit 2; }; \
	rc=0; dirs=""; mkdir -p results; \
	for k in $$ks; do \
	    r=0; rm -f results/latest; \
	    case $$k in \
	    host) $(BUILD)/pathbench run $$suite --out-parent results --latest-link results/latest || r=$$?;; \
	    image) $(BUILD)/pathbench vm --kernel-image $(KERNEL_IMAGE) $(if $(KERNEL_MODULES),--modules $(KERNEL_MODULES)) \
	        $(VM_ARGS) --out-parent results --latest-link results/latest -- $$suite || r=$$?;; \
	    *) $(BUILD)/pathbench vm --kernel $$k $(VM_ARGS) --out-parent results --latest-link results/latest -- $$suite || r=$$?;; \
	    esac; \
	    if [ -f results/latest/run.json ]; then \
	        d=$$(readlink -f results/latest); dirs="$$dirs $$d"; \
	        $(PYTHON) -m analysis report $$d && echo "report ($$k): $$d/report.html"; \
	        [ $$r -le 1 ] || echo "kernel-bench: $$k exited $$r (its results came back: see the report)"; \
	    else echo "kernel-bench: $$k failed (exit $$r), no results"; fi; \
	    [ $$r -gt $$rc ] && rc=$$r; \
	done; \
	if [ $$(echo $$dirs | wc -w) -gt 1 ]; then \
	    out=results/kernels-$$(date -u +%Y%m%dT%H%M%SZ); \
	    $(PYTHON) -m analysis kernels --out $$out $$dirs && echo "cross-kernel report: $$out/kernels.html"; \
	fi; exit $$rc

# The suite in cost mode (docs/cost.md): a qemu guest on one vCPU with -icount shift=0,sleep=off,
# where one guest nanosecond is one instruction, so every figure is an instruction count and two
# runs agree to a fraction of a percent on any machine. About 12 minutes per kernel on 2 cores for
# the default suite at 3 repetitions (most of it qemu emulating the guest's one CPU).
#   make bench-cost                                   # auto: the running kernel, else Debian's current
#   make bench-cost KERNELS="linux-image-6.1.0-47-amd64-unsigned linux-image-6.1.0-57-amd64-unsigned"
#   make bench-cost NATIVE=results/latest             # cost ratios beside a time-based run's
#   make bench-cost KERNELS="linux-image-6.1.0-57-amd64-unsigned linux-image-6.12.95+deb12-amd64-unsigned/bookworm-backports"
#                                                     # PACKAGE/SUITE: another Debian suite, private apt lists
# PROFILE=0 leaves out the profiled pass per kernel (PROFILE_NS, PROFILE_REPS: docs/cost.md).
# KERNEL, KERNELS, KERNEL_IMAGE, KERNEL_MODULES, PATHS, WORKLOADS, DURATION, WARMUP, COOLDOWN, REPS,
# RUN_ARGS and VM_ARGS as for kernel-bench; results/latest-cost points at the last run.
COST_REPS ?= 3
bench-cost: build-suite
	@KERNEL="$(KERNEL)" KERNELS="$(KERNELS)" KERNEL_IMAGE="$(KERNEL_IMAGE)" KERNEL_MODULES="$(KERNEL_MODULES)" \
	    PATHS="$(PATHS)" WORKLOADS="$(WORKLOADS)" DURATION="$(DURATION)" WARMUP="$(WARMUP)" COOLDOWN="$(COOLDOWN)" \
	    REPS="$(if $(filter command line environment,$(origin REPS)),$(REPS),$(COST_REPS))" RUN_ARGS="$(RUN_ARGS)" \
	    VM_ARGS="$(VM_ARGS)" NATIVE="$(NATIVE)" PROFILE="$(PROFILE)" PROFILE_NS="$(PROFILE_NS)" \
	    PROFILE_REPS="$(PROFILE_REPS)" BUILD="$(BUILD)" PYTHON="$(PYTHON)" scripts/bench-cost.sh

# The scale suite (about 10 minutes on 2 cores): every intercepting path at 1, 100, 1000 and
# 10000 services (tcp_crr: connection rate, connect latency, CPU per connection; the cost of
# adding and removing one service), then payload and flow sweeps; a report for each.
SCALE_PATHS ?= tproxy-ipt,tproxy-nft,tproxy-nft-set,sk-lookup,tc-sk-assign
SERVICES ?= 1,100,1000,10000
bench-scale: build-suite
	@rc=0; $(BUILD)/pathbench run --paths $(SCALE_PATHS) --workloads tcp_crr --services $(SERVICES) \
	    --match-position last --duration-s 0.5 --warmup-s 0.25 --cooldown-s 0.05 --repetitions 6 \
	    --out-parent results --latest-link results/latest-scale || rc=$$?; \
	if [ -f results/latest-scale/run.json ] && [ $$rc -le 1 ]; then \
	    $(PYTHON) -m analysis report results/latest-scale && \
	    echo "scale report: $$(readlink -f results/latest-scale)/report.html"; fi; \
	rc2=0; $(BUILD)/pathbench run --paths baseline,tproxy-nft,sk-lookup,tc-redirect --workloads tcp_rr,tcp_stream \
	    --payload-bytes 64,1024,16384 --flows 1,2,4 --duration-s 0.4 --warmup-s 0.25 --cooldown-s 0.05 \
	    --repetitions 3 --out-parent results --latest-link results/latest-sweep || rc2=$$?; \
	if [ -f results/latest-sweep/run.json ] && [ $$rc2 -le 1 ]; then \
	    $(PYTHON) -m analysis report results/latest-sweep && \
	    echo "payload/flows report: $$(readlink -f results/latest-sweep)/report.html"; fi; \
	exit $$(( rc > rc2 ? rc : rc2 ))

# API traffic (docs/gateway.md, scripts/bench-api.sh): HTTP through an L7 gateway (HAProxy, HTTP
# mode) behind each interception and behind a plain address, beside pathbench's own L4 proxy, with
# wrk through the same gateway; then the open loop at 50% and 90% of each path's closed-loop rate.
# Then the API observers (--observe) on the baseline, the plain gateway and tproxy-nft (docs/observe.md).
# API_REPS repetitions of 1 s (wrk takes whole seconds): about 22 minutes on 2 cores.
API_PATHS ?= proxy-plain,tproxy-nft,tproxy-ipt,sk-lookup,tc-sk-assign
API_REPS ?= 6
bench-api: build-suite
	@API_PATHS="$(API_PATHS)" API_REPS="$(API_REPS)" RUN_ARGS="$(RUN_ARGS)" BUILD="$(BUILD)" PYTHON="$(PYTHON)" \
	    scripts/bench-api.sh

# A variable's value only where the user gave it (command line or environment), else empty: the
# target's script then uses its own default, not the suite's.
given = $(if $(filter command line environment,$(origin $(1))),$($(1)),)

# Agreement with sockperf, iperf3 and wrk (scripts/bench-peers.sh, docs/peers.md): RUNS (default 5)
# back-to-back short --peers runs of the baseline path, like for like, then per workload the median
# and worst pathbench ÷ reference against the targets (rr p50 ±5%, stream and crr ±10%). ~9 minutes.
bench-peers: build-suite
	@RUNS="$(RUNS)" PATHS="$(call given,PATHS)" WORKLOADS="$(call given,WORKLOADS)" \
	    DURATION="$(call given,DURATION)" WARMUP="$(call given,WARMUP)" REPS="$(call given,REPS)" \
	    RUN_ARGS="$(RUN_ARGS)" BUILD="$(BUILD)" PYTHON="$(PYTHON)" scripts/bench-peers.sh

# What `analysis compare` detects at the default suite's cost (scripts/detection-power.sh):
# A/A pairs must flag nothing, a calibrated +10% per-transaction cost on tcp_rr and udp_rr must
# be flagged; stream and pps detection limits are measured. Exit 1 when either fails.
# COST=1: the same proof in cost mode (scripts/detection-power-cost.sh): +1% and +5% per packet in
# instructions on tcp_rr, udp_rr and udp_pps must all be flagged, two boots (A/A) nothing; ~10 min.
COST ?=
bench-power: build-suite
ifeq ($(COST),1)
	KERNEL="$(if $(KERNEL),$(KERNEL),auto)" BUILD=$(BUILD) PYTHON=$(PYTHON) \
	    REPS="$(if $(filter command line environment,$(origin REPS)),$(REPS),$(COST_REPS))" \
	    scripts/detection-power-cost.sh
else
	DURATION=$(DURATION) WARMUP=$(WARMUP) COOLDOWN=$(COOLDOWN) REPS=$(REPS) BUILD=$(BUILD) PYTHON=$(PYTHON) \
	    scripts/detection-power.sh
endif

report:
	@test -n "$(RUN)" || { echo "usage: make report RUN=results/<dir>" >&2; exit 2; }
	$(PYTHON) -m analysis report $(RUN)

compare:
	@test -n "$(A)" -a -n "$(B)" || { echo "usage: make compare A=<run dir> B=<run dir>" >&2; exit 2; }
	$(PYTHON) -m analysis compare $(A) $(B)

clean:
	rm -rf $(BUILD)
