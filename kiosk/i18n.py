"""The zh/en message catalogue. Chinese first; every user-visible string lives here."""

from __future__ import annotations

from .vocabulary import FIELDS, SERVICE_NAMES, UNITS

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
    "cli.no_ticket": ("没有这个受理号", "No such ticket"),
    "followups.overdue": ("已逾期", "overdue"),
    "followups.anonymous": ("不记名", "anonymous"),
    "followups.closed": ("回访{id}已关闭", "Follow-up {id} closed"),
    "followups.no_clerk": ("没有这个工作人员", "No such clerk"),
    "followups.not_closed": ("回访未关闭", "Follow-up not closed"),
    "cli.enrolled": ("已加入中心系统 {url}，身份：{role}（设备 {device}）", "Enrolled with {url} as {role} (device {device})"),
    "cli.enroll_failed": ("未能加入中心系统", "Enrolment failed"),
    "cli.not_enrolled": ("本机尚未加入中心系统，请先运行 kiosk enroll URL CODE",
                         "This device is not enrolled; run kiosk enroll URL CODE first"),
    "cli.sync_failed": ("同步未完成，稍后会重试", "Sync did not finish; it will be retried"),
    "sync.online": ("已联网", "Online"),
    "sync.offline": ("离线", "Offline"),
    "sync.online_waiting": ("已联网，待上传{count}条", "Online, {count} to send"),
    "sync.offline_waiting": ("离线，待上传{count}条", "Offline, {count} to send"),
    "cli.reprint_failed": ("没有打印出来，打印任务已保留，自助机会再试", "Did not print; the job is kept and the kiosk will retry"),
    "cli.reprinted": ("已重新打印受理单 {number}（打印任务 {job}）", "Reprinted ticket {number} (print job {job})"),
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
    "app.loading": ("正在载入收费目录", "Loading the fee catalogue"),
    "app.catalog_version": ("收费目录第{version}版", "Fee catalogue version {version}"),
    # steps and flow
    "step.customer": ("送检单位", "Customer"),
    "step.instruments": ("送检仪器", "Instruments"),
    "step.options": ("选项", "Options"),
    "step.estimate": ("费用预估", "Estimate"),
    "flow.back": ("上一步", "Back"),
    "flow.next": ("下一步", "Next"),
    "flow.cancel": ("取消", "Cancel"),
    "flow.estimate": ("查看费用", "See the estimate"),
    "flow.back_edit": ("返回修改", "Back to edit"),
    "flow.confirm": ("确认登记", "Confirm"),
    "flow.registering": ("正在登记，请稍候", "Registering, please wait"),
    "flow.register_failed": ("登记没有成功，请重试或到窗口办理", "Registration failed; try again or go to the counter"),
    # welcome
    "welcome.hours": ("办公时间：", "Opening hours: "),
    "welcome.fields": ("我们可以检定、校准", "What we verify and calibrate"),
    "welcome.more": ("等{total}项", " and more ({total} in all)"),
    "welcome.commitments": ("服务承诺", "Our commitments"),
    "welcome.register": ("送检登记", "Register instruments"),
    "welcome.fees": ("收费查询", "Fees"),
    "welcome.feedback": ("服务评价", "Feedback"),
    # customer
    "customer.organisation": ("送检单位", "Organisation"),
    "customer.organisation_hint": ("单位全称，个人送检请填姓名", "Full name of the organisation, or your name"),
    "customer.credit_code": ("信用代码", "Credit code"),
    "customer.credit_code_hint": ("统一社会信用代码，可不填", "Unified social credit code (optional)"),
    "customer.contact": ("联系人", "Contact"),
    "customer.phone": ("联系电话", "Phone"),
    "customer.phone_hint": ("手机或座机", "Mobile or landline"),
    "customer.address": ("邮寄地址", "Address"),
    "customer.address_hint": ("邮寄取件时必填", "Required if we post the certificates"),
    "customer.pickup": ("取件方式", "Pickup"),
    "customer.pickup_in_person": ("到窗口自取", "In person at the counter"),
    "customer.pickup_post": ("邮寄", "By post"),
    # instruments and lines
    "instruments.yours": ("本次送检的仪器（点选可修改或删除）", "Your instruments (tap one to change or remove it)"),
    "col.use": ("用途", "Use"),
    "line.quantity": ("数量", "Quantity"),
    "line.use": ("用途（决定是否免费强制检定）", "Use (decides free compulsory verification)"),
    "line.points": ("测量点数", "Measuring points"),
    "line.ranges": ("量程数", "Ranges"),
    "line.metres": ("长度（米）", "Length (m)"),
    "line.ac_dc": ("交流和直流都要做", "Both AC and DC"),
    "line.model": ("型号规格", "Model"),
    "line.serial_number": ("出厂编号", "Serial number"),
    "line.manufacturer": ("制造厂", "Manufacturer"),
    "line.requirements": ("特殊要求", "Special requirements"),
    "line.repair": ("不合格时同意修理", "Repair it if it fails"),
    "line.add": ("加入", "Add"),
    "line.save": ("保存", "Save"),
    "line.remove": ("删除", "Remove"),
    "error.no_lines": ("请至少加入一台仪器：在上方输入名称搜索，点选后加入。",
                       "Add at least one instrument: search above, tap it, then add it."),
    "error.points": ("测量点数应为{min}到{max}之间的整数", "Points must be a whole number from {min} to {max}"),
    "error.ranges": ("量程数应为{min}到{max}之间的整数", "Ranges must be a whole number from {min} to {max}"),
    "error.metres": ("长度应为大于0的米数，最多精确到毫米", "Length in metres above 0, at most to the millimetre"),
    "error.certificates": ("证书份数应为{min}到{max}份", "Certificates: {min} to {max} copies"),
    # options
    "options.urgent": ("加急服务", "Urgent service"),
    "options.urgent_none": ("不加急", "Not urgent"),
    "options.urgent_tier": ("{hours}小时内出证书，加收{percent}%", "Certificate within {hours} h, +{percent}%"),
    "options.urgent_note": ("加急只适用于非强制检定项目；强制检定免费项目不收加急费。",
                            "Urgent applies to non-compulsory work; free compulsory verification is never surcharged."),
    "options.urgent_unavailable": ("本次送检的项目不办理加急。", "None of these items can be expedited."),
    "options.certificates": ("证书份数", "Certificates"),
    "options.certificate_name": ("证书单位名称", "Name on certificate"),
    "options.certificate_name_hint": ("不填则与送检单位相同", "Leave empty to use the organisation"),
    # ticket
    "receipt.title": ("送检受理单", "Instrument reception ticket"),
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
    "receipt.total": ("预估合计", "Estimated total"),
    "receipt.urgent": ("其中加急{hours}小时", "incl. urgent {hours} h"),
    "receipt.confirm": ("最终收费以窗口确认为准。", "The counter confirms the final fee."),
    "ticket.title": ("登记完成", "Registered"),
    "ticket.number": ("您的受理号", "Your ticket number"),
    "ticket.registered_at": ("登记时间：{time}", "Registered: {time}"),
    "ticket.ready_on": ("预计完成：{date}", "Expected ready: {date}"),
    "ticket.go_to": ("请携带仪器到{counter}办理收件", "Take your instruments to {counter}"),
    "ticket.returning": ("{seconds}秒后返回首页", "Back to the start in {seconds} s"),
    "ticket.done": ("完成", "Done"),
    "print.pending": ("受理单正在排队打印；如未打印，请向窗口报受理号。",
                      "Your ticket is queued for printing; if none comes out, tell the counter this number."),
    "print.printing": ("正在打印受理单", "Printing your ticket"),
    "print.printed": ("受理单已打印，请取走。", "Your ticket has printed; please take it."),
    "print.failed": ("{reason}，受理单没有打印出来。您的登记已保存：请拍下屏幕上的二维码或记下受理号，到窗口办理。",
                     ("{reason}: your ticket did not print. Your registration is saved: photograph the code "
                      "on screen or note the number, and go to the counter.")),
    "print.retry": ("重新打印", "Print again"),
    "print.reason.offline": ("打印机未开机或未连接", "The printer is off or not connected"),
    "print.reason.paper_out": ("打印机缺纸", "The printer is out of paper"),
    "print.reason.cover_open": ("打印机盖未合上", "The printer cover is open"),
    "print.reason.disconnected": ("打印中打印机断开了", "The printer disconnected while printing"),
    "print.reason.timeout": ("打印机没有响应", "The printer does not answer"),
    "print.reason.config": ("打印机设置有误", "The printer is set up wrongly"),
    "print.reason.error": ("打印机出错", "The printer reported an error"),
    # idle and maintenance
    "idle.warning": ("{seconds}秒后将清除已填写的内容并返回首页。\n点击屏幕或按任意键继续。",
                     "In {seconds} s everything you entered is cleared.\nTouch the screen or press a key to continue."),
    "maintenance.title": ("维护退出：请输入维护密码", "Maintenance exit: enter the PIN"),
    "maintenance.exit": ("退出", "Exit"),
    "maintenance.wrong": ("密码不对", "Wrong PIN"),
    # validation (kiosk.validation raises these keys; placeholders come from FieldError.values)
    "error.required": ("必填", "Required"),
    "error.too_long": ("最多{max}个字", "At most {max} characters"),
    "error.control_chars": ("含有无法显示的控制字符，请删除后重新输入",
                            "Contains invisible control characters; please delete them and retype"),
    "error.emoji": ("不能使用表情符号或特殊符号，证书上无法打印",
                    "Emoji and special symbols cannot be printed on a certificate"),
    "error.phone": ("请输入正确的手机号或座机号", "Enter a valid mobile or landline number"),
    "error.credit_code_length": ("统一社会信用代码应为18位", "The unified social credit code has 18 characters"),
    "error.credit_code_chars": ("统一社会信用代码只含数字和大写字母，不含I、O、Z、S、V",
                                "The credit code uses digits and capital letters, never I, O, Z, S or V"),
    "error.credit_code_check": ("统一社会信用代码校验位不对，请核对",
                                "The check character of the credit code is wrong; please check it"),
    "error.quantity": ("数量应为1到{max}之间的整数", "Quantity must be a whole number from 1 to {max}"),
    # dates and lists
    "date.format": ("{year}年{month}月{day}日", "{day} {month} {year}"),
    "list.separator": ("、", ", "),
    # ticket codes and device keys (kiosk/ticketcode.py, kiosk/keys.py): one message per TicketCodeError kind
    "ticketcode.not_a_code": ("这不是受理单二维码", "This is not a ticket code"),
    "ticketcode.damaged": ("二维码没有读全或已损坏，请重新扫描", "The code is damaged or incomplete; scan it again"),
    "ticketcode.bad_signature": ("二维码签名不符，内容可能被改动过（疑似伪造）",
                                 "The code's signature does not match: it may have been altered (possible forgery)"),
    "ticketcode.unknown_device": ("本机不认识签发此码的设备密钥，请导入该设备的公钥或同步后再试",
                                  ("The code was signed by a device whose key is not known here; import its "
                                   "public key or sync, then try again")),
    "ticketcode.revoked": ("签发此码的设备密钥已作废，请按受理号核对",
                           "The code was signed with a revoked device key; check the ticket by its number"),
    "ticketcode.unsupported_version": ("二维码格式较新，本机软件无法识别，请升级软件",
                                       "The code has a newer format than this software reads; update the software"),
    "keys.exported": ("已导出{count}个设备公钥到{file}", "Exported {count} device public key(s) to {file}"),
    "keys.imported": ("已导入{count}个新的设备公钥", "Imported {count} new device public key(s)"),
    "keys.bad_file": ("公钥文件有误，未导入任何内容", "Bad public key file; nothing was imported"),
    "keys.unusable": ("本机签名密钥无法使用", "This device's signing key cannot be used"),
    "app.notice": (
        "收费以窗口确认为准；强制检定计量器具用于贸易结算、安全防护、医疗卫生、环境监测的，检定免费。",
        (
            "The counter confirms every fee. Compulsory verification is free for instruments used in trade, "
            "safety, medical care or environmental monitoring."
        ),
    ),
}

# ---- the clerk desk (`kiosk clerk`): counters, vouchers, pickup slips, clerk accounts ----------
_DESK_MESSAGES: dict[str, tuple[str, str]] = {
    "desk.title": ("仪器收发室", "Instrument counter"),
    "desk.receiving": ("收件窗口", "Receiving counter"),
    "desk.dispatch": ("发件窗口", "Dispatch counter"),
    "desk.unlock_title": ("工作人员登录", "Clerk sign-in"),
    "desk.username": ("用户名", "User name"),
    "desk.pin": ("密码", "PIN"),
    "desk.unlock": ("登录", "Sign in"),
    "desk.lock": ("锁定 F9", "Lock F9"),
    "desk.unknown_clerk": ("没有这个工作人员账号", "No such clerk"),
    "desk.wrong_pin": ("密码不对，还可以再试{tries}次", "Wrong PIN; {tries} tries left"),
    "desk.locked": ("密码错误次数过多，账号锁定到{time}", "Too many wrong PINs; locked until {time}"),
    "desk.bad_pin_format": ("密码为4到12位数字", "The PIN is 4 to 12 digits"),
    "desk.signed_in": ("工作人员：{name}", "Clerk: {name}"),
    "desk.scan_hint": ("请扫描受理单二维码，或输入受理号后按回车", "Scan the ticket's QR code, or type its number and press Enter"),
    "desk.dispatch_hint": ("请扫描取件凭证，或输入受理号后按回车", "Scan the pickup voucher, or type the ticket number and press Enter"),
    "desk.not_a_code": ("不是受理单二维码，本机也没有这个受理号", "Not a ticket code, and no ticket with that number here"),
    "desk.damaged": ("扫描不完整或有误，请重新扫描", "Damaged scan: please scan again"),
    "desk.bad_signature": ("签名不符：受理单可能是伪造的，请核实", "Bad signature: the ticket may be forged; check it"),
    "desk.unknown_device": ("不认识签发这张受理单的自助机，请同步或导入它的公钥",
                            "Unknown issuing kiosk: sync, or import its public key"),
    "desk.revoked": ("签发这张受理单的自助机密钥已停用，请核实", "The issuing kiosk's key was revoked; check the ticket"),
    "desk.unsupported_version": ("受理单格式比本软件新，请升级软件", "The ticket code is from a newer version; update the software"),
    "desk.not_local": ("受理单有效，但本机还没有这张受理单", "A valid ticket code, but this desk does not have the ticket yet"),
    "desk.imported": ("这张受理单尚未同步到本机，已按二维码内容登记；送检单位待同步或向客户核实",
                      ("This ticket had not reached this desk: taken from its QR code; confirm the organisation "
                       "with the customer until sync brings it")),
    "desk.already": ("该受理单已于{time}由{name}{step}", "Already {step} at {time} by {name}"),
    "desk.central": ("中心系统", "the central system"),
    "desk.not_yet": ("该受理单{status}，还不能{step}", "This ticket is {status}; it cannot be {step} yet"),
    "desk.step.received": ("收件", "received"),
    "desk.step.ready": ("标记为可取件", "marked ready"),
    "desk.step.picked_up": ("取件", "picked up"),
    "desk.status.registered": ("已登记，未收件", "registered, not received"),
    "desk.status.received": ("已收件，检定中", "received, in progress"),
    "desk.status.ready": ("可取件", "ready for pickup"),
    "desk.status.picked_up": ("已取件", "picked up"),
    "desk.ticket": ("受理号{number}　{organisation}　{status}", "Ticket {number}  {organisation}  {status}"),
    "desk.total": ("预估合计{amount}", "Estimated total {amount}"),
    "desk.receive": ("确认收件 F5", "Receive F5"),
    "desk.ready": ("可取件 F6", "Ready F6"),
    "desk.pick_up": ("确认取件 F7", "Hand over F7"),
    "desk.to_dispatch": ("发件窗口 F3", "Dispatch F3"),
    "desk.to_receiving": ("收件窗口 F2", "Receiving F2"),
    "desk.done.received": ("已收件：{number}，取件凭证正在打印", "Received {number}; the pickup voucher is printing"),
    "desk.done.ready": ("{number}已标记为可取件", "{number} is marked ready for pickup"),
    "desk.done.picked_up": ("已取件：{number}，取件单正在打印", "Picked up {number}; the pickup slip is printing"),
    "desk.nothing": ("请先扫描一张受理单", "Scan a ticket first"),
    "desk.failed": ("没有成功：{error}", "Failed: {error}"),
    "desk.col.use": ("用途", "Use"),
    "desk.col.serial": ("出厂编号", "Serial no."),
    "desk.col.status": ("状态", "Status"),
    "desk.refused": ("拒收", "refused"),
    # clerk desk: intake editor and certificates
    "desk.edit_line": ("修改 F4", "Edit F4"),
    "desk.refuse_line": ("拒收 F8", "Refuse F8"),
    "desk.intake.hint": ("上下键选行，F4修改所选行，F8拒收或恢复；点两下某行也可修改",
                         "Up/Down: a line  F4: edit it  F8: refuse or take back  (or tap a line twice)"),
    "desk.intake.edited": ("已修改", "edited"),
    "desk.intake.total": ("收件核定合计{amount}（登记时{registered}）", "Total as taken in {amount} (registered {registered})"),
    "desk.intake.pricing": ("正在重新计算费用", "Pricing the intake"),
    "desk.intake.saved": ("第{line}行已修改，核对后按F5确认收件", "Line {line} corrected; check it, then F5 receives"),
    "desk.intake.refused": ("第{line}行已标为拒收，不计费", "Line {line} is refused and not charged"),
    "desk.intake.taken_back": ("第{line}行已恢复收件", "Line {line} is taken in again"),
    "desk.intake.discarded": ("受理单{number}未确认的收件修改已放弃", "Unsaved intake changes to {number} were discarded"),
    "desk.intake.bad": ("收件内容有误，未收件：{error}", "The intake is not right; nothing was received: {error}"),
    "desk.intake.locked": ("只有未收件的受理单可以修改收件内容", "Only a ticket not yet received can be corrected"),
    "intake.title": ("修改收件内容：受理单{number}第{line}行", "Correct the intake: ticket {number}, line {line}"),
    "intake.code": ("收费标准号", "Fee row no."),
    "intake.no_row": ("价目表（第{version}版）中没有收费标准号{code}", "There is no fee row {code} in the fee schedule (version {version})"),
    "intake.wrong_service": ("{code}是{row_service}收费项，不是{service}；请改服务类别或收费标准号",
                             "{code} is priced for {row_service}, not {service}: change the service or the fee row"),
    "intake.no_variant": ("{name}没有{service}收费项，请输入收费标准号",
                          "{name} has no {service} fee row; enter a fee row number"),
    "intake.service": ("服务类别", "Service"),
    "intake.condition": ("外观及状态", "Condition"),
    "intake.accessories": ("附件", "Accessories"),
    "intake.refused": ("拒收此行（不收件，不计费）", "Refuse this line (not taken in, not charged)"),
    "cert.title": ("证书编号：受理单{number}", "Certificate numbers: ticket {number}"),
    "cert.hint": ("每行一个证书编号，可不填，最多{max}个字", "One number per line, optional, at most {max} characters"),
    "cert.refused": ("拒收，无证书", "refused, no certificate"),
    "cert.save": ("确定", "OK"),
    "desk.certificates": ("证书编号 F4", "Certificates F4"),
    "desk.col.certificate": ("证书编号", "Certificate no."),
    "desk.final_total": ("收件核定费用{amount}", "Fee as taken in {amount}"),
    "desk.cert.saved": ("已记下{count}个证书编号，按F7确认取件", "{count} certificate number(s) noted; F7 hands over"),
    "desk.cert.discarded": ("受理单{number}未确认的证书编号已放弃", "Unsaved certificate numbers for {number} were discarded"),
    "desk.cert.not_yet": ("收件之后才能填写证书编号", "Certificate numbers come after the ticket is received"),
    "voucher.title": ("取件凭证", "Pickup voucher"),
    "voucher.received_at": ("收件时间", "Received"),
    "voucher.clerk": ("收件人", "Received by"),
    "voucher.condition": ("外观", "Condition"),
    "voucher.accessories": ("附件", "Accessories"),
    "voucher.serial": ("出厂编号", "Serial no."),
    "voucher.total": ("预估合计", "Estimated total"),
    "voucher.keep": ("请妥善保管本凭证，取件时出示。", "Keep this voucher and show it at pickup."),
    "slip.title": ("取件单", "Pickup slip"),
    "slip.picked_up_at": ("取件时间", "Picked up"),
    "slip.clerk": ("发件人", "Handed over by"),
    "slip.certificate": ("证书编号", "Certificate no."),
    "slip.next_due": ("下次检定", "Next verification"),
    "slip.feedback": ("欢迎在自助机上评价我们的服务，您的意见帮助我们改进。",
                      "Please rate our service at the kiosk: your feedback helps us improve."),
    "clerk.added": ("已添加工作人员{username}（{name}）", "Added clerk {username} ({name})"),
    "clerk.removed": ("已删除工作人员{username}", "Removed clerk {username}"),
    "clerk.pin_prompt": ("请输入密码（4到12位数字）：", "PIN (4 to 12 digits): "),
    "clerk.pin_again": ("请再输入一次：", "The PIN again: "),
    "clerk.pin_mismatch": ("两次输入的密码不一致", "The two PINs differ"),
    "clerk.none": ("还没有工作人员账号", "No clerk accounts yet"),
    "clerk.error": ("工作人员账号", "Clerk account"),
    "clerk.locked_until": ("锁定到{time}", "locked until {time}"),
}
MESSAGES.update(_DESK_MESSAGES)

# feedback: 服务评价 at the kiosk (screens/feedback.py, kiosk/feedback.py) and `kiosk due` (kiosk/due.py)
_FEEDBACK_MESSAGES: dict[str, tuple[str, str]] = {
    "feedback.title": ("服务评价", "Feedback"),
    "feedback.intro": ("请扫描受理单或取件凭证上的二维码，或输入受理单号（取件单上有）。没带单据也可以不记名评价。",
                       ("Scan the QR code on your ticket or pickup voucher, or type the ticket number (it is on "
                        "your pickup slip). No paper with you? Rate without a ticket.")),
    "feedback.scan": ("受理单号", "Ticket no."),
    "feedback.scan_hint": ("扫码或输入，如 K1A-261124-0007", "Scan or type, e.g. K1A-261124-0007"),
    "feedback.find": ("确定", "OK"),
    "feedback.anonymous": ("不记名评价", "Rate without a ticket"),
    "feedback.looking": ("正在查找受理单，请稍候", "Looking the ticket up"),
    "feedback.error.not_found": ("没有找到这张受理单，请核对单号，或不记名评价",
                                 "No ticket with this number here: check it, or rate without a ticket"),
    "feedback.error.damaged": ("二维码没有读全，请重新扫描", "The code was not read whole: scan it again"),
    "feedback.error.invalid": ("无法识别这个二维码，请输入受理单号", "This code cannot be read here: type the ticket number"),
    "feedback.error.not_here": ("本机暂时查不到这张受理单，可以不记名评价，或到窗口提出意见",
                                "This kiosk does not know this ticket yet: rate without a ticket, or tell the counter"),
    "feedback.error.not_served": ("受理单{number}还没有在窗口收件，办理后再来评价，或不记名评价",
                                  ("Ticket {number} has not been taken in at the counter yet: rate it later, "
                                   "or rate without a ticket")),
    "feedback.error.rating": ("请选择一个评价", "Choose a rating"),
    "feedback.error.hearts": ("选项有误", "Unknown choice"),
    "feedback.error.reason": ("请选择一个原因", "Choose what went wrong"),
    "feedback.error.save": ("评价没有保存成功，请重试或到窗口提出意见", "The rating was not saved: try again, or tell the counter"),
    "feedback.ticket": ("受理单{number}", "Ticket {number}"),
    "feedback.anonymous_note": ("不记名评价，不关联受理单", "Anonymous: not linked to a ticket"),
    "feedback.question": ("您对本次服务满意吗？请点选一项。", "How satisfied are you with our service? Tap one."),
    "feedback.level.very_satisfied": ("非常满意", "Very satisfied"),
    "feedback.level.satisfied": ("满意", "Satisfied"),
    "feedback.level.basic": ("基本满意", "Fairly satisfied"),
    "feedback.level.dissatisfied": ("不满意", "Dissatisfied"),
    "feedback.level.very_dissatisfied": ("非常不满意", "Very dissatisfied"),
    "feedback.your_rating": ("您的评价：{level}", "Your rating: {level}"),
    "feedback.reason": ("很抱歉。请告诉我们哪里做得不好（选一项）：", "We are sorry. Please tell us what went wrong (choose one):"),
    "feedback.reason.slow": ("等候或办理太久", "Long wait or slow"),
    "feedback.reason.attitude": ("服务态度不好", "Unfriendly service"),
    "feedback.reason.fees": ("收费不清楚", "Fees not clear"),
    "feedback.reason.unclear": ("说明解释不清", "Not clearly explained"),
    "feedback.reason.quality": ("证书或仪器有问题", "Certificate or instrument"),
    "feedback.reason.other": ("其他原因", "Something else"),
    "feedback.reason_text": ("具体情况", "Details"),
    "feedback.reason_text_hint": ("可不填；选其他原因时请写明", "Optional; needed for Something else"),
    "feedback.optional": ("以下都可以不填，直接点提交即可。", "All of this is optional: you may submit right away."),
    "feedback.hearts": ("五心服务：哪些方面让您满意？（可多选）", "Five hearts: what did we do well? (any number)"),
    "feedback.heart.warm": ("热心", "Warm"),
    "feedback.heart.careful": ("细心", "Careful"),
    "feedback.heart.patient": ("耐心", "Patient"),
    "feedback.heart.dedicated": ("尽心", "Dedicated"),
    "feedback.heart.reassuring": ("放心", "Reliable"),
    "feedback.comment": ("意见建议", "Comments"),
    "feedback.comment_hint": ("可不填，最多500字", "Optional, up to 500 characters"),
    "feedback.callback": ("请给我回电", "Please call me back"),
    "feedback.phone": ("回电号码", "Phone"),
    "feedback.phone_hint": ("手机或座机，只用于回访", "Mobile or landline, only to call you back"),
    "feedback.submit": ("提交", "Submit"),
    "feedback.saving": ("正在提交，请稍候", "Submitting, please wait"),
    "feedback.thanks": ("感谢您的评价！", "Thank you for your feedback!"),
    "feedback.thanks_poor": ("很抱歉这次没有让您满意。我们会认真核查，在{date}前处理完毕。",
                             "We are sorry we let you down. We will look into it by {date}."),
    "feedback.thanks_poor_call": ("很抱歉这次没有让您满意。我们会在{date}前给您回电。",
                                  "We are sorry we let you down. We will call you back by {date}."),
    "feedback.thanks_call": ("我们会尽快给您回电。", "We will call you back soon."),
    "feedback.already": ("这张受理单已经评价过了，感谢您的支持！", "This ticket has been rated already. Thank you!"),
    "feedback.returning": ("{seconds}秒后返回首页", "Back to the start in {seconds} s"),
    "feedback.done": ("完成", "Done"),
    # `kiosk due`: periodic verification due
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
MESSAGES.update(_FEEDBACK_MESSAGES)


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


def name_of(item, lang: str) -> str:
    """A fee row's or an estimate line's name."""
    return item.name_zh if lang == "zh" else item.name_en


def spec_of(item, lang: str) -> str:
    """Spec / range band and accuracy class; English falls back to the Chinese spec."""
    spec = item.spec_zh if lang == "zh" else (item.spec_en or item.spec_zh)
    return " ".join(x for x in (spec, item.accuracy_class) if x)


def unit_price(fen: int | None, unit: str, lang: str) -> str:
    """￥30.00/块, or 面议 when the counter quotes it."""
    return money(fen, lang) if fen is None else f"{money(fen, lang)}/{unit_name(unit, lang)}"


def quantity_text(quantity: int, unit: str, lang: str) -> str:
    """3块 in Chinese (the measure word belongs to the number); 3 in English."""
    return f"{quantity}{unit_name(unit, lang)}" if lang == "zh" else str(quantity)


MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def date_text(day, lang: str) -> str:
    """2026年12月8日 / 8 Dec 2026: never the machine's locale."""
    month = day.month if lang == "zh" else MONTHS_EN[day.month - 1]
    return t("date.format", lang, year=day.year, month=month, day=day.day)


def money(fen: int | None, lang: str) -> str:
    """￥12.50 (full-width yen: the GB18030 receipt font prints it; see the receipts issue)."""
    if fen is None:
        return t("price.quoted", lang)
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}￥{fen // 100:,}.{fen % 100:02d}"
