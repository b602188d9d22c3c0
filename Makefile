# Every target sets up .venv first (idempotent: about a second when nothing changed).
VENV ?= .venv
# make test: pytest-xdist processes (tests sharing a session fixture stay on one), one torch thread each
TEST_WORKERS ?= 2
BIN := $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(PATH)

.PHONY: setup demo test paper standin lock clean-data

setup:
	@VENV=$(VENV) scripts/setup.sh

demo: setup  ## the whole pipeline on the embedded default
	dvc repro

test:  ## the test suite (setup also installs chromium, for the MLflow UI test)
	@VENV=$(VENV) scripts/setup.sh --browser
	ruff check src pipelines tests scripts
	OMP_NUM_THREADS=$${OMP_NUM_THREADS:-1} pytest -n $(TEST_WORKERS)

paper: setup  ## a paper experiment on real data: make paper EXP=zero_shot_k400 (see profiles/)
	@test -n "$(EXP)" || { echo "make paper EXP=<profile>; profiles: $$(t2l profile | tr '\n' ' ')"; exit 2; }
	t2l profile $(EXP)
	t2l doctor
	dvc repro

standin: setup  ## re-make the shipped stand-in CLIP (models/standin): its frozen DVC stage's command, then record it
	t2l pretrain
	dvc commit --force standin@t2l-tiny

lock: setup  ## re-pin constraints.txt from the working environment
	scripts/lock.sh

clean-data:  ## remove pipeline outputs (the DVC cache keeps them for `dvc checkout`)
	rm -rf data/raw data/splits data/validation data/frames
