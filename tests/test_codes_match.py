"""Class names as survey teams write them."""

from __future__ import annotations

import time

import pandas as pd
import pytest

from gridkit.codes import Match, NoMatch, UnknownClass, match_class, national_catalog
from gridkit.codes.normalize import normalize_name


@pytest.mark.parametrize(
    "name",
    ["污水井盖", "井盖(污水)", "井盖（污水）", "污水检查井盖", "汚水井蓋", " 污水井盖 ",
     "【污水】井盖", "污水井 盖", "污水井盖。", "公用设施-污水井盖", "0102", "0102 污水井盖",
     "井盖［污水］"],
)
def test_variants_of_a_name_find_the_class(name):
    assert match_class(name, national_catalog()).code == "0102"


def test_how_is_reported():
    catalog = national_catalog()
    assert match_class("污水井盖", catalog).how == "exact"
    assert match_class("汚水井蓋", catalog).how == "normalized"
    assert match_class("污水检查井盖", catalog).how == "alias"
    assert match_class("井盖（污水）", catalog).how == "reordered"
    assert match_class("雨水篦子", catalog).code == "0104"


def test_normalisation_rules():
    assert normalize_name("ＡＢＣ　污水（井盖）") == "abc污水井盖"
    assert normalize_name("路燈") == "路灯"
    assert normalize_name(None) == ""


def test_unknown_name_has_reason_and_suggestions():
    with pytest.raises(UnknownClass) as info:
        match_class("雨污井盖", national_catalog())
    assert "0102 污水井盖" in info.value.suggestions
    assert "not a component class" in str(info.value)


@pytest.mark.parametrize(
    ("name", "reason"),
    [("", "no class name"), ("公用设施", "major class 01"), ("0102雨水井盖", "disagree"),
     ("雨水井盖/污水井盖", "more than one class"), ("0199", "not a component class code")],
)
def test_rejections(name, reason):
    result = national_catalog().matcher.match(name)
    assert isinstance(result, NoMatch)
    assert reason in result.reason


def test_near_miss_is_never_accepted():
    # One character apart from 雨水井盖 and 污水井盖: a guess would be a wrong class.
    assert isinstance(national_catalog().matcher.match("汽水井盖"), NoMatch)


def test_events_catalog_matching():
    events = national_catalog("event")
    assert match_class("乱停车", events) == Match("0505", "机动车乱停放", "alias")


def test_match_many_over_repeated_names_is_fast():
    names = pd.Series(["污水井盖", "井盖(污水)", None, "雨污井盖", "路灯"] * 200_000)
    # CPU seconds of this process: the bound is on the work, not on what other processes
    # take from the two cores while it runs.
    start = time.process_time()
    result = national_catalog().matcher.match_many(names)
    assert time.process_time() - start < 5
    assert len(result) == len(names)
    assert result["code"].iloc[:5].fillna("-").tolist() == ["0102", "0102", "-", "-", "0118"]
    assert result["reason"].iloc[2] == "no class name"
    assert "closest" in result["reason"].iloc[3]
