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
    "institute_loaded": ("已发布机构信息第{version}版（公众网站与各终端）",
                         "Published institute file version {version} (public site and every device)"),
    "institute_same": ("机构信息与第{version}版相同，未发布新版本", ("The same as institute file version {version}: "
                                                                 "nothing new published")),
    "institute_none": ("中心尚未载入机构信息：公众网站显示终端自带的文件", ("No institute file loaded at central: the "
                                                                       "public site shows the kiosk's shipped one")),
    "institute_version": ("机构信息第{version}版：", "Institute file version {version}:"),
    "bad_institute": ("机构信息文件有误，未发布", "Bad institute file; nothing was published"),
    "bad_catalog": ("收费目录文件有误，未导入任何内容", "Bad fee catalogue file; nothing was imported"),
    "not_found": ("找不到文件", "File not found"),
    "office_token": ("后台访问令牌（之前的令牌已失效）：", "Office token (the previous one no longer works):"),
    "office_hint": (("仅供脚本读取统计数据（与审计员相同，不含个人信息）：Authorization: Bearer 令牌。"
                     "人员请用 kiosk central add-user 创建的账号登录 http://中心地址:8400/office"),
                    ("For scripts reading figures only (an auditor's reach, no personal data): Authorization: Bearer "
                     "TOKEN. People sign in at http://CENTRAL:8400/office with an account from "
                     "kiosk central add-user")),
    "password_prompt": ("{name} 的密码（至少{min}个字符）：", "Password for {name} (at least {min} characters): "),
    "password_again": ("再输入一次：", "Once more: "),
    "password_mismatch": ("两次输入的密码不一致", "The two passwords differ"),
    "user_added": ("已创建后台用户 {name}（{role}），可在 /office/login 登录",
                   "Added office user {name} ({role}); they sign in at /office/login"),
    "password_set": ("已为 {name} 设置新密码，其登录会话已结束", "New password set for {name}; their sessions ended"),
    "user_disabled": ("已停用后台用户 {name}，其登录会话已结束", "Disabled office user {name}; their sessions ended"),
    "no_users": ("还没有后台用户：kiosk central add-user 用户名 创建第一位主任",
                 "No office users yet: kiosk central add-user NAME makes the first director"),
    "role_needed": ("已有主任，请用 --role director|clerk|auditor 指定角色",
                    "A director exists already: give --role director|clerk|auditor"),
    "bad_user_role": ("角色只能是 {roles}", "The role must be one of {roles}"),
    "user_exists": ("已有后台用户 {name}", "There is an office user {name} already"),
    "no_user": ("没有后台用户 {name}", "No office user {name}"),
    "bad_user_name": ("用户名为1至64个字母、数字或 . @ - _", "A user name is 1 to 64 letters, digits or . @ - _"),
    "bad_full_name": ("姓名最多{max}个字符，且不能含控制字符",
                      "The full name: at most {max} characters, no control characters"),
    "weak_password": ("密码至少{min}个字符", "The password must have at least {min} characters"),
    "no_devices": ("还没有注册的设备", "No devices enrolled yet"),
    "bad_role": ("设备角色只能是 kiosk 或 clerk", "The role must be kiosk or clerk"),
    "bad_years": ("保存年限至少为1年（不是 {years}）", "The retention period is at least 1 year (not {years})"),
    "retention_done": (("已删除 {tickets} 张单据的个人信息（{cutoff} 之前取件，或未取件且此后无记录；"
                        "保存期 {years} 年），{ratings} 条评价的电话和留言，{closes} 条回访记录；"
                        "不再提示 {names} 个单位名称"),
                       ("Erased the personal data of {tickets} ticket(s) (picked up before {cutoff}, or never picked "
                        "up and untouched since; kept {years} years), the phones and comments of {ratings} "
                        "rating(s), the notes of {closes} follow-up(s); {names} organisation name(s) no longer "
                        "offered")),
    "retention_dry": (("试运行，未做任何更改：将删除 {tickets} 张单据的个人信息（{cutoff} 之前；保存期 {years} 年），"
                       "{ratings} 条评价，{closes} 条回访记录，{names} 个单位名称"),
                      ("Dry run, nothing changed: would erase the personal data of {tickets} ticket(s) (before "
                       "{cutoff}; kept {years} years), {ratings} rating(s), {closes} follow-up(s), "
                       "{names} organisation name(s)")),
    "retention_run": ("{at}  截止 {cutoff}：单据 {tickets}，评价 {ratings}，回访 {closes}，单位名称 {names}",
                      ("{at}  before {cutoff}: tickets {tickets}, ratings {ratings}, follow-ups {closes}, "
                       "names {names}")),
    "no_retention_runs": ("还没有运行过个人信息清理", "Retention has not run yet"),
    "read_models_built": ("已从事件重建后台数据：单据 {tickets}，评价 {ratings}",
                          ("The office's read models were made again from the events: {tickets} tickets, "
                           "{ratings} ratings")),
    "notices_counts": (("通知：待发送 {queued}，失败待重试 {failed}，发送中 {sending}，"
                        "已发送 {sent}，已搁置 {parked}，不再发送 {dropped}"),
                       ("Notices: queued {queued}, failed (will retry) {failed}, sending {sending}, sent {sent}, "
                        "parked {parked}, dropped {dropped}")),
    "notices_sending": ("通知发送中（渠道：{channels}），每{poll}秒检查一次；Ctrl-C 停止",
                        "Sending notices (channels: {channels}), looking every {poll} s; Ctrl-C stops"),
    "notices_no_channel": ("没有配置通知渠道（CENTRAL_NOTICES_FILE 的 [email] 或 [sms]），通知会一直排队",
                           ("No notice channel is configured ([email] or [sms] in CENTRAL_NOTICES_FILE): notices "
                            "stay queued")),
    "notices_pass": (("本轮：发送 {sent}，重试 {retried}，搁置 {parked}，"
                      "不再发送 {dropped}，改期 {later}，无渠道 {waiting}"),
                     ("This pass: sent {sent}, retried {retried}, parked {parked}, dropped {dropped}, moved {later}, "
                      "no channel {waiting}")),
    "notices_retried": ("通知 {id} 已重新排队", "Notice {id} is queued again"),
    "notices_not_parked": ("没有已搁置的通知 {id}", "No parked notice {id}"),
    "notices_bad_settings": ("通知设置有误：{error}", "The notices' settings are wrong: {error}"),
    # The read models' backfill after an upgrade (central/backfill.py).
    "backfill_none": ("后台数据完整，无需生成", "The office's read models are whole: nothing to build"),
    "backfill_progress": (("后台数据生成中：单据 {tickets_done}/{tickets_total}，评价与回访事件 "
                           "{events_done}/{events_total}（约 {percent}%），已用 {seconds} 秒，约剩 {left} 秒"),
                          ("Building the office's read models: tickets {tickets_done} of {tickets_total}, rating "
                           "and follow-up events {events_done} of {events_total} (about {percent}%), {seconds} s "
                           "so far, about {left} s left")),
    "backfill_status": (("后台数据待生成：单据 {tickets_done}/{tickets_total}，评价与回访事件 "
                         "{events_done}/{events_total}（约 {percent}%）"),
                        ("The office's read models are being built: tickets {tickets_done} of {tickets_total}, "
                         "rating and follow-up events {events_done} of {events_total} (about {percent}%)")),
    "backfill_done": (("后台数据已生成：{chunks} 个批次，用时 {seconds} 秒（单个事务最长 {longest} 秒）；"
                       "后台页面恢复可用"),
                      ("The office's read models are built: {chunks} chunks in {seconds} s (the longest "
                       "transaction {longest} s); the office's pages are back")),
    "backfill_serving": (("中心升级后后台数据尚未生成完（约 {percent}%）：正在后台继续生成，终端照常同步；"
                          "完成前后台页面显示“正在生成”。可运行 kiosk central backfill 查看进度"),
                         ("The office's read models are not yet built since central's upgrade (about "
                          "{percent}%): building them in the background, the devices sync as usual; the office "
                          "says \"being built\" until done. `kiosk central backfill` shows the progress")),
    "office_building_title": ("后台数据生成中", "Being built"),
    "office_building": (("中心升级后，后台的清单和统计正在从已存事件重新生成：约完成 {percent}%（单据 {done}/"
                         "{total}）。完成前数据不完整，因此暂不显示，请稍后刷新本页。各终端同步不受影响。"),
                        ("After central's upgrade, the office's lists and figures are being built from the stored "
                         "events: about {percent}% done ({done} of {total} tickets). Incomplete until then, so "
                         "not shown: reload this page later. The devices' sync goes on as usual.")),
    "office_building_ratings": (("中心升级后，后台的清单和统计正在从已存评价重新汇总：约完成 {percent}%（评价 {done}/"
                                 "{total}）。完成前数据不完整，因此暂不显示，请稍后刷新本页。各终端同步不受影响。"),
                                ("After central's upgrade, the office's lists and figures are being built from the "
                                 "stored ratings: about {percent}% done ({done} of {total} ratings). Incomplete until "
                                 "then, so not shown: reload this page later. The devices' sync goes on as usual.")),
    "public_building": ("系统维护中，暂时无法查询进度，请稍后再试。",
                        "Progress look-up is unavailable during maintenance; please try again later."),
}


def t(key: str, lang: str = "zh", **values) -> str:
    zh, en = MESSAGES[key]
    text = zh if lang == "zh" else en
    return text.format(**values) if values else text
