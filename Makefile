# 政策问答助手 — the two commands a new user needs: `make serve` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/pip --disable-pip-version-check -q
# Installs print one line per step; pip's output goes to $(LOG), shown only when a step fails.
LOG := $(VENV)/install.log
QUIET = >>$(LOG) 2>&1 || { echo "失败 · failed — 日志最后 40 行 · last lines of $(LOG):"; tail -n 40 $(LOG); exit 1; }
# wait up to 10 minutes for another apt/dpkg (unattended-upgrades, a second make) instead of failing
APT_GET = apt-get -o DPkg::Lock::Timeout=600
export OMP_NUM_THREADS ?= 2
export GRADIO_ANALYTICS_ENABLED := False
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 1

.PHONY: serve test install install-test system-deps index bench lint clean

$(BIN)/python:
	@echo "==> [venv] 创建虚拟环境 .venv（$(PYTHON)）"
	@$(PYTHON) -m venv $(VENV)
	@$(PIP) install --upgrade pip $(QUIET)

# runtime install: no torch, no model download
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	@echo "==> [install] 安装政策问答助手及其依赖（首次约 1–3 分钟）"
	@$(PIP) install -e . $(QUIET)
	@touch $@

# test install: torch CPU 2.13.0 first (from local disk), then the st, test and ocr extras
$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	@echo "==> [install-test] 安装测试依赖（torch CPU、sentence-transformers、Playwright 等）"
	@$(PIP) install torch==2.13.0 $(QUIET)
	@$(PIP) install -e '.[test,st,ocr]' $(QUIET)
	@touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

# Debian packages the browser, document and shared-database tests need (PostgreSQL: tests/test_shared_db.py starts
# its own throwaway cluster), installed only where missing
system-deps:
	@missing=""; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	fc-list 2>/dev/null | grep -qi wqy || missing="$$missing fonts-wqy-microhei"; \
	fc-list 2>/dev/null | grep -qi "noto sans cjk" || missing="$$missing fonts-noto-cjk"; \
	command -v soffice >/dev/null || missing="$$missing libreoffice-writer"; \
	command -v fc-list >/dev/null || missing="$$missing fontconfig"; \
	ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then \
		echo "==> [system packages] apt-get install$$missing"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO $(APT_GET) update -qq >/dev/null && \
		DEBIAN_FRONTEND=noninteractive $$SUDO $(APT_GET) install -y -qq --no-install-recommends $$missing >/dev/null; \
	else \
		echo "==> [system packages] 已齐全 · all present"; \
	fi

index: install
	@echo "==> [index] 按需更新索引（corpus/ → index/）"
	@$(BIN)/assistant index

serve: index
	@if [ "$(HOST)" = 0.0.0.0 ]; then host=$$(hostname -I 2>/dev/null | awk '{print $$1}'); else host=$(HOST); fi; \
	echo "==> [serve] 浏览器打开 http://$${host:-$(HOST)}:$(PORT)/ （API 文档 /docs；Ctrl+C 停止）"; \
	if [ "$(HOST)" != 127.0.0.1 ] && [ "$(HOST)" != localhost ] && [ -z "$$ASSISTANT_API_KEYS" ] && ! grep -qs '^api_keys' assistant.toml; then \
		echo "    注意：其他设备可以访问，但未设置 ASSISTANT_API_KEYS——任何人都能提问、上传和删除文档（见 README）。"; \
	fi
	@$(BIN)/assistant serve --host $(HOST) --port $(PORT) --workers $(WORKERS)

test: install-test system-deps
	@echo "==> [test] pytest"
	@$(BIN)/python -m pytest -q

bench: install-test
	@$(PIP) install -e '.[bench]' $(QUIET)
	$(BIN)/python benchmarks/run.py

lint: install-test
	$(BIN)/ruff check assistant tests benchmarks
	$(BIN)/ruff format --check assistant tests benchmarks

clean:
	rm -rf index test-artifacts benchmarks/results .pytest_cache
