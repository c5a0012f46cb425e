# One command runner: install, run, lint, test. `make run` and `make test` are what the
# README asks a newcomer to type; both create the virtualenv on first use.
VENV ?= .venv
BIN := $(VENV)/bin
PYTHON ?= python3

.PHONY: install run worker demo migrate lint test bench clean messages

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

test: lint
	$(BIN)/pytest -q

# After changing texts in templates or code: refresh the English catalog, then translate
# the new empty entries in engagement/locale/en/LC_MESSAGES/messages.po.
messages: install
	$(BIN)/pybabel extract -F babel.cfg -k N_ --no-location --sort-output -o $(VENV)/messages.pot .
	$(BIN)/pybabel update -i $(VENV)/messages.pot -d engagement/locale -l en --no-fuzzy-matching \
		--ignore-obsolete --width 100

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
