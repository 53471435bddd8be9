"""How fast do the soft-constraint scorers answer a GRPO batch?

1. Judge: `OpenAIJudge.score_batch` against a loopback OpenAI-compatible server in its own process (asyncio,
   keep-alive) that answers every request after a fixed delay, standing in for a judge model's latency. A
   GRPO-shaped batch (`--prompts` distinct prompts x `--generations` completions, every 4th completion
   repeated, one soft leaf each) is scored at concurrency 1 (a slice of it) and `--concurrency`, then scored
   again so every verdict comes from the cache.
2. `--transports`: requests/s and client CPU per request of the project's transport against the `openai` SDK's
   AsyncOpenAI and a bare httpx2 AsyncClient (each skipped when not installed), same server and concurrency.
3. Classifier: `ClassifierScorer.score_batch` on the tiny model (CPU, one torch thread: with two threads on a
   shared 2-core machine every op waits for a busy core, about 10x slower) at batch sizes 1, 8 and 32.

Run: `python benchmarks/bench_judges.py [--latency 0.05] [--prompts 64] [--generations 16] [--concurrency 64]
[--transports]`. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import time
import warnings

from lsrif_trl.chat.client import ChatClient, reply_text
from lsrif_trl.judges.classifier import ClassifierScorer
from lsrif_trl.judges.openai_judge import OpenAIJudge
from lsrif_trl.tiny import build_tiny_model

TEXT = "Use a warm, friendly tone throughout."


def chat_reply(content: str) -> bytes:
    """A chat-completions response body whose one choice says `content`."""
    return json.dumps(
        {
            "id": "bench",
            "object": "chat.completion",
            "created": 0,
            "model": "bench",
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
        }
    ).encode()


async def _answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, latency: float, reply: bytes) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
            )
            await reader.readexactly(length)
            await asyncio.sleep(latency)
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(reply)
            )
            writer.write(reply)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


def _serve(latency: float, ports: multiprocessing.Queue, reply: bytes) -> None:
    async def main() -> None:
        server = await asyncio.start_server(lambda r, w: _answer(r, w, latency, reply), "127.0.0.1", 0, backlog=1024)
        ports.put(server.sockets[0].getsockname()[1])
        await server.serve_forever()

    asyncio.run(main())


def start_server(latency: float, content: str = "YES") -> tuple[multiprocessing.Process, str]:
    """A loopback chat-completions server in its own process, answering `content` after `latency` seconds."""
    ports: multiprocessing.Queue = multiprocessing.Queue()
    process = multiprocessing.Process(target=_serve, args=(latency, ports, chat_reply(content)), daemon=True)
    process.start()
    return process, f"http://127.0.0.1:{ports.get(timeout=30)}/v1"


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


def bench_judge(args: argparse.Namespace, url: str) -> None:
    batch = grpo_batch(args.prompts, args.generations)
    distinct = len(set(batch))
    print(
        f"judge: {len(batch)} soft leaves per batch ({distinct} distinct), server latency {args.latency * 1000:.0f} ms"
    )
    for concurrency in (1, args.concurrency):
        part = batch if concurrency > 1 else batch[: max(8, len(batch) // 32)]  # concurrency 1 is slow: a slice
        judge = OpenAIJudge(base_url=url, model="bench", concurrency=concurrency, top_logprobs=0)
        judge.score_batch([("warm", "up", "the connections")] * 1)
        seconds = timed(judge.score_batch, part)
        cached = timed(judge.score_batch, part)
        unique = len(set(part))
        print(
            f"  concurrency {concurrency:>3}: {len(part)} leaves in {seconds:.2f} s = {len(part) / seconds:,.0f} "
            f"leaves/s ({unique / seconds:,.0f} requests/s); again from the cache: {cached * 1000:.1f} ms "
            f"({len(part) / cached:,.0f} leaves/s); missing {judge.stats['missing']}"
        )
        judge.close()


async def _sdk_round(url: str, n: int, concurrency: int) -> None:
    import openai

    client = openai.AsyncOpenAI(base_url=url, api_key="unused", max_retries=0, timeout=30)
    slots = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with slots:
            await client.chat.completions.create(model="m", messages=[{"role": "user", "content": f"{i}"}])

    await asyncio.gather(*(one(i) for i in range(concurrency)))  # open the connections
    start, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(one(i) for i in range(n)))
    _report("openai SDK AsyncOpenAI", n, start, cpu)
    await client.close()


async def _httpx_round(url: str, n: int, concurrency: int) -> None:
    import httpx2

    limits = httpx2.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    client = httpx2.AsyncClient(limits=limits, timeout=30)
    slots = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with slots:
            body = {"model": "m", "messages": [{"role": "user", "content": f"{i}"}]}
            (await client.post(f"{url}/chat/completions", json=body)).json()

    await asyncio.gather(*(one(i) for i in range(concurrency)))
    start, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(one(i) for i in range(n)))
    _report("httpx2 AsyncClient", n, start, cpu)
    await client.aclose()


def _report(name: str, n: int, start: float, cpu: float) -> None:
    seconds = time.perf_counter() - start
    print(f"  {name:<24} {n / seconds:>7,.0f} requests/s, {1000 * (time.process_time() - cpu) / n:.2f} ms CPU each")


def bench_transports(args: argparse.Namespace, url: str) -> None:
    n = args.prompts * args.generations
    print(f"transports: {n} requests at concurrency {args.concurrency}, {args.latency * 1000:.0f} ms latency")
    client = ChatClient(url, concurrency=args.concurrency)
    payloads = [{"model": "m", "messages": [{"role": "user", "content": f"{i}"}]} for i in range(n)]
    [f.result() for f in [client.submit(p, reply_text) for p in payloads[: args.concurrency]]]
    start, cpu = time.perf_counter(), time.process_time()
    [f.result() for f in [client.submit(p, reply_text) for p in payloads]]
    _report("lsrif_trl.chat", n, start, cpu)
    client.close()
    for name, round_ in (("openai", _sdk_round), ("httpx2", _httpx_round)):
        try:
            __import__(name)
        except ImportError:
            print(f"  {name}: not installed, skipped")
            continue
        asyncio.run(round_(url, n, args.concurrency))


def bench_classifier(args: argparse.Namespace) -> None:
    import torch

    torch.set_num_threads(1)
    batch = grpo_batch(args.prompts, args.generations)[:256]
    sizes = (1, 8, 32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tiny causal LM has no trained score head; speed is all we measure
        scorers = {size: ClassifierScorer(build_tiny_model(), batch_size=size, device="cpu") for size in sizes}
        for scorer in scorers.values():
            scorer.score_batch(batch[:2])  # load weights outside the timing
    print(f"classifier (tiny model, CPU): {len(batch)} soft leaves")
    seconds = {size: timed(scorer.score_batch, batch) for size, scorer in scorers.items()}
    for size, value in seconds.items():
        print(f"  batch size {size:>2}: {value:.2f} s ({len(batch) / value:,.0f} leaves/s)")
    print(f"  speed-up of batch size 32 over 1: {seconds[1] / seconds[32]:.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(
        allow_abbrev=False, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--latency", type=float, default=0.05, help="seconds the fake judge takes per request")
    parser.add_argument("--prompts", type=int, default=64)
    parser.add_argument("--generations", type=int, default=16)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--transports", action="store_true", help="also compare HTTP clients")
    args = parser.parse_args()
    server, url = start_server(args.latency)
    try:
        bench_judge(args, url)
        if args.transports:
            bench_transports(args, url)
    finally:
        server.terminate()
    bench_classifier(args)


if __name__ == "__main__":
    main()
