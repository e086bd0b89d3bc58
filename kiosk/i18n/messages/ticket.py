"""After registering: the printed ticket (kiosk/printing/receipts.py), the ticket screen, what became
of the print job, and what a ticket code that cannot be read means."""

MESSAGES: dict[str, tuple[str, str]] = {
    # the printed ticket
    "receipt.title": ("送检受理单", "Instrument reception ticket"),
    "receipt.copy": ("补打", "COPY"),  # a receipt printed again after one printed (any kind)
    "receipt.time": ("登记时间", "Registered"),
    "receipt.organisation": ("送检单位", "Organisation"),
    "receipt.colon": ("：", ": "),
    "receipt.phone": ("联系电话", "Phone"),
    "receipt.pickup": ("取件方式", "Pickup"),
    "receipt.ready_on": ("预计完成", "Expected ready"),
    "receipt.free": ("免费", "Free"),
    "receipt.pickup_rule_in_person": ("取件时请出示本单或受理号。", "Show this ticket or its number at pickup."),
    "receipt.pickup_rule_post": ("证书将寄往登记的地址。", "Certificates are posted to the address given."),
    "receipt.feedback": ("取件后欢迎到自助机【服务评价】。", "After pickup, rate us at the kiosk (Feedback)."),
    "receipt.go_to": ("请携带仪器到{counter}", "Bring the instruments to {counter}"),
    "receipt.confirm": ("最终收费以窗口确认为准。", "The counter confirms the final fee."),
    # the ticket screen
    "ticket.title": ("登记完成", "Registered"),
    "ticket.number": ("您的受理号", "Your ticket number"),
    "ticket.registered_at": ("登记时间：{time}", "Registered: {time}"),
    "ticket.ready_on": ("预计完成：{date}", "Expected ready: {date}"),
    "ticket.go_to": ("请携带仪器到{counter}办理收件", "Take your instruments to {counter}"),
    "ticket.returning": ("{seconds}秒后返回首页", "Back to the start in {seconds} s"),
    "ticket.done": ("完成", "Done"),
    # the print job
    "print.pending": ("受理单正在排队打印；如未打印，请向窗口报受理号。",
                      "Your ticket is queued for printing; if none comes out, tell the counter this number."),
    "print.printing": ("正在打印受理单", "Printing your ticket"),
    "print.printed": ("受理单已打印，请取走。", "Your ticket has printed; please take it."),
    "print.failed": ("{reason}，受理单没有打印出来。您的登记已保存：请拍下屏幕上的二维码或记下受理号，到窗口办理。",
                     ("{reason}: your ticket did not print. Your registration is saved: photograph the code on "
                      "screen or note the number, and go to the counter.")),
    "print.unconfirmed": (("{reason}，打印机没有确认受理单已打印出来。如果没有出纸，请按「重新打印」；"
                           "您的登记已保存，也可以拍下屏幕上的二维码或记下受理号，到窗口办理。"),
                          ("{reason}: the printer did not confirm that your ticket printed. If none came out, "
                           "press Print again; your registration is saved, and you can also photograph the code "
                           "on screen or note the number for the counter.")),
    "print.retry": ("重新打印", "Print again"),
    "print.reason.offline": ("打印机未开机或未连接", "The printer is off or not connected"),
    "print.reason.paper_out": ("打印机缺纸", "The printer is out of paper"),
    "print.reason.cover_open": ("打印机盖未合上", "The printer cover is open"),
    "print.reason.disconnected": ("打印中打印机断开了", "The printer disconnected while printing"),
    "print.reason.timeout": ("打印机没有响应", "The printer does not answer"),
    "print.reason.config": ("打印机设置有误", "The printer is set up wrongly"),
    "print.reason.error": ("打印机出错", "The printer reported an error"),
    "print.reason.unconfirmed": ("打印机没有回报打印结果", "The printer did not report back"),
    # ticket codes (kiosk/domain/ticketcode.py): one message per TicketCodeError kind
    "ticketcode.not_a_code": ("这不是受理单二维码", "This is not a ticket code"),
    "ticketcode.damaged": ("二维码没有读全或已损坏，请重新扫描", "The code is damaged or incomplete; scan it again"),
    "ticketcode.bad_signature": ("二维码签名不符，内容可能被改动过（疑似伪造）",
                                 "The code's signature does not match: it may have been altered (possible forgery)"),
    "ticketcode.unknown_device": ("本机不认识签发此码的设备密钥，请导入该设备的公钥或同步后再试",
                                  ("The code was signed by a device whose key is not known here; import its public "
                                   "key or sync, then try again")),
    "ticketcode.revoked": ("签发此码的设备密钥已作废，请按受理号核对",
                           "The code was signed with a revoked device key; check the ticket by its number"),
    "ticketcode.unsupported_version": ("二维码格式较新，本机软件无法识别，请升级软件",
                                       "The code has a newer format than this software reads; update the software"),
}
