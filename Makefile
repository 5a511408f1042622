# agentperf: one top-level build. bpf -> skeletons -> user -> tests.
# `make V=1` is verbose, `make SANITIZE=1` builds with ASan+UBSan into build-san/.

CLANG ?= clang
BPFTOOL ?= bpftool
CC ?= cc
ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/' -e 's/ppc64le/powerpc/' -e 's/s390x/s390/')
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo 0.1)

ifeq ($(SANITIZE),1)
BUILD ?= build-san
# gcc's undefined does not include float-cast-overflow: a double out of an
# int's range (a corrupted record's exit_code, say) must fail the tests.
SAN_FLAGS := -fsanitize=address,undefined,float-cast-overflow -fno-omit-frame-pointer \
	     -fno-sanitize-recover=all
else
BUILD ?= build
SAN_FLAGS :=
endif

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

CFLAGS ?= -O2 -g
CFLAGS += -pthread -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter -D_GNU_SOURCE -MMD -MP \
	  -DAGENTPERF_VERSION='"$(VERSION)"' $(SAN_FLAGS) \
	  -Iinclude -I$(BUILD) $(shell pkg-config --cflags libbpf libcjson libwebsockets 2>/dev/null)
LDFLAGS += -pthread $(SAN_FLAGS)
BPF_LIBS := $(shell pkg-config --libs libbpf 2>/dev/null || echo -lbpf -lelf -lz)
JSON_LIBS := $(shell pkg-config --libs libcjson 2>/dev/null || echo -lcjson) -lm
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null || echo -lcmocka)
LWS_LIBS := $(shell pkg-config --libs libwebsockets 2>/dev/null || echo -lwebsockets)
SQLITE_LIBS := $(shell pkg-config --libs sqlite3 2>/dev/null || echo -lsqlite3)
CAP_LIBS := $(shell pkg-config --libs libcap 2>/dev/null || echo -lcap)

# One object list per binary, as libbpf-tools keeps common objects and
# per-tool ones. user/common/ is what both binaries use; a client file
# cannot include a daemon header (its -I does not name user/daemon/).
COMMON := addr buf clock control_proto names number record timefmt
# The daemon: its parts with no libbpf, lws or sqlite are unit-tested directly.
DAEMON_PURE := config exporter history host journal lifecycle log perfmsg privs procfs projects \
	promtext readfile runs sampler schedule stream top waiters \
	gpu/drmmath gpu/fdinfo gpu/gpu gpu/gpudevs gpu/gpufig gpu/gpuscan gpu/nvml gpu/nvmlmath \
	registry/agentlock http/wsrules \
	tokens/jscan tokens/tokdirs tokens/tokfiles tokens/tokneg tokens/tokprocs tokens/tokrun \
	tokens/tokengine tokens/tokscan tokens/toksess tokens/transcript tokens/transcript_ids tokens/transcript_lines \
	tokens/transcript_tools tokens/useropen actions/actexec actions/acttab actions/actions actions/timeline
DAEMON_IO := agentperfd commands control daemon startup http/http http/wssession \
	registry/regengine registry/reglocks registry/registry tracker/pins tracker/tracker tracker/trackerinfo
CLIENT_PURE := runenv timeview topview
CLIENT_IO := agentperf cli client runcmd runwait topui watch

DAEMON_DIRS := tracker registry http tokens gpu actions
DAEMON_INC := -Iuser/daemon
# Tests and fuzz targets reach into the subsystems' parts directly.
PART_INC := $(patsubst %,-Iuser/daemon/%,$(DAEMON_DIRS))

COMMON_OBJS := $(patsubst %,$(BUILD)/user/common/%.o,$(COMMON))
DAEMON_PURE_OBJS := $(patsubst %,$(BUILD)/user/daemon/%.o,$(DAEMON_PURE))
DAEMON_OBJS := $(COMMON_OBJS) $(DAEMON_PURE_OBJS) $(patsubst %,$(BUILD)/user/daemon/%.o,$(DAEMON_IO))
CLIENT_PURE_OBJS := $(patsubst %,$(BUILD)/user/client/%.o,$(CLIENT_PURE))
CLIENT_OBJS := $(COMMON_OBJS) $(CLIENT_PURE_OBJS) $(patsubst %,$(BUILD)/user/client/%.o,$(CLIENT_IO))
# What a unit test links: an archive of every module that needs no kernel or
# socket, so that a test pulls in only what it calls (a test of the
# lifecycle or the sampler brings its own fake tracker).
UNIT_OBJS := $(COMMON_OBJS) $(DAEMON_PURE_OBJS) $(BUILD)/user/daemon/registry/regengine.o $(BUILD)/user/daemon/registry/reglocks.o $(BUILD)/user/daemon/registry/registry.o $(CLIENT_PURE_OBJS)
UNIT_LIB := $(BUILD)/libunit.a

UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c))
HELPERS := $(patsubst tests/integration/helpers/%.c,$(BUILD)/helpers/%,$(wildcard tests/integration/helpers/*.c))

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
UNITDIR ?= $(PREFIX)/lib/systemd/system

.PHONY: all deps run check test-unit test-layout test-integration install uninstall clean
all: $(BUILD)/agentperfd $(BUILD)/agentperf

$(BUILD) $(BUILD)/user/common $(BUILD)/user/daemon $(BUILD)/user/client $(BUILD)/tests $(BUILD)/helpers:
	$(Q)mkdir -p $@

# vmlinux.h comes from the running kernel's BTF; it is never committed.
$(BUILD)/vmlinux.h: | $(BUILD)
	$(call msg,GEN,$@)
	$(Q)test -r $(VMLINUX_BTF) || { echo "no BTF at $(VMLINUX_BTF): need a kernel with CONFIG_DEBUG_INFO_BTF=y" >&2; exit 1; }
	$(Q)$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@.tmp && mv $@.tmp $@

$(BUILD)/%.tmp.bpf.o: bpf/%.bpf.c bpf/core_fixes.bpf.h include/tracker_abi.h $(BUILD)/vmlinux.h | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) -g -O2 -Wall -Werror -target bpf -D__TARGET_ARCH_$(ARCH) \
		-I$(BUILD) -Iinclude -c $< -o $@

$(BUILD)/%.bpf.o: $(BUILD)/%.tmp.bpf.o
	$(call msg,BPFLINK,$@)
	$(Q)$(BPFTOOL) gen object $@ $<

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@.tmp && mv $@.tmp $@

$(BUILD)/user/daemon/tracker/tracker.o $(BUILD)/user/daemon/tracker/trackerinfo.o: $(BUILD)/tracker.skel.h

# Header dependencies come from -MMD -MP (the .d files included below).
$(BUILD)/user/common/%.o: user/common/%.c | $(BUILD)/user/common
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Iuser/common -c $< -o $@

$(BUILD)/user/daemon/%.o: user/daemon/%.c | $(BUILD)/user/daemon
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -Iuser/common $(DAEMON_INC) -c $< -o $@

$(BUILD)/user/client/%.o: user/client/%.c | $(BUILD)/user/client
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Iuser/common -Iuser/client -c $< -o $@

$(BUILD)/agentperfd: $(DAEMON_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(BPF_LIBS) $(LWS_LIBS) $(JSON_LIBS) $(SQLITE_LIBS) $(CAP_LIBS) -o $@

$(BUILD)/agentperf: $(CLIENT_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LWS_LIBS) $(JSON_LIBS) -o $@

$(UNIT_LIB): $(UNIT_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/tests/test_%: tests/unit/test_%.c $(UNIT_LIB) | $(BUILD)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Iuser/common $(DAEMON_INC) $(PART_INC) -Iuser/client $(LDFLAGS) $< $(UNIT_LIB) \
		$(SQLITE_LIBS) $(JSON_LIBS) $(CAP_LIBS) $(CMOCKA_LIBS) -o $@

# Test workloads; static so that their own start-up costs as little as possible.
$(BUILD)/helpers/%: tests/integration/helpers/%.c | $(BUILD)/helpers
	$(call msg,CC,$@)
	$(Q)$(CC) -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -pthread $< -o $@ -static

-include $(wildcard $(BUILD)/user/*/*.d $(BUILD)/user/daemon/*/*.d $(BUILD)/tests/*.d)
include tests/fuzz/fuzz.mk
-include tests/nvml.mk

deps:
	$(Q)scripts/install-deps.sh

# `sudo make run`: set up, build, start the daemon in the foreground.
run: deps
	$(Q)$(MAKE) --no-print-directory all
	@echo "agentperfd starting; in another terminal:  $(BUILD)/agentperf run --project demo -- make -j2"
	$(Q)exec $(BUILD)/agentperfd

# `sudo make check`: set up, build, every test.
check: deps
	$(Q)$(MAKE) --no-print-directory all $(UNIT_TESTS) $(HELPERS)
	$(Q)$(MAKE) --no-print-directory test-unit test-layout
	$(Q)$(MAKE) --no-print-directory SANITIZE=1 test-unit
	$(Q)$(MAKE) --no-print-directory fuzz-check
	$(Q)$(MAKE) --no-print-directory test-integration
	$(Q)$(MAKE) --no-print-directory SANITIZE=1 test-integration

test-unit: $(UNIT_TESTS)
	$(Q)scripts/run-unit-tests.sh $(UNIT_TESTS)

test-layout: all
	$(Q)tests/check-layout.sh $(BUILD)

test-integration: all $(HELPERS)
	$(Q)SANITIZE=$(SANITIZE) BUILD=$(BUILD) tests/integration/run.sh

# `sudo make install` (PREFIX=/usr/local, DESTDIR for staging): binaries,
# the systemd unit and the man pages. Then: systemctl enable --now agentperfd
install: $(BUILD)/agentperfd $(BUILD)/agentperf
	$(Q)install -D -m 0755 $(BUILD)/agentperfd $(DESTDIR)$(SBINDIR)/agentperfd
	$(Q)install -D -m 0755 $(BUILD)/agentperf $(DESTDIR)$(BINDIR)/agentperf
	$(Q)install -d $(DESTDIR)$(UNITDIR)
	$(Q)sed 's|@SBINDIR@|$(SBINDIR)|g' dist/agentperfd.service.in >$(DESTDIR)$(UNITDIR)/agentperfd.service
	$(Q)chmod 0644 $(DESTDIR)$(UNITDIR)/agentperfd.service
	$(Q)install -D -m 0644 man/agentperfd.8 $(DESTDIR)$(MANDIR)/man8/agentperfd.8
	$(Q)install -D -m 0644 man/agentperf.1 $(DESTDIR)$(MANDIR)/man1/agentperf.1
	@echo "installed under $(DESTDIR)$(PREFIX); start with: systemctl daemon-reload && systemctl enable --now agentperfd"

# `sudo make uninstall`: stops the service, records every run and unpins the
# BPF state (agentperfd --cleanup), then removes what install laid out.
uninstall:
	$(Q)if [ -z "$(DESTDIR)" ] && [ -x $(SBINDIR)/agentperfd ]; then \
		systemctl disable --now agentperfd 2>/dev/null || true; \
		$(SBINDIR)/agentperfd --cleanup; \
	fi
	$(Q)rm -f $(DESTDIR)$(SBINDIR)/agentperfd $(DESTDIR)$(BINDIR)/agentperf \
		$(DESTDIR)$(UNITDIR)/agentperfd.service $(DESTDIR)$(MANDIR)/man8/agentperfd.8 \
		$(DESTDIR)$(MANDIR)/man1/agentperf.1

clean:
	rm -rf build build-san

.DELETE_ON_ERROR:
.SECONDARY:
