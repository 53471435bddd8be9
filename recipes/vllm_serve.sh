#!/usr/bin/env bash
# Serve a GRPO recipe's model for `vllm_mode: server` the way TRL 1.16 says to: its `trl vllm-serve` is deprecated
# in favour of vLLM's own `vllm serve` in dev mode (VLLM_SERVER_DEV_MODE=1, for the weight-transfer endpoints),
# with the flags TRL's client relies on (trl/scripts/vllm_serve.py, build_command): the NCCL weight-transfer engine,
# processed logprobs and no logprob cap.
#
#   recipes/vllm_serve.sh RECIPE.yaml [--port 8000] [--host 0.0.0.0] [more `vllm serve` arguments]
#
# The model and context length come from the recipe (model_name_or_path, vllm_max_model_length). Tensor parallel
# is VLLM_TP (default 1); data parallel stays 1, since TRL's vllm_serve says values above 1 error out for dense
# models. VLLM_BIN is the vllm executable (default: `vllm` on PATH); DRY_RUN=1 prints the command instead.
set -euo pipefail
CONFIG=${1:?usage: recipes/vllm_serve.sh RECIPE.yaml [vllm serve arguments]}
shift
[[ -f $CONFIG ]] || { echo "no recipe $CONFIG" >&2; exit 2; }
value() { python3 "$(dirname "$0")/recipe_value.py" "$CONFIG" "$1" || true; }
MODEL_ID=$(value model_name_or_path)
[[ -n $MODEL_ID ]] || { echo "$CONFIG sets no model_name_or_path" >&2; exit 2; }
MAX_LEN=$(value vllm_max_model_length)
CMD=("${VLLM_BIN:-vllm}" serve "$MODEL_ID" --tensor-parallel-size "${VLLM_TP:-1}" --data-parallel-size 1
  --weight-transfer-config '{"backend": "nccl"}' --logprobs-mode processed_logprobs --max-logprobs -1)
[[ -n $MAX_LEN && $MAX_LEN != null ]] && CMD+=(--max-model-len "$MAX_LEN")
CMD+=("$@")
if [[ ${DRY_RUN:-0} == 1 ]]; then
  printf 'VLLM_SERVER_DEV_MODE=1'; printf ' %q' "${CMD[@]}"; echo
else
  VLLM_SERVER_DEV_MODE=1 exec "${CMD[@]}"
fi
