# drover: see README.md. Targets: all run test bench fuzz clean.
#   make            build/drover and build/backend
#   make run        drover in front of the bundled example app
#   make test       unit + e2e tests, then again under ASan/UBSan
#   make SAN=1      the sanitizer build, under build/asan/

CC      ?= cc
LLHTTP  := /usr/share/llhttp
CFLAGS_COMMON := -std=c11 -D_GNU_SOURCE -I. -I/usr/share/include/llhttp -g -pthread
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-missing-field-initializers
LIBS    := -lev -lyaml -ljansson -lcares -lssl -lcrypto -lm -pthread

ifeq ($(SAN),1)
BUILD   := build/asan
OPT     := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
LDSAN   := -fsanitize=address,undefined
else
BUILD   := build
OPT     := -O2
LDSAN   :=
endif

CFLAGS  := $(CFLAGS_COMMON) $(OPT) $(WARN) $(EXTRA_CFLAGS)

# Everything but main() goes into libdrover.a so unit tests can link it.
LIB_SRC  := $(sort $(wildcard lib/*.c conf/*.c router/*.c supervisor/*.c control/*.c))
LIB_SRC  := $(filter-out control/main.c,$(LIB_SRC))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/gen/dashboard_assets.o
# The dashboard's page, style and script (control/dashboard/), built into
# drover as byte arrays by scripts/embed.sh.
DASH_SRC := control/dashboard/index.html control/dashboard/dashboard.css control/dashboard/dashboard.js
LLHTTP_OBJ := $(BUILD)/obj/llhttp/llhttp.o $(BUILD)/obj/llhttp/api.o $(BUILD)/obj/llhttp/http.o
UNIT_SRC := $(sort $(wildcard tests/unit/*/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/unit/%)
E2E_SRC  := $(sort $(wildcard tests/e2e/*.c))
DESYNC_SRC := $(sort $(wildcard tests/e2e/desync/*.c))
DEPS_STAMP := build/.deps-ok

.PHONY: all run test test-stack unit e2e desync check-suite bench bench-syscalls bench-tls chaos fuzz clean deps mutate
.DEFAULT_GOAL := all

all: $(BUILD)/drover $(BUILD)/backend

deps: $(DEPS_STAMP)
$(DEPS_STAMP): scripts/deps.sh
	@mkdir -p build
	scripts/deps.sh
	@touch $@

# Objects wait for the packages (order-only: a reinstall does not rebuild).
$(BUILD)/obj/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

# Generated parser code: our warnings are not its warnings.
$(BUILD)/obj/llhttp/%.o: $(LLHTTP)/%.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) $(OPT) -DLLHTTP_STRICT_MODE=1 -w -c $< -o $@

$(BUILD)/gen/dashboard_assets.c: $(DASH_SRC) scripts/embed.sh
	@mkdir -p $(dir $@)
	scripts/embed.sh $@ dashboard_html=control/dashboard/index.html \
	    dashboard_css=control/dashboard/dashboard.css dashboard_js=control/dashboard/dashboard.js

$(BUILD)/obj/gen/dashboard_assets.o: $(BUILD)/gen/dashboard_assets.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/libdrover.a: $(LIB_OBJ) $(LLHTTP_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/drover: $(BUILD)/obj/control/main.o $(BUILD)/libdrover.a
	$(CC) $(LDSAN) -o $@ $^ $(LIBS)

$(BUILD)/backend: $(BUILD)/obj/bench/backend.o $(LLHTTP_OBJ)
	$(CC) $(LDSAN) -o $@ $^ -lev -lm

$(BUILD)/tests/unit/%: tests/unit/%.c $(BUILD)/libdrover.a | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Wno-missing-prototypes -MMD -MP -o $@ $< $(BUILD)/libdrover.a $(LDSAN) $(LIBS) -lcriterion

$(BUILD)/tests/e2e/e2e: $(E2E_SRC:%.c=$(BUILD)/obj/%.o) $(LLHTTP_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDSAN) -o $@ $^ -lssl -lcrypto -lm -pthread -ljansson

$(BUILD)/tests/e2e/desync: $(DESYNC_SRC:%.c=$(BUILD)/obj/%.o) $(LLHTTP_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDSAN) -o $@ $^ -lyaml -lssl -lcrypto

unit: $(UNIT_BIN) $(BUILD)/drover $(BUILD)/backend
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t --jobs 2; done

e2e: $(BUILD)/drover $(BUILD)/backend $(BUILD)/tests/e2e/e2e
	$(BUILD)/tests/e2e/e2e --drover $(BUILD)/drover --backend $(BUILD)/backend

# The request-side desync cases (tests/e2e/desync/): our regression set, or
# http-desync-guardian's tests/*.yaml with DESYNC_CORPUS=DIR (not in `make
# test`: the corpus is not in the repository).
desync: $(BUILD)/drover $(BUILD)/tests/e2e/desync
	$(BUILD)/tests/e2e/desync --drover $(BUILD)/drover $(if $(DESYNC_CORPUS),--corpus $(DESYNC_CORPUS))
	$(BUILD)/tests/e2e/desync --drover $(BUILD)/drover --tls $(if $(DESYNC_CORPUS),--corpus $(DESYNC_CORPUS))

check-suite: unit e2e
	scripts/check-rfc-table.sh
	$(MAKE) desync DESYNC_CORPUS=

test: $(DEPS_STAMP)
	$(MAKE) check-suite
	$(MAKE) SAN=1 check-suite
	$(MAKE) test-stack

# Two nodes, HAProxy and a DNS-discovering drover in network namespaces of
# its own (tests/stack/multinode.sh; about 20 s; skipped without netns).
test-stack: $(BUILD)/drover $(BUILD)/backend
	tests/stack/multinode.sh $(BUILD)

run: $(BUILD)/drover $(BUILD)/backend
	scripts/run-demo.sh $(BUILD)

# Faults from outside under load, beside HAProxy and nginx (chaos/README.md);
# QUICK=1 for about 2 minutes, SOAK=SECONDS for the soak.
chaos: $(BUILD)/drover $(BUILD)/backend
	chaos/run.sh $(BUILD)

# Each mutation in tests/mutations/ removes one behaviour; its tests must
# fail (scripts/mutate.sh). Minutes: not part of `make test`.
mutate: $(DEPS_STAMP)
	scripts/mutate.sh

# drover against HAProxy and nginx on the same backends (bench/README.md);
# QUICK=1 for a short indicative run.
bench: $(BUILD)/drover $(BUILD)/backend
	bench/run.sh $(BUILD)

# System calls per request of drover, HAProxy and nginx (strace -c).
bench-syscalls: $(BUILD)/drover $(BUILD)/backend
	bench/syscalls.sh $(BUILD)

# The TLS scenarios alone (bench/tls.sh; `make bench TLS=1` runs them after
# the plain ones).
bench-tls: $(BUILD)/drover $(BUILD)/backend
	bench/tls.sh $(BUILD)

# ---- make fuzz: libFuzzer targets (clang), never part of `make test` --------
#   make fuzz                          each target for FUZZ_TIME seconds (60)
#   make fuzz FUZZ_TIME=600 FUZZ_TARGETS=fuzz_proxy
# Objects under build/fuzz/ (-fsanitize=fuzzer-no-link,address,undefined);
# new inputs go to fuzz/corpus/<target>/ (ignored by git), seeds are read
# from fuzz/seeds/<target>/, crashes land in fuzz/crash-* (see fuzz/README.md).
FUZZ_TIME    ?= 60
FUZZ_TARGETS ?= fuzz_http fuzz_proxy
FUZZ_MAX_LEN ?= 8192
FUZZ_ARGS    ?=
FUZZ_CC      := clang
FUZZ_BUILD   := build/fuzz
FUZZ_CFLAGS  := $(CFLAGS_COMMON) -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=$(FUZZ_BUILD)/obj/%.o) $(FUZZ_BUILD)/obj/gen/dashboard_assets.o
FUZZ_LLHTTP_OBJ := $(FUZZ_BUILD)/obj/llhttp/llhttp.o $(FUZZ_BUILD)/obj/llhttp/api.o $(FUZZ_BUILD)/obj/llhttp/http.o
FUZZ_BINS    := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/%)
FUZZ_STAMP   := build/.deps-fuzz-ok

$(FUZZ_STAMP): scripts/deps.sh
	@mkdir -p build
	scripts/deps.sh fuzz
	@touch $@

# gcc -Werror already guards these sources; a clang-only warning must not
# stop the fuzzers.
$(FUZZ_BUILD)/obj/%.o: %.c | $(FUZZ_STAMP)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(WARN) -Wno-error -MMD -MP -c $< -o $@

$(FUZZ_BUILD)/obj/llhttp/%.o: $(LLHTTP)/%.c | $(FUZZ_STAMP)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -DLLHTTP_STRICT_MODE=1 -w -c $< -o $@

$(FUZZ_BUILD)/obj/gen/dashboard_assets.o: build/gen/dashboard_assets.c | $(FUZZ_STAMP)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_BUILD)/libdrover.a: $(FUZZ_LIB_OBJ) $(FUZZ_LLHTTP_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(FUZZ_BINS): $(FUZZ_BUILD)/%: fuzz/%.c $(FUZZ_BUILD)/libdrover.a | $(FUZZ_STAMP)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(WARN) -MMD -MP -o $@ $< $(FUZZ_BUILD)/libdrover.a $(LIBS)

fuzz: $(FUZZ_BINS)
	@set -e; for t in $(FUZZ_TARGETS); do \
	    mkdir -p fuzz/corpus/$$t; \
	    echo "== $$t for $(FUZZ_TIME)s"; \
	    $(FUZZ_BUILD)/$$t -max_total_time=$(FUZZ_TIME) -max_len=$(FUZZ_MAX_LEN) -timeout=30 \
	        -print_final_stats=1 -dict=fuzz/http.dict -artifact_prefix=fuzz/ $(FUZZ_ARGS) \
	        fuzz/corpus/$$t fuzz/seeds/$$t; \
	done

clean:
	rm -rf build

-include $(shell find build -name '*.d' -type f -not -path 'build/bench-npm/*' 2>/dev/null)
