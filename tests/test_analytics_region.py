"""Region of an agency from its name / sidecar region, against the shipped GB/T 2260 code list."""

from __future__ import annotations

import collections
import time

import polars as pl
import pytest

from pipelines.analytics.region import (
    _PLACEHOLDER,
    Region,
    _divisions,
    _lineage,
    dataset_info,
    region_of,
    with_region,
)


@pytest.mark.parametrize(
    ("agency", "expected"),
    [
        ("西工区民政局", ("河南省", "洛阳市", "西工区", "410303")),
        ("洛龙区", ("河南省", "洛阳市", "洛龙区", "410311")),
        ("武陟县", ("河南省", "焦作市", "武陟县", "410823")),
        ("淮安市人民政府", ("江苏省", "淮安市", None, "320800")),
        ("河南省洛阳市涧西区人民政府", ("河南省", "洛阳市", "涧西区", "410305")),
        ("南京市鼓楼区教育局", ("江苏省", "南京市", "鼓楼区", "320106")),
        ("河南省人民政府办公厅", ("河南省", None, None, "410000")),
        ("北京市海淀区人民政府", ("北京市", "北京市", "海淀区", "110108")),
        ("延边州人民政府", ("吉林省", "延边朝鲜族自治州", None, "222400")),
        ("广西壮族自治区发展和改革委员会", ("广西壮族自治区", None, None, "450000")),
        ("吉林市人民政府", ("吉林省", "吉林市", None, "220200")),
        ("济源市人民政府", ("河南省", None, "济源市", "419001")),
        ("瀍河区人民政府", ("河南省", "洛阳市", "瀍河回族区", "410304")),  # ethnic district, usual short form
        ("长白县财政局", ("吉林省", "白山市", "长白朝鲜族自治县", "220623")),
        ("  西工区　民政局 ", ("河南省", "洛阳市", "西工区", "410303")),
    ],
)
def test_region_from_agency_name(agency: str, expected: tuple) -> None:
    region = region_of(agency)
    assert region[:4] == expected
    assert region.reason is None


@pytest.mark.parametrize("agency", ["鼓楼区民政局", "朝阳区教育局", "白云区人民政府"])
def test_ambiguous_name_stays_null_with_reason(agency: str) -> None:
    region = region_of(agency)
    assert region.province is None and region.adcode is None
    assert region.reason is not None and region.reason.startswith("ambiguous")


def test_ambiguous_within_one_province_keeps_what_is_determined() -> None:
    # 城关区 is in 拉萨 and 兰州: nothing is determined; a sidecar province settles it
    assert region_of("城关区人民政府").province is None
    assert region_of("城关区人民政府", "甘肃省")[:4] == ("甘肃省", "兰州市", "城关区", "620102")


@pytest.mark.parametrize("agency", ["教育部", "国家税务总局", "海关总署", "中国人民银行", None, ""])
def test_no_region_in_name(agency: str | None) -> None:
    region = region_of(agency)
    assert region[:4] == (None, None, None, None)
    assert region.reason


def test_sidecar_region_wins_and_agency_narrows_it() -> None:
    assert region_of("鼓楼区民政局", "福建省")[:4] == ("福建省", "福州市", "鼓楼区", "350102")
    assert region_of("民政局", "河南省洛阳市")[:4] == ("河南省", "洛阳市", None, "410300")
    # conflicting: the sidecar is kept and the conflict is said
    conflict = region_of("西工区民政局", "江苏省")
    assert conflict[:4] == ("江苏省", None, None, "320000")
    assert conflict.reason and "sidecar" in conflict.reason


def test_every_division_whose_name_determines_it_gets_the_right_province() -> None:
    """Acceptance: over the whole code list, no wrong province; NULL only for ambiguous names."""
    divisions = [d for d in _divisions().values() if not _PLACEHOLDER.match(d.name)]
    names = collections.Counter(d.name for d in divisions)
    wrong, missed = [], []
    for d in divisions:
        full = "".join(x.name for x in _lineage(d))
        for text, determined in ((d.name + "人民政府", names[d.name] == 1), (full + "民政局", True)):
            r = region_of(text)
            province = _divisions()[d.adcode[:2] + "0000"].name
            if r.province is not None and (r.province != province or not d.adcode.startswith(r.adcode.rstrip("0"))):
                wrong.append((text, r))
            elif determined and r.adcode != d.adcode:
                missed.append((text, r))
    assert not wrong
    assert not missed
    assert len(divisions) > 3000


def test_fast_over_many_agencies() -> None:
    names = [f"{d.name}第{i}局" for i, d in enumerate(_divisions().values())] * 30
    frame = pl.DataFrame({"agency": names})
    start = time.perf_counter()
    out = with_region(frame)
    assert time.perf_counter() - start < 5
    assert out.height == len(names)
    # names of unique divisions resolve; the rest (ambiguous) carry a reason instead
    assert out.filter(pl.col("adcode").is_null() & pl.col("region_reason").is_null()).height == 0


def test_with_region_adds_columns_per_distinct_agency() -> None:
    frame = pl.DataFrame(
        {"agency": ["西工区民政局", "鼓楼区民政局", None, "西工区民政局"], "region": [None, "江苏省南京市", None, None]}
    )
    out = with_region(frame, "agency", "region")
    assert out.columns[-5:] == ["province", "city", "county", "adcode", "region_reason"]
    assert out["adcode"].to_list() == ["410303", "320106", None, "410303"]
    assert out["region_reason"][2] == "no agency name"


def test_dataset_is_the_packaged_code_list() -> None:
    info = dataset_info()
    assert info["package"] == "cpca" and info["divisions"] == len(_divisions())
    assert isinstance(region_of("西工区"), Region)


def test_division_missing_from_the_list_is_said_not_guessed() -> None:
    # 钱塘区 (2021) is newer than the shipped list: NULL, and the reason names it
    alone = region_of("钱塘区人民政府")
    assert alone.adcode is None and alone.reason and "钱塘区" in alone.reason
    # with its city in front, the city is certain and the county is not
    prefixed = region_of("杭州市钱塘区人民政府")
    assert prefixed[:4] == ("浙江省", "杭州市", None, "330100")
    assert prefixed.reason and "钱塘区" in prefixed.reason
    # departments and development zones are not divisions
    assert region_of("洛阳市城市管理局").reason is None
    assert region_of("洛阳市经济技术开发区管委会").reason is None
