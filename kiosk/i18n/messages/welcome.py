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
    # 预约送检 (screens/prepared.py): the longest that fits the screen's width in cells is shown
    "welcome.prepared": ("在本所网站「预约送检」填好了登记？请把手机上的二维码对准扫描口，各步自动填好。",
                         ("Prepared your visit on our website (预约送检)? Hold the QR code on your phone to the "
                          "scanner: the steps fill in.")),
    "welcome.prepared_short": ("已在网上「预约送检」？请把手机上的二维码对准扫描口",
                               "Prepared on our website (预约送检)? Hold its QR code to the scanner."),
}
