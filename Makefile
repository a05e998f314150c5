# make demo: the main job on example_data/   make test: the test suite
# Each target creates .venv and installs what it needs by itself (Python 3.11).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO := demo_out

.PHONY: demo test bench example-data clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	mkdir -p $(DEMO)
	$(BIN)/ogan ingest example_data/cohort.vcf.gz --panel example_data/cohort.panel -o $(DEMO)/cohort.h5
	$(BIN)/ogan info $(DEMO)/cohort.h5
	$(BIN)/ogan export $(DEMO)/cohort.h5 -o $(DEMO)/cohort.vcf.gz
	$(BIN)/ogan bias $(DEMO)/cohort.h5 --keep EAS=0.2,AFR=0.2,SAS=0.2 --seed 1 -o $(DEMO)/train.h5
	$(BIN)/ogan hybridize $(DEMO)/train.h5 --balance --seed 1 -o $(DEMO)/train_balanced.vcf.gz
	@echo "demo done: $(DEMO)/ holds cohort.h5, cohort.vcf.gz, train.h5 (biased), train_balanced.vcf.gz"

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/hybridize.py

example-data: $(STAMP)
	$(BIN)/python example_data/make_example.py

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache
