# spikeshift: every entry point. `make demo` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
NET ?= build/demo/digits-mlp.json
OUT ?= build/generated
BOARD ?= ulx3s
LANES ?=
INPUTS ?= $(if $(filter build/demo/digits-mlp.json,$(NET)),build/demo/digits-test-inputs.npy)
BUILD_DIR ?= build/$(BOARD)
STEP = $(VENV)/bin/spikeshift build $(NET) --board $(BOARD) -o $(BUILD_DIR) \
       $(if $(LANES),--lanes $(LANES)) $(if $(INPUTS),--inputs $(INPUTS)) --step

.PHONY: setup demo test test-all formal bench generate examples example-digits example-mnist \
        example-mnist-deep verilog sim estimate bitstream clean

$(STAMP): pyproject.toml
	@command -v iverilog >/dev/null 2>&1 && command -v tclsh >/dev/null 2>&1 || { \
	  echo "installing Debian packages iverilog tcl"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get install -y iverilog tcl >/dev/null 2>&1 || \
	  { $$SUDO apt-get update >/dev/null && $$SUDO apt-get install -y iverilog tcl; }; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(PY) examples/digits/demo.py --out build/demo

test: $(STAMP)
	$(PY) -m pytest

test-all: $(STAMP)
	$(PY) -m pytest --slow=all

# The bounded proofs of tests/formal at their deeper bounds (the default run uses short ones).
formal: $(STAMP)
	SPIKESHIFT_FORMAL=deep $(PY) -m pytest tests/formal

bench: $(STAMP)
	$(PY) examples/benchmark/cycles_and_resources.py --out build/bench

examples: example-digits example-mnist example-mnist-deep

example-digits: $(STAMP)
	$(PY) examples/qcfs_torch/run.py --dataset digits

example-mnist: $(STAMP)
	$(PY) examples/qcfs_torch/run.py --dataset mnist --arch 784-128-10

example-mnist-deep: $(STAMP)
	$(PY) examples/qcfs_torch/run.py --dataset mnist --arch 784-256-128-10

# The board flow as named, resumable steps; each writes $(BUILD_DIR)/<step>.json.
$(BUILD_DIR)/verilog.json: $(NET) $(STAMP)
	$(STEP) verilog

$(BUILD_DIR)/sim.json: $(BUILD_DIR)/verilog.json
	$(STEP) sim

$(BUILD_DIR)/estimate.json: $(BUILD_DIR)/verilog.json
	$(STEP) estimate

$(BUILD_DIR)/bitstream.json: $(BUILD_DIR)/verilog.json
	$(STEP) bitstream

verilog: $(BUILD_DIR)/verilog.json
sim: $(BUILD_DIR)/sim.json
estimate: $(BUILD_DIR)/estimate.json
bitstream: $(BUILD_DIR)/bitstream.json

$(NET):
	$(MAKE) demo

generate: $(STAMP) $(NET)
	$(VENV)/bin/spikeshift generate $(NET) -o $(OUT)

clean:
	rm -rf build
