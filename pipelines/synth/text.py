"""Metadata and prose of a synthetic report: agency names, title styles, narrative, PDF look-alikes."""

from __future__ import annotations

import random
import unicodedata

REPORT_TITLE = "政府信息公开工作年度报告"
SECTION_HEADINGS: tuple[str, ...] = (
    "一、总体情况",
    "二、主动公开政府信息情况",
    "三、收到和处理政府信息公开申请情况",
    "四、政府信息公开行政复议、行政诉讼情况",
    "五、存在的主要问题及改进情况",
    "六、其他需要报告的事项",
)

# Real divisions, province -> city -> counties and districts (GB/T 2260 names of the cpca vintage), so an
# agency's name is a true region chain ("河南省洛阳市西工区民政局"), as the analytics region lookup expects.
GEOGRAPHY: dict[str, dict[str, tuple[str, ...]]] = {
    "河南省": {
        "洛阳市": ("西工区", "洛龙区", "老城区", "涧西区", "宜阳县", "嵩县", "汝阳县", "洛宁县"),
        "焦作市": ("解放区", "山阳区", "武陟县", "温县", "修武县", "博爱县"),
        "南阳市": ("卧龙区", "宛城区", "南召县", "西峡县"),
    },
    "江苏省": {
        "淮安市": ("清江浦区", "淮阴区", "淮安区", "涟水县", "盱眙县", "金湖县"),
        "徐州市": ("鼓楼区", "云龙区", "沛县", "丰县", "睢宁县"),
    },
    "湖北省": {
        "武汉市": ("江汉区", "洪山区", "武昌区"),
        "宜昌市": ("西陵区", "夷陵区", "秭归县"),
        "襄阳市": ("襄城区", "谷城县", "南漳县"),
    },
    "山东省": {"济南市": ("历下区", "市中区", "平阴县"), "青岛市": ("市南区", "市北区", "黄岛区")},
    "浙江省": {
        "杭州市": ("西湖区", "上城区", "桐庐县", "淳安县"),
        "温州市": ("鹿城区", "龙湾区", "苍南县", "永嘉县"),
    },
    "广东省": {"佛山市": ("禅城区", "南海区", "顺德区")},
    "四川省": {"成都市": ("锦江区", "青羊区"), "绵阳市": ("涪城区", "游仙区", "三台县")},
    "安徽省": {"合肥市": ("蜀山区", "包河区", "肥西县", "肥东县"), "芜湖市": ("镜湖区", "鸠江区", "南陵县")},
    "河北省": {"保定市": ("竞秀区", "莲池区", "涞源县", "阜平县")},
    "湖南省": {"长沙市": ("岳麓区", "芙蓉区", "长沙县")},
    "江西省": {"赣州市": ("章贡区", "南康区", "兴国县", "于都县")},
    "福建省": {"泉州市": ("鲤城区", "丰泽区", "安溪县", "永春县")},
    "陕西省": {"宝鸡市": ("渭滨区", "金台区", "岐山县")},
    "辽宁省": {"大连市": ("中山区", "西岗区", "长海县")},
    "云南省": {"曲靖市": ("麒麟区", "陆良县", "师宗县")},
    "贵州省": {"遵义市": ("红花岗区", "汇川区", "湄潭县", "绥阳县")},
    "山西省": {"大同市": ("广灵县", "灵丘县")},
    "甘肃省": {"天水市": ("秦州区", "麦积区", "秦安县", "甘谷县")},
    "海南省": {"三亚市": ("吉阳区", "天涯区")},
}
PROVINCES: tuple[str, ...] = tuple(GEOGRAPHY)
#: (province, city) pairs
CITIES: tuple[tuple[str, str], ...] = tuple((p, c) for p, cities in GEOGRAPHY.items() for c in cities)
#: (province, city, county or district)
COUNTIES: tuple[tuple[str, str, str], ...] = tuple(
    (p, c, k) for p, cities in GEOGRAPHY.items() for c, ks in cities.items() for k in ks
)
STREETS = (
    "翠云路", "关林", "安乐", "开元路", "李楼", "中州路", "王城路", "解放路",
    "人民路", "建设路", "南关", "北关", "东关", "西关", "新华", "和平",
    "胜利", "文化路", "长青", "朝阳",
)  # fmt: skip
TOWNS = ("白鹤", "平乐", "会盟", "横水", "城关", "马屯", "古城", "石桥", "柳林", "杨湖", "大王", "龙泉", "双河")
DEPARTMENTS = (
    "民政局", "财政局", "教育局", "公安局", "司法局", "审计局", "统计局", "商务局", "水利局", "文化广电和旅游局",
    "交通运输局", "自然资源和规划局", "市场监督管理局", "卫生健康委员会", "生态环境局", "住房和城乡建设局",
    "人力资源和社会保障局", "农业农村局", "应急管理局", "发展和改革委员会", "行政审批和政务信息管理局",
    "医疗保障局", "退役军人事务局", "城市管理局", "工业和信息化局", "科学技术局", "林业局", "体育局",
    "人民政府办公室", "人民政府办公厅", "税务局", "住房公积金管理中心",
)  # fmt: skip
# Size of agency -> how its name is built (small: townships, streets, county departments; large: cities).
_SHORT_DEPT = {"人民政府办公室": "政府办", "人民政府办公厅": "政府办公厅"}


def agency_name(rng: random.Random, size: str) -> tuple[str, str, str]:
    """(agency name as printed in the title, short form used in the narrative, region "省市" or "省").

    Names start with a true region chain, sometimes abbreviated as agencies do ("洛龙区人民政府" without its
    city); a few are a whole city's aggregated report ("淮安市").
    """
    x = rng.random()
    if size == "large":
        kind = "city_gov" if x < 0.4 else ("province_dept" if x < 0.6 else ("city_dept" if x < 0.9 else "all_city"))
    elif size == "medium":
        kind = "county_gov" if x < 0.4 else ("city_dept" if x < 0.7 else "county_dept")
    else:
        kind = "street" if x < 0.3 else ("town" if x < 0.5 else "county_dept")
    dept = rng.choice(DEPARTMENTS)
    province, city, county = rng.choice(COUNTIES)
    region = province + city
    full = rng.random() < 0.2  # the full chain from the province
    if kind == "province_dept":
        return province + dept, "省" + dept[:2], province
    prefix = province + city if full else (city if rng.random() < 0.5 else "")
    if kind == "city_gov":
        return (province if full else "") + city + "人民政府", "市政府", region
    if kind == "all_city":  # an aggregated report of a whole city (must not be added to its members)
        return city, "全市", region
    if kind == "city_dept":
        return (province if full else "") + city + dept, "市" + _SHORT_DEPT.get(dept, dept), region
    level = "区" if county.endswith("区") else "县"
    if kind == "county_gov":
        return prefix + county + "人民政府", level + "政府", region
    if kind == "county_dept":
        return prefix + county + dept, level + _SHORT_DEPT.get(dept, dept), region
    if kind == "street":
        return f"{prefix}{county}{rng.choice(STREETS)}街道办事处", "街道办事处", region
    return f"{prefix}{county}{rng.choice(TOWNS)}{rng.choice(('镇', '乡'))}人民政府", "镇政府", region


_CN_DIGIT = "〇一二三四五六七八九"

#: title style -> chance; "missing" means no title at all (a sidecar supplies agency and year)
TITLE_STYLES: tuple[tuple[str, float], ...] = (
    ("plain", 0.34),
    ("spaced", 0.18),
    ("niandu", 0.1),
    ("chinese_year", 0.08),
    ("split", 0.12),
    ("after_heading", 0.1),
    ("missing", 0.08),
)


def title_lines(rng: random.Random, style: str, agency: str, year: int) -> list[str]:
    """The title as printed, one string per line."""
    if style == "missing":
        return []
    if style == "spaced":
        return [f"{agency} {year} 年{REPORT_TITLE}"]
    if style == "niandu":
        return [f"{agency}{year}年度{REPORT_TITLE}"]
    if style == "chinese_year":
        return [f"{agency}{''.join(_CN_DIGIT[int(d)] for d in str(year))}年{REPORT_TITLE}"]
    if style == "split":
        return [agency, f"{year} 年{REPORT_TITLE}" if rng.random() < 0.6 else f"{year}年{REPORT_TITLE}"]
    return [f"{agency}{year}年{REPORT_TITLE}"]


def preface(rng: random.Random, agency: str, year: int) -> list[str]:
    """The opening paragraph (many reports have one; it carries the statistics period)."""
    if rng.random() < 0.5:
        return []
    return [
        f"本报告由{agency}根据《中华人民共和国政府信息公开条例》（国令第711号）（以下简称《条例》）规定编制。"
        f"报告所列统计期限自{year}年1月1日至{year}年12月31日。如对本报告有疑问，请与{agency}联系。"
    ]


_OVERVIEW = (
    "{y}年，{a}坚持以习近平新时代中国特色社会主义思想为指导，认真贯彻落实《中华人民共和国政府信息公开条例》，"
    "紧紧围绕中心工作，扎实推进政务公开各项工作。",
    "（一）主动公开情况。全年通过门户网站、政务新媒体等渠道主动公开各类信息{n1}余条，发布政策解读{n2}篇。",
    "（二）依申请公开情况。严格按照法定时限和程序办理依申请公开事项，全年共受理申请{n3}件，均在法定期限内答复。",
    "（三）政府信息管理。坚持“先审查、后公开”和“一事一审”原则，建立健全保密审查机制，确保公开信息准确、安全。",
    "（四）政府信息公开平台建设。进一步优化政府网站信息公开专栏，及时更新办事指南、公告通知等栏目内容。",
    "（五）监督保障。将政务公开工作纳入年度绩效考核，组织开展业务培训{n4}次，切实提高工作人员业务水平。",
)
_PROBLEMS = (
    "{a}政府信息公开工作虽然取得了一定成效，但仍存在公开内容不够全面、政策解读形式单一等问题。",
    "与{py}年相比，依申请公开办理质量有所提升，但工作人员业务能力仍需加强。",
    "{ny}年，重点做好以下工作：一是进一步加大主动公开力度；二是加强政策解读；三是强化业务培训，提升工作水平。",
)
_OTHER_2021 = (
    "本年度未收取信息处理费。",
    "{y}年，本机关严格落实《政府信息公开信息处理费管理办法》，全年收取信息处理费{fee}元。",
    "无其他需要报告的事项。",
)
_OTHER_2019 = ("无。", "暂无。", "无其他需要报告的事项。")


def narrative(
    rng: random.Random, short: str, year: int, template: str, *, period: bool = False
) -> dict[int, list[str]]:
    """Paragraphs per section (0-based section index). Mentions other years, as real reports do.

    period: open with the statistics period (the only place a title-less report states its year).
    """
    fill = {
        "y": year,
        "py": year - 1,
        "ny": year + 1,
        "a": short,
        "n1": rng.randint(20, 6000),
        "n2": rng.randint(1, 40),
        "n3": rng.randint(0, 300),
        "n4": rng.randint(1, 6),
        "fee": rng.randint(10, 5000),
    }
    overview = [p.format(**fill) for p in _OVERVIEW if p is _OVERVIEW[0] or rng.random() < 0.7]
    if period:
        overview.insert(0, f"本报告所列统计期限自{year}年1月1日至{year}年12月31日。")
    problems = [p.format(**fill) for p in _PROBLEMS if rng.random() < 0.8] or [_PROBLEMS[0].format(**fill)]
    other = rng.choice(_OTHER_2021 if template == "2021" else _OTHER_2019).format(**fill)
    return {0: overview, 4: problems, 5: [other]}


# ------------------------------------------------------------------------------------------------
# PDF extraction look-alikes
# ------------------------------------------------------------------------------------------------
def _kangxi() -> dict[str, str]:
    """Ordinary ideograph -> its Kangxi Radicals code point (U+2F00–2FD5; NFKC folds them back)."""
    out: dict[str, str] = {}
    for cp in range(0x2F00, 0x2FD6):
        target = unicodedata.normalize("NFKC", chr(cp))
        if len(target) == 1:
            out[target] = chr(cp)
    return out


KANGXI: dict[str, str] = _kangxi()
#: CJK Radicals Supplement look-alikes that PDF extractors emit (NFKC does not fold these)
RADICALS_SUPPLEMENT: dict[str, str] = {
    "民": "\u2ea0",  # ⺠
    "长": "\u2ed3",  # ⻓
    "齐": "\u2eec",  # ⻬
    "见": "\u2ec5",  # ⻅
    "门": "\u2ed4",  # ⻔
    "页": "\u2eda",  # ⻚
    "马": "\u2ee2",  # ⻢
    "车": "\u2ecb",  # ⻋
    "风": "\u2edb",  # ⻛
}


def radical_table(rng: random.Random) -> dict[int, str]:
    """A `str.translate` table substituting look-alike radicals, as a PDF font's ToUnicode map does.

    Each document's font maps its own subset, so each look-alike is drawn with a high probability.
    """
    table: dict[int, str] = {}
    for source in (KANGXI, RADICALS_SUPPLEMENT):
        for plain, radical in source.items():
            if rng.random() < 0.85:
                table[ord(plain)] = radical
    return table


def wrap(text: str, width: int) -> list[str]:
    """Hard-wrap prose at `width` characters (PDF line breaks), never splitting a digit run."""
    if len(text) <= width:
        return [text]
    out: list[str] = []
    start = 0
    while len(text) - start > width:
        end = start + width
        while end > start + 1 and text[end - 1].isdigit() and text[end].isdigit():
            end -= 1
        out.append(text[start:end])
        start = end
    out.append(text[start:])
    return out
