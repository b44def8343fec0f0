# spikeshift: every entry point. `make demo` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
NET ?= build/demo/digits-mlp.json
OUT ?= build/generated

.PHONY: setup demo test test-all bench generate examples example-digits example-mnist \
        example-mnist-deep clean

$(STAMP): pyproject.toml
	@command -v iverilog >/dev/null 2>&1 || { \
	  echo "installing Debian package iverilog"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get install -y iverilog >/dev/null 2>&1 || \
	  { $$SUDO apt-get update >/dev/null && $$SUDO apt-get install -y iverilog; }; }
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

bench: $(STAMP)
	$(PY) examples/benchmark/cycles_and_resources.py --out build/bench

examples: example-digits example-mnist example-mnist-deep

example-digits: $(STAMP)
	$(PY) examples/qcfs_torch/run.py --dataset digits

example-mnist: $(STAMP)
	$(PY) examples/qcfs_torch/run.py --dataset mnist --arch 784-128-10

example-mnist-deep: $(STAMP)
	$(PY) examples/qcfs_torch/run.py --dataset mnist --arch 784-256-128-10

$(NET):
	$(MAKE) demo

generate: $(STAMP) $(NET)
	$(VENV)/bin/spikeshift generate $(NET) -o $(OUT)

clean:
	rm -rf build
