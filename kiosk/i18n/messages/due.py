"""`kiosk due`: instruments falling due for periodic verification (kiosk/store/due.py)."""

MESSAGES: dict[str, tuple[str, str]] = {
    "due.col.due_on": ("到期日", "Due"),
    "due.col.number": ("受理单号", "Ticket"),
    "due.col.organisation": ("送检单位", "Organisation"),
    "due.col.contact": ("联系人", "Contact"),
    "due.col.phone": ("电话", "Phone"),
    "due.col.instrument": ("仪器", "Instrument"),
    "due.col.code": ("收费标准号", "Fee no."),
    "due.col.serial": ("出厂编号", "Serial no."),
    "due.col.quantity": ("数量", "Qty"),
    "due.count": ("共{count}项（自{date}起算）", "{count} due (counted from {date})"),
    "due.bad_within": ("时间范围有误", "Bad time span"),
}
