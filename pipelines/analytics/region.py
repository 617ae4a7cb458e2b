"""Region (province / city / county, GB/T 2260 adcode) of a reporting agency, from its name.

Data: the administrative-division code list shipped with the `cpca` package (`cpca/resources/adcodes.csv`,
3,511 divisions down to county level, GB/T 2260 codes padded to 12 digits). We read the CSV directly and
do the matching ourselves because `cpca.transform` *guesses* when a name is ambiguous (鼓楼区 → the first
of four in its list); here an ambiguous name stays NULL with a reason. See `DATASET` for the vintage.

Names of reporting agencies start with their region chain ("河南省洛阳市西工区民政局", "洛龙区人民政府",
"淮安市人民政府"), so the region is read as the chain of division names at the start of the name, each
one narrowing the previous one; a missing level is filled from the code when it is implied
(西工区 is unique nationally → 河南省, 洛阳市).
"""

from __future__ import annotations

import csv
import importlib.metadata
import importlib.util
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import NamedTuple

import polars as pl

from pipelines.parsing.normalize import normalize


class Region(NamedTuple):
    province: str | None
    city: str | None
    county: str | None
    #: 6-digit GB/T 2260 code of the most specific level known (e.g. 410303, 320800, 410000)
    adcode: str | None
    #: why a level is missing (ambiguous, unknown, conflict); None when the region is fully resolved
    reason: str | None


@dataclass(frozen=True, slots=True)
class Division:
    adcode: str  # 6 digits
    name: str

    @property
    def rank(self) -> int:
        """0 province, 1 prefecture (city), 2 county."""
        if self.adcode.endswith("0000"):
            return 0
        return 1 if self.adcode.endswith("00") else 2

    def contains(self, other: Division) -> bool:
        width = (self.rank + 1) * 2
        return other.rank > self.rank and other.adcode[:width] == self.adcode[:width]


#: Placeholder entries of the code list that are not places (市辖区 of a municipality, 县 of Chongqing,
#: 省直辖县级行政区划): they hold children but no name a report would use.
_PLACEHOLDER = re.compile(r"^(市辖区|县|.*直辖县级行政区划)$")
#: Short forms of province- and prefecture-level names, derived mechanically (as cpca does).
_SHORT_SUFFIX = re.compile(r"(省|市|特别行政区|地区|盟)$")
_AUTONOMOUS_REGION = re.compile(r"^(.+?)(维吾尔|壮族|回族)?自治区$")

NON_REGION = "no administrative division of the code list at the start of the name"


def _dataset_dir() -> Path:
    # find_spec does not execute cpca/__init__ (which builds its own matcher via pkg_resources)
    spec = importlib.util.find_spec("cpca")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("cpca is required for region lookup (pip install cpca)")
    return Path(next(iter(spec.submodule_search_locations))) / "resources"


@cache
def _divisions() -> dict[str, Division]:
    with (_dataset_dir() / "adcodes.csv").open(encoding="utf-8") as f:
        rows = [Division(r["adcode"][:6], r["name"]) for r in csv.DictReader(f)]
    return {d.adcode: d for d in rows}


@cache
def _nationalities() -> tuple[str, ...]:
    with (_dataset_dir() / "56_nations.csv").open(encoding="utf-8") as f:
        names = [line.strip().split(",")[0] for line in f if line.strip()]
    names = [n for n in names if n.endswith("族")]
    # longest first so 柯尔克孜族 wins over shorter overlaps
    return tuple(sorted(names, key=len, reverse=True))


def _aliases(d: Division) -> set[str]:
    """The full name plus the short forms people write (洛阳 for 洛阳市, 延边州 for 延边朝鲜族自治州)."""
    names = {d.name}
    if d.rank < 2:
        m = _AUTONOMOUS_REGION.match(d.name)
        if m:
            names.add(re.sub(r"(蒙古|西藏|新疆|宁夏|广西).*", r"\1", m.group(1)))
            names.add(m.group(1) + (m.group(2) or "") + "自治区")
        short = _SHORT_SUFFIX.sub("", d.name)
        if len(short) >= 2:
            names.add(short)
    if "自治" in d.name and d.rank > 0:
        # 延边朝鲜族自治州 → 延边州 / 延边; 长阳土家族自治县 → 长阳县
        stem = d.name
        for nat in _nationalities():
            stem = stem.replace(nat, "")
            stem = stem.replace(nat[:-1], "") if len(nat) > 2 else stem
        m = re.match(r"^(.+?)自治(州|县|旗)$", stem)
        if m and len(m.group(1)) >= 2:
            names.add(m.group(1) + m.group(2))
            if m.group(2) == "州":
                names.add(m.group(1))
    elif "族" in d.name and d.rank == 2:
        # ethnic districts: 瀍河回族区 → 瀍河区
        stem = d.name
        for nat in _nationalities():
            stem = stem.replace(nat, "")
        if stem != d.name and re.match(r"^.{2,}(区|县|市|旗)$", stem):
            names.add(stem)
    return names


@cache
def _index() -> tuple[dict[str, tuple[Division, ...]], int]:
    index: dict[str, list[Division]] = {}
    for d in _divisions().values():
        if _PLACEHOLDER.match(d.name):
            continue
        for alias in _aliases(d):
            index.setdefault(alias, []).append(d)
    longest = max(map(len, index))
    return {k: tuple(sorted(set(v), key=lambda d: d.adcode)) for k, v in index.items()}, longest


def dataset_info() -> dict[str, str | int]:
    """Where the division list comes from, for the docs and the README."""
    return {
        "package": "cpca",
        "package_version": importlib.metadata.version("cpca"),
        "file": "cpca/resources/adcodes.csv",
        "divisions": len(_divisions()),
        "vintage": DATASET_VINTAGE,
    }


#: Probed, not documented upstream: the list has 清江浦区 and 乃东区 (created 2016) and still has 莱芜市
#: (merged into 济南 in 2019) but not 长乐区 (2017) or 钱塘区 (2021) — i.e. the 2016 code list.
DATASET_VINTAGE = "GB/T 2260 as of late 2016 (probed)"


def _chain(name: str) -> list[tuple[str, tuple[Division, ...]]]:
    """Division names at the start of `name`, longest match first, each immediately after the previous."""
    index, longest = _index()
    out: list[tuple[str, tuple[Division, ...]]] = []
    pos = 0
    while pos < len(name):
        for size in range(min(longest, len(name) - pos), 1, -1):
            key = name[pos : pos + size]
            if key in index:
                out.append((key, index[key]))
                pos += size
                break
        else:
            break
    return out


def _describe(d: Division) -> str:
    return "".join(x.name for x in _lineage(d))


def _lineage(d: Division) -> list[Division]:
    """The division and its ancestors, province first (placeholders skipped)."""
    divisions = _divisions()
    codes = [d.adcode[:2] + "0000", d.adcode[:4] + "00", d.adcode][: d.rank + 1]
    out = []
    for code in dict.fromkeys(codes):
        x = divisions.get(code)
        if x is not None and not _PLACEHOLDER.match(x.name):
            out.append(x)
    return out


def _region(d: Division | None, reason: str | None) -> Region:
    if d is None:
        return Region(None, None, None, None, reason)
    lineage = {x.rank: x for x in _lineage(d)}
    province = lineage.get(0)
    city = lineage.get(1)
    if city is None and d.rank >= 1 and province is not None and d.adcode[2:4] in ("01", "02"):
        # municipalities (北京市 … 重庆市): the prefecture level is the municipality itself
        city = province
    county = lineage.get(2)
    return Region(
        province.name if province else None,
        city.name if city else None,
        county.name if county else None,
        d.adcode,
        reason,
    )


def _common(candidates: tuple[Division, ...]) -> Division | None:
    """The deepest division that contains (or is) every candidate: what the name does determine."""
    divisions = _divisions()
    for width in (4, 2):
        prefixes = {c.adcode[:width] for c in candidates}
        if len(prefixes) == 1:
            code = next(iter(prefixes)).ljust(6, "0")
            d = divisions.get(code)
            if d is not None and not _PLACEHOLDER.match(d.name):
                return d
    return None


# A leading name shaped like a division (钱塘区…, 长乐区…) that the code list does not know: said so in the
# reason (divisions created or renamed after the list's vintage), never resolved.
_DIVISION_SHAPED = re.compile(r"^[\u4e00-\u9fff]{1,6}?(?:自治州|自治县|地区|新区|区|县|市|旗|盟)")
_NOT_A_DIVISION = re.compile(r"(开发区|园区|示范区|社区|景区|实验区|合作区|保税区|城区|市)$")


def _unknown_division(rest: str) -> str | None:
    shaped = _DIVISION_SHAPED.match(rest)
    if shaped is None or rest.startswith(("国家", "中国", "中华")) or _NOT_A_DIVISION.search(shaped.group(0)):
        return None
    return shaped.group(0)


def _resolve(name: str, parent: Division | None) -> tuple[Division | None, str | None]:
    chain = _chain(name)
    if not chain:
        if parent:
            return parent, None
        unknown = _unknown_division(name)
        if unknown:
            return None, f"unknown division {unknown!r}: not in the code list ({DATASET_VINTAGE})"
        return None, NON_REGION
    current = parent
    for i, (key, candidates) in enumerate(chain):
        narrowed = tuple(c for c in candidates if current is None or current.contains(c) or c == current)
        if current is not None and not narrowed:
            if current.adcode in {c.adcode for c in candidates}:
                continue
            return current, f"{key} is not within {_describe(current)} in the code list; kept {current.name}"
        if len(narrowed) > 1 and i + 1 < len(chain):
            # 吉林 + 吉林市…: keep the candidates the next name fits under
            following = chain[i + 1][1]
            fitting = tuple(c for c in narrowed if any(c.contains(f) for f in following))
            narrowed = fitting or narrowed
        if len(narrowed) > 1:
            # the ranks may differ (吉林 = 吉林省 or 吉林市): prefer the shallowest when it contains the rest
            top = min(narrowed, key=lambda c: c.rank)
            if all(c == top or top.contains(c) for c in narrowed):
                narrowed = (top,)
        if len(narrowed) > 1:
            places = "、".join(_describe(c) for c in narrowed)
            common = _common(narrowed)
            return common or current, f"ambiguous: {key} is {len(narrowed)} divisions ({places})"
        current = narrowed[0]
    rest = name[sum(len(key) for key, _ in chain) :]
    unknown = _unknown_division(rest) if current is not None and current.rank < 2 else None
    if unknown:
        # 杭州市钱塘区…: the city is certain, the county is not in the list
        return current, f"unknown division {unknown!r} under {_describe(current)}: not in the code list"
    return current, None


@cache
def region_of(agency: str | None, sidecar_region: str | None = None) -> Region:
    """Province, city, county and adcode of an agency, from its name or the sidecar's `region`.

    The sidecar wins (it is what the person who collected the file said); the agency name can narrow it
    further when consistent (sidecar 河南省 + 西工区民政局 → 河南省洛阳市西工区). Ambiguous or unknown
    names give NULLs and a reason, never a guess. Memoized: call it per distinct agency.
    """
    side = _clean(sidecar_region)
    text = _clean(agency)
    if side:
        d, reason = _resolve(side, None)
        if d is not None and reason is None and text:
            narrowed, agency_reason = _resolve(text, d)
            if narrowed is not None and agency_reason is None:
                return _region(narrowed, None)
            if agency_reason and agency_reason != NON_REGION and "not within" in agency_reason:
                return _region(d, f"sidecar region used; agency name: {agency_reason}")
            return _region(d, None)
        if d is not None or not text:
            return _region(d, f"sidecar region {side!r}: {reason}" if reason else None)
    if not text:
        return Region(None, None, None, None, "no agency name")
    d, reason = _resolve(text, None)
    return _region(d, reason)


def _clean(value: str | None) -> str:
    if not value:
        return ""
    return re.sub(r"\s+", "", normalize(value)).lstrip("(（【[")


REGION_COLUMNS: tuple[str, ...] = ("province", "city", "county", "adcode", "region_reason")


def with_region(frame: pl.DataFrame, agency: str = "agency", sidecar_region: str | None = None) -> pl.DataFrame:
    """`frame` plus the REGION_COLUMNS, computed once per distinct (agency, sidecar region)."""
    keys = [agency] + ([sidecar_region] if sidecar_region else [])
    distinct = frame.select(keys).unique()
    agencies = distinct.get_column(agency).to_list()
    sides = distinct.get_column(sidecar_region).to_list() if sidecar_region else [None] * len(agencies)
    regions = [region_of(a, s) for a, s in zip(agencies, sides, strict=True)]
    lookup = distinct.with_columns(
        pl.Series(name, [r[i] for r in regions], dtype=pl.String) for i, name in enumerate(REGION_COLUMNS)
    )
    return frame.join(lookup, on=keys, how="left", nulls_equal=True)
