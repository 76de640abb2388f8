r"""The source texts ("seeds") whose claims the report judges: one line each, their title and kind.

    SOURCES["002"] -> Source("002", "Problem with Sigmoid and Sum of Squares Loss", "a blog post", ...)

The texts are public web pages kept by the project as seeds 000-004; a text
without a title line is named by its question. ``cite(number)`` is how the
report names one where its claims are judged.
"""

from __future__ import annotations

from dataclasses import dataclass

from derive.docs.latex import text

__all__ = ["Source", "SOURCES", "cite", "sources_paragraph"]


@dataclass(frozen=True)
class Source:
    number: str
    title: str
    kind: str
    about: str  # what the report takes from it


# fmt: off
SOURCES = {s.number: s for s in (
    Source("000", "Understanding of the sigmoid activation function as last layer in network",
           "a question-and-answer thread, 2018", "a sigmoid output layer under an L2 loss; bounds on that loss"),
    Source("001", "Sigmoid Function in Regression",
           "a blog post", "logistic regression as one sigmoid neuron; vanishing gradients; an LSTM cell"),
    Source("002", "Problem with Sigmoid and Sum of Squares Loss",
           "a blog post", "output-layer gradients of sigmoid with sum of squares and with cross-entropy"),
    Source("003", "Why the sigmoid activation function results in sub-optimal gradient descent?",
           "a question-and-answer thread, 2020", "weight updates of one neuron sharing a sign; sigma' at most 1/4"),
    Source("004", "Softmax in the hidden layer and no output activation (untitled; named by its question)",
           "a question-and-answer thread", "the softmax Jacobian; vanishing gradients through softmax"),
)}
# fmt: on


def cite(number: str) -> str:
    r"""Seed 002, \emph{Problem with Sigmoid and Sum of Squares Loss} (a blog post), as LaTeX text."""
    source = SOURCES.get(number)
    if source is None:
        return f"seed {text(number)}"
    return rf"seed {source.number}, \emph{{{text(source.title)}}} ({source.kind})"


def sources_paragraph() -> str:
    """The list of source texts, for the report's front matter."""
    items = [rf"\item[{s.number}] \emph{{{text(s.title)}}}, {s.kind}: {text(s.about)}." for s in SOURCES.values()]
    return "\n".join(
        [
            r"\paragraph{Source texts.} The report checks the claims of five public texts on output layers, "
            r"kept by the project as seeds 000--004 and cited by number:",
            r"\begin{description}\setlength{\itemsep}{0pt}",
            *items,
            r"\end{description}",
        ]
    )
