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

# Place names (real ones, mixed freely: the combinations need not exist).
PROVINCES = (
    "河南省", "江苏省", "湖北省", "山东省", "浙江省", "广东省", "四川省", "安徽省",
    "河北省", "湖南省", "江西省", "福建省", "陕西省", "辽宁省", "吉林省", "云南省",
    "贵州省", "山西省", "甘肃省", "海南省",
)  # fmt: skip
CITIES = (
    "洛阳市", "淮安市", "焦作市", "武汉市", "宜昌市", "济南市", "青岛市", "杭州市",
    "温州市", "佛山市", "成都市", "绵阳市", "合肥市", "芜湖市", "保定市", "长沙市",
    "株洲市", "赣州市", "泉州市", "宝鸡市", "大连市", "吉林市", "曲靖市", "遵义市",
    "大同市", "天水市", "三亚市", "南阳市", "徐州市", "襄阳市",
)  # fmt: skip
COUNTIES = (
    "武陟县", "孟津县", "宜阳县", "涟水县", "盱眙县", "沛县", "平阴县", "桐庐县",
    "苍南县", "郫县", "肥西县", "涞源县", "宁乡县", "兴国县", "安溪县", "凤翔县",
    "长白县", "陆良县", "湄潭县", "广灵县", "秦安县", "陵水县", "邓县", "谷城县",
    "温县", "修武县", "博爱县", "嵩县", "汝阳县", "洛宁县",
)  # fmt: skip
DISTRICTS = (
    "西工区", "洛龙区", "老城区", "清江浦区", "淮阴区", "江汉区", "洪山区", "历下区",
    "市南区", "西湖区", "鹿城区", "禅城区", "锦江区", "蜀山区", "竞秀区", "岳麓区",
    "章贡区", "鲤城区", "渭滨区", "中山区", "解放区", "山阳区", "瀍河区", "涧西区",
    "吉利区",
)  # fmt: skip
STREETS = (
    "翠云路", "关林", "安乐", "开元路", "李楼", "中州路", "王城路", "解放路",
    "人民路", "建设路", "南关", "北关", "东关", "西关", "新华", "和平",
    "胜利", "文化路", "长青", "朝阳",
)  # fmt: skip
TOWNS = (
    "白鹤", "平乐", "会盟", "横水", "城关", "马屯", "古城", "石桥",
    "柳林", "杨湖", "大王", "龙泉", "双河",
)  # fmt: skip
DEPARTMENTS = (
    "民政局", "财政局", "教育局", "公安局", "司法局", "审计局", "统计局", "商务局", "水利局", "文化广电和旅游局",
    "交通运输局", "自然资源和规划局", "市场监督管理局", "卫生健康委员会", "生态环境局", "住房和城乡建设局",
    "人力资源和社会保障局", "农业农村局", "应急管理局", "发展和改革委员会", "行政审批和政务信息管理局",
    "医疗保障局", "退役军人事务局", "城市管理局", "工业和信息化局", "科学技术局", "林业局", "体育局",
    "人民政府办公室", "人民政府办公厅", "税务局", "住房公积金管理中心",
)  # fmt: skip
# Size of agency -> how its name is built (small: townships, streets, county departments; large: cities).
_SHORT_DEPT = {"人民政府办公室": "县政府办", "人民政府办公厅": "市政府办公厅"}


def agency_name(rng: random.Random, size: str) -> tuple[str, str]:
    """(full agency name as printed in the title, short form used in the narrative)."""
    x = rng.random()
    if size == "large":
        kind = "city_gov" if x < 0.4 else ("province_dept" if x < 0.6 else ("city_dept" if x < 0.9 else "all_city"))
    elif size == "medium":
        kind = "county_gov" if x < 0.3 else ("city_dept" if x < 0.6 else ("district_gov" if x < 0.8 else "county_dept"))
    else:
        kind = "street" if x < 0.3 else ("town" if x < 0.5 else ("county_dept" if x < 0.85 else "district_dept"))
    dept = rng.choice(DEPARTMENTS)
    if kind == "city_gov":
        name = rng.choice(("", rng.choice(PROVINCES))) + rng.choice(CITIES) + "人民政府"
        return name, "市政府"
    if kind == "all_city":  # an aggregated report of a whole city (must not be added to its members)
        city = rng.choice(CITIES)
        return city, "全市"
    if kind == "province_dept":
        return rng.choice(PROVINCES) + dept, "省" + dept[:2]
    if kind == "city_dept":
        return rng.choice(CITIES) + dept, "市" + _SHORT_DEPT.get(dept, dept)
    if kind == "county_gov":
        return rng.choice(COUNTIES) + "人民政府", "县政府"
    if kind == "district_gov":
        return rng.choice(("", rng.choice(CITIES))) + rng.choice(DISTRICTS) + "人民政府", "区政府"
    if kind == "county_dept":
        return rng.choice(COUNTIES) + dept, "县" + _SHORT_DEPT.get(dept, dept)
    if kind == "district_dept":
        return rng.choice(DISTRICTS) + dept, "区" + _SHORT_DEPT.get(dept, dept)
    if kind == "street":
        prefix = rng.choice(("", rng.choice(CITIES))) + rng.choice(DISTRICTS)
        return f"{prefix}{rng.choice(STREETS)}街道办事处", "街道办事处"
    return f"{rng.choice(COUNTIES)}{rng.choice(TOWNS)}{rng.choice(('镇', '乡'))}人民政府", "镇政府"


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
