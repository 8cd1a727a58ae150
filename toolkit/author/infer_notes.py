"""What a proposal could not decide (questions for the clerk) and what it inferred (notes,
with the evidence), collected in the order they arose; every step of the inference adds to
one :class:`Findings`."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Question:
    """Something the proposal could not decide: the clerk answers it before the campaign
    is used. ``form`` is a form id ("" for the campaign), ``column`` a column or indicator
    key ("" for the whole form)."""

    form: str
    column: str
    text: str


@dataclass(frozen=True)
class Note:
    """Something the proposal inferred (and the evidence), so a clerk can check it.
    ``kind`` says what was inferred: ``rule`` (a rule marked as inferred), ``type``,
    ``rate``, ``split``, ``abbreviation``, ``header``, ``kind``, ``rows``, ``targets``,
    ``campaign``, ``deadline``, ``outline``."""

    form: str
    column: str
    text: str
    kind: str = ""


@dataclass
class Findings:
    """The questions and notes of one proposal, in the order they arose."""

    questions: list[Question] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)

    def ask(self, form: str, column: str, text: str) -> None:
        self.questions.append(Question(form, column, text))

    def note(self, form: str, column: str, text: str, kind: str = "") -> None:
        self.notes.append(Note(form, column, text, kind))
