"""Notices to customers who asked for them (central/notices/): the SMS and e-mail texts, and the kiosk's
opt-in (screens/customer.py). Every text names the institute: `{institute}` is its name from the
institute file, in the customer's language."""

MESSAGES: dict[str, tuple[str, str]] = {
    # What is sent. SMS: one text (a gateway with registered templates gets the same values as parameters).
    "notice.ready.subject": ("{institute}：受理单{number}的仪器可以取件了", "{institute}: ticket {number} is ready"),
    "notice.ready.text": ("【{institute}】您的受理单{number}的仪器已完成，可以取件了。请在{deadline}前取件。",
                          ("{institute}: the instruments of ticket {number} are ready. Please collect them by "
                           "{deadline}.")),
    "notice.pickup_ending.subject": ("{institute}：受理单{number}的取件期限快到了",
                                     "{institute}: the pickup period of ticket {number} ends soon"),
    "notice.pickup_ending.text": (("【{institute}】受理单{number}的仪器还在等您取件，"
                                   "取件期限到{deadline}为止，请尽快取件。"),
                                  ("{institute}: the instruments of ticket {number} are still waiting for you. The "
                                   "pickup period ends on {deadline}: please collect them soon.")),
    "notice.due_soon.subject": ("{institute}：强制检定计量器具{due_on}到期",
                                "{institute}: verification due on {due_on}"),
    "notice.due_soon.text": (("【{institute}】您在受理单{number}送检的{instrument}等{count}件强制检定计量器具，"
                              "检定有效期到{due_on}为止，请在到期前送检。"),
                             ("{institute}: {count} instrument(s) under compulsory verification ({instrument}), "
                              "verified under ticket {number}, fall due on {due_on}: please bring them in before "
                              "then.")),
    "notice.overdue.subject": ("{institute}：强制检定计量器具已超期", "{institute}: verification overdue"),
    "notice.overdue.text": (("【{institute}】您在受理单{number}送检的{instrument}等{count}件强制检定计量器具，"
                             "检定有效期已于{due_on}届满。超期未检的强制检定计量器具不得使用，请尽快送检。"),
                            ("{institute}: {count} instrument(s) under compulsory verification ({instrument}), "
                             "verified under ticket {number}, were due on {due_on}. An overdue instrument must not "
                             "be used: please bring it in for verification.")),
    "notice.footer": ("此邮件由系统发出，请勿回复。", "This message was sent automatically: please do not reply."),
    # The kiosk's opt-in, on the customer's page.
    "notice.optin": ("通知我（短信、邮件）", "Tell me (SMS, e-mail)"),
    "notice.optin.what": ("可取件、取件期限将到、强检器具到期时，短信发到{phone}，有邮箱也发邮件",
                          ("A text to {phone} (and an e-mail if given) when your instruments are ready, before the "
                           "pickup period ends, and when compulsory verification falls due")),
    "notice.optin.no_mobile": ("登记的电话不是手机，只能发邮件：请填写邮箱",
                               "The phone given is not a mobile: notices go by e-mail only, give an address"),
    "notice.optin.no_phone": ("要通知您，请填写手机号码或邮箱",
                              "To be told, give a mobile number or an e-mail address"),
    "notice.email": ("电子邮箱", "E-mail"),
    "notice.email_hint": ("可不填；填了也发邮件通知", "Optional: notices by e-mail too"),
    "notice.email.bad": ("电子邮箱格式不对", "This is not an e-mail address"),
}
