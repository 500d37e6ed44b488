# keyuan: one Makefile for the services, the CLI, the tests and the tools.
#
#   make            build everything into build/
#   make test       unit tests and process-level tests (sanitizer build)
#   make demo       run the four services on sample data and show reminders
#   make bench      end-to-end throughput against an ideal stage
#   make lint       clang-format check
#
# `make demo` and `make test` first install missing Debian packages
# (scripts/install-deps.sh); set KEYUAN_NO_INSTALL=1 to skip that step.

.DEFAULT_GOAL := all

SAN ?= 0
ifeq ($(SAN),1)
BUILD ?= build/san
SANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer
OPT = -O1
else
BUILD ?= build
SANFLAGS =
OPT = -O2
endif

GEN := build/gen
BIN := $(BUILD)/bin
OBJ := $(BUILD)/obj

CC ?= cc
PKGS := libzmq libprotobuf-c lmdb libcurl jansson libsodium libutf8proc
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CFLAGS += -std=c11 -D_GNU_SOURCE $(OPT) -g -Wall -Wextra -Werror \
          -Wshadow -Wstrict-prototypes -Wno-missing-field-initializers \
          -MMD -MP $(SANFLAGS) -Icommon -I$(GEN) $(PKG_CFLAGS)
LDFLAGS += $(SANFLAGS)
LDLIBS += $(PKG_LIBS) -lm -lpthread

# --- protobuf: generated C from proto/ and protoc's bundled Timestamp -----

PROTOS := $(wildcard proto/keyuan/v1/*.proto)
WKT_DIR := /usr/include
WKT := google/protobuf/timestamp.proto
GEN_C := $(patsubst proto/%.proto,$(GEN)/%.pb-c.c,$(PROTOS)) \
         $(patsubst %.proto,$(GEN)/%.pb-c.c,$(WKT))
GEN_H := $(GEN_C:.c=.h)

$(GEN)/.stamp: $(PROTOS)
	@mkdir -p $(GEN)
	protoc-c -Iproto -I$(WKT_DIR) --c_out=$(GEN) $(PROTOS) $(WKT)
	@touch $@

$(GEN_C) $(GEN_H): $(GEN)/.stamp

# --- the common library ---------------------------------------------------

COMMON_SRC := $(wildcard common/*.c)
COMMON_OBJ := $(patsubst %.c,$(OBJ)/%.o,$(COMMON_SRC)) \
              $(patsubst $(GEN)/%.c,$(OBJ)/gen/%.o,$(GEN_C))
LIBCOMMON := $(BUILD)/libkeyuan.a

$(LIBCOMMON): $(COMMON_OBJ)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(OBJ)/gen/%.o: $(GEN)/%.c $(GEN)/.stamp
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Wno-unused-parameter -c -o $@ $<

$(OBJ)/%.o: %.c $(GEN)/.stamp
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

# --- services and the CLI -------------------------------------------------

SERVICES := intake grading scheduler notifier
PROGRAMS := $(addprefix $(BIN)/keyuan-,$(SERVICES)) $(BIN)/keyuanctl

define program
$(1): $(patsubst %.c,$(OBJ)/%.o,$(wildcard $(2)/*.c)) $(LIBCOMMON)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach s,$(SERVICES),$(eval $(call program,$(BIN)/keyuan-$(s),services/$(s))))
$(eval $(call program,$(BIN)/keyuanctl,services/keyuanctl))

# Service sources other than main.c, linked into unit tests.
SERVICE_LIB_OBJ = $(patsubst %.c,$(OBJ)/%.o,$(filter-out %/main.c,\
                  $(wildcard services/*/*.c)))

all: $(PROGRAMS)

# --- tests ----------------------------------------------------------------

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(patsubst tests/unit/%.c,$(BIN)/tests/%,$(UNIT_SRC))

$(BIN)/tests/%: $(OBJ)/tests/unit/%.o $(SERVICE_LIB_OBJ) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

# Unit tests see every service's headers.
$(OBJ)/tests/%.o: CFLAGS += $(addprefix -I,$(wildcard services/*))

unit: $(UNIT_BIN)

deps:
	@bash scripts/install-deps.sh

test: deps
	$(MAKE) SAN=1 all unit
	$(MAKE) all
	bash tests/run.sh build/san/bin

demo: deps
	$(MAKE) all
	bash scripts/demo.sh build/bin

bench: deps
	$(MAKE) all
	$(MAKE) -C . bench-programs
	bash bench/run.sh build/bin

-include bench/bench.mk

lint:
	clang-format --dry-run --Werror common/*.[ch] services/*/*.[ch] \
	    tests/unit/*.c bench/*.c

clean:
	rm -rf build var

.PHONY: all unit deps test demo bench lint clean
.SECONDARY:

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
