"""Do assignments get the tolerances they declare, and the defaults otherwise?
(autograder/kit/tolerances.py)"""

from __future__ import annotations

import copy
import pickle

import pytest

from autograder.kit.tolerances import DEFAULTS, Tolerances


def test_three_names_always_exist_with_their_defaults():
    """Without a [tolerances] table, are tight, numeric and float32 the documented defaults?"""
    t = Tolerances.declared({})
    assert t.tight == {"rtol": 1e-6, "atol": 1e-8}
    assert t.numeric == {"rtol": 1e-5, "atol": 1e-6}
    assert t.float32 == {"rtol": 1e-4, "atol": 1e-5}
    assert Tolerances().named == DEFAULTS


def test_item_access_is_the_same_as_attribute_access():
    """Is tolerances["tight"] the same as tolerances.tight?"""
    t = Tolerances.declared({"loose": {"rtol": 0.1, "atol": 0.2}})
    assert t["tight"] == t.tight and t["loose"] == t.loose == {"rtol": 0.1, "atol": 0.2}


def test_a_declared_default_overrides_only_the_keys_it_gives():
    """Does declaring numeric = {rtol = ...} change rtol and keep the default atol?"""
    t = Tolerances.declared({"numeric": {"rtol": 1e-3}, "tight": {"rtol": 0, "atol": 0}})
    assert t.numeric == {"rtol": 1e-3, "atol": 1e-6}
    assert t.tight == {"rtol": 0.0, "atol": 0.0}
    assert t.float32 == {"rtol": 1e-4, "atol": 1e-5}


def test_a_new_name_extends_the_defaults_with_zero_for_a_missing_key():
    """Is a new name usable, with 0 for the key it leaves out, and are values floats?"""
    t = Tolerances.declared({"training": {"atol": 1}})
    assert t.training == {"rtol": 0.0, "atol": 1.0}
    assert type(t.training["atol"]) is float
    assert set(t.named) == {"tight", "numeric", "float32", "training"}


def test_an_unknown_name_lists_the_declared_ones():
    """Does a misspelt name raise AttributeError (also through []) listing every declared name?"""
    t = Tolerances.declared({"training": {"atol": 1.0}})
    for lookup in (lambda: t.thight, lambda: t["thight"]):
        with pytest.raises(AttributeError) as excinfo:
            lookup()
        assert str(excinfo.value) == "no tolerance 'thight'; declared: tight, numeric, float32, training"


def test_returned_tolerances_are_copies():
    """Can a grader change the dict it got without changing the next one, or the defaults?"""
    t = Tolerances.declared({})
    t.tight["rtol"] = 1.0
    t["numeric"]["atol"] = 1.0
    assert t.tight == {"rtol": 1e-6, "atol": 1e-8} and t.numeric == {"rtol": 1e-5, "atol": 1e-6}
    assert DEFAULTS["tight"] == {"rtol": 1e-6, "atol": 1e-8}


def test_declared_never_changes_the_defaults_or_its_table():
    """Does declaring an override leave DEFAULTS, and the table it was given, as they were?"""
    table = {"tight": {"rtol": 0.5}}
    Tolerances.declared(table)
    assert DEFAULTS["tight"] == {"rtol": 1e-6, "atol": 1e-8}
    assert table == {"tight": {"rtol": 0.5}}
    assert Tolerances.declared({}).tight == {"rtol": 1e-6, "atol": 1e-8}


def test_tolerances_unpack_into_a_comparison():
    """Do **tolerances.tight give exactly the keyword arguments of a closeness check?"""
    t = Tolerances.declared({})
    assert dict(**t.tight) == {"rtol": 1e-6, "atol": 1e-8}


def test_private_names_are_not_tolerances():
    """Are dunder probes (copy, pickle) plain AttributeErrors, so tolerances copy and pickle?"""
    t = Tolerances.declared({"loose": {"rtol": 0.1}})
    with pytest.raises(AttributeError, match="^__wrapped__$"):
        t.__wrapped__  # noqa: B018
    assert copy.deepcopy(t).loose == t.loose
    assert pickle.loads(pickle.dumps(t)).loose == {"rtol": 0.1, "atol": 0.0}
