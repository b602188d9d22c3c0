from dataclasses import dataclass, field

import pytest

from t2l.params import ParamsError, parse


@dataclass(frozen=True)
class Inner:
    a: int
    b: tuple[float, float] = (0.0, 1.0)


@dataclass(frozen=True)
class Outer:
    name: str
    inner: Inner
    tags: tuple[str, ...] = ()
    counts: dict[str, int] = field(default_factory=dict)


def test_builds_nested_dataclasses_and_tuples():
    cfg = parse(Outer, {"name": "x", "inner": {"a": 1, "b": [2, 3]}, "tags": ["p", "q"], "counts": {"k": 4}}, "s")
    assert cfg == Outer("x", Inner(1, (2.0, 3.0)), ("p", "q"), {"k": 4})


@pytest.mark.parametrize("values, message", [
    ({"name": "x", "inner": {"a": 1}, "typo": 1}, "s: unknown key(s) typo"),
    ({"inner": {"a": 1}}, "s.name: required key is missing"),
    ({"name": "x", "inner": {"a": "one"}}, "s.inner.a: expected int"),
    ({"name": "x", "inner": {"a": 1, "b": [1]}}, "s.inner.b: expected 2 values"),
    ({"name": "x", "inner": [1]}, "s.inner: expected a mapping"),
])
def test_errors_name_the_field(values, message):
    with pytest.raises(ParamsError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse(Outer, values, "s")
