# Every target installs what it needs first, so each works on a fresh clone.
# MODEL defaults to `tiny`, which runs on a CPU.

SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
EXTRAS ?= dev
# torch is pinned and installed before anything else: on a machine without CUDA this is the CPU build,
# so no dependency can pull a multi-GB CUDA wheel. Outside this project's CI, a CPU-only Linux box may add
# PIP_TORCH_ARGS="--index-url <PyTorch's CPU wheel index>".
TORCH_SPEC ?= torch==2.13.0
PIP_TORCH_ARGS ?=
MODEL ?= tiny
PYTEST_ARGS ?= -n 2
# Sentence checks need NLTK's punkt parameters. Offline machines of this project keep a copy beside the repo
# (../shared/data/nltk_data); elsewhere NLTK downloads them on first use. An NLTK_DATA you set wins.
SHARED_NLTK_DATA := $(wildcard $(abspath ../shared/data/nltk_data))
ifneq ($(SHARED_NLTK_DATA),)
export NLTK_DATA ?= $(SHARED_NLTK_DATA)
endif

.PHONY: install test style quality

install: $(VENV)/.installed

$(VENV)/.installed: setup.cfg pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	if ! command -v nvidia-smi >/dev/null 2>&1; then $(PY) -m pip install $(PIP_TORCH_ARGS) "$(TORCH_SPEC)"; fi
	$(PY) -m pip install -e ".[$(EXTRAS)]"
	touch $@

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

style: install
	$(VENV)/bin/ruff format lsrif_trl recipes tests benchmarks
	$(VENV)/bin/ruff check --fix lsrif_trl recipes tests benchmarks

quality: install
	$(VENV)/bin/ruff format --check lsrif_trl recipes tests benchmarks
	$(VENV)/bin/ruff check lsrif_trl recipes tests benchmarks

# `make data N=... [SEED=...] [DATA_DIR=...] [FAMILIES=train] [DATA_ARGS="--max-depth 3 --curriculum"]`: build the
# training set offline. FAMILIES=train (the default) draws only the train:* constraint families, keeping IFEval's
# held out for evaluation (IFEval, LSR-Eval); FAMILIES= (empty) draws from every registered family.
N ?= 38519
SEED ?= 0
DATA_DIR ?= data/built/lsr-train
FAMILIES ?= train
DATA_ARGS ?=
# An existing DATA_DIR is never replaced silently: `make data OVERWRITE=1` replaces it.
OVERWRITE ?=
.PHONY: data
data: install
	$(VENV)/bin/lsrif data build --num-examples $(N) --seed $(SEED) --output $(DATA_DIR) \
	  $(if $(FAMILIES),--families $(FAMILIES)) $(if $(OVERWRITE),--overwrite) $(DATA_ARGS)

# `make train [MODEL=tiny] [RECIPE=grpo_lsrm] [NUM_GPUS=8] [ACCELERATE=zero3] [VLLM=colocate|server|none] [ARGS="..."]`
# MODEL=tiny (the default) trains the offline tiny model on CPU; any other MODEL runs recipes/$(MODEL)/$(RECIPE).yaml
# with `accelerate launch` on NUM_GPUS GPUs. VLLM=server serves generation with `trl vllm-serve` on the last GPU and
# trains on the others. `make -n train MODEL=...` prints the commands without running them.
RECIPE ?= grpo_lsrm
NUM_GPUS ?= 8
ACCELERATE ?= zero3
VLLM ?= colocate
VLLM_PORT ?= 8000
ARGS ?=
TRAIN_CONFIG = recipes/$(MODEL)/$(RECIPE).yaml
recipe_value = $(shell $(VENV)/bin/lsrif config get $(TRAIN_CONFIG) $(1) 2>/dev/null)
LAUNCH = $(VENV)/bin/accelerate launch --config_file accelerate_configs/$(ACCELERATE).yaml
LAST_GPU = $(shell echo $$(( $(NUM_GPUS) - 1 )))
TRAIN_GPUS = $(shell seq -s, 0 $$(( $(NUM_GPUS) - 2 )))
TRAIN_DATA = $(call recipe_value,dataset_name)
VLLM_LEN = $(call recipe_value,vllm_max_model_length)
VLLM_FLAGS_colocate = --use_vllm true --vllm_mode colocate
VLLM_FLAGS_none = --use_vllm false
.PHONY: train sft demo

train: install
	@test -f $(TRAIN_CONFIG) || { echo "no recipe $(TRAIN_CONFIG); \`lsrif config list\` shows them"; exit 2; }
ifeq ($(MODEL),tiny)
	$(PY) recipes/grpo_lsrm.py --config $(TRAIN_CONFIG) $(ARGS)
else
	$(if $(filter data/built/%,$(TRAIN_DATA)),test -e $(TRAIN_DATA) || $(MAKE) data DATA_DIR=$(TRAIN_DATA))
ifeq ($(VLLM),server)
	@test $(NUM_GPUS) -ge 2 || { echo "VLLM=server needs NUM_GPUS >= 2: one GPU serves vLLM, the rest train"; exit 2; }
	CUDA_VISIBLE_DEVICES=$(LAST_GPU) $(VENV)/bin/trl vllm-serve --model $(call recipe_value,model_name_or_path) --port $(VLLM_PORT) $(if $(filter-out null,$(VLLM_LEN)),--max_model_len $(VLLM_LEN)) & \
	  VLLM_PID=$$!; trap 'kill $$VLLM_PID' EXIT; \
	  CUDA_VISIBLE_DEVICES=$(TRAIN_GPUS) $(LAUNCH) --num_processes $(LAST_GPU) recipes/grpo_lsrm.py --config $(TRAIN_CONFIG) --use_vllm true --vllm_mode server --vllm_server_port $(VLLM_PORT) $(ARGS)
else
	$(LAUNCH) --num_processes $(NUM_GPUS) recipes/grpo_lsrm.py --config $(TRAIN_CONFIG) $(VLLM_FLAGS_$(VLLM)) $(ARGS)
endif
endif

# `make sft [MODEL=tiny] [NUM_GPUS=8] [ACCELERATE=zero3] [ARGS="..."]`: supervised warm-up with recipes/$(MODEL)/sft.yaml.
# Only recipes/tiny/sft.yaml ships; a GPU model needs its own recipes/$(MODEL)/sft.yaml first.
SFT_CONFIG = recipes/$(MODEL)/sft.yaml
sft: install
	@test -f $(SFT_CONFIG) || { echo "no recipe $(SFT_CONFIG); copy recipes/tiny/sft.yaml there and size it"; exit 2; }
ifeq ($(MODEL),tiny)
	$(PY) recipes/sft.py --config $(SFT_CONFIG) $(ARGS)
else
	$(LAUNCH) --num_processes $(NUM_GPUS) recipes/sft.py --config $(SFT_CONFIG) $(ARGS)
endif

# The default demo is the tiny CPU training run.
demo: install
	$(MAKE) train MODEL=tiny

# `make eval [MODEL=tiny] [BENCH=ifeval,lsr] [BACKEND=transformers|vllm|openai] [LIMIT=N] [EVAL_ARGS="..."]`
# Generates with BACKEND, scores, and writes $(EVAL_DIR)/<bench>/results.{json,md}; an interrupted run resumes.
# MODEL=tiny (the default) evaluates the offline tiny model on CPU: the first 50 prompts of each benchmark, 32 new
# tokens. IFEval is read from ../shared/data/ifeval when MODEL=tiny or HF_HUB_OFFLINE=1, else from the Hub.
# Compare runs with `lsrif eval compare outputs/eval/A outputs/eval/B`.
BENCH ?= ifeval,lsr
BACKEND ?= transformers
EVAL_DIR ?= outputs/eval/$(notdir $(MODEL))
EVAL_OFFLINE = $(or $(filter tiny,$(MODEL)),$(filter 1,$(HF_HUB_OFFLINE)))
IFEVAL_INPUT ?= $(if $(EVAL_OFFLINE),$(wildcard ../shared/data/ifeval/input_data.jsonl))
LIMIT ?= $(if $(filter tiny,$(MODEL)),50)
MAX_NEW_TOKENS ?= $(if $(filter tiny,$(MODEL)),32,2048)
EVAL_ARGS ?=
EVAL_COMMA := ,
.PHONY: eval
eval: install
	set -e; for bench in $(subst $(EVAL_COMMA), ,$(BENCH)); do \
	  $(VENV)/bin/lsrif eval $$bench --model $(MODEL) --backend $(BACKEND) --output-dir $(EVAL_DIR)/$$bench \
	    --max-new-tokens $(MAX_NEW_TOKENS) $(if $(LIMIT),--limit $(LIMIT)) \
	    $(if $(IFEVAL_INPUT),$$([ $$bench = ifeval ] && echo --input-data $(IFEVAL_INPUT))) $(EVAL_ARGS); \
	  cat $(EVAL_DIR)/$$bench/results.md; \
	done

# `make bench-ifeval`: IFEval scoring throughput against lm-evaluation-harness, verdicts compared. lm-eval lives in
# its own venv without torch (only its ifeval modules are imported), with the project's nltk version for fairness.
LMEVAL_VENV ?= benchmarks/.venv-lmeval
.PHONY: bench-ifeval
bench-ifeval: install $(LMEVAL_VENV)/.installed
	$(PY) benchmarks/bench_ifeval.py --reference-python $(LMEVAL_VENV)/bin/python

$(LMEVAL_VENV)/.installed:
	test -x $(LMEVAL_VENV)/bin/python || python3 -m venv $(LMEVAL_VENV)
	$(LMEVAL_VENV)/bin/pip install --no-deps "lm-eval==0.4.13"
	$(LMEVAL_VENV)/bin/pip install "nltk==$$($(PY) -c 'import nltk; print(nltk.__version__)')" "langdetect==1.0.9" \
	  immutabledict packaging
	touch $@

# `make train-rm [ARGS="..."]`: the self-supervised soft-constraint reward model on the offline tiny model (CPU):
# curriculum data with soft constraints -> the tiny policy's answers with and without each soft constraint ->
# RewardTrainer pairs (`lsrif rm-data`) -> recipes/train_rm.py. Data and pairs are built once, then reused.
RM_SOURCE ?= outputs/data/tiny-rm-source
RM_PAIRS ?= outputs/data/tiny-soft-rm-pairs.jsonl
.PHONY: train-rm
train-rm: install
	$(VENV)/bin/lsrif tiny-model
	test -e $(RM_SOURCE) || $(VENV)/bin/lsrif data build --num-examples 16 --curriculum --soft-share 0.5 --output $(RM_SOURCE)
	test -e $(RM_PAIRS) || $(VENV)/bin/lsrif rm-data --data $(RM_SOURCE) --model outputs/tiny-model --max-new-tokens 32 --output $(RM_PAIRS)
	$(PY) recipes/train_rm.py --config recipes/tiny/train_rm.yaml $(ARGS)
