"""Report metadata from normalized lines: agency and year from the title, format from the headers."""

from __future__ import annotations

import re

REPORT_TITLE = "政府信息公开工作年度报告"
_CN_DIGITS = {"〇": "0", "零": "0", "○": "0", "O": "0", "一": "1", "二": "2", "三": "3", "四": "4", "五": "5",
              "六": "6", "七": "7", "八": "8", "九": "9"}  # fmt: skip
_YEAR = r"((?:19|20)\d{2}|[〇零○O一二三四五六七八九]{4})"
# <agency> <year> 年[度] 政府信息公开工作年度报告 ; spaces anywhere (PDF extraction)
_TITLE = re.compile(
    r"^(?P<agency>.*?)\s*" + _YEAR + r"\s*年\s*度?\s*(?:本机关|本部门|本单位)?\s*政\s*府\s*信\s*息\s*公\s*开"
)
_TITLE_YEAR_ONLY = re.compile(r"^\s*" + _YEAR + r"\s*年\s*度?\s*政\s*府\s*信\s*息\s*公\s*开.*报\s*告")
_PERIOD = re.compile(r"统计期限\s*(?:自|为|是)?\s*" + _YEAR + r"\s*年\s*1\s*月\s*1\s*日")
_SECTION_HEADING = re.compile(r"^\s*[一二三四五六七八九十]+\s*[、.]")
_AGENCY_STRIP = re.compile(r"^[\s#*>|\-—]+|[\s#*|:：]+$")
_TRAILING_GUANYU = re.compile(r"(关于)?$")


def _year(token: str) -> int:
    return int("".join(_CN_DIGITS.get(ch, ch) for ch in token))


def _clean_agency(raw: str) -> str | None:
    agency = _AGENCY_STRIP.sub("", raw).replace(" ", "").strip("《》\"'“”")
    agency = _TRAILING_GUANYU.sub("", agency)
    if not agency or _SECTION_HEADING.match(agency) or len(agency) > 60:
        return None
    return agency


def agency_and_year(lines: list[str], title: str | None = None) -> tuple[str | None, int | None]:
    """Agency and report year from the title (possibly split over lines), else from the statistics period.

    The body mentions other years ("2022年，重点做好…"); only the title and the statistics period count.
    """
    candidates = ([title] if title else []) + lines[:80]
    for i, line in enumerate(candidates):
        compact = line.strip()
        if REPORT_TITLE not in compact.replace(" ", "") and "政府信息公开" not in compact:
            continue
        m = _TITLE.search(compact)
        if m:
            agency = _clean_agency(m.group("agency"))
            if agency is None:
                # title split over lines: the agency is the previous non-empty line
                prev = next((p.strip() for p in reversed(candidates[:i]) if p.strip()), "")
                agency = _clean_agency(prev) if prev and not _SECTION_HEADING.match(prev) else None
            return agency, _year(m.group(2))
        m = _TITLE_YEAR_ONLY.search(compact)
        if m:
            prev = next((p.strip() for p in reversed(candidates[:i]) if p.strip()), "")
            agency = _clean_agency(prev) if prev and REPORT_TITLE not in prev else None
            return agency, _year(m.group(1))
    text = "\n".join(lines)
    m = _PERIOD.search(text.replace(" ", ""))
    if m:
        return None, _year(m.group(1))
    m = re.search(_YEAR + r"\s*年\s*度?", "\n".join(lines[:15]))
    return None, _year(m.group(1)) if m else None


# Header text that tells the two national formats apart (never the year).
_MARKERS_2021 = (
    "本年制发件数",
    "本年废止件数",
    "本年度止件数",
    "现行有效件数",
    "本年收费金额",
    "逾期不补正",
    "逾期未按收费通知",
)
_MARKERS_2019 = ("本年新制作数量", "本年新公开数量", "对外公开总数量", "上一年项目数量", "采购项目数量", "政府集中采购")
_TABLE_MARKERS = ("本年新收政府信息公开申请数量", "上年结转政府信息公开申请数量", "第二十条第", "行政复议")


def detect_template(text: str, year: int | None) -> str:
    """`2021`, `2019`, `pre2019` or `unknown`, from the header text.

    The header markers are counted in the text with spaces and tabs removed (a PDF extraction spaces
    characters out). A marker holds neither, so one found in the text as it is is in that compact text too:
    the compact text is built only for the markers not found so (a 2021 report finds six or seven of its
    seven markers as printed and is decided without it)."""
    # probed by the first marker: a text without it as printed is most likely no 2021 report, and looking
    # for the others as printed would only cost scans
    missing_2021 = [m for m in _MARKERS_2021 if m not in text] if _MARKERS_2021[0] in text else _MARKERS_2021
    score_2021 = len(_MARKERS_2021) - len(missing_2021)
    if score_2021 >= len(_MARKERS_2019):
        return "2021"  # 2019 cannot score more: its markers need not be looked for (an absent one costs a scan)
    compact = text.replace(" ", "").replace("\t", "")
    score_2021 += sum(m in compact for m in missing_2021)
    if score_2021 >= len(_MARKERS_2019):
        return "2021"
    score_2019 = 0
    for marker in _MARKERS_2019:
        score_2019 += marker in compact
        if score_2019 > score_2021:
            return "2019"  # already decided: more 2019 markers than 2021 ones
    if score_2021 or score_2019:
        return "2021" if score_2021 >= score_2019 else "2019"
    if any(m in compact for m in _TABLE_MARKERS):
        # table 3 without a recognisable table 2: decide by the （六）其他处理 sub-rows
        return "2021" if "不再处理其政府信息公开申请" in compact else "2019"
    if year is not None and year < 2019 and REPORT_TITLE in compact:
        return "pre2019"
    return "unknown"


def looks_like_report(text: str) -> bool:
    compact = text.replace(" ", "")
    return REPORT_TITLE in compact or "政府信息公开" in compact
