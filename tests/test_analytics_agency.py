"""agency_key (identity across years and spellings) and is_aggregate."""

from __future__ import annotations

import polars as pl
import pytest

from pipelines.analytics.agency import agency_key, is_aggregate
from pipelines.analytics.continuity import with_agency_identity


@pytest.mark.parametrize(
    "spellings",
    [
        ("洛阳市西工区民政局", "西工区民政局", "河南省洛阳市西工区民政局", " 西工区 民政局", "西工区民政局\u3000"),
        ("洛阳市人民政府办公室", "洛阳市政府办公室", "洛阳市政府办", "洛阳市人民政府办"),
        ("淮安市人民政府", "淮安市政府", "江苏省淮安市人民政府"),
        ("教育部", "中华人民共和国教育部", "教育部 "),
        ("洛阳市发展和改革委员会", "洛阳市发改委"),
        ("武陟县卫生健康委员会", "武陟县卫健委"),
        ("西工区市场监督管理局", "西工区市场监管局", "洛阳市西工区市监局"),
        ("武陟县人民政府", "武陟县人民政府（本级）"),
        ("XX县人民政府(办公室)", "XX县人民政府（办公室）", "XX县人民政府【办公室】", "ＸＸ县人民政府〔办公室〕"),
    ],
)
def test_spellings_of_one_agency_share_a_key(spellings: tuple[str, ...]) -> None:
    assert len({agency_key(s) for s in spellings}) == 1


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("西工区民政局", "洛龙区民政局"),
        ("洛阳市人民政府办公室", "洛阳市人民政府"),
        ("河南省人民政府办公厅", "河南省人民政府办公室"),
        ("南京市鼓楼区民政局", "福州市鼓楼区民政局"),
        ("鼓楼区民政局", "南京市鼓楼区民政局"),  # 鼓楼区 alone is ambiguous: never merged
    ],
)
def test_different_agencies_keep_different_keys(a: str, b: str) -> None:
    assert agency_key(a) != agency_key(b)


def test_sidecar_region_settles_an_ambiguous_name() -> None:
    assert agency_key("鼓楼区民政局", "江苏省南京市") == agency_key("南京市鼓楼区民政局") == "320106:民政局"
    assert agency_key("鼓楼区民政局", "福建省") != agency_key("鼓楼区民政局", "江苏省")


def test_empty_names() -> None:
    assert agency_key(None) == "" and agency_key("  ") == ""


@pytest.mark.parametrize(
    ("agency", "title", "expected"),
    [
        ("洛阳市人民政府", "洛阳市2023年政府信息公开工作年度报告", False),
        ("洛阳市人民政府", "洛阳市2023年全市政府信息公开工作年度报告", True),
        ("武陟县人民政府", "武陟县全县政府信息公开工作年度报告（汇总）", True),
        ("西工区人民政府", "2023年全区政府信息公开工作年度报告", True),
        ("上海市人民政府", "2023年本市政府信息公开工作年度报告", True),
        ("淮安市汇总", None, True),
        ("全州县人民政府", "全州县2023年政府信息公开工作年度报告", False),  # 全州县 is a place name
        ("全椒县民政局", None, False),
        ("全南县人民政府", "全南县2023年政府信息公开工作年度报告", False),
        ("洛阳市", "洛阳市2021年政府信息公开工作年度报告", True),  # a bare territory: the city-wide report
        ("河南省洛阳市", None, True),
        ("洛阳市人民政府", None, False),
        (None, None, False),
    ],
)
def test_is_aggregate(agency: str | None, title: str | None, expected: bool) -> None:
    assert is_aggregate(agency, title) is expected


def test_identity_frame_reads_aggregate_from_agency_and_file_name() -> None:
    """`with_agency_identity` skips the title search for ASCII file names: a territory named in the agency
    or in a Chinese file name is still found, an ASCII name never makes a report aggregate."""
    reports = pl.DataFrame(
        {
            "agency": ["北京市", "西工区民政局", "西工区民政局", "西工区民政局"],
            "source_path": [
                "2023/P020240115.pdf",
                "2023/全区政府信息公开工作年度报告.html",
                "2023/t20240115_123.html",
                "2023/quanqu_huizong.txt",
            ],
        }
    )
    got = with_agency_identity(reports).get_column("is_aggregate").to_list()
    assert got == [True, True, False, False]
