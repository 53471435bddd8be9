"""How fast do the soft-constraint scorers answer a GRPO batch?

1. Judge: `OpenAIJudge.score_batch` against a loopback OpenAI-compatible server that answers every request after a
   fixed delay (standing in for a judge model's latency). A GRPO-shaped batch (`--prompts` distinct prompts x
   `--generations` completions, every 4th completion repeated, one soft leaf each) is scored at concurrency 1 and
   `--concurrency`, then scored again so every verdict comes from the cache.
2. Classifier: `ClassifierScorer.score_batch` on the tiny model (CPU), batch size 1 against 8.

Run: `python benchmarks/bench_judges.py [--latency 0.05] [--prompts 8] [--generations 8] [--concurrency 8]`.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
import warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from lsrif_trl.judges.classifier import ClassifierScorer
from lsrif_trl.judges.openai_judge import OpenAIJudge
from lsrif_trl.tiny import build_tiny_model

TEXT = "Use a warm, friendly tone throughout."


def start_server(latency: float) -> ThreadingHTTPServer:
    """A loopback chat-completions server answering YES after `latency` seconds."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            time.sleep(latency)
            data = json.dumps({"choices": [{"message": {"role": "assistant", "content": "YES"}}]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server


def grpo_batch(prompts: int, generations: int) -> list[tuple[str, str, str]]:
    """(prompt, answer, text) for a GRPO batch; every 4th completion repeats the one before it."""
    batch = []
    for p in range(prompts):
        for g in range(generations):
            answer = f"Answer {p}-{g - 1 if g % 4 == 3 else g}: tea is a warm hug."
            batch.append((f"Prompt {p}: describe tea. {TEXT}", answer, TEXT))
    return batch


def timed(fn, *args) -> float:
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def bench_judge(args: argparse.Namespace) -> None:
    server = start_server(args.latency)
    url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    batch = grpo_batch(args.prompts, args.generations)
    distinct = len(set(batch))
    print(
        f"judge: {len(batch)} soft leaves per batch ({distinct} distinct), server latency {args.latency * 1000:.0f} ms"
    )
    seconds = {}
    for concurrency in (1, args.concurrency):
        judge = OpenAIJudge(base_url=url, model="bench", concurrency=concurrency, top_logprobs=0)
        seconds[concurrency] = timed(judge.score_batch, batch)
        cached = timed(judge.score_batch, batch)
        print(
            f"  concurrency {concurrency:>2}: {seconds[concurrency]:.2f} s per batch "
            f"({distinct / seconds[concurrency]:.1f} requests/s); same batch again from the cache: {cached * 1000:.1f} ms"
        )
    print(f"  speed-up of concurrency {args.concurrency} over 1: {seconds[1] / seconds[args.concurrency]:.1f}x")
    server.shutdown()


def bench_classifier(args: argparse.Namespace) -> None:
    batch = grpo_batch(args.prompts, args.generations)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tiny causal LM has no trained score head; speed is all we measure
        scorers = {size: ClassifierScorer(build_tiny_model(), batch_size=size, device="cpu") for size in (1, 8)}
        for scorer in scorers.values():
            scorer.score_batch(batch[:2])  # load weights outside the timing
    print(f"classifier (tiny model, CPU): {len(batch)} soft leaves")
    seconds = {size: timed(scorer.score_batch, batch) for size, scorer in scorers.items()}
    for size, value in seconds.items():
        print(f"  batch size {size}: {value:.2f} s ({len(batch) / value:.0f} leaves/s)")
    print(f"  speed-up of batch size 8 over 1: {seconds[1] / seconds[8]:.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(
        allow_abbrev=False, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--latency", type=float, default=0.05, help="seconds the fake judge takes per request")
    parser.add_argument("--prompts", type=int, default=8)
    parser.add_argument("--generations", type=int, default=8)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    bench_judge(args)
    bench_classifier(args)


if __name__ == "__main__":
    main()
