"""RAIF's mechanics in a real GRPOTrainer on the tiny model: no-CoT prefill, contrast masking, behaviour cloning."""

import copy
import json

import pytest
import torch
from datasets import Dataset
from transformers import AutoModelForCausalLM, AutoTokenizer
from trl import GRPOConfig

from lsrif_trl.rewards.functions import ThinkFormatReward
from lsrif_trl.rewards.think import NO_COT_PREFILL, AnswerPolicy
from lsrif_trl.tiny import build_tiny_model
from lsrif_trl.training.behaviour_cloning import ExpertStream, token_nll, tokenize_demonstration
from lsrif_trl.training.raif_trainer import BC_STATE_FILE, RaifGRPOTrainer
from lsrif_trl.training.superior_cot import SuperiorCoTConfig

pytestmark = pytest.mark.slow
N = 4  # generations per prompt; the last one of each group answers directly


def direct_scores_one(prompts, completions, **kwargs):
    """1 for a sample that answered directly (its completion shows the empty think block), else 0."""
    return [1.0 if c[-1]["content"].startswith(NO_COT_PREFILL) else 0.0 for c in completions]


def cot_first_wins(prompts, completions, **kwargs):
    """Within each group of N: 1.0 for the first sample, 0.5 for the others (CoT and direct alike)."""
    return [1.0 if i % N == 0 else 0.5 for i in range(len(completions))]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "model")


def make_trainer(
    tiny, tmp_path, reward, superior_cot=True, expert_stream=None, beta=0.0, rows=None, sources=None, **extra
):
    rows = rows or [{"prompt": [{"role": "user", "content": f"Say something about topic {i}."}]} for i in range(4)]
    dataset = Dataset.from_list(rows)
    args = GRPOConfig(
        output_dir=str(tmp_path / "out"),
        use_cpu=True,
        per_device_train_batch_size=2 * N,
        num_generations=N,
        max_completion_length=6,
        learning_rate=1e-3,
        beta=beta,
        loss_type="grpo",
        logging_steps=1,
        report_to=[],
        seed=0,
        **extra,
    )
    config = SuperiorCoTConfig(num_generations=N, no_cot_fraction=0.25, sources=sources) if superior_cot else None
    return RaifGRPOTrainer(
        model=AutoModelForCausalLM.from_pretrained(tiny),
        reward_funcs=reward if isinstance(reward, list) else [reward],
        args=args,
        train_dataset=dataset,
        processing_class=AutoTokenizer.from_pretrained(tiny),
        superior_cot=config,
        expert_stream=expert_stream,
    )


def generation_batch(trainer):
    trainer.model.train()
    trainer.current_gradient_accumulation_steps = 1  # set by the training loop; these tests call the steps directly
    return next(iter(trainer.get_train_dataloader()))


def test_direct_samples_carry_the_empty_think_block_and_all_samples_enter_the_advantage(tiny, tmp_path):
    trainer = make_trainer(tiny, tmp_path, direct_scores_one)
    out = trainer._generate_and_score_completions(generation_batch(trainer))
    prefill = trainer._prefill_ids
    ends = [out["prompt_ids"][i, -len(prefill) :].tolist() == prefill for i in range(2 * N)]
    assert ends == [False, False, False, True] * 2
    # Rewards per group [0, 0, 0, 1]: the CoT samples' advantage is negative only because the direct one counted.
    adv = out["advantages"]
    assert torch.all(adv[[0, 1, 2, 4, 5, 6]] < 0)
    assert torch.all(adv[[3, 7]] == 0)  # direct samples never train the policy
    metrics = trainer._metrics["train"]
    assert metrics["lsrif/superior_cot/no_cot_fraction"] == [0.25]
    assert metrics["lsrif/superior_cot/keep_ratio"] == [0.75]
    assert metrics["lsrif/superior_cot/no_cot_reward"] == [1.0]
    assert metrics["lsrif/superior_cot/cot_reward"] == [0.0]
    assert metrics["lsrif/superior_cot/masked_prompts"] == [0.0]


def direct_wins(prompts, completions, **kwargs):
    """1.0 for a direct sample; its group's reasoning samples 0.5, 0.2 and 0.2, so every one of them is worse."""
    return [1.0 if c[-1]["content"].startswith(NO_COT_PREFILL) else 0.5 if i % N == 0 else 0.2
            for i, c in enumerate(completions)]  # fmt: skip


def test_the_format_reward_is_left_out_of_the_contrast_and_a_format_failure_keeps_its_sample(tiny, tmp_path):
    # The tiny model writes no think block, so every reasoning sample fails RAIF's format rule (-1).
    trainer = make_trainer(tiny, tmp_path, [direct_wins, ThinkFormatReward(AnswerPolicy("completion"))])
    out = trainer._generate_and_score_completions(generation_batch(trainer))
    metrics = trainer._metrics["train"]
    assert metrics["lsrif/superior_cot/cot_reward"] == [pytest.approx(0.3)]  # direct_wins alone: (0.5+0.2+0.2)/3
    assert metrics["lsrif/superior_cot/no_cot_reward"] == [1.0]
    assert metrics["lsrif/superior_cot/masked_prompts"] == [1.0]  # every reasoning sample is worse...
    assert metrics["lsrif/superior_cot/keep_ratio"] == [0.75]  # ...but fails the format, so it stays
    assert torch.all(out["advantages"][[0, 1, 2, 4, 5, 6]] != 0)


def param_grads(trainer, inputs):
    trainer.model.zero_grad()
    trainer.compute_loss(trainer.model, inputs).backward()
    return torch.cat([p.grad.flatten() for p in trainer.model.parameters() if p.grad is not None])


def rows(inputs, keep):
    index = torch.tensor(keep)
    return {k: v[index] if isinstance(v, torch.Tensor) and v.dim() > 0 else v for k, v in inputs.items()}


def test_a_dropped_sample_adds_no_policy_gradient_but_keeps_its_kl_term(tiny, tmp_path):
    trainer = make_trainer(tiny, tmp_path, cot_first_wins)
    out = trainer._generate_and_score_completions(generation_batch(trainer))
    dropped = (out["advantages"] == 0).nonzero().flatten().tolist()
    assert 3 in dropped and 7 in dropped
    kept = [i for i in range(2 * N) if i not in dropped]
    with_dropped = param_grads(trainer, out)
    without = param_grads(trainer, rows(out, kept))
    # loss_type grpo averages over sequences: the dropped ones only enlarge the denominator. (TRL's fused LM head
    # sums in a batch-size-dependent order, so the two differ by float noise on large, cancelling terms.)
    scale = (without * len(kept)).abs().max().item()
    torch.testing.assert_close(with_dropped * (2 * N), without * len(kept), rtol=0, atol=1e-2 * scale)

    only_dropped = rows(out, dropped)
    only_dropped["ref_per_token_logps"] = torch.zeros_like(only_dropped["completion_ids"], dtype=torch.float32) - 3.0
    assert torch.count_nonzero(param_grads(trainer, only_dropped)) == 0  # beta 0: nothing at all
    trainer.beta = 0.1
    assert torch.count_nonzero(param_grads(trainer, only_dropped)) > 0  # the KL term still pulls


def demonstrations(tiny):
    tokenizer = AutoTokenizer.from_pretrained(tiny)
    rows_ = [
        {
            "prompt": [{"role": "user", "content": f"Name colour {i}."}],
            "completion": [{"role": "assistant", "content": "red"}],
        }
        for i in range(6)
    ]
    return [tokenize_demonstration(r, tokenizer, "sequence", 64) for r in rows_], tokenizer.pad_token_id


def test_behaviour_cloning_adds_bc_coef_times_the_expert_nll_gradient(tiny, tmp_path):
    demos, pad = demonstrations(tiny)
    stream = ExpertStream(demos, batch_size=2, seed=0)
    trainer = make_trainer(tiny, tmp_path, cot_first_wins, superior_cot=False, expert_stream=stream)
    trainer.bc_coef = 0.7
    inputs = trainer._generate_and_score_completions(generation_batch(trainer))
    expected_batch = copy.deepcopy(stream).next_batch(pad)
    with_bc = param_grads(trainer, inputs)
    trainer.expert_stream = None
    rl_only = param_grads(trainer, inputs)
    trainer.model.zero_grad()
    token_nll(trainer.model, expected_batch).backward()
    nll = torch.cat([p.grad.flatten() for p in trainer.model.parameters() if p.grad is not None])
    torch.testing.assert_close(with_bc - rl_only, 0.7 * nll, rtol=1e-4, atol=1e-7)
    assert stream.consumed == 1
    assert "lsrif/bc_loss" in trainer._metrics["train"]


def test_the_expert_stream_position_is_saved_with_a_checkpoint_and_restored_on_resume(tiny, tmp_path):
    demos, _ = demonstrations(tiny)
    trainer = make_trainer(
        tiny, tmp_path, cot_first_wins, expert_stream=ExpertStream(demos, batch_size=2), max_steps=2, save_steps=2
    )
    trainer.train()
    state = json.loads((tmp_path / "out" / "checkpoint-2" / BC_STATE_FILE).read_text())
    assert state == {"consumed": 2}
    resumed_stream = ExpertStream(demos, batch_size=2)
    resumed = make_trainer(
        tiny, tmp_path, cot_first_wins, expert_stream=resumed_stream, max_steps=3, save_strategy="no"
    )
    resumed.train(resume_from_checkpoint=str(tmp_path / "out" / "checkpoint-2"))
    assert resumed_stream.consumed == 3


def test_the_stream_cycles_in_a_seeded_order_and_shards_by_process(tiny):
    demos, pad = demonstrations(tiny)
    a = ExpertStream(demos, batch_size=1, seed=3, rank=0, world_size=2)
    b = ExpertStream(demos, batch_size=1, seed=3, rank=1, world_size=2)
    seen_a = [a.next_batch(pad)["input_ids"].tolist() for _ in range(3)]
    seen_b = [b.next_batch(pad)["input_ids"].tolist() for _ in range(3)]
    assert not any(x in seen_b for x in seen_a)  # disjoint shards within an epoch
    again = ExpertStream(demos, batch_size=1, seed=3, rank=0, world_size=2, consumed=1)
    assert again.next_batch(pad)["input_ids"].tolist() == seen_a[1]
    with pytest.raises(ValueError, match="bc_batch_size"):
        ExpertStream(demos, batch_size=4, world_size=2)


def test_a_mixtures_maths_prompt_gets_no_direct_sample_and_keeps_every_sample_in_the_loss(tiny, tmp_path):
    rows = [
        {"prompt": [{"role": "user", "content": "Describe a cat."}], "data_source": "instructions"},
        {"prompt": [{"role": "user", "content": "What is 2 + 3?"}], "data_source": "math"},
    ]
    trainer = make_trainer(tiny, tmp_path, cot_first_wins, rows=rows, sources=frozenset({"instructions"}))
    batch = generation_batch(trainer)
    out = trainer._generate_and_score_completions(batch)
    sources = [row["data_source"] for row in batch]
    assert sorted(set(sources)) == ["instructions", "math"]
    prefill = trainer._prefill_ids
    ends = [out["prompt_ids"][i, -len(prefill) :].tolist() == prefill for i in range(2 * N)]
    assert ends == [s == "instructions" and i % N == N - 1 for i, s in enumerate(sources)]
    # Rewards [1, .5, .5, .5] per group: the instruction prompt's direct sample leaves the loss, the maths one stays.
    last = {sources[i]: out["advantages"][i].item() for i in range(N - 1, 2 * N, N)}
    assert last["instructions"] == 0.0 and last["math"] < 0.0
    metrics = trainer._metrics["train"]
    assert metrics["lsrif/superior_cot/contrasted_prompts"] == [0.5]
    assert metrics["lsrif/superior_cot/no_cot_fraction"] == [0.25]  # of the contrasted prompt's samples
    assert metrics["lsrif/superior_cot/keep_ratio"] == [0.75]
