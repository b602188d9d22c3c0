# Every target sets up .venv first (idempotent: about a second when nothing changed).
VENV ?= .venv
BIN := $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(PATH)

.PHONY: setup demo test lock clean-data

setup:
	@VENV=$(VENV) scripts/setup.sh

demo: setup  ## the whole pipeline on the embedded default
	dvc repro

test: setup  ## the test suite
	pytest

lock: setup  ## re-pin constraints.txt from the working environment
	scripts/lock.sh

clean-data:  ## remove pipeline outputs (the DVC cache keeps them for `dvc checkout`)
	rm -rf data/raw data/splits data/validation data/frames
