# The stand-in for NVIDIA's management library that tests/integration/test_nvml.sh
# loads with --nvml-lib: a shared object built from tests/integration/fakenvml/.
# Included by the top-level Makefile (-include tests/nvml.mk).
FAKENVML := $(BUILD)/fakenvml/libnvidia-ml.so.1

$(FAKENVML): tests/integration/fakenvml/fakenvml.c user/daemon/gpu/nvml_abi.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -fPIC -shared -Iuser/daemon/gpu $< -o $@

.PHONY: fakenvml
fakenvml: $(FAKENVML)
test-integration: $(FAKENVML)
