# Switchboard - GNU Make + pkg-config.
#   make            build/switchboard (release, -O2)
#   make test       ASan+UBSan build, unit tests, fuzz-corpus replay, integration tests
#   make demo       build, then build/switchboard demo
#   make fuzz       libFuzzer targets (clang), each run for FUZZ_SECONDS
#   make bench      benchmarks in bench/ (prints figures, asserts nothing about time)
#   make lint / format / check-format

BUILD   ?= build
CC      ?= cc
CLANG   ?= clang
PYTHON  ?= $(shell test -x /usr/bin/python3 && echo /usr/bin/python3 || echo python3)
FUZZ_SECONDS ?= 20

PKGS    := libmicrohttpd jansson openssl sqlite3 libcurl libsodium vips libdeflate
WARN    := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wformat=2 -Wvla -Wimplicit-fallthrough -Wundef -Wcast-qual -Wwrite-strings
# Warnings are errors in every build, so a warning that would fail CI fails here first.
WERROR  := -Werror
PKG_INC  = $(patsubst -I%,-isystem %,$(shell pkg-config --cflags-only-I $(PKGS) 2>/dev/null))
# Debian's libwslay-dev ships no pkg-config file: linked by name.
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lwslay -lpthread -lm
BASE_CFLAGS = -std=c17 -D_GNU_SOURCE -Isrc $(PKG_INC) $(WARN) -MMD -MP
REL_CFLAGS  := -O2 -g $(WERROR)
ASAN_CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
               -fno-sanitize-recover=all -Werror
FUZZ_CFLAGS := -O1 -g -fsanitize=fuzzer-no-link,address,undefined -Werror
TSAN_CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=thread -Werror

SRCS      := $(shell find src -name '*.c' | sort)
LIB_SRCS  := $(filter-out src/main.c,$(SRCS))
REL_OBJS  := $(SRCS:%.c=$(BUILD)/rel/%.o)
ASAN_OBJS := $(SRCS:%.c=$(BUILD)/asan/%.o)
ASAN_LIB  := $(LIB_SRCS:%.c=$(BUILD)/asan/%.o)
FUZZ_LIB  := $(LIB_SRCS:%.c=$(BUILD)/fuzzobj/%.o)

UNIT_SRCS := $(shell find tests/unit -name 'test_*.c' | sort)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))
REPLAY_BINS := $(patsubst tests/fuzz/%.c,$(BUILD)/replay/%,$(FUZZ_SRCS))

DEPS_STAMP := $(BUILD)/.deps-ok

.PHONY: all test unit fuzz-replay integration browser tsan demo fuzz bench lint format check-format clean deps
all: $(BUILD)/switchboard

deps: $(DEPS_STAMP)
$(DEPS_STAMP): scripts/deps.sh
	@mkdir -p $(BUILD)
	bash scripts/deps.sh
	@touch $@

$(BUILD)/switchboard: $(REL_OBJS)
	$(CC) $(REL_CFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/asan/switchboard: $(ASAN_OBJS)
	$(CC) $(ASAN_CFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/rel/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(REL_CFLAGS) -c -o $@ $<

$(BUILD)/tsan/switchboard: $(SRCS:%.c=$(BUILD)/tsan/%.o)
	$(CC) $(TSAN_CFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/tsan/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(TSAN_CFLAGS) -c -o $@ $<

$(BUILD)/asan/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(ASAN_CFLAGS) -c -o $@ $<

$(BUILD)/fuzzobj/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CLANG) $(BASE_CFLAGS) $(FUZZ_CFLAGS) -c -o $@ $<

# The simulator page is embedded with .incbin (src/emulator/simulator.c): rebuild it on edits.
$(foreach v,rel asan tsan fuzzobj,$(BUILD)/$(v)/src/emulator/simulator.o): $(wildcard web/simulator/*)
# The dashboard's page is embedded the same way (src/dashboard/web.c).
$(foreach v,rel asan tsan fuzzobj,$(BUILD)/$(v)/src/dashboard/web.o): $(wildcard web/dashboard/*)

# Unit tests: one binary per tests/unit/<module>/test_<x>.c, linked with the ASan objects.
$(BUILD)/tests/%: tests/unit/%.c $(ASAN_LIB) tests/unit/testutil.h
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(ASAN_CFLAGS) -Itests/unit -o $@ $< $(ASAN_LIB) $(PKG_LIBS) -lcmocka

# Fuzz targets, and the same targets linked with a replay main() for make test.
$(BUILD)/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB)
	@mkdir -p $(dir $@)
	$(CLANG) $(BASE_CFLAGS) -O1 -g -fsanitize=fuzzer,address,undefined -Werror -o $@ $< \
		$(FUZZ_LIB) $(PKG_LIBS)

$(BUILD)/replay/%: tests/fuzz/%.c tests/fuzz/replay_main.c $(ASAN_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(ASAN_CFLAGS) -o $@ $< tests/fuzz/replay_main.c $(ASAN_LIB) $(PKG_LIBS)

test: $(BUILD)/switchboard $(BUILD)/asan/switchboard $(UNIT_BINS) $(REPLAY_BINS)
	@BUILD=$(BUILD) PYTHON=$(PYTHON) bash scripts/run-tests.sh

unit: $(UNIT_BINS)
	@BUILD=$(BUILD) SUITES=unit bash scripts/run-tests.sh

fuzz-replay: $(REPLAY_BINS)
	@BUILD=$(BUILD) SUITES=fuzz bash scripts/run-tests.sh

integration: $(BUILD)/asan/switchboard
	@BUILD=$(BUILD) PYTHON=$(PYTHON) SUITES=integration bash scripts/run-tests.sh

browser: $(BUILD)/asan/switchboard
	@BUILD=$(BUILD) SUITES=browser bash scripts/run-tests.sh

# The integration suite against a ThreadSanitizer build (the HTTP, loader and worker threads).
tsan: $(BUILD)/tsan/switchboard
	@BUILD=$(BUILD) PYTHON=$(PYTHON) SB_BIN=$(BUILD)/tsan/switchboard SUITES=integration \
		TSAN_OPTIONS="halt_on_error=1 exitcode=66" bash scripts/run-tests.sh

demo: $(BUILD)/switchboard
	$(BUILD)/switchboard demo

fuzz: $(FUZZ_BINS)
	@set -e; for f in $(FUZZ_BINS); do n=$$(basename $$f); c=tests/fuzz/corpus/$${n#fuzz_}; \
		mkdir -p $(BUILD)/fuzz-corpus/$$n; echo "== $$n ($(FUZZ_SECONDS)s)"; \
		$$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 $(BUILD)/fuzz-corpus/$$n $$c \
		2>&1 | tail -n 3; done

bench: $(BUILD)/switchboard
	bash bench/kb.sh
	bash bench/webhook.sh
	bash bench/image.sh

lint: | $(DEPS_STAMP)
	@! grep -rnwE 'sprintf|strcpy|strcat|strtok|atoi|gets|alloca' src --include='*.[ch]' \
		|| { echo "lint: banned function"; exit 1; }
	cppcheck -q --enable=warning,performance,portability --error-exitcode=1 \
		--suppress=missingIncludeSystem -Isrc src
	clang-tidy -quiet $(SRCS) -- $(BASE_CFLAGS)

format:
	clang-format -i $(shell find src tests -name '*.[ch]')

check-format:
	@clang-format --dry-run --Werror $(shell find src tests -name '*.[ch]')

clean:
	rm -rf $(BUILD)/rel $(BUILD)/asan $(BUILD)/tests $(BUILD)/fuzz $(BUILD)/fuzzobj \
		$(BUILD)/replay $(BUILD)/switchboard

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
