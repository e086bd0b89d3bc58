"""Central's user-visible CLI text, Chinese first, English second (as kiosk/i18n/ keeps the
kiosk's). Its own catalogue: central is a separate deployable."""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    "missing_extra": ("中心系统需要额外的软件包（缺少 {module}），请安装：pip install 'metrology-kiosk[central]'",
                      ("The central system needs extra packages (missing {module}): "
                       "pip install 'metrology-kiosk[central]'")),
    "database": ("中心数据库无法使用", "The central database cannot be used"),
    "serving": ("中心系统运行于 http://{host}:{port}（数据库：{db}，{workers}个工作进程）",
                "Central running at http://{host}:{port} (database: {db}, {workers} worker(s))"),
    "sqlite_workers": ("SQLite 只能用一个工作进程；多个工作进程请用 PostgreSQL（DATABASE_URL）",
                       "SQLite takes one worker; use PostgreSQL (DATABASE_URL) for several"),
    "code": ("设备注册码（{role}，站点 {site}，{days}天内有效，只能使用一次）：",
             "Enrolment code ({role}, site {site}, valid {days} days, once):"),
    "bad_site": ("没有站点 {site}；站点（CENTRAL_SITES）：{sites}",
                 "No site {site}; the sites (CENTRAL_SITES): {sites}"),
    "code_hint": ("在设备上运行：kiosk enroll http://中心地址:{port} {code}",
                  "On the device run: kiosk enroll http://CENTRAL:{port} {code}"),
    "revoked": ("已停用设备 {uid}，它的令牌已失效", "Revoked device {uid}; its token no longer works"),
    "not_revoked": ("没有这个在用的设备：{uid}", "No active device {uid}"),
    "no_device": ("没有这个设备：{uid}", "No device {uid}"),
    "bad_time": ("时间格式有误：{text}（例如 2026-11-24T09:30 或 2026-11-24）",
                 "Not a time: {text} (e.g. 2026-11-24T09:30 or 2026-11-24)"),
    "bad_reason": ("原因最多200个字符，且不能含控制字符", "The reason: at most 200 characters, no control characters"),
    "voided": ("已作废设备 {uid} 自 {since} 起送达的 {count} 个事件（作废记录 {id}），已通知相关设备",
               ("Voided {count} event(s) device {uid} sent from {since} on (voiding {id}); the devices "
                "concerned are told")),
    "nothing_voided": ("设备 {uid} 自 {since} 起送达的事件中没有尚未作废的",
                       "Nothing device {uid} sent from {since} on is still in force"),
    "no_voidings": ("还没有作废记录", "Nothing voided yet"),
    "imported": ("已导入收费目录第{version}版：{rows}行", "Imported fee catalogue version {version}: {rows} rows"),
    "same_catalog": ("与第{version}版内容相同，未新建版本", "Same as version {version}; no new version"),
    "bad_catalog": ("收费目录文件有误，未导入任何内容", "Bad fee catalogue file; nothing was imported"),
    "not_found": ("找不到文件", "File not found"),
    "office_token": ("后台访问令牌（之前的令牌已失效）：", "Office token (the previous one no longer works):"),
    "office_hint": ("浏览器打开 http://中心地址:8400/office，用户名任意，密码为此令牌",
                    "Open http://CENTRAL:8400/office in a browser: any user name, this token as the password"),
    "no_devices": ("还没有注册的设备", "No devices enrolled yet"),
    "bad_role": ("设备角色只能是 kiosk 或 clerk", "The role must be kiosk or clerk"),
}


def t(key: str, lang: str = "zh", **values) -> str:
    zh, en = MESSAGES[key]
    text = zh if lang == "zh" else en
    return text.format(**values) if values else text
