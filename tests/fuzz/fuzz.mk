# libFuzzer targets (tests/fuzz/): `make fuzz` builds them, `make fuzz-check`
# replays each corpus and fuzzes each target briefly; scripts/fuzz.sh SECONDS
# runs a longer campaign. Included by the top-level Makefile.
#
# clang compiles each target's sources itself, with the fuzzer's coverage and
# the sanitizers: gcc's objects in $(BUILD)/user/ carry neither.

FUZZ_CC ?= clang
FUZZ_DIR := $(BUILD)/fuzz
# fuzz-check's time per target: 18 targets stay well under 3 minutes.
FUZZ_SECONDS ?= 8
FUZZ_SAN := -fsanitize=fuzzer,address,undefined,float-cast-overflow -fno-sanitize-recover=all
FUZZ_CFLAGS := -g -O1 -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter -D_GNU_SOURCE \
	       -fno-omit-frame-pointer $(FUZZ_SAN) -Iinclude -Iuser/common -Iuser/daemon -Iuser/daemon/tracker -Iuser/daemon/registry \
	       -Iuser/daemon/http -Iuser/daemon/tokens -Iuser/daemon/gpu -Iuser/daemon/actions -Iuser/client \
	       $(shell pkg-config --cflags libcjson 2>/dev/null)
FUZZ_LIBS := $(shell pkg-config --libs libcjson 2>/dev/null || echo -lcjson) -lm

# One target per parser or validator, and the sources each is built from.
FUZZ_TARGETS := control_proto names wsrules addr number procfs host fdinfo agentlock record \
		timefmt transcript journal history environ tools actevents timeview
FUZZ_SRCS_timeview := user/client/timeview.c user/common/timefmt.c user/common/names.c user/common/buf.c
FUZZ_SRCS_tools := user/daemon/tokens/transcript_tools.c user/daemon/tokens/transcript.c user/daemon/tokens/jscan.c \
		    user/common/timefmt.c
FUZZ_SRCS_actevents := user/daemon/actions/actions.c user/daemon/actions/acttab.c \
		       user/daemon/actions/actexec.c user/daemon/tokens/transcript.c \
		       user/daemon/tokens/jscan.c user/daemon/top.c user/common/clock.c \
		       user/daemon/actions/timeline.c user/common/timefmt.c
FUZZ_SRCS_control_proto := user/common/control_proto.c user/common/names.c
FUZZ_SRCS_names := user/common/names.c
FUZZ_SRCS_wsrules := user/daemon/http/wsrules.c user/common/names.c user/common/addr.c
FUZZ_SRCS_addr := user/common/addr.c
FUZZ_SRCS_number := user/common/number.c
FUZZ_SRCS_procfs := user/daemon/procfs.c user/daemon/readfile.c
FUZZ_SRCS_host := user/daemon/host.c user/daemon/readfile.c
FUZZ_SRCS_fdinfo := user/daemon/gpu/fdinfo.c user/daemon/gpu/drmmath.c
FUZZ_SRCS_agentlock := user/daemon/registry/agentlock.c
FUZZ_SRCS_record := user/common/record.c user/common/timefmt.c user/common/names.c
FUZZ_SRCS_timefmt := user/common/timefmt.c
FUZZ_SRCS_transcript := user/daemon/tokens/transcript.c user/daemon/tokens/jscan.c user/daemon/tokens/transcript_ids.c \
			user/daemon/tokens/transcript_lines.c
FUZZ_SRCS_environ := user/daemon/tokens/transcript.c user/daemon/tokens/jscan.c user/daemon/tokens/transcript_ids.c \
		     user/daemon/tokens/transcript_lines.c user/daemon/tokens/toksess.c
FUZZ_SRCS_history := user/daemon/history.c user/common/buf.c
FUZZ_SRCS_journal := user/daemon/journal.c user/common/buf.c user/daemon/runs.c user/daemon/projects.c user/daemon/tokens/transcript.c \
		     user/daemon/tokens/jscan.c user/common/names.c user/common/timefmt.c user/daemon/log.c \
		     user/daemon/actions/actions.c user/daemon/actions/acttab.c user/daemon/actions/actexec.c \
		     user/daemon/actions/timeline.c user/daemon/top.c user/common/clock.c

FUZZ_BINS := $(patsubst %,$(FUZZ_DIR)/fuzz_%,$(FUZZ_TARGETS))
# Any header may be one a target's sources include: rebuild on each.
FUZZ_HDRS := $(wildcard include/*.h user/common/*.h user/daemon/*.h user/daemon/*/*.h tests/fuzz/*.h)

.PHONY: fuzz fuzz-check
fuzz: $(FUZZ_BINS)

$(FUZZ_DIR):
	$(Q)mkdir -p $@

define FUZZ_RULE
$(FUZZ_DIR)/fuzz_$(1): tests/fuzz/fuzz_$(1).c $(FUZZ_SRCS_$(1)) $(FUZZ_HDRS) | $(FUZZ_DIR)
	$$(call msg,FUZZCC,$$@)
	$$(Q)$$(FUZZ_CC) $$(FUZZ_CFLAGS) -Itests/fuzz $$< $(FUZZ_SRCS_$(1)) $$(FUZZ_LIBS) -o $$@
endef
$(foreach t,$(FUZZ_TARGETS),$(eval $(call FUZZ_RULE,$(t))))

# Replays every seed, then fuzzes each target FUZZ_SECONDS; fails on any crash.
fuzz-check: fuzz
	$(Q)FUZZ_DIR=$(FUZZ_DIR) scripts/fuzz.sh -q $(FUZZ_SECONDS) $(FUZZ_TARGETS)
