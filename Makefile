# SPDX-License-Identifier: Apache-2.0
# Thin wrapper over CMake: `make` builds everything into build/, the main binary is build/pathbench.
BUILD ?= build
JOBS ?= $(shell nproc)
PYTHON ?= /usr/bin/python3
# Default suite for `make bench` (override on the command line, e.g. `make bench DURATION=5`).
# 8 paths x 6 workloads x 3 repetitions x ~2.3 s: about 5 minutes on 2 cores.
DURATION ?= 1.5
WARMUP ?= 0.3
REPS ?= 3
PATHS ?= default
WORKLOADS ?= default

.PHONY: all build test test-unprivileged bench report compare clean

all: build

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure --timeout 900

test-unprivileged: build
	cd $(BUILD) && ctest --output-on-failure -L unit

# The report is made even when a result failed (exit 1): the failures are in it, with reasons.
bench: build
	@rc=0; $(BUILD)/pathbench run --paths $(PATHS) --workloads $(WORKLOADS) \
	    --duration-s $(DURATION) --warmup-s $(WARMUP) --cooldown-s 0.1 --repetitions $(REPS) \
	    --out-parent results --latest-link results/latest || rc=$$?; \
	if [ -f results/latest/run.json ] && [ $$rc -le 1 ]; then \
	    $(PYTHON) -m analysis report results/latest && \
	    echo "report: $$(readlink -f results/latest)/report.html"; \
	fi; exit $$rc

report:
	@test -n "$(RUN)" || { echo "usage: make report RUN=results/<dir>" >&2; exit 2; }
	$(PYTHON) -m analysis report $(RUN)

compare:
	@test -n "$(A)" -a -n "$(B)" || { echo "usage: make compare A=<run dir> B=<run dir>" >&2; exit 2; }
	$(PYTHON) -m analysis compare $(A) $(B)

clean:
	rm -rf $(BUILD)
