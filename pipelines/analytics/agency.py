"""Agency identity across years, and aggregated (whole city / county) reports.

The same body is printed differently from year to year: full- or half-width brackets, spaces from PDF
extraction, 政府办 / 政府办公室 / 人民政府办公室, with or without its province in front
(洛阳市西工区民政局 vs 西工区民政局). `agency_key` folds those into one key; it never merges two names
whose region is uncertain (鼓楼区民政局 stays its own key: there are four 鼓楼区).
"""

from __future__ import annotations

import re
from functools import cache

from pipelines.analytics.region import _chain, _clean, region_of

# Bracket styles NFKC leaves alone; （） and ［］ are already folded to () and [] by NFKC.
_BRACKETS = str.maketrans({"〔": "(", "〕": ")", "【": "(", "】": ")", "[": "(", "]": ")", "｛": "(", "｝": ")"})
_QUOTES = re.compile(r"[\"'“”‘’《》「」『』]")
# Common short forms of the government's own offices, longest first.
_VARIANTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^中华人民共和国"), ""),
    # 县政府 / 区政府 → 县人民政府 (人民 is the legal name; reports drop it freely)
    (re.compile(r"(?<!人民)政府"), "人民政府"),
    # 人民政府办 / 人民政府办公室 (but not 办公厅 of a province)
    (re.compile(r"人民政府办(?!公)"), "人民政府办公室"),
    (re.compile(r"办公室\(?(?:本级|机关)\)?$"), "办公室"),
    (re.compile(r"\((?:本级|机关本级)\)$"), ""),
    # the usual short names of departments (发改委 = 发展和改革委员会 …)
    (re.compile(r"发改委$"), "发展和改革委员会"),
    (re.compile(r"卫健委$"), "卫生健康委员会"),
    (re.compile(r"住建局$"), "住房和城乡建设局"),
    (re.compile(r"人社局$"), "人力资源和社会保障局"),
    (re.compile(r"(?:市监局|市场监管局)$"), "市场监督管理局"),
    (re.compile(r"教体局$"), "教育和体育局"),
    (re.compile(r"退役军人局$"), "退役军人事务局"),
)


@cache
def agency_key(name: str | None, sidecar_region: str | None = None) -> str:
    """A stable identity for an agency across years and spellings.

    `<adcode>:<rest of the name>` when the region of the name (with the sidecar's `region`, if any)
    resolves without doubt (洛阳市西工区民政局 and 西工区民政局 → `410303:民政局`; 鼓楼区民政局 with
    sidecar region 江苏省南京市 → `320106:民政局`), else the normalized name itself.
    """
    text = _clean(name).translate(_BRACKETS)
    text = _QUOTES.sub("", text)
    if not text:
        return ""
    for pattern, replacement in _VARIANTS:
        text = pattern.sub(replacement, text)
    chain = _chain(text)
    region = region_of(text, sidecar_region)
    if (chain or sidecar_region) and region.adcode and region.reason is None:
        rest = text[sum(len(key) for key, _ in chain) :]
        return f"{region.adcode}:{rest}"
    return text


# Whole-territory reports: 全市/全县/全区… (but not the place names 全州县, 全椒县, 全南县), 汇总, and
# "本市政府信息公开工作" style titles of the territory's summary report.
_AGGREGATE = re.compile(
    r"全(?:省|市|县|区|州|旗|盟)(?!县)"
    r"|汇总|合计报告|总体报告"
    r"|本(?:省|市|县|区)(?:各级)?(?:行政机关)?政府信息公开工作"
    r"|各(?:级|部门)(?:行政机关)?政府信息公开工作"
)


def is_aggregate(agency: str | None, title: str | None = None) -> bool:
    """True when the report covers a whole territory (its members report separately too).

    A pure function of the agency name and the title (or file name); used so that sums over agencies
    do not count the members twice. An "agency" that is only a territory (洛阳市, 河南省洛阳市) is the
    territory's report, not one body's: 北京市2023年政府信息公开工作年度报告 is the city-wide summary.
    """
    # no pattern can match across the two texts, so each is searched alone (the agency's part once per name)
    return _agency_is_aggregate(agency) or bool(title and _AGGREGATE.search(_clean(title)))


@cache
def _agency_is_aggregate(agency: str | None) -> bool:
    name = _clean(agency)
    if _AGGREGATE.search(name):
        return True
    chain = _chain(name)
    return bool(chain) and sum(len(key) for key, _ in chain) == len(name)
