"""Canonical codes of the national report tables — the one place they are declared.

Everything else (parser label matching, generator, pandera models, view SQL, column comments, docs)
derives from these declarations. Codes and labels follow `report-template.md`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

TEMPLATES: tuple[str, ...] = ("2019", "2021", "pre2019", "unknown")
TABLED_TEMPLATES: tuple[str, ...] = ("2019", "2021")
STATUSES: tuple[str, ...] = ("ok", "invalid", "partial", "failed")
SOURCE_FORMATS: tuple[str, ...] = ("text", "markdown", "html", "pdf", "docx")


@dataclass(frozen=True, slots=True)
class Code:
    """A canonical code with the label printed in the national format and its English meaning."""

    code: str
    label: str
    meaning: str
    aliases: tuple[str, ...] = ()


# --------------------------------------------------------------------------------------------
# Table 3 — applicant columns
# --------------------------------------------------------------------------------------------
APPLICANT_COLUMNS: tuple[Code, ...] = (
    Code("natural_person", "自然人", "natural persons"),
    Code("commercial_enterprise", "商业企业", "commercial enterprises"),
    Code("research_institution", "科研机构", "research institutions"),
    Code("social_welfare_org", "社会公益组织", "social welfare organisations", ("社会组织", "社会公益")),
    Code("legal_service_org", "法律服务机构", "legal service organisations"),
    Code("other_org", "其他", "other organisations"),
    Code("total", "总计", "total of all applicants"),
)
#: Local variant: a 法人或其他组织 subtotal column printed between the five organisations and 总计.
LEGAL_PERSON_SUBTOTAL = Code(
    "legal_person_subtotal", "法人或其他组织小计", "subtotal of the five organisation columns", ("小计",)
)
COLUMN_CODES: tuple[str, ...] = tuple(c.code for c in APPLICANT_COLUMNS)
ORG_COLUMN_CODES: tuple[str, ...] = COLUMN_CODES[1:6]
#: The columns whose sum is `total` (row_total rule).
TOTAL_PART_CODES: tuple[str, ...] = COLUMN_CODES[:6]


# --------------------------------------------------------------------------------------------
# Table 3 — rows
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class RowCode:
    code: str
    label: str
    meaning: str
    #: outcome category for roll-ups across formats, None for the volume rows
    category: str | None
    #: the group heading printed before the label in a merged cell, e.g. （三）不予公开
    group: str | None = None
    aliases: tuple[str, ...] = field(default=())


_GRANT = "三、本年度办理结果"
_ROWS_HEAD: tuple[RowCode, ...] = (
    RowCode("new_received", "一、本年新收政府信息公开申请数量", "new requests received this year", None),
    RowCode("carried_over", "二、上年结转政府信息公开申请数量", "requests carried over from last year", None),
    RowCode("granted", "（一）予以公开", "granted in full", "granted", _GRANT),
    RowCode(
        "partially_granted",
        "（二）部分公开（区分处理的，只计这一情形，不计其他情形）",
        "partially granted",
        "partially_granted",
        _GRANT,
    ),
    RowCode("withheld_state_secret", "1.属于国家秘密", "withheld: state secret", "withheld", "（三）不予公开"),
    RowCode(
        "withheld_prohibited_by_law",
        "2.其他法律行政法规禁止公开",
        "withheld: prohibited by other laws",
        "withheld",
        "（三）不予公开",
    ),
    RowCode(
        "withheld_three_safeties",
        "3.危及“三安全一稳定”",
        "withheld: endangers the three safeties and stability",
        "withheld",
        "（三）不予公开",
    ),
    RowCode(
        "withheld_third_party_rights",
        "4.保护第三方合法权益",
        "withheld: protects third-party rights",
        "withheld",
        "（三）不予公开",
    ),
    RowCode(
        "withheld_internal_affairs",
        "5.属于三类内部事务信息",
        "withheld: internal affairs",
        "withheld",
        "（三）不予公开",
    ),
    RowCode(
        "withheld_process_info",
        "6.属于四类过程性信息",
        "withheld: process information",
        "withheld",
        "（三）不予公开",
    ),
    RowCode(
        "withheld_enforcement_files",
        "7.属于行政执法案卷",
        "withheld: administrative enforcement files",
        "withheld",
        "（三）不予公开",
    ),
    RowCode(
        "withheld_admin_query",
        "8.属于行政查询事项",
        "withheld: administrative query matter",
        "withheld",
        "（三）不予公开",
    ),
    RowCode(
        "unable_not_held",
        "1.本机关不掌握相关政府信息",
        "unable: information not held",
        "unable",
        "（四）无法提供",
    ),
    RowCode(
        "unable_needs_creation",
        "2.没有现成信息需要另行制作",
        "unable: would need to be created",
        "unable",
        "（四）无法提供",
    ),
    RowCode(
        "unable_unclear",
        "3.补正后申请内容仍不明确",
        "unable: still unclear after correction",
        "unable",
        "（四）无法提供",
    ),
    RowCode(
        "not_processed_complaint",
        "1.信访举报投诉类申请",
        "not processed: petition, report or complaint",
        "not_processed",
        "（五）不予处理",
    ),
    RowCode(
        "not_processed_duplicate", "2.重复申请", "not processed: duplicate request", "not_processed", "（五）不予处理"
    ),
    RowCode(
        "not_processed_publication",
        "3.要求提供公开出版物",
        "not processed: asks for a publication",
        "not_processed",
        "（五）不予处理",
    ),
    RowCode(
        "not_processed_excessive",
        "4.无正当理由大量反复申请",
        "not processed: excessive repeated requests",
        "not_processed",
        "（五）不予处理",
    ),
    RowCode(
        "not_processed_confirmation",
        "5.要求行政机关确认或重新出具已获取信息",
        "not processed: asks to confirm or reissue information already obtained",
        "not_processed",
        "（五）不予处理",
    ),
)
_ROWS_OTHER_2021: tuple[RowCode, ...] = (
    RowCode(
        "other_no_correction",
        "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
        "other: applicant did not correct in time",
        "other",
        "（六）其他处理",
    ),
    RowCode(
        "other_fee_unpaid",
        "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
        "other: fee not paid in time",
        "other",
        "（六）其他处理",
    ),
    RowCode("other_other", "3.其他", "other: other", "other", "（六）其他处理"),
)
_ROWS_OTHER_2019: tuple[RowCode, ...] = (
    RowCode("other_processing", "（六）其他处理", "other processing", "other", _GRANT),
)
_ROWS_TAIL: tuple[RowCode, ...] = (
    RowCode("outcome_total", "（七）总计", "total of all outcomes", None, _GRANT),
    RowCode("carried_forward", "四、结转下年度继续办理", "requests carried forward to next year", None),
)

APPLICATION_ROWS: dict[str, tuple[RowCode, ...]] = {
    "2021": _ROWS_HEAD + _ROWS_OTHER_2021 + _ROWS_TAIL,
    "2019": _ROWS_HEAD + _ROWS_OTHER_2019 + _ROWS_TAIL,
}
#: Every row code of either format, in printed order (2021 order, then other_processing).
ALL_APPLICATION_ROWS: tuple[RowCode, ...] = APPLICATION_ROWS["2021"] + _ROWS_OTHER_2019
ROW_BY_CODE: dict[str, RowCode] = {r.code: r for r in ALL_APPLICATION_ROWS}
OUTCOME_CATEGORIES: tuple[str, ...] = ("granted", "partially_granted", "withheld", "unable", "not_processed", "other")


def outcome_rows(template: str) -> tuple[str, ...]:
    """Row codes whose sum is （七）总计 in the given format."""
    return tuple(r.code for r in APPLICATION_ROWS[template] if r.category is not None)


# --------------------------------------------------------------------------------------------
# Table 2 — proactive disclosure (key item|subject|metric)
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ProactiveItem:
    item: str
    caption: str
    subjects: tuple[Code, ...]
    metrics: tuple[Code, ...]


_DECISIONS_2021 = (Code("decisions", "本年处理决定数量", "decisions made this year"),)
PROACTIVE_ITEMS: dict[str, tuple[ProactiveItem, ...]] = {
    "2021": (
        ProactiveItem(
            "20.1",
            "第二十条第（一）项",
            (
                Code("regulations", "规章", "regulations"),
                Code("normative_documents", "行政规范性文件", "administrative normative documents"),
            ),
            (
                Code("issued", "本年制发件数", "issued this year"),
                Code("repealed", "本年废止件数", "repealed this year", ("本年度止件数",)),
                Code("in_force", "现行有效件数", "currently in force"),
            ),
        ),
        ProactiveItem(
            "20.5",
            "第二十条第（五）项",
            (Code("administrative_licensing", "行政许可", "administrative licensing"),),
            _DECISIONS_2021,
        ),
        ProactiveItem(
            "20.6",
            "第二十条第（六）项",
            (
                Code("administrative_penalty", "行政处罚", "administrative penalties"),
                Code("administrative_coercion", "行政强制", "administrative coercion"),
            ),
            _DECISIONS_2021,
        ),
        ProactiveItem(
            "20.8",
            "第二十条第（八）项",
            (Code("administrative_fees", "行政事业性收费", "administrative fees"),),
            (Code("amount_10k_yuan", "本年收费金额（单位：万元）", "fees collected this year, 10,000 yuan"),),
        ),
    ),
    "2019": (
        ProactiveItem(
            "20.1",
            "第二十条第（一）项",
            (
                Code("regulations", "规章", "regulations"),
                Code("normative_documents", "规范性文件", "normative documents"),
            ),
            (
                Code("produced", "本年新制作数量", "newly produced this year"),
                Code("published", "本年新公开数量", "newly published this year"),
                Code("total_published", "对外公开总数量", "total published"),
            ),
        ),
        ProactiveItem(
            "20.5",
            "第二十条第（五）项",
            (
                Code("administrative_licensing", "行政许可", "administrative licensing"),
                Code("other_external_services", "其他对外管理服务事项", "other external management services"),
            ),
            (
                Code("items_last_year", "上一年项目数量", "items last year"),
                Code("items_change", "本年增/减", "change in items this year (may be negative)"),
                Code("decisions", "处理决定数量", "decisions made"),
            ),
        ),
        ProactiveItem(
            "20.6",
            "第二十条第（六）项",
            (
                Code("administrative_penalty", "行政处罚", "administrative penalties"),
                Code("administrative_coercion", "行政强制", "administrative coercion"),
            ),
            (
                Code("items_last_year", "上一年项目数量", "items last year"),
                Code("items_change", "本年增/减", "change in items this year (may be negative)"),
                Code("decisions", "处理决定数量", "decisions made"),
            ),
        ),
        ProactiveItem(
            "20.8",
            "第二十条第（八）项",
            (Code("administrative_fees", "行政事业性收费", "administrative fees"),),
            (
                Code("items_last_year", "上一年项目数量", "items last year"),
                Code("items_change", "本年增/减", "change in items this year (may be negative)"),
            ),
        ),
        ProactiveItem(
            "20.9",
            "第二十条第（九）项",
            (Code("government_procurement", "政府集中采购", "government centralised procurement"),),
            (
                Code("procurement_items", "采购项目数量", "procurement items"),
                Code("procurement_amount_10k_yuan", "采购总金额", "procurement amount, 10,000 yuan"),
            ),
        ),
    ),
}
#: Metrics that are amounts in 万元 (decimal), everything else is an integer count.
AMOUNT_METRICS: frozenset[str] = frozenset({"amount_10k_yuan", "procurement_amount_10k_yuan"})
#: Metrics that may legitimately be negative.
SIGNED_METRICS: frozenset[str] = frozenset({"items_change"})


def proactive_keys(template: str) -> tuple[str, ...]:
    """Every `item|subject|metric` key of table 2 in printed order."""
    return tuple(
        f"{it.item}|{s.code}|{m.code}" for it in PROACTIVE_ITEMS[template] for s in it.subjects for m in it.metrics
    )


# --------------------------------------------------------------------------------------------
# Table 4 — administrative review and litigation
# --------------------------------------------------------------------------------------------
PROCEEDINGS: tuple[Code, ...] = (
    Code("admin_review", "行政复议", "administrative review"),
    Code("litigation_direct", "未经复议直接起诉", "litigation without prior review"),
    Code("litigation_after_review", "复议后起诉", "litigation after review"),
)
APPEAL_OUTCOMES: tuple[Code, ...] = (
    Code("upheld", "结果维持", "decision upheld"),
    Code("corrected", "结果纠正", "decision corrected"),
    Code("other", "其他结果", "other result"),
    Code("pending", "尚未审结", "not yet concluded"),
    Code("total", "总计", "total"),
)
PROCEEDING_CODES: tuple[str, ...] = tuple(p.code for p in PROCEEDINGS)
APPEAL_OUTCOME_CODES: tuple[str, ...] = tuple(o.code for o in APPEAL_OUTCOMES)
