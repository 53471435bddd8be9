"""Soft constraints: qualities of a response (tone, style, audience, persona, ...) that a judge scores.

They have no code check, so they live in this catalogue rather than in the hard-constraint registry. Each
entry is one dimension (`soft:tone`, `soft:audience`, ...) with several self-contained instruction texts; the
data builder (`data.constraint_pool`) draws one as a soft leaf of docs/structure.md: `{"type": "constraint", "id":
"soft:tone", "text": "...", "kind": "soft"}`. At most one text per dimension goes into an instruction, and
dimensions that would pull against each other (a persona's voice against an imposed perspective, say) are
listed as conflicts.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from lsrif_trl.constraints.registry import get_spec, register_soft, registered_soft_ids

SOFT_FAMILY = "soft"


@dataclass(frozen=True)
class SoftConstraint:
    """One judged dimension: its id, what a judge looks for, and interchangeable instruction texts."""

    id: str
    description: str
    texts: tuple[str, ...]
    conflicts_with: frozenset[str] = frozenset()
    family: str = SOFT_FAMILY


_CATALOGUE: tuple[SoftConstraint, ...] = (
    SoftConstraint(
        "soft:tone",
        "the emotional colour of the writing",
        (
            "Use a warm, friendly tone throughout.",
            "Keep the tone enthusiastic and upbeat.",
            "Write in a calm, reassuring tone.",
            "Adopt an encouraging tone, as a mentor would.",
            "Sound confident and decisive, without hedging.",
            "Keep the tone respectful and measured.",
            "Let the writing feel gentle and patient.",
        ),
        frozenset({"soft:sentiment"}),
    ),
    SoftConstraint(
        "soft:formality",
        "the register: formal or conversational",
        (
            "Write in a formal register suitable for official correspondence.",
            "Keep the language formal: no slang, no contractions, no casual asides.",
            "Write in a relaxed, conversational register, as if talking to a friend.",
            "Use plain, casual everyday language rather than formal wording.",
            "Strike a professional but approachable register, like a well-written company newsletter.",
        ),
    ),
    SoftConstraint(
        "soft:audience",
        "whether the content and wording suit the named readers",
        (
            "Write for young children around eight years old.",
            "Pitch the response at experts in the field; skip the basics.",
            "Address complete beginners who know nothing about the topic.",
            "Write for busy executives who want the essentials at a glance.",
            "Aim the response at teenagers, without talking down to them.",
            "Write for older readers who are not comfortable with technical terms.",
            "Make it easy to follow for readers whose first language is not English.",
        ),
    ),
    SoftConstraint(
        "soft:persona",
        "whether the response keeps the voice of the given role",
        (
            "Write in the voice of a seasoned ship's captain.",
            "Answer as a patient librarian would.",
            "Take on the persona of an enthusiastic tour guide.",
            "Write as a sports commentator describing the action live.",
            "Respond in the voice of a nineteenth-century explorer writing in a journal.",
            "Write as a kind, slightly old-fashioned grandparent.",
            "Speak as a hard-boiled detective narrating a case.",
        ),
        frozenset({"soft:perspective"}),
    ),
    SoftConstraint(
        "soft:sentiment",
        "the overall attitude towards the subject",
        (
            "Keep the overall sentiment positive and hopeful.",
            "Be balanced: give the good and the bad equal weight.",
            "Take a gently critical stance, pointing out weaknesses politely.",
            "Convey optimism about what lies ahead.",
        ),
        frozenset({"soft:tone", "soft:objectivity"}),
    ),
    SoftConstraint(
        "soft:style",
        "the writing style",
        (
            "Use vivid sensory imagery.",
            "Be concise: every sentence should earn its place.",
            "Weave in a short anecdote to make the point.",
            "Write persuasively, building towards a clear call to action.",
            "Add a touch of light, good-natured humour.",
            "Use a lyrical, flowing style.",
            "Keep the style crisp and journalistic.",
        ),
    ),
    SoftConstraint(
        "soft:clarity",
        "how easy the response is to understand",
        (
            "Avoid jargon, and explain any technical term you cannot avoid.",
            "Use short, simple sentences that are easy to follow.",
            "Make each main point concrete with an example.",
            "Organise the ideas so that each one leads naturally to the next.",
        ),
    ),
    SoftConstraint(
        "soft:empathy",
        "whether the response acknowledges the reader's situation and feelings",
        (
            "Acknowledge the reader's feelings before offering any advice.",
            "Show understanding for the reader's situation throughout.",
            "Be compassionate and avoid sounding judgemental.",
        ),
    ),
    SoftConstraint(
        "soft:perspective",
        "the narrative point of view",
        (
            "Write in the first person.",
            "Address the reader directly as 'you' throughout.",
            "Write in the third person, without 'I' or 'you'.",
        ),
        frozenset({"soft:persona"}),
    ),
    SoftConstraint(
        "soft:objectivity",
        "neutrality and fairness to different views",
        (
            "Stay neutral and present the different views fairly.",
            "Support every claim with a reason rather than an opinion.",
            "Avoid exaggeration and emotionally loaded words.",
        ),
        frozenset({"soft:sentiment"}),
    ),
    SoftConstraint(
        "soft:engagement",
        "how the response draws and holds the reader",
        (
            "Open with a hook that grabs the reader's attention.",
            "End with a memorable closing line.",
            "Keep the reader curious, so they want to read on.",
        ),
    ),
    SoftConstraint(
        "soft:originality",
        "freshness of ideas and wording",
        (
            "Include at least one original metaphor.",
            "Avoid clichés and stock phrases.",
            "Approach the topic from an unexpected angle.",
        ),
    ),
    SoftConstraint(
        "soft:inclusivity",
        "respectful, inclusive language",
        (
            "Use inclusive language and avoid stereotypes.",
            "Make sure the response would feel welcoming to readers of any background.",
        ),
    ),
)
for _entry in _CATALOGUE:
    register_soft(_entry)


def soft_ids() -> list[str]:
    """Ids of all soft constraints, sorted."""
    return registered_soft_ids()


def get_soft(soft_id: str) -> SoftConstraint:
    """The soft constraint with this id; a ValueError with close soft matches otherwise."""
    try:
        spec = get_spec(soft_id)
    except ValueError:
        spec = None
    if isinstance(spec, SoftConstraint):
        return spec
    close = difflib.get_close_matches(str(soft_id), soft_ids(), n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else f"; known soft ids: {soft_ids()}"
    raise ValueError(f"unknown soft constraint {soft_id!r}{hint}")


def soft_conflict(a: str, b: str) -> bool:
    """Whether two soft ids cannot share one instruction (the same dimension twice, or a listed conflict)."""
    return a == b or b in get_soft(a).conflicts_with or a in get_soft(b).conflicts_with
