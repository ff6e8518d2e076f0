# lambdad build. `make run` installs missing Debian packages, builds and serves;
# `make test` builds the sanitizer build and runs every test tier.
# Sources are every src/**/*.c; src/main.c holds main() and is left out of
# unit-test and fuzz binaries.

CC      ?= cc
PKGS    := libmicrohttpd jansson sqlite3 libcrypto libarchive libcurl libpcre2-8
CFLAGS_COMMON := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wno-unused-parameter -Wno-missing-field-initializers \
                 -Wstrict-prototypes -Wmissing-prototypes -Isrc $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LIBS    := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm

SRCS    := $(shell find src -name '*.c' | sort)
LIBSRCS := $(filter-out src/main.c,$(SRCS))
HDRS    := $(shell find src -name '*.h')

# release build
OBJDIR  := build/obj
OBJS    := $(patsubst src/%.c,$(OBJDIR)/%.o,$(SRCS))
CFLAGS  ?= -O2 -g
# test build: ASan + UBSan + -Werror
TOBJDIR := build/test/obj
TOBJS   := $(patsubst src/%.c,$(TOBJDIR)/%.o,$(LIBSRCS))
TCFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined -Werror
UNITS   := $(patsubst tests/unit/%.c,build/test/unit/%,$(wildcard tests/unit/test_*.c))
FUZZERS := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))

.PHONY: all deps run test unit fuzz bench clean model

all: build/lambdad

deps:
	@tools/deps.sh

build/lambdad: $(OBJS)
	$(CC) $(CFLAGS) -o $@ $(OBJS) $(LIBS)

$(OBJDIR)/%.o: src/%.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) $(CFLAGS) -c -o $@ $<

build/test/lambdad: $(TOBJS) $(TOBJDIR)/main.o
	$(CC) $(TCFLAGS) -o $@ $^ $(LIBS)

$(TOBJDIR)/%.o: src/%.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) $(TCFLAGS) -c -o $@ $<

build/test/unit/%: tests/unit/%.c $(TOBJS) tests/unit/t.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) $(TCFLAGS) -o $@ $< $(TOBJS) $(LIBS)

# fuzzers: clang + libFuzzer when available; tests/run.sh replays the corpora
build/fuzz/%: tests/fuzz/%.c $(LIBSRCS) $(HDRS)
	@mkdir -p $(dir $@)
	clang $(CFLAGS_COMMON) -g -O1 -fsanitize=fuzzer,address,undefined -o $@ $< $(LIBSRCS) $(LIBS)

# replay binaries: the same harness with a main() that runs files (gcc, ASan)
build/test/replay/%: tests/fuzz/%.c tests/fuzz/replay_main.c $(TOBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) $(TCFLAGS) -o $@ $< tests/fuzz/replay_main.c $(TOBJS) $(LIBS)

run: deps build/lambdad
	build/lambdad serve --listen 127.0.0.1:9001 --data-dir ./data

test: deps
	@tools/test.sh

unit: $(UNITS)

fuzz: $(FUZZERS)

bench: deps build/lambdad
	@python3 bench/bench.py

model:
	python3 tools/genmodel.py > src/model/model_data.c

clean:
	rm -rf build
