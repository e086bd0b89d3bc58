"""The zh/en message catalogue. Chinese first; every user-visible string lives here."""

from __future__ import annotations

from .catalog import FIELDS, SERVICE_NAMES, UNITS

MESSAGES: dict[str, tuple[str, str]] = {
    # estimate table
    "col.code": ("收费标准号", "Fee no."),
    "col.item": ("项目", "Item"),
    "col.service": ("服务", "Service"),
    "col.quantity": ("数量", "Qty"),
    "col.unit_price": ("单价", "Unit price"),
    "col.amount": ("金额", "Amount"),
    "col.price": ("收费", "Fee"),
    "col.spec": ("规格", "Spec"),
    "addon.extra_points": ("加测{count}点", "+{count} points"),
    "addon.extra_ranges": ("加{count}个量程", "+{count} ranges"),
    "addon.extra_metres": ("超长{count}米", "+{count} m over length"),
    "addon.ac_dc": ("交直流加收{percent}%", "AC+DC +{percent}%"),
    "addon.minimum": ("按最低收费", "minimum charge"),
    "free.compulsory_verification": ("强制检定免费（{use}）", "Free: compulsory verification ({use})"),
    "quoted": ("现场报价", "quoted at the counter"),
    "urgent.line": ("加急{tier}加收{percent}%", "Urgent {tier} +{percent}%"),
    "urgent.urgent_not_for_free_verification": ("强制检定不收加急费", "no urgent fee on compulsory verification"),
    "urgent.urgent_not_offered": ("该项目不办理加急", "urgent not offered for this item"),
    "total.subtotal": ("小计", "Subtotal"),
    "total.urgent": ("加急费", "Urgent surcharge"),
    "total.discount": ("优惠", "Discounts"),
    "total.total": ("合计", "Total"),
    "total.waived": ("免收强制检定费", "Compulsory verification waived"),
    "total.quoted": ("另有{count}项现场报价，不含在合计内", "{count} line(s) quoted at the counter, not in the total"),
    "total.confirm": ("以上为预估费用，最终收费以窗口确认为准。", "This is an estimate; the counter confirms the final fee."),
    "total.turnaround": ("预计{days}个工作日完成", "Ready in about {days} working days"),
    "total.urgent_hours": ("加急项目{hours}小时内出具证书", "Urgent lines: certificate within {hours} h"),
    # uses
    "use.trade": ("贸易结算", "trade settlement"),
    "use.safety": ("安全防护", "safety protection"),
    "use.medical": ("医疗卫生", "medical care"),
    "use.environment": ("环境监测", "environmental monitoring"),
    "use.other": ("其他", "other"),
    # CLI messages
    "cli.bad_request": ("估价请求有误", "Bad estimate request"),
    "cli.bad_json": ("不是有效的 JSON", "Not valid JSON"),
    "cli.bad_config": ("配置文件有误", "Bad configuration file"),
    "cli.bad_catalog": ("收费目录文件有误，未导入任何内容", "Bad fee catalogue file; nothing was imported"),
    "cli.imported": ("已导入收费目录第{version}版：{rows}行", "Imported fee catalogue version {version}: {rows} rows"),
    "cli.no_match": ("没有找到匹配的项目", "No matching item"),
    "cli.database": ("数据库无法使用", "The database cannot be used"),
    "cli.not_found": ("找不到文件", "File not found"),
    "price.quoted": ("面议", "quoted"),
    # app
    "app.title": ("仪器送检自助服务", "Instrument reception"),
    "app.search_placeholder": ("输入仪器名称、拼音首字母、英文或收费标准号", "Type an instrument name, pinyin initials, English or fee number"),
    "app.fee_lookup": ("收费查询", "Fee lookup"),
    "app.language": ("English", "中文"),
    "app.results": ("找到{count}项", "{count} found"),
    "app.loading": ("正在载入收费目录…", "Loading the fee catalogue…"),
    "app.catalog_version": ("收费目录第{version}版", "Fee catalogue version {version}"),
    "app.notice": (
        "收费以窗口确认为准；强制检定计量器具用于贸易结算、安全防护、医疗卫生、环境监测的，检定免费。",
        (
            "The counter confirms every fee. Compulsory verification is free for instruments used in trade, "
            "safety, medical care or environmental monitoring."
        ),
    ),
}

def t(key: str, lang: str = "zh", **values) -> str:
    zh, en = MESSAGES[key]
    text = zh if lang == "zh" else en
    return text.format(**values) if values else text


def service_name(service: str, lang: str) -> str:
    zh, en = SERVICE_NAMES[service]
    return zh if lang == "zh" else en


def unit_name(unit: str, lang: str) -> str:
    return unit if lang == "zh" else UNITS.get(unit, unit)


def field_name(letter: str, lang: str) -> str:
    zh, en = FIELDS[letter]
    return zh if lang == "zh" else en


def use_name(use: str, lang: str) -> str:
    return t(f"use.{use}", lang)


def money(fen: int | None, lang: str) -> str:
    """￥12.50 (full-width yen: the GB18030 receipt font prints it; see the receipts issue)."""
    if fen is None:
        return t("price.quoted", lang)
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}￥{fen // 100:,}.{fen % 100:02d}"
