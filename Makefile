# spikeshift: every entry point. `make demo` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO_NET := build/demo/digits-mlp.json
NET ?= $(DEMO_NET)
OUT ?= build/generated
BOARD ?= ulx3s
LANES ?=
INPUTS ?= $(if $(filter $(DEMO_NET),$(NET)),build/demo/digits-test-inputs.npy)
# The demo network is made on demand; any other NET must exist (spikeshift says so if not).
NEEDS_NET := $(filter $(DEMO_NET),$(NET))
BUILD_DIR ?= build/$(BOARD)
STEP = $(VENV)/bin/spikeshift build $(NET) --board $(BOARD) -o $(BUILD_DIR) \
       $(if $(LANES),--lanes $(LANES)) $(if $(INPUTS),--inputs $(INPUTS)) --step

.PHONY: setup demo test test-all fuzz soak formal bench generate examples example-digits example-mnist \
        example-mnist-deep example-mnist-cnn example-smnist example-lmu clean

# The peers the tests simulate beside us (tests/train): their declared dependencies pull a
# CUDA torch, torchvision or an older nir, so they come without them, plus the small
# packages they really import (loguru for SpikingJelly, pbr for Sinabs, tabulate for Spiker+,
# the accelerator generator examples/benchmark/spikerplus_side_by_side.py compares with).
PEERS := norse==1.1.0 spikingjelly==2.0.0 sinabs==3.1.3 loguru==0.7.3 pbr==7.1.3 \
         spikerplus==2.0.3 tabulate==0.10.0
# Debian packages: Icarus and Tcl for the RTL tests, GHDL for Spiker+'s VHDL (make bench).
DEBIAN_TOOLS := iverilog:iverilog tclsh:tcl ghdl:ghdl

$(STAMP): pyproject.toml Makefile
	@MISSING=$$(for t in $(DEBIAN_TOOLS); do command -v $${t%%:*} >/dev/null 2>&1 || \
	  echo $${t#*:}; done); [ -z "$$MISSING" ] || { \
	  echo "installing Debian packages" $$MISSING; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get install -y $$MISSING >/dev/null 2>&1 || \
	  { $$SUDO apt-get update >/dev/null && $$SUDO apt-get install -y $$MISSING; }; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -m pip install --quiet --no-deps $(PEERS)
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(PY) examples/digits/demo.py --out build/demo

test: $(STAMP)
	$(PY) -m pytest

test-all: $(STAMP)
	$(PY) -m pytest --slow=all

# Property-based fuzzing of every input with many more examples than the test run's 40.
fuzz: $(STAMP)
	SPIKESHIFT_FUZZ_EXAMPLES=$${SPIKESHIFT_FUZZ_EXAMPLES:-3000} $(PY) -m pytest tests/fuzz -q

# 10^6 cycles of the demo network through the AXI wrapper and the UART link (tests/rtl/test_soak.py).
soak: $(STAMP)
	$(PY) -m pytest --slow=all tests/rtl/test_soak.py -k 1M

# The bounded proofs of tests/formal at their deeper bounds (the default run uses short ones).
formal: $(STAMP)
	SPIKESHIFT_FORMAL=deep $(PY) -m pytest tests/formal

bench: $(STAMP)
	$(PY) examples/benchmark/cycles_and_resources.py --out build/bench
	$(PY) examples/benchmark/golden_vs_snntorch.py --out build/bench
	$(PY) examples/benchmark/explore_scaling.py --out build/bench
	$(PY) examples/benchmark/spikerplus_side_by_side.py --out build/bench

examples: example-digits example-mnist example-mnist-deep example-mnist-cnn example-smnist example-lmu

example-digits: $(STAMP)
	$(PY) examples/qcfs_torch/run.py --dataset digits

example-mnist: $(STAMP)
	$(PY) examples/qcfs_torch/run.py --dataset mnist --arch 784-128-10

example-mnist-deep: $(STAMP)
	$(PY) examples/qcfs_torch/run.py --dataset mnist --arch 784-256-128-10

example-mnist-cnn: $(STAMP)
	$(PY) examples/qcfs_torch/run.py --dataset mnist --arch cnn

# Recurrent networks on row-sequential MNIST: an snnTorch RLeaky SNN imported through NIR, and
# the hybrid-spiking LMU built from spikeshift's layers.
example-smnist: $(STAMP)
	$(PY) examples/smnist/run.py

example-lmu: $(STAMP)
	$(PY) examples/lmu/run.py

# The board flow's steps, named once in boards/steps.py (read with any Python, before the
# environment exists). `spikeshift build` keeps $(BUILD_DIR)/<step>.json and reruns a step, and
# the steps it needs, whenever the network, lanes, board, inputs or tools differ from its record.
FLOW_STEPS := $(shell $(PYTHON) -c "import runpy; print(*runpy.run_path('boards/steps.py')['STEPS'])")
.PHONY: $(FLOW_STEPS)
$(FLOW_STEPS): $(STAMP) $(NEEDS_NET)
	$(STEP) $@

$(DEMO_NET):
	$(MAKE) demo

generate: $(STAMP) $(NEEDS_NET)
	$(VENV)/bin/spikeshift generate $(NET) -o $(OUT)

clean:
	rm -rf build
