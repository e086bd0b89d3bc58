"""The kiosk's frame: its title and search, the registration steps and flow buttons, the idle warning,
the maintenance exit, the out-of-service screen, the online indicator, and the date and list formats."""

MESSAGES: dict[str, tuple[str, str]] = {
    # the frame
    "app.title": ("仪器送检自助服务", "Instrument reception"),
    "app.search_placeholder": ("输入仪器名称、拼音首字母、英文或收费标准号",
                               "Type an instrument name, pinyin initials, English or fee number"),
    "app.fee_lookup": ("收费查询", "Fee lookup"),
    "app.language": ("English", "中文"),
    "app.results": ("找到{count}项", "{count} found"),
    "app.loading": ("正在载入收费目录", "Loading the fee catalogue"),
    "app.catalog_version": ("收费目录第{version}版", "Fee catalogue version {version}"),
    "app.notice": ("收费以窗口确认为准；强制检定计量器具用于贸易结算、安全防护、医疗卫生、环境监测的，检定免费。",
                   ("The counter confirms every fee. Compulsory verification is free for instruments used in trade, "
                    "safety, medical care or environmental monitoring.")),
    # the registration steps and moving between them
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
    # idle and maintenance
    "idle.warning": ("{seconds}秒后将清除已填写的内容并返回首页。\n点击屏幕或按任意键继续。",
                     "In {seconds} s everything you entered is cleared.\nTouch the screen or press a key to continue."),
    "maintenance.title": ("维护退出：请输入维护密码", "Maintenance exit: enter the PIN"),
    "maintenance.exit": ("退出", "Exit"),
    "maintenance.wrong": ("密码不对", "Wrong PIN"),
    # the out-of-service screen (screens/out_of_service.py): the kiosk's, the desk's
    "startup.title": ("暂停服务", "Out of service"),
    "startup.failed": ("自助机无法启动：{problem}", "The kiosk cannot start: {problem}"),
    "startup.staff": ("请到人工窗口办理。工作人员：请运行 kiosk doctor 查看原因",
                      "Please go to a staffed counter. Staff: run kiosk doctor to see why"),
    "startup.desk_failed": ("收发室程序无法启动：{problem}", "The clerk desk cannot start: {problem}"),
    "startup.desk_staff": ("请运行 kiosk doctor 查看原因；Ctrl+Q 退出", "Run kiosk doctor to see why; Ctrl+Q quits"),
    "outage.failed": ("自助机暂停服务：{problem}", "The kiosk is out of service: {problem}"),
    "outage.staff": (("请到人工窗口办理。没打印的受理单都已保存，问题解决后自助机自动恢复并补打。"
                      "工作人员：请运行 kiosk doctor 查看原因"),
                     ("Please go to a staffed counter. Receipts not yet printed are kept; once the problem is fixed "
                      "the kiosk resumes by itself and prints them. Staff: run kiosk doctor to see why")),
    "outage.desk_failed": ("收发室程序暂停服务：{problem}", "The clerk desk is out of service: {problem}"),
    "outage.desk_staff": ("没打印的凭条都已保存，问题解决后自动恢复并补打。请运行 kiosk doctor 查看原因；Ctrl+Q 退出",
                          ("Slips not yet printed are kept; once the problem is fixed the desk resumes by itself and "
                           "prints them. Run kiosk doctor to see why; Ctrl+Q quits")),
    # the online indicator (screens/base.py)
    "sync.online": ("已联网", "Online"),
    "sync.offline": ("离线", "Offline"),
    "sync.online_waiting": ("已联网，待上传{count}条", "Online, {count} to send"),
    "sync.offline_waiting": ("离线，待上传{count}条", "Offline, {count} to send"),
    "sync.problem": ("同步出错，稍后自动重试", "Sync failed; it is retried by itself"),
    # dates and lists
    "date.format": ("{year}年{month}月{day}日", "{day} {month} {year}"),
    "list.separator": ("、", ", "),
}
