"""A registration prepared at home, scanned at the kiosk (screens/prepared.py)."""

MESSAGES: dict[str, tuple[str, str]] = {
    "prepared.title": ("预约送检二维码", "Prepared registration code"),
    "prepared.part_read": (
        "已读取第{part}份，共{total}份。请接着扫描手机上的其余几份：第{missing}份。",
        "Part {part} of {total} read. Scan the other codes on your phone: {missing}.",
    ),
    "prepared.parts_held": (
        "已读取{have}份，共{total}份，还差：第{missing}份。",
        "{have} of {total} parts read; still to scan: {missing}.",
    ),
    "prepared.error.not_a_code": ("这不是预约送检二维码。", "This is not a prepared registration code."),
    "prepared.error.damaged": (
        "二维码没有读全或已损坏，请再扫一次。",
        "The code was not read completely or is damaged; please scan it again.",
    ),
    "prepared.error.checksum": (
        "二维码校验不符：内容可能已损坏或被改动。请在手机上重新打开预约码再扫。",
        ("The code does not match its checksum: it may be damaged or altered. Open the prepared code on your "
         "phone again and scan it."),
    ),
    "prepared.error.too_large": (
        "这份预约太大，本机读取不了。请分几次预约，或到窗口办理。",
        ("This prepared registration is too large for the kiosk. Prepare it in smaller batches, or go to the "
         "counter."),
    ),
    "prepared.error.unknown_version": (
        "这个预约码的格式比本机软件新，本机读取不了，请到窗口办理。",
        "This code has a newer format than this kiosk reads; please go to the counter.",
    ),
    "prepared.error.incomplete": (
        "预约码还有几份没有扫描。",
        "Some parts of the prepared code are still to be scanned.",
    ),
    "prepared.error.mixed": (
        "这几份二维码不属于同一份预约，请重新扫描。",
        "These codes belong to different prepared registrations; scan them again.",
    ),
    "prepared.error.loading": (
        "收费目录正在加载，请稍后再扫。",
        "The fee schedule is still loading; scan again in a moment.",
    ),
    "prepared.close": ("关闭", "Close"),
    "prepared.ok": ("知道了，去核对", "OK, let me check"),
    "prepared.problems": (
        "预约内容已填入，以下几项请您核对：",
        "Your prepared registration is filled in. Please check:",
    ),
    "prepared.field": ("{field}：{error}，未填入", "{field}: {error}; left empty"),
    "prepared.field_reset": ("{field}：{error}，已改为{value}", "{field}: {error}; set to {value}"),
    "prepared.line": ("第{line}项：{text}", "Line {line}: {text}"),
    "prepared.line.unknown_item": (
        "本机收费目录中没有项目{code}，这一项未填入，请在送检仪器一步重新选择",
        "item {code} is not in this kiosk's fee schedule; the line was left out: choose it again under Instruments",
    ),
    "prepared.line.other_service": (
        "项目{code}在本机收费目录中是{service}，与预约不符，这一项未填入",
        "item {code} is {service} in this kiosk's fee schedule, not what was prepared; the line was left out",
    ),
    "prepared.line.dropped": ("{field}：{error}，这一项未填入", "{field}: {error}; the line was left out"),
    "prepared.line.bad_use": (
        "用途不是可选的一种，已按其他用途计费",
        "the use is not one of the choices; priced as for other uses",
    ),
    "prepared.line.ignored": ("{field}：这一项不适用，已忽略", "{field}: does not apply to this item; ignored"),
    "prepared.line.extra_data": ("另出规程未要求的数据", "Data beyond the regulation"),
    "prepared.line.ledger_too_long": (
        "台账信息太长，未写入特殊要求",
        "the ledger details are too long; not added to the special requirements",
    ),
    "prepared.too_many_lines": (
        "预约有{count}项，本机一次最多登记{max}项，已填入前{max}项",
        "The registration has {count} lines; the kiosk takes {max} at a time: the first {max} were filled in",
    ),
    "prepared.urgent_bad": ("加急选项无效，已改为不加急", "The urgent choice is not valid; set to not urgent"),
    "prepared.urgent_impossible": (
        "这些仪器不能加急，已改为不加急",
        "These instruments cannot be expedited; set to not urgent",
    ),
    "prepared.pickup_bad": ("取件方式无效，已改为到窗口自取", "The pickup choice is not valid; set to in person"),
    "prepared.notify_nowhere": (
        "选择了通知，但没有手机号或邮箱，请在选项一步补上或取消",
        "Notices were asked for, but there is no mobile or e-mail: add one in Options, or untick it",
    ),
    # What the kiosk writes into a line's special requirements from the customer's e-CQS ledger
    # (the ticket has no columns of its own for them); always in Chinese, for the counter.
    "prepared.ledger.name": ("器具名称：{value}", "Name: {value}"),
    "prepared.ledger.range": ("测量范围：{value}", "Range: {value}"),
    "prepared.ledger.accuracy": ("准确度等级：{value}", "Accuracy: {value}"),
    "prepared.ledger.location": ("使用地点：{value}", "Location: {value}"),
    "prepared.ledger.separator": ("；", "; "),
}
