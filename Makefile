# The two commands a new user needs: `make demo` and `make test`. Both set everything up first.
# `make test-fast` runs the tests that need neither `npm ci` nor a browser (those marked `render` are left out).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_WORKSPACE ?= demo-workspace

.PHONY: setup browser demo test test-fast lint bench clean

$(BIN)/vidgen: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

# Remotion cannot download its own browser offline: use Debian's Chromium when none is found,
# Debian's colour emoji font, without which emoji render as empty boxes, espeak-ng, the offline voice,
# and bubblewrap, the jail the video's code renders in.
browser: $(BIN)/vidgen
	@$(BIN)/python -c "from vidgen.engine.browser import find_browser; find_browser()" 2>/dev/null \
	  || (echo "no browser found: installing Debian's chromium" && apt-get update -q && apt-get install -y -q chromium)
	@fc-list ':family=Noto Color Emoji' family 2>/dev/null | grep -q . \
	  || (echo "no colour emoji font: installing Debian's fonts-noto-color-emoji" && apt-get update -q && apt-get install -y -q fonts-noto-color-emoji)
	@command -v espeak-ng >/dev/null \
	  || (echo "no offline voice for narration: installing Debian's espeak-ng" && apt-get update -q && apt-get install -y -q espeak-ng)
	@command -v bwrap >/dev/null \
	  || (echo "no sandbox for the video's code: installing Debian's bubblewrap" && apt-get update -q && apt-get install -y -q bubblewrap)

setup: $(BIN)/vidgen browser

# Renders the example, then runs the whole model loop against the built-in scripted model (no key needed).
demo: setup
	@test -f $(DEMO_WORKSPACE)/vidgen.toml || $(BIN)/vidgen init $(DEMO_WORKSPACE)
	cd $(DEMO_WORKSPACE) && $(abspath $(BIN))/vidgen render hello
	cd $(DEMO_WORKSPACE) && $(abspath $(BIN))/vidgen demo

lint: $(BIN)/vidgen
	$(BIN)/ruff check vidgen tests
	$(BIN)/ruff format --check vidgen tests
	$(BIN)/mypy

# Both fail when no test ran (pytest's exit code 5), as on any failing test.
# `make test` runs whole test files on TEST_WORKERS pytest-xdist workers, each with a workspace and warm render
# service of its own, in the order tests/conftest.py gives (docs/tests.md); TEST_WORKERS=0 runs them in one process.
# Two, one a core: three Chromiums on two cores pushed a frame past the suite's 8 s timeout now and then.
TEST_WORKERS ?= 2
test: setup lint
	$(BIN)/python -m pytest -q -p no:cacheprovider --durations=15 -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

test-fast: $(BIN)/vidgen
	$(BIN)/python -m pytest -q -p no:cacheprovider -m "not render"

# One table against `npx remotion render` in the same run (tests/benchmarks/bench.py); fails if a step fails.
# BENCH_ARGS="--runs 1 --workspace PATH" for a quick run in a bench workspace kept between runs.
bench: setup
	@$(BIN)/python tests/benchmarks/bench.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(DEMO_WORKSPACE) .pytest_cache .mypy_cache .ruff_cache
