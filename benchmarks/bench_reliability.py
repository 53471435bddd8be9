"""Does anything a completion, a data file or a kill can do crash, hang or corrupt a run?

1. Fuzz: adversarial completions (megabyte-scale repeats of what the verifiers' regexes and tokenizers key on,
   random Unicode with lone surrogates and NULs, nested and unclosed think tags, non-string completions) scored by
   the `lsrm`, `flat`, `all` and `think_format` rewards against builder trees and against trees whose integer
   kwargs sit at their schema maximum. Counts exceptions, scores that are NaN or out of range, and calls slower
   than the hang threshold; prints the slowest single check on a completion of MAX_CHARS characters.
2. Corrupted data: files that break the contract in every way the reliability issue lists (bad encodings,
   truncated or broken lines, catastrophic regexes, huge counts, deep and wide trees, ...) through
   `lsrif data validate`: each must exit 2 naming its file and line or its row and field, never raise.
3. Kill during save: the tiny recipe is killed (SIGKILL) at random moments of a run that checkpoints every step,
   then re-run; every re-run must finish at max_steps. Then each way a save can be cut short is applied to a copy
   of a real checkpoint and the resume plan checked.
4. Judge faults: the OpenAI-compatible judge (1 s attempt timeout, 2 s deadline, one retry) against a loopback
   server that fails one way per case (5xx, 401, 429 with Retry-After 3600, empty or null choices, a verdict-less
   or truncated body, an absurd logprob, a one-byte-every-0.25-s drip, a hang, a closed port). Each batch of 16
   leaves must come back as missing (NaN, counted) or stop the run with the endpoint named, within the deadline;
   a fault scored as a verdict is "silent".

Run: `python benchmarks/bench_reliability.py [--fuzz 3000] [--kills 3] [--judge]`. Prints counts; asserts nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from lsrif_trl.cli import main as lsrif
from lsrif_trl.constraints import constraint_ids, follows_strict, get_constraint
from lsrif_trl.data.builder import build_examples
from lsrif_trl.rewards import get_reward_funcs
from lsrif_trl.structure import ConstraintNode, ParallelNode, to_json
from lsrif_trl.training.checkpoints import missing_parts, plan_resume

REPO = Path(__file__).resolve().parents[1]
MAX_CHARS = 65_536  # ~16k tokens: twice the longest max_completion_length of the shipped recipes (8k tokens)
HANG_SECONDS = 2.0  # a reward call on one batch slower than this counts as a hang
REPEATED = ["a", ":!", "*", "\n", "P.S. ", "Section 1 ", "<<x>> ", "[a] ", "1. ", "| --- |", "word, ", "A", ". ", "\t"]


def fuzz_completions(rng: random.Random, n: int) -> list[object]:
    """`n` adversarial completions, a fixed share of each kind."""
    out: list[object] = []
    for i in range(n):
        kind = i % 6
        if kind == 0:
            unit = rng.choice(REPEATED)
            out.append(unit * (MAX_CHARS // len(unit)))
        elif kind == 1:
            out.append("".join(chr(rng.randrange(0x10FFFF)) for _ in range(rng.randint(1, 2000))))
        elif kind == 2:
            out.append("".join(rng.choice("<think></think>\n a.,!?*") for _ in range(rng.randint(0, 3000))))
        elif kind == 3:
            out.append(rng.choice([None, 7, 3.5, [], {}, [{"role": "assistant"}], [{"content": None}], b"x"]))
        elif kind == 4:
            out.append([{"role": "assistant", "content": "<think>" * rng.randint(0, 50) + "Fine. P.S. ok"}])
        else:
            words = rng.choices(["the", "SECTION", "P.P.S", "***", "kitchen", "é", "\u200b", "1)", "Q:", "A:"], k=800)
            out.append(" ".join(words))
    return out


def maximal_trees() -> list[str]:
    """One tree per constraint whose integer kwargs are at their schema maximum (the costliest valid rows)."""
    rng = random.Random(0)
    trees = []
    for cid in constraint_ids():
        constraint = get_constraint(cid)
        kwargs = constraint.sample_kwargs(rng)
        for param in constraint.params:
            if param.type is int and param.maximum is not None:
                kwargs[param.name] = int(param.maximum)
        try:
            kwargs = constraint.validate(kwargs)
        except ValueError:  # a pair rule (e.g. nth_paragraph <= num_paragraphs) the maximum breaks
            kwargs = constraint.validate(constraint.sample_kwargs(rng))
        trees.append(to_json(ParallelNode((ConstraintNode(cid, kwargs=kwargs),))))
    return trees


def bench_fuzz(n: int) -> None:
    """Fuzzed completions through the rewards: exceptions, bad scores, hangs, time."""
    rng = random.Random(1)
    structures = [e.row["structure"] for e in build_examples(120, seed=3, max_depth=3)] + maximal_trees()
    completions = fuzz_completions(rng, n)
    funcs = get_reward_funcs(["lsrm", "flat", "all", "think_format"])
    cases = exceptions = bad_scores = hangs = 0
    slowest = 0.0
    start = time.perf_counter()
    for i in range(0, n, 16):
        batch = completions[i : i + 16]
        trees = [structures[rng.randrange(len(structures))] for _ in batch]
        for func in funcs:
            cases += len(batch)
            t0 = time.perf_counter()
            try:
                scores = func(prompts=[""] * len(batch), completions=batch, structure=trees)
            except Exception as err:  # noqa: BLE001 (counted: a reward must never raise on a completion)
                exceptions += 1
                print(f"[fuzz] exception in {func.__name__}: {type(err).__name__}: {err}"[:300])
                continue
            took = time.perf_counter() - t0
            slowest = max(slowest, took)
            hangs += took > HANG_SECONDS
            bad_scores += sum(1 for s in scores if s is not None and (math.isnan(s) or not -2 <= s <= 5))
    total = time.perf_counter() - start
    errors = sum(getattr(f, "error_count", 0) for f in funcs)
    print(
        f"[fuzz] {cases} (completion, reward) cases over {len(structures)} trees: {exceptions} exceptions, "
        f"{bad_scores} NaN/out-of-range scores, {hangs} batches over {HANG_SECONDS:.0f} s, {errors} checks scored 0 "
        f"and counted, slowest batch of 16 {slowest:.2f} s, {total:.1f} s in all"
    )
    bench_worst_check()


def bench_worst_check() -> None:
    """The slowest strict check of any constraint (sampled and maximal kwargs) on a MAX_CHARS-long completion."""
    texts = [unit * (MAX_CHARS // len(unit)) for unit in REPEATED] + fuzz_completions(random.Random(2), 12)[1::6]
    trees = [json.loads(t)["children"][0] for t in maximal_trees()]
    rng = random.Random(3)
    worst: list[tuple[float, str, str]] = []
    checks = 0
    for leaf in trees:
        constraint = get_constraint(leaf["id"])
        for kwargs in (leaf["kwargs"], constraint.validate(constraint.sample_kwargs(rng))):
            for text in texts:
                t0 = time.perf_counter()
                with contextlib.suppress(Exception):  # the reward counts these; here only the time matters
                    follows_strict(text, constraint, kwargs)
                worst.append((time.perf_counter() - t0, leaf["id"], repr(text[:12])))
                checks += 1
    worst.sort(reverse=True)
    top = ", ".join(f"{cid} on {text}... {sec * 1e3:.0f} ms" for sec, cid, text in worst[:3])
    print(f"[bound] {checks} checks on completions of up to {MAX_CHARS} characters; slowest: {top}")


def corrupted_files() -> dict[str, bytes]:
    """name -> content of each corrupted dataset file (JSONL)."""

    def row(tree: object, **extra: object) -> bytes:
        return json.dumps({"prompt": "Write.", "structure": json.dumps(tree), **extra}).encode() + b"\n"

    def leaf(cid: str, **kwargs: object) -> dict:
        return {"type": "constraint", "id": cid, "kwargs": kwargs}

    good = row({"type": "parallel", "children": [leaf("punctuation:no_comma")]})
    deep: dict = leaf("punctuation:no_comma")
    for _ in range(300):
        deep = {"type": "sequential", "children": [deep]}
    return {
        "empty": b"",
        "blank-lines": b"\n\n \n",
        "latin-1": good + '{"prompt": "café"}\n'.encode("latin-1"),
        "utf-16": good.decode().encode("utf-16"),
        "truncated-last-line": good + good[:-20],
        "broken-middle-line": good + b'{"prompt": "x", \n' + good,
        "not-an-object": good + b"[1, 2]\n",
        "catastrophic-regex": row(
            {"type": "parallel", "children": [leaf("keywords:existence", keywords=["(a|aa)*c"])]}
        ),
        "regex-in-splitter": row(
            {
                "type": "parallel",
                "children": [leaf("detectable_format:multiple_sections", section_spliter="(x+)+y", num_sections=2)],
            }
        ),
        "huge-count": row({"type": "parallel", "children": [leaf("format:numbered_list", num_items=10**9)]}),
        "float-count": row({"type": "parallel", "children": [leaf("format:numbered_list", num_items=1e300)]}),
        "deep-tree": row(deep),
        "json-nesting-100k": b'{"prompt": "x", "structure": "' + b"[" * 100_000 + b'"}\n',
        "wide-tree": row({"type": "parallel", "children": [leaf("punctuation:no_comma")] * 1000}),
        "long-keyword": row({"type": "parallel", "children": [leaf("keywords:existence", keywords=["k" * 10_000])]}),
        "unknown-id": row({"type": "parallel", "children": [leaf("punctuation:no_coma")]}),
        "bad-type": row({"type": "loop", "children": []}),
        "no-prompt": json.dumps({"structure": "{}"}).encode() + b"\n",
        "families-lie": row({"type": "parallel", "children": [leaf("punctuation:no_comma")]}, families=["train:x"]),
        "mixed-columns": good + json.dumps({"prompt": ["x"], "structure": 5}).encode() + b"\n",
    }


def bench_corrupted(root: Path) -> None:
    """Each corrupted file through `lsrif data validate`: rejected naming where, accepted, or raised."""
    cases = rejected_named = accepted = exceptions = 0
    start = time.perf_counter()
    for name, content in corrupted_files().items():
        path = root / f"{name}.jsonl"
        path.write_bytes(content)
        cases += 1
        code, text = _captured(lambda p=path: lsrif(["data", "validate", str(p)]))
        if isinstance(code, BaseException):
            exceptions += 1
            print(f"[data] {name}: raised {type(code).__name__}: {code}"[:300])
        elif code == 0:
            accepted += 1
            print(f"[data] {name}: accepted")
        elif str(path) in text or "row " in text:
            rejected_named += 1
        else:
            print(f"[data] {name}: exit {code} without file/line or row: {text[:200]!r}")
    print(
        f"[data] {cases} corrupted files through `lsrif data validate`: {rejected_named} rejected naming file/line or "
        f"row/field, {accepted} accepted, {exceptions} exceptions, {time.perf_counter() - start:.1f} s"
    )


def _captured(call) -> tuple[object, str]:
    """(exit code, or the exception raised; stdout and stderr) of a CLI call."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
        try:
            code: object = call()
        except BaseException as err:  # noqa: BLE001 (counted)
            code = err
    return code, buffer.getvalue()


def recipe_command(model: Path, data: Path, run: Path, steps: int) -> list[str]:
    """The tiny recipe, saving a checkpoint every step."""
    return [
        sys.executable, str(REPO / "recipes/grpo_lsrm.py"), "--config", str(REPO / "recipes/tiny/grpo_lsrm.yaml"),
        "--model_name_or_path", str(model), "--dataset_name", str(data), "--build_dataset_rows", "8",
        "--output_dir", str(run), "--per_device_train_batch_size", "4", "--max_completion_length", "8",
        "--save_steps", "1", "--save_total_limit", "3", "--max_steps", str(steps),
    ]  # fmt: skip


def bench_kills(root: Path, kills: int) -> None:
    """SIGKILL the tiny recipe at random moments of a checkpointing run, re-run it, count runs that finish."""
    from lsrif_trl.tiny import build_tiny_model

    model = build_tiny_model(root / "tiny")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    rng = random.Random(4)
    finished = failed = moved = killed_in_save = 0
    start = time.perf_counter()
    for cycle in range(kills):
        run = root / f"run-{cycle}"
        command = recipe_command(model, root / "data", run, steps=6)
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 600
        in_save = cycle % 2 == 0  # even cycles: kill the moment a save has begun; odd: at a random later moment
        while time.time() < deadline and process.poll() is None and not _saving(run, second=not in_save):
            time.sleep(0.002)
        if not in_save:
            time.sleep(rng.uniform(0.0, 2.0))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            killed_in_save += _saving(run, second=False)
        process.wait()
        rerun = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
        state = run / "trainer_state.json"
        done = rerun.returncode == 0 and state.is_file() and json.loads(state.read_text())["global_step"] == 6
        finished += done
        failed += not done
        moved += rerun.stderr.count("is incomplete")
        if not done:
            print(f"[kill] cycle {cycle}: re-run failed (exit {rerun.returncode}): {rerun.stderr[-400:]}")
    print(
        f"[kill] {kills} SIGKILL-then-rerun cycles of the tiny recipe ({killed_in_save} killed inside a save): "
        f"{finished} finished at max_steps, {failed} failed, {moved} incomplete checkpoints moved aside, "
        f"{time.perf_counter() - start:.0f} s"
    )
    bench_cut_saves(root, root / "run-0")


def _saving(run: Path, second: bool) -> bool:
    """A save is under way: a checkpoint folder without its trainer_state.json (written last); with `second`, any
    checkpoint exists (the run is past its first save)."""
    folders = list(run.glob("checkpoint-*"))
    return bool(folders) if second else any(not (f / "trainer_state.json").exists() for f in folders)


def bench_cut_saves(root: Path, run: Path) -> None:
    """Apply each way a save can be cut short to a copy of a real checkpoint and check the resume plan."""
    source = sorted(run.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1]))
    if len(source) < 2:
        print("[cut] fewer than two checkpoints to work on; skipped")
        return
    older, newest = source[-2], source[-1]

    def truncate(path: Path) -> None:
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])

    damages = {
        "no trainer_state.json": lambda f: (f / "trainer_state.json").unlink(),
        "torn trainer_state.json": lambda f: truncate(f / "trainer_state.json"),
        "half model.safetensors": lambda f: truncate(f / "model.safetensors"),
        "no model.safetensors": lambda f: (f / "model.safetensors").unlink(),
        "half optimizer.pt": lambda f: truncate(f / "optimizer.pt"),
        "half scheduler.pt": lambda f: truncate(f / "scheduler.pt"),
        "half rng_state.pth": lambda f: truncate(f / "rng_state.pth"),
    }
    right = 0
    for name, damage in damages.items():
        trial = root / "cut" / name.replace(" ", "-")
        shutil.copytree(older, trial / older.name)
        shutil.copytree(newest, trial / newest.name)
        damage(trial / newest.name)
        with contextlib.redirect_stderr(io.StringIO()):
            plan = plan_resume(trial, max_steps=100)
        ok = plan.checkpoint == str(trial / older.name) and (trial / f"incomplete-{newest.name}").is_dir()
        right += ok
        if not ok:
            print(f"[cut] {name}: resumed from {plan.checkpoint}; missing parts {missing_parts(trial / newest.name)}")
    print(f"[cut] {len(damages)} cut-short saves of a real checkpoint: {right} resumed from the previous complete one")


YES = {"choices": [{"message": {"role": "assistant", "content": "YES"}}]}
JUDGE_FAULTS: dict[str, tuple[int, object, dict[str, str]]] = {  # case -> (status, JSON body or raw bytes, headers)
    "healthy (control)": (200, YES, {}),
    "503 on every call": (503, {"error": "unavailable"}, {}),
    "401 unauthorized": (401, {"error": "bad key"}, {}),
    "429 Retry-After 3600": (429, {"error": "slow down"}, {"Retry-After": "3600"}),
    "choices: []": (200, {"choices": []}, {}),
    "choices: [null]": (200, {"choices": [None]}, {}),
    "no verdict (maybe)": (200, {"choices": [{"message": {"role": "assistant", "content": "maybe"}}]}, {}),
    "empty content": (200, {"choices": [{"message": {"role": "assistant", "content": ""}}]}, {}),
    "logprob 1000": (
        200,
        {
            "choices": [
                {
                    "message": {"content": "YES"},
                    "logprobs": {
                        "content": [
                            {"token": "YES", "logprob": 1000.0, "top_logprobs": [{"token": "YES", "logprob": 1000.0}]}
                        ]
                    },
                }
            ]
        },
        {},
    ),
    "truncated body": (200, b'{"choices": [{"message": {"content": "YE', {"X-Declared-Length": "200"}),
    "drip 1 byte / 0.25 s": (200, YES, {"X-Drip": "0.25"}),
    "hang 30 s": (200, YES, {"X-Hang": "30"}),
}


def _fault_server(status: int, body: object, headers: dict[str, str]):
    """A loopback chat server answering every request with one fault; returns (server, base URL)."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    payload = body if isinstance(body, bytes) else json.dumps(body).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            self.rfile.read(int(self.headers["Content-Length"]))
            try:
                if "X-Hang" in headers:
                    time.sleep(float(headers["X-Hang"]))
                self.send_response(status)
                for name, value in headers.items():
                    if not name.startswith("X-"):
                        self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", headers.get("X-Declared-Length", str(len(payload))))
                self.end_headers()
                if "X-Drip" in headers:
                    for byte in payload:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(float(headers["X-Drip"]))
                else:
                    self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up, as it should

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/v1"


def _judge_case(url: str, leaves: int) -> tuple[str, int, int, float]:
    """(outcome, verdicts, missing, seconds) of one batch of distinct soft leaves against `url`."""
    from lsrif_trl.judges.openai_judge import OpenAIJudge
    from lsrif_trl.rewards.soft import SoftScorerError

    judge = OpenAIJudge(
        url, "judge", timeout=1.0, deadline=2.0, max_retries=1, backoff=0.05, max_backoff=0.5, max_failure_rate=1.0
    )
    requests = [(f"Describe tea {i}.", f"Tea {i} is warm.", "Use a warm tone.") for i in range(leaves)]
    start = time.perf_counter()
    try:
        scores = judge.score_batch(requests)
    except SoftScorerError as err:
        return f"stopped: {str(err)[:60]}", 0, 0, time.perf_counter() - start
    finally:
        judge.close()
    missing = sum(math.isnan(x) for x in scores)
    return "scored", len(scores) - missing, missing, time.perf_counter() - start


def bench_judge_faults(leaves: int = 16) -> None:
    import socket

    print(f"judge faults: {len(JUDGE_FAULTS) + 1} cases, {leaves} leaves each (timeout 1 s, deadline 2 s, 1 retry)")
    silent = hung = 0
    cases = [(name, *_fault_server(*fault)) for name, fault in JUDGE_FAULTS.items()]
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}/v1"
    cases.append(("connection refused", None, closed))
    for name, server, url in cases:
        outcome, verdicts, missing, seconds = _judge_case(url, leaves)
        control = name.startswith("healthy")
        silent += not control and verdicts > 0
        hung += seconds > 2.0 * 2 + 1  # the deadline, a retry's wait, one second of slack
        print(f"  {name:24s} {outcome:30s} verdicts {verdicts:2d}  missing {missing:2d}  {seconds:5.2f} s")
        if server is not None:
            server.shutdown()
            server.server_close()
    print(f"judge faults: {len(cases) - 1} fault cases, {silent} silent (a fault scored as a verdict), {hung} hung")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--fuzz", type=int, default=3000, help="fuzzed completions (0: skip the fuzz and the time bound)"
    )
    parser.add_argument("--kills", type=int, default=3, help="kill-and-rerun cycles of the tiny recipe (0: skip)")
    parser.add_argument("--judge", action=argparse.BooleanOptionalAction, default=True, help="the judge-fault suite")
    args = parser.parse_args()
    shared_nltk = REPO.parent / "shared" / "data" / "nltk_data"
    if shared_nltk.is_dir():
        os.environ.setdefault("NLTK_DATA", str(shared_nltk))
    if args.fuzz:
        bench_fuzz(args.fuzz)
    with tempfile.TemporaryDirectory() as tmp:
        bench_corrupted(Path(tmp))
        if args.kills:
            bench_kills(Path(tmp), args.kills)
    if args.judge:
        bench_judge_faults()


if __name__ == "__main__":
    main()
