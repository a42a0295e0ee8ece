"""A small, safe evaluator for XLSForm ``relevant`` expressions (never ``eval``).

Supported: ``${q}`` references, string and number literals, ``=``, ``!=``, ``<``, ``<=``, ``>``,
``>=``, ``and``, ``or``, ``not(...)``, parentheses, ``selected(${q}, 'x')`` and
``count-selected(${q})``. Answers are strings; a comparison with a number literal compares
numerically, and an unanswered or non-numeric side makes it false (as ODK does with NaN).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<ref>\$\{[A-Za-z_][\w.-]*\})
      | (?P<str>'[^']*'|"[^"]*")
      | (?P<num>-?\d+(?:\.\d+)?)
      | (?P<op><=|>=|!=|=|<|>|\(|\)|,)
      | (?P<word>[A-Za-z][\w-]*)
    )""",
    re.VERBOSE,
)


class ExpressionError(ValueError):
    """The expression uses syntax this evaluator does not support."""


@dataclass(frozen=True)
class _Tok:
    kind: str
    value: str


def _tokenise(text: str) -> list[_Tok]:
    tokens: list[_Tok] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise ExpressionError(f"unsupported syntax at {text[pos : pos + 20]!r}")
        kind = match.lastgroup or ""
        tokens.append(_Tok(kind, match.group(kind)))
        pos = match.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return tokens


class _Parser:
    def __init__(self, tokens: list[_Tok]) -> None:
        self.tokens = tokens
        self.i = 0

    def peek(self) -> _Tok | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, value: str | None = None) -> _Tok:
        tok = self.peek()
        if tok is None or (value is not None and tok.value != value):
            raise ExpressionError(f"expected {value or 'a term'}")
        self.i += 1
        return tok

    def parse(self) -> tuple[Any, ...]:
        node = self.or_()
        if self.peek() is not None:
            raise ExpressionError(f"unexpected {self.peek().value!r}")  # type: ignore[union-attr]
        return node

    def or_(self) -> tuple[Any, ...]:
        node = self.and_()
        while (tok := self.peek()) and tok.kind == "word" and tok.value == "or":
            self.take()
            node = ("or", node, self.and_())
        return node

    def and_(self) -> tuple[Any, ...]:
        node = self.cmp()
        while (tok := self.peek()) and tok.kind == "word" and tok.value == "and":
            self.take()
            node = ("and", node, self.cmp())
        return node

    def cmp(self) -> tuple[Any, ...]:
        left = self.term()
        tok = self.peek()
        if tok and tok.kind == "op" and tok.value in {"=", "!=", "<", "<=", ">", ">="}:
            self.take()
            return ("cmp", tok.value, left, self.term())
        return left

    def term(self) -> tuple[Any, ...]:
        tok = self.take()
        if tok.kind == "ref":
            return ("ref", tok.value[2:-1])
        if tok.kind == "str":
            return ("str", tok.value[1:-1])
        if tok.kind == "num":
            return ("num", float(tok.value))
        if tok.value == "(":
            node = self.or_()
            self.take(")")
            return node
        if tok.kind == "word" and tok.value in {"true", "false"} and self.peek_is("("):
            self.take("(")
            self.take(")")
            return ("bool", tok.value == "true")
        if tok.kind == "word" and tok.value == "not":
            self.take("(")
            node = self.or_()
            self.take(")")
            return ("not", node)
        if tok.kind == "word" and tok.value == "selected":
            self.take("(")
            ref = self.term()
            self.take(",")
            value = self.term()
            self.take(")")
            if ref[0] != "ref" or value[0] not in {"str", "num"}:
                raise ExpressionError("selected() needs a ${question} and a value")
            return ("selected", ref[1], _text(value[1]))
        if tok.kind == "word" and tok.value == "count-selected":
            self.take("(")
            ref = self.term()
            self.take(")")
            if ref[0] != "ref":
                raise ExpressionError("count-selected() needs a ${question}")
            return ("count", ref[1])
        raise ExpressionError(f"unsupported {tok.value!r}")

    def peek_is(self, value: str) -> bool:
        tok = self.peek()
        return tok is not None and tok.value == value


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def parse(expression: str) -> tuple[Any, ...] | None:
    """Return the parsed expression (None for a blank one); raises ExpressionError."""
    if not expression or not expression.strip():
        return None
    return _Parser(_tokenise(expression)).parse()


def references(expression: str) -> set[str]:
    """Return the question names that ``expression`` refers to."""
    return set(re.findall(r"\$\{([A-Za-z_][\w.-]*)\}", expression or ""))


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(str(value).strip())
    except ValueError:
        return None


def _value(node: tuple[Any, ...], answers: Mapping[str, Any]) -> Any:
    kind = node[0]
    if kind == "ref":
        value = answers.get(node[1])
        return "" if value is None else value
    if kind in {"str", "num", "bool"}:
        return node[1]
    if kind == "count":
        return float(len(str(answers.get(node[1]) or "").split()))
    return _truth(node, answers)


def _compare(op: str, left: Any, right: Any) -> bool:
    a: Any
    b: Any
    if isinstance(left, float) or isinstance(right, float):
        a, b = _number(left), _number(right)
        if a is None or b is None:
            return op == "!=" and not (a is None and b is None)
    else:
        a, b = str(left), str(right)
    result: bool = {
        "=": a == b,
        "!=": a != b,
        "<": a < b,  # type: ignore[operator]
        "<=": a <= b,  # type: ignore[operator]
        ">": a > b,  # type: ignore[operator]
        ">=": a >= b,  # type: ignore[operator]
    }[op]
    return result


def _truth(node: tuple[Any, ...], answers: Mapping[str, Any]) -> bool:
    kind = node[0]
    if kind == "or":
        return _truth(node[1], answers) or _truth(node[2], answers)
    if kind == "and":
        return _truth(node[1], answers) and _truth(node[2], answers)
    if kind == "not":
        return not _truth(node[1], answers)
    if kind == "cmp":
        return _compare(node[1], _value(node[2], answers), _value(node[3], answers))
    if kind == "selected":
        return node[2] in str(answers.get(node[1]) or "").split()
    if kind == "bool":
        return bool(node[1])
    value = _value(node, answers)
    return bool(value) and value != 0.0


def evaluate(expression: str, answers: Mapping[str, Any]) -> bool:
    """Return whether ``expression`` holds for ``answers``; a blank expression is true.

    Raises ExpressionError for syntax outside the supported subset.
    """
    tree = parse(expression)
    return True if tree is None else _truth(tree, answers)
