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

# Make echoes every command line, so a key or token in ARGS, EVAL_ARGS or DATA_ARGS would be printed (and logged):
# refuse one (an option named like --hub_token or --*_api_key, or a value shaped like a key) before anything runs.
# The value itself is never printed. Keys are read from the environment (HF_TOKEN, WANDB_API_KEY, OPENAI_API_KEY).
SECRET_WORDS = --hub_token% --hub-token% --api_key --api-key --api_key=% --api-key=% %_api_key %-api-key \
  sk-% hf_% ghp_% gho_% github_pat_% glpat-% xoxb-% xoxp-% xoxa-%
secret_args = $(foreach w,$(1),$(if $(or $(filter $(SECRET_WORDS),$(w)),$(findstring _api_key=,$(w)),$(findstring \
  -api-key=,$(w)),$(findstring password,$(w))),$(w)))
ifneq ($(strip $(call secret_args,$(ARGS) $(EVAL_ARGS) $(DATA_ARGS))),)
$(error ARGS, EVAL_ARGS or DATA_ARGS carry a key or token, which make would echo; put it in the environment \
  (HF_TOKEN, WANDB_API_KEY, OPENAI_API_KEY, ...) instead)
endif

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
# Models trained on the CPU with plain python: the offline tiny model, and the toy-world model (`make train
# MODEL=toy` warms it up with `make sft MODEL=toy` first). One intra-op thread for toy: on a small shared CPU,
# OpenMP's spinning threads made its generation ten times slower (benchmarks/RESULTS.md, "Toy world").
CPU_MODELS := tiny toy
CPU_ENV = $(if $(filter toy,$(MODEL)),OMP_NUM_THREADS=1)
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
ifneq ($(filter $(MODEL),$(CPU_MODELS)),)
	$(if $(filter toy,$(MODEL)),test -e $(TOY_SFT_OUT) || $(MAKE) sft MODEL=toy $(if $(TOY_REASONING),REASONING=1) ARGS=)
	$(CPU_ENV) $(PY) recipes/grpo_lsrm.py --config $(TRAIN_CONFIG) $(ARGS)
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
# The toy world's demonstrations: its training rows answered by the noisy expert (recipes/toy/sft.yaml says why).
# The warm-up `make train MODEL=toy` runs first never takes train's ARGS (they are GRPO options).
# REASONING=1 (what `make train MODEL=toy RECIPE=grpo_raif` asks for): answers that open with a <think> block
# planning them, cloned into outputs/toy/sft-reasoning, the start of recipes/toy/grpo_raif.yaml.
REASONING ?=
TOY_REASONING = $(or $(REASONING),$(filter grpo_raif,$(RECIPE)))
TOY_SFT_OUT = outputs/toy/sft$(if $(TOY_REASONING),-reasoning)
TOY_SFT_DATASET = outputs/data/toy-sft$(if $(TOY_REASONING),-reasoning)
TOY_TRAIN_DATA = $(VENV)/bin/lsrif data build --world toy --num-examples 2000 --seed 0 --output outputs/data/toy-train
TOY_SFT_DATA = $(VENV)/bin/lsrif data expert --data outputs/data/toy-train --output $(TOY_SFT_DATASET) --noise 0.3 \
  --wrong-branch 0.3 --base-sentences 1 2 --seed 0 $(if $(TOY_REASONING),--reasoning)
sft: install
	@test -f $(SFT_CONFIG) || { echo "no recipe $(SFT_CONFIG); copy recipes/tiny/sft.yaml there and size it"; exit 2; }
ifneq ($(filter $(MODEL),$(CPU_MODELS)),)
	$(if $(filter toy,$(MODEL)),test -e outputs/data/toy-train || $(TOY_TRAIN_DATA))
	$(if $(filter toy,$(MODEL)),test -e $(TOY_SFT_DATASET) || $(TOY_SFT_DATA))
	$(CPU_ENV) $(PY) recipes/sft.py --config $(SFT_CONFIG) \
	  $(if $(and $(filter toy,$(MODEL)),$(TOY_REASONING)),--dataset_name $(TOY_SFT_DATASET) --output_dir $(TOY_SFT_OUT)) $(ARGS)
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
# judge (FollowBench then scores all 820 rows; CFBench and ComplexBench also need CFBENCH_INPUT / COMPLEXBENCH_INPUT;
# `BENCH=complexbench-en` scores ComplexBench's English translation). It ends with the summary table of
# `lsrif eval compare` (against COMPARE_WITH when given) and its plot in $(EVAL_DIR)/compare.
# MODEL names a recipe folder or any local folder / Hub id. For a recipe folder the model is what `make train
# MODEL=...` saved in the recipe's output_dir when it holds one, else the recipe's base model (the offline tiny model
# for MODEL=tiny), sampled as recipes/MODEL/eval.yaml says (the model authors' temperature, top-p and length; tiny:
# 50 prompts, 32 tokens). Anything else is evaluated as given: greedy, 2048 new tokens.
# Benchmark data is read from ../shared/data when MODEL=tiny or HF_HUB_OFFLINE=1, else from the Hub.
BENCH ?= $(or $(call eval_value,benchmarks),ifeval$(COMMA)lsr)
EVAL_RULE_BENCHES := ifeval lsr ifbench followbench gsm8k arithmetic
EVAL_JUDGE_BENCHES = infobench $(if $(CFBENCH_INPUT),cfbench) $(if $(COMPLEXBENCH_INPUT),complexbench)
JUDGE_URL ?=
JUDGE_MODEL ?=
COMPARE_WITH ?=
BACKEND ?= transformers
# A model folder that a recipe writes (`make eval MODEL=outputs/tiny-grpo-lsrm`) takes its recipe folder's defaults.
# Looked up once (the eval target reads it many times): the recipe whose `output_dir` line names MODEL.
WRITTEN_BY = $(eval WRITTEN_BY := $(if $(wildcard recipes/$(MODEL)/eval.yaml),,$(firstword $(shell \
  grep -lE '^output_dir: *$(patsubst %/,%,$(MODEL))/?( |$$)' recipes/*/*.yaml 2>/dev/null))))$(WRITTEN_BY)
EVAL_DEFAULTS = $(if $(WRITTEN_BY),$(dir $(WRITTEN_BY))eval.yaml,recipes/$(MODEL)/eval.yaml)
eval_value = $(if $(wildcard $(EVAL_DEFAULTS)),$(shell python3 recipes/recipe_value.py $(EVAL_DEFAULTS) $(1) 2>/dev/null))
TRAINED ?= $(if $(wildcard $(TRAIN_CONFIG)),$(call recipe_value,output_dir))
EVAL_BASE = $(if $(filter tiny,$(MODEL)),tiny,$(or $(if $(wildcard $(TRAIN_CONFIG)),$(call recipe_value,model_name_or_path)),$(MODEL)))
EVAL_MODEL = $(if $(and $(TRAINED),$(wildcard $(TRAINED)/config.json $(TRAINED)/adapter_config.json)),$(TRAINED),$(EVAL_BASE))
EVAL_WHAT = $(if $(filter $(TRAINED),$(EVAL_MODEL)),the model make train saved,$(if $(TRAINED),the base model: nothing trained in $(TRAINED) yet,$(if $(WRITTEN_BY),written by $(WRITTEN_BY); defaults of $(EVAL_DEFAULTS),the model as given)))
# outputs/eval/<the model's folder name>; a folder under outputs/ keeps its path (outputs/toy/sft -> toy-sft).
EVAL_DIR ?= outputs/eval/$(if $(filter outputs/%,$(EVAL_MODEL)),$(subst /,-,$(patsubst outputs/%,%,$(patsubst %/,%,\
  $(EVAL_MODEL)))),$(notdir $(EVAL_MODEL)))
EVAL_OFFLINE = $(or $(filter tiny,$(MODEL)),$(filter recipes/tiny/ recipes/toy/,$(dir $(WRITTEN_BY))),$(filter 1,$(HF_HUB_OFFLINE)))
IFEVAL_INPUT ?= $(if $(EVAL_OFFLINE),$(wildcard ../shared/data/ifeval/input_data.jsonl))
IFBENCH_INPUT ?= $(if $(EVAL_OFFLINE),$(wildcard ../shared/data/ifbench/IFBench_test.jsonl))
FOLLOWBENCH_INPUT ?= $(if $(EVAL_OFFLINE),$(wildcard ../shared/data/followbench))
GSM8K_INPUT ?= $(if $(EVAL_OFFLINE),$(wildcard ../shared/data/gsm8k/test.jsonl))
CFBENCH_INPUT ?= # CFBench is not on the Hub: the official cfbench_data.json (github.com/PKU-Baichuan-MLSystemLab/CFBench)
COMPLEXBENCH_INPUT ?= # not on the Hub either: the official data/data_final.json (github.com/thu-coai/ComplexBench)
LIMIT ?= $(call eval_value,limit)
MAX_NEW_TOKENS ?= $(or $(call eval_value,max_new_tokens),2048)
TEMPERATURE ?= $(or $(call eval_value,temperature),0.0)
TOP_P ?= $(or $(call eval_value,top_p),1.0)
THINKING_FLAG = $(if $(filter true,$(call eval_value,enable_thinking)),--enable-thinking,$(if $(filter false,$(call eval_value,enable_thinking)),--disable-thinking))
EVAL_ARGS ?=
# A world's own LSR-Eval (recipes/toy/eval.yaml: `world`, `eval_seed`, `num_prompts`), one thread as it trains.
LSR_WORLD_ARGS = $(if $(call eval_value,world),--world $(call eval_value,world) --eval-seed $(call eval_value,eval_seed) \
  --num-prompts $(call eval_value,num_prompts))
EVAL_ENV = $(if $(or $(filter toy,$(MODEL)),$(filter recipes/toy/,$(dir $(WRITTEN_BY)))),OMP_NUM_THREADS=1)
EVAL_LIST = $(if $(filter all,$(BENCH)),$(EVAL_RULE_BENCHES) $(if $(and $(JUDGE_URL),$(JUDGE_MODEL)),$(EVAL_JUDGE_BENCHES)),$(subst $(COMMA), ,$(BENCH)))
EVAL_JUDGE_ARGS = $(if $(and $(JUDGE_URL),$(JUDGE_MODEL)),--judge-base-url $(JUDGE_URL) --judge-model $(JUDGE_MODEL))
.PHONY: eval
eval: install
	@echo "make eval: $(EVAL_MODEL) ($(EVAL_WHAT)); max new tokens $(MAX_NEW_TOKENS), temperature $(TEMPERATURE), top-p $(TOP_P)"
	set -e; for bench in $(EVAL_LIST); do \
	  case $$bench in ifeval) input="$(IFEVAL_INPUT)";; ifbench) input="$(IFBENCH_INPUT)";; \
	    followbench) input="$(FOLLOWBENCH_INPUT)";; gsm8k) input="$(GSM8K_INPUT)";; cfbench) input="$(CFBENCH_INPUT)";; \
	    complexbench|complexbench-en) input="$(COMPLEXBENCH_INPUT)";; \
	    *) input="";; esac; \
	  case $$bench in lsr) world="$(LSR_WORLD_ARGS)";; *) world="";; esac; \
	  case " followbench complexbench complexbench-en $(EVAL_JUDGE_BENCHES) " in *" $$bench "*) judge="$(EVAL_JUDGE_ARGS)";; *) judge="";; esac; \
	  $(EVAL_ENV) $(VENV)/bin/lsrif eval $$bench --model $(EVAL_MODEL) --backend $(BACKEND) --output-dir $(EVAL_DIR)/$$bench \
	    --max-new-tokens $(MAX_NEW_TOKENS) --temperature $(TEMPERATURE) --top-p $(TOP_P) $(THINKING_FLAG) \
	    $(if $(LIMIT),--limit $(LIMIT)) $${input:+--input-data $$input} $$world $$judge $(EVAL_ARGS); \
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

# `make ablation [SEEDS=0,1,2] [REWARDS=lsrm,flat,all] [GAMMAS=0,0.25,0.5,0.75,1] [FREEZE=attention] [EVAL_SEED=1]
# [STEPS=60] [JOBS=<GRPO runs side by side; default one per core>] [RM=1]`: the toy world
# (`lsrif data build --world toy`) -> SFT warm-up on noisy expert answers -> GRPO with each reward and seed from
# that one checkpoint (FREEZE: also LSRM with that parameter group frozen) -> held-out evaluation (prompts rebuilt
# from EVAL_SEED) -> parameter and attention change of each run against the SFT start ->
# outputs/ablation/results.{json,md} and plots. Finished
# stages are reused; delete outputs/ablation to start over. `RM=1` adds the self-supervised reward model measured
# against the verifiers (RM_CONSTRAINTS= the hard constraints held out as soft; the ablation's lsrm runs are its
# verifier arm). make's own RM (`rm -f`) is never 1, so only RM=1 turns it on.
SEEDS ?= 0,1,2
REWARDS ?= lsrm,flat,all
GAMMAS ?=
FREEZE ?=
EVAL_SEED ?= 1
STEPS ?= 60
JOBS ?=
.PHONY: ablation
ablation: install
	$(PY) recipes/ablation.py --seeds $(SEEDS) --rewards $(REWARDS) $(if $(GAMMAS),--gammas $(GAMMAS)) \
	  $(if $(FREEZE),--freeze $(FREEZE)) --eval-seed $(EVAL_SEED) --steps $(STEPS) $(if $(JOBS),--jobs $(JOBS)) \
	  $(if $(filter 1,$(RM)),--reward-model) $(if $(RM_CONSTRAINTS),--rm-constraints $(RM_CONSTRAINTS)) \
	  --output-dir outputs/ablation

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
