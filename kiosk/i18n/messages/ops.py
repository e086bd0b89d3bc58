"""The commands and the machine: `kiosk` command errors, device keys, database problems, backup and
restore, `kiosk doctor`, clerk accounts."""

MESSAGES: dict[str, tuple[str, str]] = {
    # `kiosk` commands
    "cli.bad_request": ("估价请求有误", "Bad estimate request"),
    "cli.bad_json": ("不是有效的 JSON", "Not valid JSON"),
    "cli.bad_config": ("配置文件有误", "Bad configuration file"),
    "cli.bad_catalog": ("收费目录文件有误，未导入任何内容", "Bad fee catalogue file; nothing was imported"),
    "cli.no_ticket": ("没有这个受理号", "No such ticket"),
    "cli.enrolled": ("已加入中心系统 {url}，身份：{role}（设备 {device}）；凭据有效至{expires}，同步时自动续期",
                     ("Enrolled with {url} as {role} (device {device}); the token is valid until {expires} and "
                      "renewed while the device syncs")),
    "cli.enroll_failed": ("未能加入中心系统", "Enrolment failed"),
    "cli.not_enrolled": ("本机尚未加入中心系统，请先运行 kiosk enroll URL CODE",
                         "This device is not enrolled; run kiosk enroll URL CODE first"),
    "cli.sync_failed": ("同步未完成，稍后会重试", "Sync did not finish; it will be retried"),
    "cli.parked.refused": ("中心系统拒收的本机记录（{count}条）：编号、类型、原因",
                           "Events the central system refused ({count}): uid, kind, reason"),
    "cli.parked.aside": ("本机未能应用、已搁置的变更（{count}条）：序号、类型、原因、时间",
                         "Changes this device could not apply, set aside ({count}): seq, kind, reason, when"),
    # `kiosk reprint`: one receipt per request (kiosk/printing/spool.py request_reprint)
    "cli.document.ticket": ("受理单", "ticket"),
    "cli.document.voucher": ("取件凭证", "pickup voucher"),
    "cli.document.pickup_slip": ("取件单", "pickup slip"),
    "cli.reprint.replaced": ("已打印{document} {number}：用的是还没打印出来的打印任务 {job}，没有另加一份",
                             ("Printed {document} {number}: print job {job}, which had not printed yet, was tried "
                              "again now; no extra copy was queued")),
    "cli.reprint.copy": ("已补打{document} {number}，纸上标有【补打】（打印任务 {job}）",
                         "Printed a copy of {document} {number}, marked COPY (print job {job})"),
    "cli.reprint.printing": ("{document} {number} 正在由自助机打印（打印任务 {job}），没有另加一份",
                             ("The {document} {number} is printing at the kiosk now (print job {job}); no extra copy "
                              "was queued")),
    "cli.reprint_failed.replaced": (("{document} {number} 没有打印出来（{reason}）；"
                                     "还没打印出来的打印任务 {job} 已保留，没有另加一份，自助机会再试"),
                                    ("The {document} {number} did not print ({reason}); print job {job}, not printed "
                                     "yet, is kept (no extra copy was queued) and the kiosk will retry")),
    "cli.reprint_failed.copy": (("{document} {number} 的补打没有打印出来（{reason}）；"
                                 "补打任务 {job} 已保留，自助机会再试"),
                                ("The copy of {document} {number} did not print ({reason}); print job {job} is kept "
                                 "and the kiosk will retry")),
    "cli.reprint_unconfirmed": (("{document} {number} 已送到打印机，但打印机没有确认打印出来"
                                 "（{reason}，打印任务 {job}）；如果没有出纸，再运行一次 kiosk reprint，"
                                 "会补打一份并标明【补打】"),
                                ("The {document} {number} went to the printer, but it did not confirm that it "
                                 "printed ({reason}; print job {job}). If no paper came out, run kiosk reprint again "
                                 "for a copy marked COPY")),
    "cli.never_printed": ("本机没有打印过这份单据，无从补打",
                          "This device never printed that paper: nothing to print again"),
    "cli.bad_registration": ("登记信息有误，未登记", "Bad registration; nothing was stored"),
    "cli.order.object": ("应为 JSON 对象", "must be a JSON object"),
    "cli.order.unknown": ("不认识的字段：{names}", "unknown field(s): {names}"),
    "cli.order.text": ("应为文字", "must be text"),
    "cli.order.whole": ("应为整数", "must be a whole number"),
    "cli.order.flag": ("应为 true 或 false", "must be true or false"),
    "cli.register_unconfirmed": (("已登记 {number}，但打印机没有确认受理单已打印出来（{reason}）；不会自动重打，"
                                  "如果没有出纸，请运行 kiosk reprint {number}"),
                                 ("Registered {number}, but the printer did not confirm its receipt printed "
                                  "({reason}); it is not retried by itself: if none came out, run kiosk reprint "
                                  "{number}")),
    "cli.register_unprinted": ("已登记 {number}，但受理单没有打印出来（{reason}）；打印任务已保留，自助机会再试",
                               ("Registered {number}, but its receipt did not print ({reason}); the job is kept and "
                                "the kiosk will retry")),
    "cli.imported": ("已导入收费目录第{version}版：{rows}行", "Imported fee catalogue version {version}: {rows} rows"),
    "cli.untranslated": ("注意：{count}种器具没有英文名称，英文界面显示中文名称：{names}",
                         "Note: {count} instrument(s) have no English name; English shows the Chinese: {names}"),
    "cli.no_match": ("没有找到匹配的项目", "No matching item"),
    "cli.database": ("数据库无法使用", "The database cannot be used"),
    "cli.not_found": ("找不到文件", "File not found"),
    "keys.exported": ("已导出{count}个设备公钥到{file}", "Exported {count} device public key(s) to {file}"),
    "keys.imported": ("已导入{count}个新的设备公钥", "Imported {count} new device public key(s)"),
    "keys.bad_file": ("公钥文件有误，未导入任何内容", "Bad public key file; nothing was imported"),
    "keys.unusable": ("本机签名密钥无法使用", "This device's signing key cannot be used"),
    # doctor, backup (kiosk/ops/doctor.py, db/backup.py, `kiosk doctor|backup|restore`, the out-of-service screen)
    "dbproblem.full": ("磁盘已满，数据库写不进去。已登记的受理单不会丢失。请清理磁盘空间",
                       ("The disk is full: the database cannot be written. Tickets already registered are safe. Free "
                        "some disk space")),
    "dbproblem.readonly": ("数据库只读，写不进去。请检查文件权限，或磁盘是否以只读方式挂载",
                           ("The database is read-only. Check the file's permissions, or whether the disk is mounted "
                            "read-only")),
    "dbproblem.corrupt": ("数据库文件已损坏。请停止自助机，用 kiosk restore 从最近的备份恢复",
                          ("The database file is damaged. Stop the kiosk and restore the newest backup with kiosk "
                           "restore")),
    "dbproblem.locked": ("数据库正被另一个程序占用，请稍后再试",
                         "Another program holds the database: try again shortly"),
    "dbproblem.cantopen": ("打不开数据库文件，请检查路径和权限",
                           "The database file cannot be opened: check its path and permissions"),
    "dbproblem.io": ("读写数据库时磁盘出错，请检查磁盘",
                     "A disk error while reading or writing the database: check the disk"),
    "dbproblem.upgrade_backup": ("数据库需要升级，但升级前的备份没有做成（{reason}），因此没有升级，数据库原样未动",
                                 ("The database needs an upgrade, but the backup made first failed ({reason}), so it "
                                  "was not upgraded and is unchanged")),
    "dbproblem.other": ("数据库无法使用", "The database cannot be used"),
    "backup.why.missing": ("找不到数据库文件 {file}", "There is no database file {file}"),
    "backup.why.in_use": ("数据库正在使用中（自助机、收发室或其他 kiosk 命令在运行），请先停止它们",
                          ("The database is in use (the kiosk, the desk or another kiosk command is running): stop "
                           "them first")),
    "backup.why.not_kiosk": ("{file} 不是自助机的数据库", "{file} is not a kiosk database"),
    "backup.why.damaged_file": ("{file} 已损坏，请换一份备份", "{file} is damaged: choose another backup"),
    "backup.why.too_new": ("{file} 是第{found}版数据库，本软件只认识到第{latest}版",
                           "{file} has schema version {found}; this software knows up to {latest}"),
    "backup.why.low_space": ("{dir} 空间不够：剩余{free}，需要{need}",
                             "Not enough space in {dir}: {free} free, {need} needed"),
    "backup.done": ("已备份到 {file}（{size}）", "Backed up to {file} ({size})"),
    "backup.rotated": ("已删除{count}份旧备份", "Removed {count} old backups"),
    "backup.failed": ("备份没有做成，旧备份原样保留", "Backup failed; older backups are untouched"),
    "restore.done": ("已从 {file} 恢复（第{version}版数据库）；原来的数据库保存为 {kept}",
                     "Restored from {file} (schema version {version}); the previous database is kept as {kept}"),
    "restore.done_new": ("已从 {file} 恢复（第{version}版数据库）", "Restored from {file} (schema version {version})"),
    "restore.numbers": ("今天的受理号从 {number} 接着编：备份之后本机已发出的号码不会再发",
                        "Today's ticket numbers go on from {number}: none issued after the backup is issued again"),
    "restore.failed": ("没有恢复，数据库原样未动", "Not restored; the database is unchanged"),
    "doctor.config": ("配置", "configuration"),
    "doctor.database": ("数据库", "database"),
    "doctor.integrity": ("数据完整性", "integrity"),
    "doctor.schema": ("数据库版本", "schema"),
    "doctor.printer": ("打印机", "printer"),
    "doctor.fonts": ("凭条字体", "receipt fonts"),
    "doctor.central": ("中心系统", "central system"),
    "doctor.clock": ("时钟", "clock"),
    "doctor.disk": ("磁盘空间", "disk space"),
    "doctor.pin": ("维护密码", "maintenance PIN"),
    "doctor.backups": ("备份", "backups"),
    "doctor.skipped": ("未检查：{why}", "not checked: {why}"),
    "doctor.no_database": ("数据库打不开", "the database cannot be read"),
    "doctor.not_created": ("还没有数据库", "no database yet"),
    "doctor.no_config": ("配置有误", "the configuration is invalid"),
    "doctor.config.file": ("正常（{file}）", "ok ({file})"),
    "doctor.config.defaults": ("正常（没有配置文件，使用内置默认值）", "ok (no configuration file: built-in defaults)"),
    "doctor.config.bad": ("有误：{error}。请修改配置文件", "invalid: {error}. Fix the configuration file"),
    "doctor.db.ok": ("正常，{tickets}张受理单（{file}）", "ok, {tickets} tickets ({file})"),
    "doctor.db.missing": ("还没有数据库文件 {file}，首次启动时创建",
                          "no database file yet at {file}: it is made at the first start"),
    "doctor.db.problem": ("{problem}（{file}）", "{problem} ({file})"),
    "doctor.integrity.ok": ("正常", "ok"),
    "doctor.integrity.bad": ("数据库已损坏（{detail}）。请停止自助机，用 kiosk restore 从最近的备份恢复",
                             ("the database is damaged ({detail}). Stop the kiosk and restore the newest backup with "
                              "kiosk restore")),
    "doctor.schema.ok": ("第{found}版，是最新的", "version {found}, current"),
    "doctor.schema.old": ("第{found}版，需要升级到第{latest}版：下次启动时先备份，再自动升级",
                          "version {found}, needs an upgrade to {latest}: done at the next start, after a backup"),
    "doctor.schema.new": ("第{found}版，比本软件认识的第{latest}版还新：请安装新版本软件",
                          "version {found} is newer than this software knows ({latest}): install the newer software"),
    "doctor.printer.ok": ("正常（{printer}）", "ok ({printer})"),
    "doctor.printer.no_status": ("连得上，但这台打印机不报告状态（{printer}）",
                                 "reachable; it does not report its status ({printer})"),
    "doctor.printer.paper_low": ("纸卷快用完了，请备好新纸卷（{printer}）",
                                 "the paper roll is nearly used up: have a new one ready ({printer})"),
    "doctor.printer.preview": ("预览打印机，目录可写（{dir}）", "preview printer, its folder is writable ({dir})"),
    "doctor.printer.unchecked": ("交给打印队列，无法查询状态（{printer}）",
                                 "handed to a print queue; its status cannot be asked ({printer})"),
    "doctor.printer.failed": ("{reason}（{printer}）：{detail}", "{reason} ({printer}): {detail}"),
    # receipt fonts: raster profiles and the preview PNG (kiosk/ops/doctor.py fonts_check, printer/fonts.py)
    "doctor.fonts.ok": ("{profiles}和预览图用 {fonts}", "{profiles} and the preview draw with {fonts}"),
    "doctor.fonts.gaps": ("{profiles}和预览图用 {fonts}；没有字体能画 {missing}，这些字印成带框的问号",
                          ("{profiles} and the preview draw with {fonts}; no font draws {missing}: printed as a "
                           "boxed ?")),
    "doctor.fonts.unreadable": (("{profiles}和预览图用 {fonts}；没有字体能画 {missing}，凭条没法看。"
                                 "请安装中文字体（如 fonts-noto-cjk），或在配置里设置 printer.font"),
                                ("{profiles} and the preview draw with {fonts}; no font draws {missing}, so receipts "
                                 "cannot be read. Install a Chinese font (e.g. fonts-noto-cjk) or set printer.font")),
    "doctor.fonts.bad": ("配置的凭条字体 {file} 不存在或不是字体文件，请改正配置里的 printer.font",
                         "the configured receipt font {file} is missing or not a font: fix printer.font"),
    "doctor.fonts.draws": ("{file}（{what}）", "{file} ({what})"),
    "doctor.fonts.sample.ascii": ("数字和英文字母", "digits and Latin letters"),
    "doctor.fonts.sample.gb2312": ("常用汉字", "common hanzi"),
    "doctor.fonts.sample.gbk": ("GBK汉字{chars}", "GBK hanzi like {chars}"),
    "doctor.fonts.sample.gb18030": ("GB18030四字节字{chars}", "GB18030 four-byte characters like {chars}"),
    "doctor.fonts.sample.money": ("货币符号{chars}", "currency signs {chars}"),
    "selftest.title": ("打印机自检页", "Printer self-test page"),
    "selftest.profile": ("配置的打印机档位", "Configured profile"),
    "selftest.paper": ("纸宽", "Paper width"),
    "selftest.paper_width": ("{mm}毫米可打印，{dots}点，{columns}列",
                             "{mm} mm printable, {dots} dots, {columns} columns"),
    "selftest.date": ("日期", "Date"),
    "selftest.how": (("每个说明下面一行是打印机用自己的字库打印的，应当和说明里的一样；"
                      "说明哪台打印机都印得出（中文画成图片）。按哪几行印坏了来选档位。"),
                     ("Under each label, one line printed in the printer's own font: it should look as the label "
                      "says. The labels print on every printer (Chinese drawn as pictures). Choose the profile by "
                      "the lines that come out wrong.")),
    "selftest.sample.ascii": (("1、英文和数字，应为：{chars}。如果这一行不对，这不是ESC/POS凭条打印机"
                               "（标签打印机用TSPL或ZPL，请配置为标签打印机）"),
                              ("1. Latin letters and digits, should read: {chars}. If this line is wrong, this is "
                               "not an ESC/POS receipt printer (a label printer speaks TSPL or ZPL: configure it as "
                               "the label printer)")),
    "selftest.sample.gb2312": (("2、常用汉字（GB2312），应为：{chars}。如果这一行是方框或乱码，打印机没有中文字库："
                                "请用档位 {raster}"),
                               ("2. Common hanzi (GB2312), should read: {chars}. If this line shows boxes or "
                                "garbage, your printer has no Chinese font: use profile {raster}")),
    "selftest.sample.gbk": (("3、GBK汉字，应为：{chars}。如果是空白、方框或问号，字库只有GB2312："
                             "名称里的生僻字印不出来，请用档位 {raster}，或请单位名称不用生僻字"),
                            ("3. A GBK hanzi, should read: {chars}. Blank, a box or ? means a GB2312-only font: rare "
                             "characters in names will not print; use profile {raster} if they matter")),
    "selftest.sample.gb18030": (("4、GB18030四字节字，应为：{chars}。如果是空白、方框或乱码，字库不是完整的GB18030，"
                                 "同上"),
                                ("4. A GB18030 four-byte character, should read: {chars}. Blank, a box or garbage "
                                 "means the font is not full GB18030: as for line 3")),
    "selftest.sample.money": (("5、货币符号，应为：{chars}。凭条上的金额用￥或元；其余的印不出来无妨"),
                              ("5. Currency signs, should read: {chars}. Receipts write amounts with ￥ or 元; the "
                               "others may fail without harm")),
    "selftest.native_qr": (("6、打印机自己的二维码命令（GS ( k）：如果下面没有出现方形二维码，打印机没有二维码命令："
                            "请用档位 {raster}"),
                           ("6. The printer's own QR command (GS ( k): if no square code appears here, your printer "
                            "has no QR command: use profile {raster}")),
    "selftest.image_qr": ("7、同一个二维码，以图片打印：每台打印机都应印得出，两个都应扫出：{data}",
                          "7. The same code as a picture, which every printer prints; both should scan as: {data}"),
    "selftest.verdict": (("第1到6行都对：用档位 {text}。第2或6行不对：用档位 {raster}。第1行不对：这台不是凭条打印机"),
                         ("1 to 6 right: use profile {text}. 2 or 6 wrong: use profile {raster}. 1 wrong: not a "
                          "receipt printer")),
    "selftest.printed": ("自检页已打印（{printer}）", "The self-test page printed ({printer})"),
    "selftest.unconfirmed": (("自检页已送到打印机，但打印机没有确认打印出来（{reason}）：请看纸上有没有（{printer}）"),
                             ("The self-test page went to the printer, but it did not confirm that it printed "
                              "({reason}): look at the paper ({printer})")),
    "selftest.failed": ("自检页没有打印出来：{reason}（{printer}：{detail}）",
                        "The self-test page did not print: {reason} ({printer}: {detail})"),
    "selftest.no_config": ("没有读到配置，不知道用哪台打印机：{error}",
                           "The configuration could not be read, so there is no printer to print on: {error}"),
    "doctor.central.standalone": ("正常：单机运行，没有加入中心系统",
                                  "ok: standalone, not enrolled with a central system"),
    "doctor.central.ok": ("正常，已加入 {url}，待上传{waiting}条", "ok, enrolled with {url}; {waiting} events to send"),
    "doctor.central.ok_until": ("正常，已加入 {url}，待上传{waiting}条；凭据有效至{expires}（同步时自动续期）",
                                ("ok, enrolled with {url}; {waiting} events to send; the token is valid until "
                                 "{expires} (renewed while syncing)")),
    "doctor.central.offline": ("连不上中心系统 {url}：受理单照常登记，恢复后自动上传（待上传{waiting}条）",
                               ("the central system {url} is not reachable: tickets are still registered and sent "
                                "when it is back ({waiting} waiting)")),
    "doctor.central.revoked": ("中心系统 {url} 不认本机的凭据（已被撤销？），请重新运行 kiosk enroll",
                               ("the central system {url} refuses this device's token (revoked?): enrol again with "
                                "kiosk enroll")),
    "doctor.central.aside": ("本机有{count}条变更未能应用、已搁置，请运行 kiosk sync --parked 查看",
                             "{count} changes could not be applied here and were set aside: see kiosk sync --parked"),
    "doctor.central.and": ("{first}；{then}", "{first}; {then}"),
    "doctor.central.expired": ("本机在中心系统 {url} 的凭据已过期（太久没有同步），请重新运行 kiosk enroll",
                               ("this device's token at the central system {url} has expired (it did not sync for "
                                "too long): enrol again with kiosk enroll")),
    "doctor.central.parked": ("中心系统 {url} 拒收了{parked}条记录，请运行 kiosk sync --parked 查看",
                              "the central system {url} refused {parked} events: see kiosk sync --parked"),
    "doctor.clock.ok": ("正常（{now}）", "ok ({now})"),
    "doctor.clock.year": ("系统时间 {now} 不对，请校准时钟", "the system time {now} cannot be right: set the clock"),
    "doctor.clock.behind": ("系统时间 {now} 早于数据库里最新的记录（{newest}），请校准时钟",
                            ("the system time {now} is before the newest record in the database ({newest}): set the "
                             "clock")),
    "doctor.disk.ok": ("剩余{free}（{dir}）", "{free} free ({dir})"),
    "doctor.disk.low": ("只剩{free}（{dir}），请清理磁盘空间", "only {free} free ({dir}): free some disk space"),
    "doctor.backups.ok": ("最新一份 {when}（{age}前），共{count}份", "newest {when} ({age} ago), {count} kept"),
    "doctor.backups.none": ("还没有备份（{dir}）：请运行 kiosk backup，并启用每日备份定时器",
                            "no backup yet in {dir}: run kiosk backup and enable the daily timer"),
    "doctor.backups.old": ("最新一份已是 {when}（{age}前），请检查每日备份定时器",
                           "the newest is from {when} ({age} ago): check the daily backup timer"),
    "doctor.age.hours": ("{n}小时", "{n} h"),
    "doctor.age.days": ("{n}天", "{n} days"),
    "clerk.added": ("已添加工作人员{username}（{name}）", "Added clerk {username} ({name})"),
    "clerk.removed": ("已删除工作人员{username}", "Removed clerk {username}"),
    "clerk.pin_prompt": ("请输入密码（4到12位数字）：", "PIN (4 to 12 digits): "),
    "clerk.pin_again": ("请再输入一次：", "The PIN again: "),
    "clerk.pin_mismatch": ("两次输入的密码不一致", "The two PINs differ"),
    "clerk.none": ("还没有工作人员账号", "No clerk accounts yet"),
    "clerk.error": ("工作人员账号", "Clerk account"),
    "clerk.locked_until": ("锁定到{time}", "locked until {time}"),
}
