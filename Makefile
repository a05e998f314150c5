# make demo: the main job on example_data/   make test: the test suite
# Each target creates .venv and installs what it needs by itself (Python 3.11).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO := demo_out

.PHONY: demo test bench example-data clean report-shot

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/ogan pipeline example_data/cohort.vcf.gz --panel example_data/cohort.panel \
		--keep EAS=0.2,AFR=0.2,SAS=0.2 --model offspring --preset cpu --seed 1 -o $(DEMO)
	@echo "demo done: open $(DEMO)/reports/offspring/report.html (summary: $(DEMO)/summary.md)"

report-shot: demo
	chromium --headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update \
		--disable-sync --no-first-run --user-data-dir=$$(mktemp -d) --hide-scrollbars --window-size=1280,2600 \
		--screenshot=docs/report-screenshot.png file://$(CURDIR)/$(DEMO)/reports/offspring/report.html

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/hybridize.py
	$(BIN)/python bench/report.py

example-data: $(STAMP)
	$(BIN)/python example_data/make_example.py

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache
