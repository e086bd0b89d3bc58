"""Words of a ledger read from a spreadsheet (kiosk/domain/ledger.py): what is wrong with the file or a
row, and what to do about it (the public site's 预约送检 upload, kiosk/i18n/ledger_text.py)."""

MESSAGES: dict[str, tuple[str, str]] = {
    "ledger.where.row": ("第{line}行", "Row {line}"),
    "ledger.where.cell": ("第{line}行「{column}」", "Row {line}, {column}"),
    "ledger.where.file": ("文件", "The file"),
    "ledger.file.too_big": ("文件超过{max_kb} KB，请分成几个文件上传。",
                            "The file is over {max_kb} KB: split it and upload the parts one by one."),
    "ledger.file.empty": ("文件是空的。", "The file is empty."),
    "ledger.file.xls": ("这是旧版Excel（.xls）文件：请在Excel或WPS中「另存为」.xlsx或CSV后再上传。",
                        "This is an old Excel (.xls) file: save it as .xlsx or CSV in Excel or WPS, then upload that."),
    "ledger.file.unreadable": ("无法读取这个文件：请上传e-CQS导出的台账或本院的模板（.xlsx或.csv）。",
                               ("This file cannot be read: upload an e-CQS ledger export or the institute's template "
                               "(.xlsx or .csv).")),
    "ledger.file.encoding": ("CSV文件的编码无法识别：请另存为「CSV UTF-8」或GB18030编码。",
                             "The CSV file's encoding is not recognised: save it as \"CSV UTF-8\" or GB18030."),
    "ledger.file.xlsx_too_big": ("Excel文件解压后过大或结构异常：请只保留器具清单，或另存为CSV后上传。",
                                 ("The Excel file unpacks to too much or is malformed: keep only the instrument "
                                 "list, or save it as CSV.")),
    "ledger.file.no_header": ("前{rows}行中找不到表头「器具名称」：请使用e-CQS导出的台账或本院的模板，不要删除表头。",
                              ("No header with 器具名称 (Instrument) in the first {rows} rows: use an e-CQS export "
                              "or the institute's template, with its header row.")),
    "ledger.file.no_rows": ("表头下面没有器具。", "There are no instruments under the header."),
    "ledger.file.too_many_rows": ("从这一行起未读取：每个文件最多{max}行器具，请把其余的放在另一个文件里上传。",
                                  ("Not read from this row on: at most {max} instruments a file; upload the rest "
                                  "in another file.")),
    "ledger.file.column_twice": ("这一列出现了两次，只读取了第一列。",
                                 "This column appears twice: only the first was read."),
    "ledger.name.unknown": (("收费标准中没有「{name}」：请按收费标准的名称填写，或在「收费标准号」列填写编号；"
                             "也可以在上方逐台添加。"),
                            ("“{name}” is not in the fee schedule: write the name the fee schedule uses, or its "
                            "number in a 收费标准号 (Fee no.) column; or add it above by hand.")),
    "ledger.name.ambiguous": ("「{name}」对应收费标准中的几种器具：{choices}。请写出其中一种的名称。",
                              ("“{name}” could be several instruments of the fee schedule: {choices}. Write the "
                              "name of one of them.")),
    "ledger.band.ambiguous": (("{name}在收费标准中分几档收费：{choices}。请填写与收费标准一致的准确度等级和测量范围，"
                              "或在「收费标准号」列填写编号。"),
                              ("{name} is priced in several bands: {choices}. Write its accuracy class and range as "
                              "the fee schedule does, or its number in a 收费标准号 (Fee no.) column.")),
    "ledger.service.none": ("{name}在收费标准中没有「{service}」项目（有：{services}）：请在「服务类别」列填写。",
                            ("{name} has no {service} in the fee schedule (it has: {services}): write the service "
                            "in a 服务类别 (Service) column.")),
    "ledger.service.unknown": ("服务类别「{text}」无法识别：请填写检定、校准、检测或修理。",
                               ("Service “{text}” is not known: write 检定 (verification), 校准 (calibration), "
                               "检测 (testing) or 修理 (repair).")),
    "ledger.use.unknown": ("用途「{text}」无法识别：请填写贸易结算、安全防护、医疗卫生、环境监测或其他。",
                           ("Use “{text}” is not known: write 贸易结算 (trade), 安全防护 (safety), 医疗卫生 "
                           "(medical), 环境监测 (environment) or 其他 (other).")),
    "ledger.code.unknown": ("收费标准中没有编号「{code}」：请核对收费标准号。",
                            "There is no fee-standard number “{code}”: check it against the fee schedule."),
    "ledger.code.service": ("收费标准号{code}是「{service}」项目，与服务类别不一致。",
                            "Fee no. {code} is for {service}, not the service written."),
}
