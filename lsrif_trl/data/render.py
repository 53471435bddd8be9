"""Phrase a logic tree as a natural-language instruction: the task, its constraints, then the input passage.

Everything is drawn from `random.Random(seed)`, so one seed always gives the same text. Each leaf is phrased
by its constraint's own `render(kwargs, seed)`, so a constraint reads the same at every curriculum level of
an instruction. Parallel groups read as a list or as sentences joined by "Also," / "In addition,";
sequential groups read as ordered steps ("First ... Then ... Finally ..."); conditionals read as
"If the passage ..., ...; otherwise, ...". Nested groups become indented sub-lists or inline clauses (a
conditional whose branch is a group is always laid out as an indented outline, never as running text).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from lsrif_trl.constraints.registry import get_constraint
from lsrif_trl.data.tagged import Tagged, fill, join
from lsrif_trl.structure import ConditionalNode, ConstraintNode, Node, ParallelNode, SequentialNode

PARALLEL_HEADERS = (
    "Do all of the following:",
    "Your answer must meet every one of these requirements:",
    "Follow all of these rules:",
    "Make sure your response satisfies each of the following:",
    "Requirements (all of them apply):",
)
SEQUENTIAL_HEADERS = (
    "Work through these steps in order:",
    "Build your answer step by step, in this order:",
    "Follow these steps one after the other:",
    "Handle the requirements below in sequence:",
)
PARALLEL_INLINE = ("do all of the following: {items}", "make sure of each of these: {items}")
ALSO = ("Also,", "In addition,", "Moreover,", "Furthermore,", "On top of that,", "Additionally,")
STEP_WORDS = ("Then,", "Next,", "After that,")
FIRST_WORDS = ("First,", "To begin,", "Start with this:")
LAST_WORDS = ("Finally,", "Last,", "To finish,")
OTHERWISE = ("Otherwise,", "If that is not the case,", "If not,", "In any other case,")
TASK_LAYOUTS = ("{task}\n\n{constraints}", "Task: {task}\n\nInstructions:\n{constraints}", "{task} {constraints}")
# Categories of prompt text the renderer records (dataset column `spans`); anything else is "other". A condition
# ("the passage contains a number") counts as constraint text, the passage as task.
CONNECTOR, CONSTRAINT, VERB, TASK = "connector", "constraint", "verb", "task"
SPAN_CATEGORIES = (CONNECTOR, CONSTRAINT, VERB, TASK)
# The imperative verbs the seed tasks and constraint phrasings open with: a phrase's first word is tagged as an
# action verb only when it is one of these (so "Your answer ..." or "Every line ..." is not).
# fmt: off
ACTION_VERBS = frozenset({
    "Acknowledge", "Add", "Address", "Adopt", "Aim", "Answer", "Approach", "Ask", "Avoid", "Be", "Begin", "Close",
    "Compare", "Convey", "Describe", "Divide", "Do", "Enclose", "End", "Explain", "Finish", "Format", "Give",
    "Highlight", "Include", "Join", "Keep", "Leave", "Let", "Make", "Mark", "Open", "Organise", "Organize", "Pitch",
    "Place", "Present", "Provide", "Put", "Repeat", "Reply", "Respond", "Rewrite", "Separate", "Show", "Sound",
    "Speak", "Split", "Start", "Stay", "Stick", "Strike", "Structure", "Suggest", "Summarise", "Summarize",
    "Support", "Take", "Turn", "Use", "Vary", "Weave", "Work", "Wrap", "Write",
})
# fmt: on
PASSAGE_LAYOUTS = (
    "Passage:\n{passage}",
    'Here is the passage:\n"""\n{passage}\n"""',
    "<passage>\n{passage}\n</passage>",
)


@dataclass(frozen=True)
class RenderedPrompt:
    """The instruction (task plus constraints; what a rewriter may reword) and the passage kept verbatim, with
    the category of every instruction character (`runs`; empty once a rewriter has reworded the instruction)."""

    instruction: str
    passage: str | None
    passage_layout: str = PASSAGE_LAYOUTS[0]
    runs: tuple[tuple[str, int], ...] = ()

    @property
    def text(self) -> str:
        """The full user message."""
        if not self.passage:
            return self.instruction
        return f"{self.instruction}\n\n{self.passage_layout.format(passage=self.passage)}"

    def spans(self) -> dict[str, list[list[int]]] | None:
        """Character ranges of `text` per category (SPAN_CATEGORIES; the passage counts as task), or None when
        the categories are unknown (a reworded instruction)."""
        if not self.runs:
            return None
        tagged = Tagged(self.instruction, self.runs)
        if self.passage:
            tagged = tagged + "\n\n" + fill(self.passage_layout, {"passage": Tagged.of(self.passage, TASK)})
        return tagged.spans()

    def with_instruction(self, instruction: str) -> RenderedPrompt:
        """The same prompt with a reworded instruction (whose categories are unknown)."""
        return RenderedPrompt(instruction, self.passage, self.passage_layout)


def leaf_phrase(leaf: ConstraintNode, seed: int) -> str:
    """The sentence that asks for one constraint: a soft leaf's text, or its constraint's rendering."""
    if leaf.kind == "soft" and leaf.text:
        return leaf.text.strip()
    return get_constraint(leaf.id).render(leaf.kwargs, seed).strip()


def as_clause(sentence: str) -> str:
    """A sentence made to continue a longer one: no final period, first word lower-cased unless an acronym."""
    text = sentence.strip()
    if text.endswith(".") and not text.endswith(".."):
        text = text[:-1]
    first = text.split(" ", 1)[0]
    if first[:1].isupper() and first[1:].islower() and first != "I":
        text = text[0].lower() + text[1:]
    return text


def as_sentence(clause: str) -> str:
    """A clause made to stand alone: capitalised and ending with a full stop (or its own punctuation)."""
    text = clause.strip()
    text = text[:1].upper() + text[1:]
    return text if text.rstrip("\"'»”’")[-1:] in (".", "!", "?") else f"{text}."


def _clause(text: Tagged) -> Tagged:
    return text.retext(as_clause(text.text))


def _sentence(text: Tagged) -> Tagged:
    return text.retext(as_sentence(text.text))


def _connector(text: str) -> Tagged:
    return Tagged.of(text, CONNECTOR)


def with_verb(text: str, category: str) -> Tagged:
    """`text` in `category`, its first word tagged as an action verb when it is one of ACTION_VERBS."""
    word = text.split(" ", 1)[0].rstrip(",.:;")
    if word not in ACTION_VERBS:
        return Tagged.of(text, category)
    return Tagged.of(word, VERB) + Tagged.of(text[len(word) :], category)


class _Renderer:
    """Phrases one tree; `rng` picks every connector and layout."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.rng = random.Random(f"lsrif-render|{seed}")

    def phrase(self, leaf: ConstraintNode) -> Tagged:
        return with_verb(leaf_phrase(leaf, self.seed), CONSTRAINT)

    def _if(self, condition: str, word: str = "if") -> Tagged:
        return _connector(word) + " " + Tagged.of(condition, CONSTRAINT)

    def clause(self, node: Node) -> Tagged:
        """The node as one inline clause (no final full stop)."""
        if isinstance(node, ConstraintNode):
            return _clause(self.phrase(node))
        if isinstance(node, ConditionalNode):
            text = self._if(node.condition) + ", " + self.clause(node.then)
            if node.else_ is not None:
                otherwise = _connector(as_clause(self.rng.choice(OTHERWISE)))
                text = text + "; " + otherwise + " " + self.clause(node.else_)
            return text
        items = [self.clause(c) for c in node.children]
        if isinstance(node, SequentialNode):
            steps = [
                _connector(as_clause(self._step_word(i, len(items)))) + " " + item for i, item in enumerate(items)
            ]
            return _connector("do these in order:") + " " + join("; ", steps)
        numbered = join("; ", (f"({i + 1}) " + item for i, item in enumerate(items)))
        return fill(self.rng.choice(PARALLEL_INLINE), {"items": numbered}, literals=CONNECTOR)

    def _step_word(self, i: int, n: int) -> str:
        if i == 0:
            return self.rng.choice(FIRST_WORDS)
        return self.rng.choice(LAST_WORDS) if i == n - 1 else self.rng.choice(STEP_WORDS)

    def prose(self, node: Node) -> Tagged:
        """The node as running sentences (nested groups inline)."""
        if isinstance(node, ConstraintNode):
            return _sentence(self.phrase(node))
        if isinstance(node, ConditionalNode):
            text = _sentence(self._if(node.condition) + ", " + self.clause(node.then))
            if node.else_ is not None:
                otherwise = _connector(self.rng.choice(OTHERWISE))
                text = text + " " + _sentence(otherwise + " " + self.clause(node.else_))
            return text
        if isinstance(node, SequentialNode):
            n = len(node.children)
            sentences = []
            for i, child in enumerate(node.children):
                step = _connector(self._step_word(i, n))
                sentences.append(_sentence(step + " " + self.clause(child)))
            return join(" ", sentences)
        sentences = [_sentence(self.clause(node.children[0]))]
        for child in node.children[1:]:
            also = _connector(self.rng.choice(ALSO))
            sentences.append(_sentence(also + " " + self.clause(child)))
        return join(" ", sentences)

    def outline(self, node: Node, indent: str = "") -> list[Tagged]:
        """The node as an indented outline: headed lists, numbered steps, if/otherwise blocks."""
        if isinstance(node, ConstraintNode):
            return [indent + _sentence(self.phrase(node))]
        if isinstance(node, ConditionalNode):
            lines = self._outline_branch(self._if(node.condition, "If"), node.then, indent)
            if node.else_ is not None:
                lines += self._outline_branch(_connector(self.rng.choice(OTHERWISE).rstrip(",")), node.else_, indent)
            return lines
        sequential = isinstance(node, SequentialNode)
        header = self.rng.choice(SEQUENTIAL_HEADERS if sequential else PARALLEL_HEADERS)
        # "" numbers the items; sequential steps are always numbered
        bullet = "" if sequential else self.rng.choice(("- ", "* ", ""))
        step_label = sequential and self.rng.random() < 0.3
        lines = [indent + _connector(header)]
        for i, child in enumerate(node.children):
            marker = bullet or (f"Step {i + 1}: " if step_label else f"{i + 1}. ")
            child_lines = self.outline(child, indent + "   ")
            first = child_lines[0]
            lines.append(indent + marker + first.retext(first.text.strip()))
            lines.extend(child_lines[1:])
        return lines

    def _outline_branch(self, lead: Tagged, branch: Node, indent: str) -> list[Tagged]:
        if isinstance(branch, ConstraintNode):
            return [indent + _sentence(lead + ", " + _clause(self.phrase(branch)))]
        body = self.outline(branch, indent + "   ")
        return [indent + lead + ":", *body]

    def constraints(self, tree: Node) -> Tagged:
        """The whole constraint block, as prose or as an outline (a one-constraint list reads as one sentence)."""
        prose = self.rng.random() < 0.5 and _prose_reads_clearly(tree)
        if isinstance(tree, ParallelNode) and len(tree.children) == 1:
            tree = tree.children[0]
        if prose or isinstance(tree, ConstraintNode):
            return self.prose(tree)
        return join("\n", self.outline(tree))


def _prose_reads_clearly(node: Node) -> bool:
    """Running text stays unambiguous only while every conditional branch is a single constraint."""
    if isinstance(node, ConstraintNode):
        return True
    if isinstance(node, ConditionalNode):
        return all(isinstance(b, ConstraintNode) for b in (node.then, node.else_) if b is not None)
    return all(_prose_reads_clearly(child) for child in node.children)


def render_prompt(tree: Node, task: str, passage: str | None, seed: int) -> RenderedPrompt:
    """The user message asking for `task` under the constraints of `tree`, with `passage` as the input."""
    renderer = _Renderer(seed)
    constraints = renderer.constraints(tree)
    layouts = TASK_LAYOUTS if "\n" not in constraints.text else TASK_LAYOUTS[:2]
    layout = renderer.rng.choice(layouts)
    instruction = fill(layout, {"task": with_verb(task.strip(), TASK), "constraints": constraints})
    return RenderedPrompt(instruction.text, passage, renderer.rng.choice(PASSAGE_LAYOUTS), instruction.runs)
