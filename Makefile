# SPDX-License-Identifier: GPL-2.0
#
# Proxy Execution for Linux 6.12 LTS: series and test harness.
# A thin layer over scripts/; "make help" lists the targets.

ARCH ?= x86_64
FLAVOUR ?= debug
KERNEL ?= pe
CMDLINE ?=
TESTS ?= info
KUNIT_GLOB ?= $(shell sed -e 's/\#.*//' -e '/^[[:space:]]*$$/d' tests/kunit/filter | head -n 1)
export KERNEL KSRC WORK RESULTS JOBS FRAGMENTS V FORCE BASE ACCEL SMP MEM
export BOOT_TIMEOUT PE_TIMEOUT TORTURE_SECS ARCHES TEST_CMDLINE TEST_CORESCHED TEST_SCX SMT
# TEST_PREEMPT is not exported here: set to "" it means no extra boots,
# and an export would set it to "" when unset.  make passes it on from the
# command line or the environment.
export BENCH_QUICK BENCH_ROUNDS BENCH_LAT BENCH_OVH BENCH_REPS BENCH_SECS
export BENCH_SAMPLES BENCH_CAP_MS BENCH_ICOUNT BENCH_XCPU_ICOUNT BENCH_CONTROL BENCH_LAT_SMP BENCH_OVH_SMP ALLOWANCE_US
export SOAK_MIN SOAK_PROXY SOAK_SEED SOAK_SLICE SILENCE_TIMEOUT CHECK_CONFIGS

S := scripts

.DEFAULT_GOAL := help
.PHONY: help deps fetch apply unapply export check-sync prepare config build \
	initramfs selftests-build boot shell kunit selftest torture soak judge check \
	check-bisect check-configs test demo bench clean distclean

help: ## Show this help
	@echo "Usage: make <target> [ARCH=x86_64|arm64] [FLAVOUR=debug|perf|kasan|scx] [KERNEL=pe|base|ctl] [VAR=...]"
	@echo
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | \
		awk -F':.*## ' '{ printf "  %-16s %s\n", $$1, $$2 }'
	@echo
	@echo "Variables: ARCH FLAVOUR KERNEL KSRC JOBS FRAGMENTS CMDLINE TESTS KUNIT_GLOB"
	@echo "           ACCEL SMP MEM BOOT_TIMEOUT TORTURE_SECS ARCHES FORCE V"
	@echo "  bench:    BENCH_QUICK BENCH_ROUNDS BENCH_LAT BENCH_OVH BENCH_REPS"
	@echo "           BENCH_SECS BENCH_SAMPLES BENCH_CAP_MS BENCH_ICOUNT BENCH_CONTROL"
	@echo "           BENCH_LAT_SMP BENCH_OVH_SMP ALLOWANCE_US"

deps: ## Install the Debian packages the harness needs (root)
	$(S)/deps.sh

fetch: ## Make the baseline kernel git tree (work/linux, tag base-6.12.117)
	$(S)/fetch.sh

apply: fetch ## Apply patches/ with git am (no-op when applied)
	$(S)/apply.sh

unapply: ## Move the kernel tree back to the baseline
	$(S)/apply.sh -u

export: ## Regenerate patches/ from the kernel tree's commits
	$(S)/export.sh

check-sync: ## Fail when patches/ and the kernel tree disagree
	$(S)/check-sync.sh

prepare: ## deps, fetch, apply, selftests and guest image for ARCH
	$(S)/prepare.sh $(ARCH)

config: fetch ## Merge kernel-config/ fragments into the build's .config
	$(S)/config.sh $(ARCH) $(FLAVOUR)

build: fetch ## Build KERNEL (default pe: the series) for ARCH and FLAVOUR
	$(S)/apply.sh -i
	$(S)/build.sh $(ARCH) $(FLAVOUR)

selftests-build: fetch ## Build tests/selftests for ARCH
	$(S)/selftests-build.sh $(ARCH)

initramfs: selftests-build ## Build the guest userspace image for ARCH
	$(S)/initramfs.sh $(ARCH)

boot: build initramfs ## Boot ARCH in QEMU and run TESTS (CMDLINE adds to the kernel command line)
	$(S)/boot.sh -T $(TESTS) $(if $(CMDLINE),-c "$(CMDLINE)") $(ARCH) $(FLAVOUR)

shell: build initramfs ## Boot ARCH with an interactive guest shell
	$(S)/boot.sh -T info,shell $(if $(CMDLINE),-c "$(CMDLINE)") $(ARCH) $(FLAVOUR) </dev/tty

kunit: build initramfs ## Boot ARCH and run the KUnit suites (KUNIT_GLOB)
	$(S)/boot.sh -w kunit-$(ARCH) -k '$(KUNIT_GLOB)' -T info $(if $(CMDLINE),-c "$(CMDLINE)") $(ARCH) $(FLAVOUR)

selftest: build initramfs ## Boot ARCH and run tests/selftests
	$(S)/boot.sh -w selftest-$(ARCH) -T info,selftests $(if $(CMDLINE),-c "$(CMDLINE)") $(ARCH) $(FLAVOUR)

torture: build initramfs ## Boot ARCH and run locktorture and test-ww_mutex
	$(S)/boot.sh -w torture-$(ARCH) -T info,torture,ww_mutex $(if $(CMDLINE),-c "$(CMDLINE)") $(ARCH) $(FLAVOUR)

soak: build initramfs ## Soak the debug (or FLAVOUR=kasan) kernel: torture, stress, fault storms (SOAK_MIN, default 60)
	SOAK_FLAVOUR=$(FLAVOUR) $(S)/soak.sh $(ARCH)

judge: ## Judge a results folder again: make judge DIR=results/<run> [STATE=on|off|absent]
	$(S)/judge.sh $(if $(STATE),-s $(STATE)) $(DIR)

check: fetch ## checkpatch --strict, shellcheck, apply check, check-sync, check-configs (CHECK_CONFIGS=0: without)
	$(S)/check.sh

check-bisect: fetch ## Build every patch of the series with the option off and on
	$(S)/check-bisect.sh $(ARCH)

check-configs: apply ## Compile what the series touches under Debian's distro configs and an arm64 sched_ext config (CONFIGS=...)
	$(S)/check-configs.sh $(CONFIGS)

test: ## Everything CI runs; ends with "N passed, N failed"
	$(S)/test.sh

demo: ## Boot x86_64 with and without sched_proxy_exec and show the state
	$(S)/demo.sh

bench: ## Base vs flag off vs flag on (and ctl), interleaved, for ARCH (BENCH_QUICK=1: reduced set)
	$(S)/bench.sh

clean: ## Remove build folders and guest images (keeps the kernel tree)
	rm -rf work/build work/initramfs work/selftests

distclean: ## Remove work/ and results/ (refuses a kernel tree with unexported work)
	$(S)/check-sync.sh
	@if [ -n "$$(git -C work/linux status --porcelain --ignored 2>/dev/null)" ]; then \
		echo "distclean: work/linux has uncommitted changes; commit and export them first" >&2; exit 1; fi
	rm -rf work results
