# Every target installs what it needs first, so each works on a fresh clone.
# MODEL defaults to `tiny`, which runs on a CPU.

SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
EXTRAS ?= dev
COMMA := ,
# torch is pinned and installed before anything else: on a machine without CUDA this is the CPU build,
# so no dependency can pull a multi-GB CUDA wheel. Outside this project's CI, a CPU-only Linux box may add
# PIP_TORCH_ARGS="--index-url <PyTorch's CPU wheel index>".
TORCH_SPEC ?= torch==2.13.0
PIP_TORCH_ARGS ?=
MODEL ?= tiny
PYTEST_ARGS ?= -n 2

.PHONY: install test style quality

# One stamp per set of extras: `make install EXTRAS=dev,vllm` installs vLLM even after `make test` installed dev.
INSTALL_STAMP = $(VENV)/.installed-$(subst $(COMMA),+,$(EXTRAS))
install: $(INSTALL_STAMP)

$(INSTALL_STAMP): setup.cfg pyproject.toml
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
# with `accelerate launch` on NUM_GPUS GPUs. VLLM=server serves generation on the last GPU with `vllm serve`
# (recipes/vllm_serve.sh, as TRL 1.16 asks; VLLM_TP GPUs with VLLM_TP > 1) and trains on the others, waiting up to
# VLLM_TIMEOUT seconds for the server (a first 14B download takes longer than TRL's 240 s). Recipe values are read
# with plain python3 (recipes/recipe_value.py), so `make -n train MODEL=...` prints the commands on a fresh clone.
RECIPE ?= grpo_lsrm
NUM_GPUS ?= 8
ACCELERATE ?= zero3
VLLM ?= colocate
VLLM_PORT ?= 8000
VLLM_TP ?= 1
VLLM_TIMEOUT ?= 1800
ARGS ?=
VLLM_MODES := colocate server none
ACCELERATE_CONFIGS := $(basename $(notdir $(wildcard accelerate_configs/*.yaml)))
ifneq ($(filter train sft demo,$(MAKECMDGOALS)),)
ifeq ($(filter $(VLLM),$(VLLM_MODES)),)
$(error VLLM=$(VLLM) is not one of: $(VLLM_MODES))
endif
ifeq ($(filter $(ACCELERATE),$(ACCELERATE_CONFIGS)),)
$(error ACCELERATE=$(ACCELERATE) is not one of: $(ACCELERATE_CONFIGS) (accelerate_configs/*.yaml))
endif
endif
TRAIN_CONFIG = recipes/$(MODEL)/$(RECIPE).yaml
recipe_value = $(shell python3 recipes/recipe_value.py $(TRAIN_CONFIG) $(1) 2>/dev/null)
LAUNCH = $(VENV)/bin/accelerate launch --config_file accelerate_configs/$(ACCELERATE).yaml
SERVER_GPUS = $(shell seq -s, $$(( $(NUM_GPUS) - $(VLLM_TP) )) $$(( $(NUM_GPUS) - 1 )))
TRAIN_GPUS = $(shell seq -s, 0 $$(( $(NUM_GPUS) - $(VLLM_TP) - 1 )))
TRAIN_PROCESSES = $(shell echo $$(( $(NUM_GPUS) - $(VLLM_TP) )))
TRAIN_DATA = $(call recipe_value,dataset_name)
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
	@test $(TRAIN_PROCESSES) -ge 1 || { echo "VLLM=server needs NUM_GPUS > VLLM_TP: vLLM takes VLLM_TP GPUs, the rest train"; exit 2; }
	@echo "vLLM serves $(call recipe_value,model_name_or_path) on GPU $(SERVER_GPUS), port $(VLLM_PORT)"
	CUDA_VISIBLE_DEVICES=$(SERVER_GPUS) VLLM_TP=$(VLLM_TP) VLLM_BIN=$(VENV)/bin/vllm recipes/vllm_serve.sh $(TRAIN_CONFIG) --port $(VLLM_PORT) & \
	  VLLM_PID=$$!; trap 'kill $$VLLM_PID' EXIT; \
	  CUDA_VISIBLE_DEVICES=$(TRAIN_GPUS) $(LAUNCH) --num_processes $(TRAIN_PROCESSES) recipes/grpo_lsrm.py --config $(TRAIN_CONFIG) --use_vllm true --vllm_mode server --vllm_server_port $(VLLM_PORT) --vllm_server_timeout $(VLLM_TIMEOUT) $(ARGS)
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

# `make eval [MODEL=tiny] [BENCH=ifeval,lsr|all] [BACKEND=transformers|vllm|openai] [LIMIT=N] [EVAL_ARGS="..."]
#  [JUDGE_URL=http://host:port/v1 JUDGE_MODEL=name] [COMPARE_WITH=outputs/eval/BASE]`
# Generates with BACKEND, scores, and writes $(EVAL_DIR)/<bench>/results.{json,md}; an interrupted run resumes.
# BENCH=all runs every rule-scored benchmark, and the judge-scored ones too when JUDGE_URL and JUDGE_MODEL name a
# judge (FollowBench then scores all 820 rows; CFBench also needs CFBENCH_INPUT). It ends with the summary table of
# `lsrif eval compare` (against COMPARE_WITH when given) and its plot in $(EVAL_DIR)/compare.
# MODEL=tiny (the default) evaluates the offline tiny model on CPU: the first 50 prompts of each benchmark, 32 new
# tokens. Benchmark data is read from ../shared/data when MODEL=tiny or HF_HUB_OFFLINE=1, else from the Hub.
BENCH ?= ifeval,lsr
EVAL_RULE_BENCHES := ifeval lsr ifbench followbench gsm8k arithmetic
EVAL_JUDGE_BENCHES = infobench $(if $(CFBENCH_INPUT),cfbench)
JUDGE_URL ?=
JUDGE_MODEL ?=
COMPARE_WITH ?=
BACKEND ?= transformers
EVAL_DIR ?= outputs/eval/$(notdir $(MODEL))
EVAL_OFFLINE = $(or $(filter tiny,$(MODEL)),$(filter 1,$(HF_HUB_OFFLINE)))
IFEVAL_INPUT ?= $(if $(EVAL_OFFLINE),$(wildcard ../shared/data/ifeval/input_data.jsonl))
IFBENCH_INPUT ?= $(if $(EVAL_OFFLINE),$(wildcard ../shared/data/ifbench/IFBench_test.jsonl))
FOLLOWBENCH_INPUT ?= $(if $(EVAL_OFFLINE),$(wildcard ../shared/data/followbench))
GSM8K_INPUT ?= $(if $(EVAL_OFFLINE),$(wildcard ../shared/data/gsm8k/test.jsonl))
CFBENCH_INPUT ?= # CFBench is not on the Hub: the official cfbench_data.json (github.com/PKU-Baichuan-MLSystemLab/CFBench)
LIMIT ?= $(if $(filter tiny,$(MODEL)),50)
MAX_NEW_TOKENS ?= $(if $(filter tiny,$(MODEL)),32,2048)
EVAL_ARGS ?=
EVAL_COMMA := ,
EVAL_LIST = $(if $(filter all,$(BENCH)),$(EVAL_RULE_BENCHES) $(if $(and $(JUDGE_URL),$(JUDGE_MODEL)),$(EVAL_JUDGE_BENCHES)),$(subst $(EVAL_COMMA), ,$(BENCH)))
EVAL_JUDGE_ARGS = $(if $(and $(JUDGE_URL),$(JUDGE_MODEL)),--judge-base-url $(JUDGE_URL) --judge-model $(JUDGE_MODEL))
.PHONY: eval
eval: install
	set -e; for bench in $(EVAL_LIST); do \
	  case $$bench in ifeval) input="$(IFEVAL_INPUT)";; ifbench) input="$(IFBENCH_INPUT)";; \
	    followbench) input="$(FOLLOWBENCH_INPUT)";; gsm8k) input="$(GSM8K_INPUT)";; cfbench) input="$(CFBENCH_INPUT)";; \
	    *) input="";; esac; \
	  case " followbench $(EVAL_JUDGE_BENCHES) " in *" $$bench "*) judge="$(EVAL_JUDGE_ARGS)";; *) judge="";; esac; \
	  $(VENV)/bin/lsrif eval $$bench --model $(MODEL) --backend $(BACKEND) --output-dir $(EVAL_DIR)/$$bench \
	    --max-new-tokens $(MAX_NEW_TOKENS) $(if $(LIMIT),--limit $(LIMIT)) $${input:+--input-data $$input} $$judge \
	    $(EVAL_ARGS); \
	  cat $(EVAL_DIR)/$$bench/results.md; \
	done; \
	$(VENV)/bin/lsrif eval compare $(COMPARE_WITH) $(EVAL_DIR) --plot-dir $(EVAL_DIR)/compare

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
