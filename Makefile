# 政策问答助手 — the two commands a new user needs: `make serve` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/pip --disable-pip-version-check -q
export OMP_NUM_THREADS ?= 2
export GRADIO_ANALYTICS_ENABLED := False
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: serve test install install-test system-deps index bench lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

# runtime install: no torch, no model download
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) install -e .
	touch $@

# test install: torch CPU 2.13.0 first (from local disk), then the st, test and ocr extras
$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(PIP) install torch==2.13.0
	$(PIP) install -e '.[test,st,ocr]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

# Debian packages the browser and document tests need, installed only where missing
system-deps:
	@missing=""; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	fc-list 2>/dev/null | grep -qi wqy || missing="$$missing fonts-wqy-microhei"; \
	fc-list 2>/dev/null | grep -qi "noto sans cjk" || missing="$$missing fonts-noto-cjk"; \
	command -v soffice >/dev/null || missing="$$missing libreoffice-writer"; \
	command -v fc-list >/dev/null || missing="$$missing fontconfig"; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

index: install
	$(BIN)/assistant index

serve: install
	$(BIN)/assistant index
	$(BIN)/assistant serve --host $(HOST) --port $(PORT)

test: install-test system-deps
	$(BIN)/python -m pytest -q

bench: install-test
	$(BIN)/python benchmarks/run.py

lint: install-test
	$(BIN)/ruff check assistant tests benchmarks
	$(BIN)/ruff format --check assistant tests benchmarks

clean:
	rm -rf index test-artifacts benchmarks/results .pytest_cache
