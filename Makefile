# One command runner: install, run, lint, test. `make run` and `make test` are what the
# README asks a newcomer to type; both create the virtualenv on first use.
VENV ?= .venv
BIN := $(VENV)/bin
PYTHON ?= python3

.PHONY: install run worker demo migrate lint browser test bench chaos clean messages

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/.installed

run: install
	$(BIN)/engagement run

demo: install
	$(BIN)/engagement demo

migrate: install
	$(BIN)/engagement migrate

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-logo

# The browser tests drive Debian's chromium through Playwright (never `playwright install`,
# which downloads a browser); CJK fonts make the pages, screenshots and posters readable. As root
# (CI, these machines) they are installed when missing; anyone else is told what to install.
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	  else echo "browser tests need: sudo apt-get install chromium fonts-noto-cjk"; exit 1; fi; \
	fi

# Two test processes (pytest-xdist): most tests spend their time waiting on PostgreSQL, Redis,
# a served process or the browser, so two share the machine's cores well. Each file runs in
# one process (--dist loadfile), so a module's servers (a Redis Cluster and four processes,
# a browser's web server) start once. TEST_WORKERS=0 runs them all in one process.
TEST_WORKERS ?= 2

test: lint browser
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadfile --durations=15

bench: install
	$(BIN)/python bench/draws.py

chaos: install
	$(BIN)/python bench/chaos.py

# After changing texts in templates or code: refresh the English catalog, then translate
# the new empty entries in engagement/locale/en/LC_MESSAGES/messages.po.
messages: install
	$(BIN)/pybabel extract -F babel.cfg -k N_ --no-location --sort-output -o $(VENV)/messages.pot .
	$(BIN)/pybabel update -i $(VENV)/messages.pot -d engagement/locale -l en --no-fuzzy-matching \
		--ignore-obsolete --width 100

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
