# attn - build, test, benchmark and demo.
#
#   make            build ./attn
#   make test       install missing packages, build, run every test; ends "N passed, N failed"
#   make test SAN=1 the same under AddressSanitizer + UndefinedBehaviorSanitizer
#   make bench      benchmarks (figures on stdout)
#   make bench-real ingestion + every router + eval on ../shared/data/rust-clippy (skips when absent)
#   make demo       the main job on the bundled sample

CC      ?= cc
PKGS    := sqlite3 jansson libcurl libcrypto libpcre2-8 libgit2 libmicrohttpd libzstd
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CMOCKA_LIBS = $(shell pkg-config --libs cmocka 2>/dev/null)

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-unused-parameter
CSTD    := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
ifeq ($(SAN),1)
BUILD   ?= build/san
OPT     := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDSAN   := -fsanitize=address,undefined
else
BUILD   ?= build/rel
OPT     := -O2 -g
LDSAN   :=
endif
CFLAGS_ALL = $(CSTD) $(WARN) $(OPT) -Isrc $(PKG_CFLAGS) $(CFLAGS)
LDLIBS_ALL = $(LDSAN) $(PKG_LIBS) -lm $(LDLIBS)

LIB_SRC  := $(sort $(wildcard src/util/*.c src/store/*.c src/synth/*.c src/github/*.c \
              src/ingest/*.c src/history/*.c src/ownership/*.c src/route/*.c src/eval/*.c \
              src/exp/*.c src/export/*.c src/serve/*.c src/llm/*.c))
CMD_SRC  := $(sort $(wildcard src/cmd/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
CMD_OBJ  := $(CMD_SRC:%.c=$(BUILD)/%.o) $(BUILD)/src/main.o
LIB      := $(BUILD)/libattn.a
BIN      := $(BUILD)/attn

UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
BENCH_SRC := $(sort $(wildcard bench/bench_*.c))
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)

.PHONY: all attn deps npm-fixtures test unit bench bench-real demo clean valgrind-demo
all: attn

deps:
	@./scripts/install-deps

# The pinned @octokit/fixtures-server in build/npm for test_octokit (skips without npm).
npm-fixtures:
	@./scripts/install-npm-fixtures

# ./attn is always a copy of the build just made (phony, so switching between
# SAN=1 and the release build never leaves the other one in place).
attn: $(BIN)
	@cp $(BIN) attn

$(BUILD)/%.o: %.c $(wildcard src/*/*.h src/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

$(LIB): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BIN): $(CMD_OBJ) $(LIB)
	$(CC) $(OPT) -o $@ $(CMD_OBJ) $(LIB) $(LDLIBS_ALL)

$(BUILD)/tests/%: tests/unit/%.c tests/unit/testutil.h $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Itests/unit $< -o $@ $(LIB) $(CMOCKA_LIBS) $(LDLIBS_ALL)

$(BUILD)/bench/%: bench/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $< -o $@ $(LIB) $(LDLIBS_ALL)

unit: $(UNIT_BIN)

test: deps npm-fixtures
	@$(MAKE) --no-print-directory attn unit
	@ATTN_BIN=$(CURDIR)/$(BIN) BUILD=$(BUILD) ./tests/run.sh

bench: deps
	@$(MAKE) --no-print-directory attn $(BENCH_BIN)
	@for b in $(BENCH_BIN); do echo "== $$b"; $$b || exit 1; done
	@echo "== bench/ingest.sh"; ATTN_BIN=$(CURDIR)/$(BIN) sh bench/ingest.sh
	@echo "== bench/eval.sh"; ATTN_BIN=$(CURDIR)/$(BIN) sh bench/eval.sh
	@echo "== bench/llm.sh"; ATTN_BIN=$(CURDIR)/$(BIN) sh bench/llm.sh

# Ingestion of the real rust-clippy history (../shared/data/rust-clippy); skips when absent.
bench-real: deps
	@$(MAKE) --no-print-directory attn
	@ATTN_BIN=$(CURDIR)/$(BIN) sh bench/real.sh


demo: deps
	@$(MAKE) --no-print-directory attn
	@./scripts/demo.sh

valgrind-demo: deps
	@$(MAKE) --no-print-directory attn
	@DEMO_PRS=250 ATTN_WRAP="valgrind --error-exitcode=3 --leak-check=full --errors-for-leak-kinds=definite -q" ./scripts/demo.sh

clean:
	rm -rf build attn
