# lambdad build. `make run` installs the Debian packages running needs
# (tools/deps.sh run), builds in parallel and serves; `make test` installs
# what the tests need as well and runs every tier (tools/test.sh); `make bench`
# and `make fuzz` likewise install what they need first. Each of them runs
# tools/deps.sh before a sub-make builds, so that pkg-config and the -dev
# libraries are there when the sub-make reads this file.
# Sources are every src/**/*.c; src/main.c holds main() and is left out of
# unit-test and fuzz binaries. The build prints one line per file (V=1
# prints the commands) and no warnings.

CC      ?= cc
PKGS    := libmicrohttpd jansson yajl sqlite3 libcrypto libarchive libcurl libpcre2-8 rdkafka librabbitmq libqpid-proton libcbor libpq
CFLAGS_COMMON := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wno-unused-parameter -Wno-missing-field-initializers \
                 -Wstrict-prototypes -Wmissing-prototypes -Isrc $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LIBS    := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm

SRCS    := $(shell find src -name '*.c' | sort)
LIBSRCS := $(filter-out src/main.c,$(SRCS))
HDRS    := $(shell find src -name '*.h')
# the web console's built files (console/dist, committed), embedded at build
# time by tools/genconsole.py; `make console` rebuilds dist/ with npm
CONSOLE_DIST := $(shell find console/dist -type f 2>/dev/null | sort)
CONSOLE_GEN  := build/gen/console_data.c

# release build
OBJDIR  := build/obj
OBJS    := $(patsubst src/%.c,$(OBJDIR)/%.o,$(SRCS)) $(OBJDIR)/gen/console_data.o
CFLAGS  ?= -O2 -g
# test build: ASan + UBSan + -Werror
TOBJDIR := build/test/obj
TOBJS   := $(patsubst src/%.c,$(TOBJDIR)/%.o,$(LIBSRCS)) $(TOBJDIR)/gen/console_data.o
TCFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined -Werror
UNITS   := $(patsubst tests/unit/%.c,build/test/unit/%,$(wildcard tests/unit/test_*.c))
RAPID   := runtimes/rapid/bin/init
KAFKA_MOCK := build/test/kafka_mock
FUZZERS := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
FOBJDIR := build/fuzz/obj
FOBJS   := $(patsubst src/%.c,$(FOBJDIR)/%.o,$(LIBSRCS)) $(FOBJDIR)/gen/console_data.o

# V=1 prints every command; by default one short line per file
ifeq ($(V),1)
Q    :=
say  := @true
else
Q    := @
say  := @echo
endif
# the sub-makes build in parallel unless make was given -j already
NPROC := $(shell nproc 2>/dev/null || echo 2)
PAR    = $(if $(findstring -j,$(MAKEFLAGS)),,-j$(NPROC))
SUBMAKE = $(MAKE) --no-print-directory $(PAR)

.PHONY: all deps run test unit fuzz fuzzers fuzz-run bench clean model console

all: build/lambdad

deps:
	@tools/deps.sh all

build/lambdad: $(OBJS) | $(RAPID)
	$(say) "  LD      $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $(OBJS) $(LIBS)

# the init of environments with extensions (runs inside the sandbox, shown
# at /var/rapid/init): a program of its own, never sanitized, static (a
# container image's root may have no libc of its own)
$(RAPID): runtimes/rapid/init.c
	@mkdir -p $(dir $@)
	$(say) "  CCLD    $@"
	$(Q)$(CC) -std=c11 -O2 -Wall -Wextra -Werror -static -o $@ $<

$(OBJDIR)/%.o: src/%.c $(HDRS)
	@mkdir -p $(dir $@)
	$(say) "  CC      $<"
	$(Q)$(CC) $(CFLAGS_COMMON) $(CFLAGS) -c -o $@ $<

build/test/lambdad: $(TOBJS) $(TOBJDIR)/main.o | $(RAPID) $(KAFKA_MOCK)
	$(say) "  LD      $@"
	$(Q)$(CC) $(TCFLAGS) -o $@ $^ $(LIBS)

# the black-box tests' Kafka cluster (tests/api/test_kafka.py): librdkafka's
# own mock cluster in a small program of the tests, never part of lambdad;
# built with the test binary so that the tests find it. Not sanitized (it is
# librdkafka's test facility, not lambdad's code).
$(KAFKA_MOCK): tests/tools/kafka_mock.c
	@mkdir -p $(dir $@)
	$(say) "  CCLD    $@"
	$(Q)$(CC) -std=c11 -D_GNU_SOURCE -O1 -g -Wall -Wextra -Wno-unused-parameter -Werror -o $@ $< $(shell pkg-config --cflags --libs rdkafka jansson 2>/dev/null)

$(CONSOLE_GEN): tools/genconsole.py $(CONSOLE_DIST)
	@mkdir -p $(dir $@)
	$(say) "  GEN     $@"
	$(Q)python3 tools/genconsole.py console/dist $@

$(OBJDIR)/gen/console_data.o: $(CONSOLE_GEN) src/api/console.h
	@mkdir -p $(dir $@)
	$(say) "  CC      $<"
	$(Q)$(CC) $(CFLAGS_COMMON) $(CFLAGS) -c -o $@ $<

$(TOBJDIR)/gen/console_data.o: $(CONSOLE_GEN) src/api/console.h
	@mkdir -p $(dir $@)
	$(say) "  CC      $< (test)"
	$(Q)$(CC) $(CFLAGS_COMMON) $(TCFLAGS) -c -o $@ $<

$(TOBJDIR)/%.o: src/%.c $(HDRS)
	@mkdir -p $(dir $@)
	$(say) "  CC      $< (test)"
	$(Q)$(CC) $(CFLAGS_COMMON) $(TCFLAGS) -c -o $@ $<

build/test/unit/%: tests/unit/%.c $(TOBJS) tests/unit/t.h
	@mkdir -p $(dir $@)
	$(say) "  CCLD    $@"
	$(Q)$(CC) $(CFLAGS_COMMON) $(TCFLAGS) -o $@ $< $(TOBJS) $(LIBS)

# fuzzers: clang + libFuzzer; tools/test.sh replays the corpora. The sources
# are compiled once (instrumented, build/fuzz/obj/) and linked into each harness.
FCFLAGS := -g -O1 -fsanitize=fuzzer-no-link,address,undefined
$(FOBJDIR)/%.o: src/%.c $(HDRS)
	@mkdir -p $(dir $@)
	$(say) "  CC      $< (clang fuzz)"
	$(Q)clang $(CFLAGS_COMMON) $(FCFLAGS) -c -o $@ $<

$(FOBJDIR)/gen/console_data.o: $(CONSOLE_GEN) src/api/console.h
	@mkdir -p $(dir $@)
	$(say) "  CC      $< (clang fuzz)"
	$(Q)clang $(CFLAGS_COMMON) $(FCFLAGS) -c -o $@ $<

.SECONDARY: $(FOBJS)
build/fuzz/%: tests/fuzz/%.c $(FOBJS)
	@mkdir -p $(dir $@)
	$(say) "  CCLD    $@ (clang)"
	$(Q)clang $(CFLAGS_COMMON) -g -O1 -fsanitize=fuzzer,address,undefined -o $@ $< $(FOBJS) $(LIBS)

# replay binaries: the same harness with a main() that runs files (gcc, ASan)
build/test/replay/%: tests/fuzz/%.c tests/fuzz/replay_main.c $(TOBJS)
	@mkdir -p $(dir $@)
	$(say) "  CCLD    $@"
	$(Q)$(CC) $(CFLAGS_COMMON) $(TCFLAGS) -o $@ $< tests/fuzz/replay_main.c $(TOBJS) $(LIBS)

# what the README's quick start starts (tests/api/test_quickstart.py checks
# that it serves the address the README's examples use)
run:
	@tools/deps.sh run
	@$(SUBMAKE) build/lambdad
	build/lambdad serve --listen 127.0.0.1:9001 --data-dir ./data

test:
	@tools/deps.sh test
	@tools/test.sh

unit: $(UNITS)

fuzz:
	@tools/deps.sh fuzz
	@$(SUBMAKE) fuzzers

fuzzers: $(FUZZERS)

# every harness for FUZZ_SECONDS each (FUZZ_JOBS at a time; FUZZ_ONLY="zip rapi"
# picks some): new inputs go to build/fuzz/new/<name>/, crashes to
# build/fuzz/crashes/<name>/; exits non-zero when any harness crashed
FUZZ_SECONDS ?= 60
FUZZ_JOBS    ?= 1
fuzz-run:
	@tools/deps.sh fuzz
	@$(SUBMAKE) fuzzers
	@FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_JOBS=$(FUZZ_JOBS) FUZZ_ONLY="$(FUZZ_ONLY)" tools/fuzz_run.sh

bench:
	@tools/deps.sh bench
	@$(SUBMAKE) build/lambdad
	@python3 bench/bench.py

model:
	python3 tools/genmodel.py > src/model/model_data.c

# the web console from its sources (console/src) into console/dist, which is
# committed: building lambdad needs no npm (docs/console.md)
console:
	cd console && npm ci --no-audit --no-fund --loglevel=error && npm run build

clean:
	rm -rf build
