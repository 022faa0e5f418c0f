# Two commands on a fresh machine (see README):
#   make quick   # install into .venv, then a short PriorityNet run on synthetic data (CPU when no GPU)
#   make test    # install into .venv, validate the shipped configs, run the test suite
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed-stamp
# The CPU wheel: a plain `torch` would pull a multi-GB CUDA build. GPU users: see README "CUDA".
TORCH  ?= torch==2.13.0

.PHONY: install quick test validate bench gpu-check

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q "$(TORCH)"
	$(BIN)/python -m pip install -q -e '.[train,dev,physics]'
	touch $(STAMP)

quick: $(STAMP)
	$(BIN)/ahsd-train run --config configs/enhanced_training.yaml --quick

validate: $(STAMP)
	$(BIN)/ahsd-config validate 'configs/**/*.yaml'

test: validate
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/validate_speed.py
	$(BIN)/python benchmarks/train_throughput.py

gpu-check:
	bash scripts/gpu_check.sh
