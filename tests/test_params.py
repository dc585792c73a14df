"""The hyper-parameter declaration (archscape.params.Param / Configurable): one declaration gives the rest."""

from __future__ import annotations

import inspect

import pytest

from archscape.errors import ArchscapeError
from archscape.params import Configurable, Interval, InvalidParameter, Is, Options, Param
from archscape.registry import Registry

GROUP = {"width": Param(8, Interval(int, 1, None)), "mode": Param("a", Options(("a", "b")))}


class Toy(Configurable):
    params = {"size": Param(3, Interval(int, 1, None)), **GROUP, "scale": Param(None, Interval(float, 0, None), Is(type(None)))}


class Child(Toy):
    """Inherits Toy's declaration and constructor."""


class Merged(Toy):
    params = {**Toy.params, "mode": GROUP["mode"].with_default("b"), "extra": Param(False, Is(bool))}


class Filled(Configurable):
    params = {"options": Param(None, Is(dict))}

    def __post_init__(self) -> None:
        if self.options is None:
            self.options = {}


class Free(Configurable):
    params = {"anything": Param(None)}


class HandWritten(Configurable):
    _parameter_constraints = {"alpha": [Interval(float, 0, None)]}

    def __init__(self, alpha: float = 1.0) -> None:
        self.alpha = alpha


def test_signature_from_the_declaration() -> None:
    sig = inspect.signature(Toy)
    assert [(p.name, p.default, p.kind) for p in sig.parameters.values()] == [
        ("size", 3, inspect.Parameter.POSITIONAL_OR_KEYWORD),
        ("width", 8, inspect.Parameter.POSITIONAL_OR_KEYWORD),
        ("mode", "a", inspect.Parameter.POSITIONAL_OR_KEYWORD),
        ("scale", None, inspect.Parameter.POSITIONAL_OR_KEYWORD),
    ]
    assert list(inspect.signature(Child).parameters) == ["size", "width", "mode", "scale"]
    assert [(p.name, p.default) for p in inspect.signature(Merged).parameters.values()] == [
        ("size", 3), ("width", 8), ("mode", "b"), ("scale", None), ("extra", False)
    ]


def test_constraints_from_the_declaration() -> None:
    assert Toy._parameter_constraints == {
        "size": [Interval(int, 1, None)],
        "width": [Interval(int, 1, None)],
        "mode": [Options(("a", "b"))],
        "scale": [Interval(float, 0, None), Is(type(None))],
    }
    assert list(Merged._parameter_constraints) == ["size", "width", "mode", "scale", "extra"]
    assert Configurable._parameter_constraints == {}


def test_get_params_in_declaration_order() -> None:
    toy = Toy(scale=0.5, size=7)
    assert list(toy.get_params().items()) == [("size", 7), ("width", 8), ("mode", "a"), ("scale", 0.5)]
    assert repr(toy) == "Toy(size=7, width=8, mode='a', scale=0.5)"
    assert Toy(**toy.get_params()).get_params() == toy.get_params()


def test_positional_arguments_in_declaration_order() -> None:
    toy = Toy(5, 6, "b")
    assert (toy.size, toy.width, toy.mode, toy.scale) == (5, 6, "b", None)
    with pytest.raises(TypeError, match=r"^Toy\(\) takes 4 positional arguments but 5 were given$"):
        Toy(1, 2, "a", None, 9)
    with pytest.raises(TypeError, match=r"^Toy\(\) got multiple values for argument 'size'$"):
        Toy(1, size=2)


def test_unknown_keyword_names_the_class() -> None:
    with pytest.raises(TypeError) as info:
        Toy(sise=4)
    assert str(info.value) == "Toy() got an unexpected keyword argument 'sise'"
    with pytest.raises(TypeError) as info:
        Child(colour="red")
    assert str(info.value) == "Child() got an unexpected keyword argument 'colour'"


def test_registry_turns_an_unknown_keyword_into_one_line() -> None:
    reg = Registry("toy")
    reg.register("toy", Toy)
    with pytest.raises(ArchscapeError) as info:
        reg.make("toy", sise=4)
    assert str(info.value) == (
        "bad parameter for toy 'toy': Toy() got an unexpected keyword argument 'sise'; accepted: size, width, mode, scale"
    )


def test_validation_message() -> None:
    Toy().validate_params()
    with pytest.raises(InvalidParameter) as info:
        Toy(size=0).validate_params()
    assert str(info.value) == "The 'size' parameter of Toy must be an int in [1, inf). Got 0 instead."
    with pytest.raises(InvalidParameter) as info:
        Toy(scale="x").validate_params()
    assert str(info.value) == "The 'scale' parameter of Toy must be a float in [0, inf) or a None. Got 'x' instead."
    Free(anything=object()).validate_params()  # no constraints: any value
    assert Free._parameter_constraints == {"anything": []}


def test_post_init_runs_after_storing() -> None:
    assert Filled().options == {}
    given = {"k": 1}
    assert Filled(options=given).options is given
    assert Filled().options is not Filled().options


def test_hand_written_constructor_still_allowed() -> None:
    obj = HandWritten(alpha=2.0)
    assert obj.get_params() == {"alpha": 2.0}
    assert list(inspect.signature(HandWritten).parameters) == ["alpha"]
    with pytest.raises(InvalidParameter, match="'alpha' parameter of HandWritten"):
        HandWritten(alpha=-1.0).validate_params()


def test_declaration_mistakes_refused() -> None:
    with pytest.raises(TypeError, match="mutable default"):
        Param([], Is(list))
    with pytest.raises(TypeError, match="declares params and writes __init__"):
        type("Both", (Configurable,), {"params": {"a": Param(1)}, "__init__": lambda self: None})
