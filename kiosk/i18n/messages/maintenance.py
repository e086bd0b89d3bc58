"""The maintenance PIN: the prompt's answers and lock-out (screens/maintenance.py; its title, button
and plain "wrong" are in app.py), `kiosk maintenance-pin` and the doctor's PIN line."""

MESSAGES: dict[str, tuple[str, str]] = {
    # the prompt
    "maintenance.wrong_left": ("密码不对。再错{tries}次，将锁定一段时间",
                               "Wrong PIN. {tries} more wrong and it locks for a while"),
    "maintenance.locked": ("密码错误次数太多，已锁定。请{wait}后再试",
                           "Too many wrong PINs: locked. Try again in {wait}"),
    "maintenance.unlocked": ("可以再试了", "You may try again"),
    "maintenance.unrecorded": ("现在无法核对密码：数据库写不进去。请在系统里停止自助机（systemctl stop kiosk）",
                               ("The PIN cannot be checked now: the database cannot be written. Stop the kiosk from "
                                "the system (systemctl stop kiosk)")),
    "maintenance.wait_seconds": ("{seconds}秒", "{seconds} s"),
    "maintenance.wait_minutes": ("{minutes}分{seconds}秒", "{minutes} min {seconds} s"),
    # kiosk maintenance-pin
    "maintenance_pin.error": ("维护密码", "Maintenance PIN"),
    "maintenance_pin.set": ("维护密码已设置（加密保存在数据库里），锁定已解除",
                            "Maintenance PIN set (kept hashed in the database); any lock-out is cleared"),
    "maintenance_pin.no_terminal": ("没有终端可以输入密码：请加 --pin-stdin，从标准输入读取",
                                    "No terminal to ask for the PIN: add --pin-stdin to read it from stdin"),
    "maintenance_pin.status_set": ("已设置", "set"),
    "maintenance_pin.status_default": ("没有设置：默认的0000可以退出自助机，请运行 kiosk maintenance-pin set",
                                       "not set: the default 0000 leaves the kiosk; run kiosk maintenance-pin set"),
    "maintenance_pin.status_failed": ("连续错了{failed}次", "{failed} wrong in a row"),
    "maintenance_pin.status_locked": ("锁定到{time}", "locked until {time}"),
    # kiosk doctor
    "doctor.pin.set": ("已设置，加密保存在数据库里", "set, kept hashed in the database"),
    "doctor.pin.demo": ("没有设置，默认的0000有效（演示：没有配置文件）。正式使用前请运行 kiosk maintenance-pin set",
                        ("not set: the default 0000 applies (a demo: no configuration file). Before real use run "
                         "kiosk maintenance-pin set")),
    "doctor.pin.unset": ("没有设置，任何人用默认的0000就能退出自助机。请运行 kiosk maintenance-pin set",
                         "not set: anyone can leave the kiosk with the default 0000. Run kiosk maintenance-pin set"),
    "doctor.pin.in_config": ("配置文件里还有明文的 kiosk.maintenance_pin：请删掉这一行（{state}）",
                             "the configuration still holds kiosk.maintenance_pin in plain text: remove it ({state})"),
    "doctor.pin.config_unused": ("数据库里的密码有效，这一行不起作用",
                                 "the database's PIN applies; the line is unused"),
    "doctor.pin.config_pending": ("下次启动时转存到数据库并加密；也可以现在运行 kiosk maintenance-pin set",
                                  ("it is moved into the database, hashed, at the next start; or run kiosk "
                                   "maintenance-pin set now")),
    "doctor.pin.locked": ("已设置；连续错了{failed}次，锁定到{time}：有人在试密码？",
                          "set; {failed} wrong in a row, locked until {time}: is someone guessing?"),
}
