"""The welcome screen (screens/welcome.py)."""

MESSAGES: dict[str, tuple[str, str]] = {
    "welcome.hours": ("办公时间：", "Opening hours: "),
    "welcome.fields": ("我们可以检定、校准", "What we verify and calibrate"),
    "welcome.more": ("等{total}项", " and more ({total} in all)"),
    "welcome.commitments": ("服务承诺", "Our commitments"),
    "welcome.register": ("送检登记", "Register instruments"),
    "welcome.fees": ("收费查询", "Fees"),
    "welcome.feedback": ("服务评价", "Feedback"),
    "welcome.progress": ("进度查询", "Progress"),
}
