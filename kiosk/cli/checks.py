"""`kiosk checks`: certificates checked at the dispatch counters (issue 23), returned and why, by
lab field and week, with the error rate; from this node's database (a clerk desk holds its own
checks and those its site's other desks synced). A table, or CSV."""

from __future__ import annotations

from datetime import date

from kiosk.cli.common import CommandError, open_node, write_csv
from kiosk.i18n import t
from kiosk.settings.config import Config


def _day(text: str | None, lang: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise CommandError("checks.bad_day", text, lang) from None


def cmd_checks(args, config: Config) -> int:
    from kiosk.domain import certificate_check as rule
    from kiosk.i18n import field_name
    from kiosk.i18n.checks_text import reasons_text
    from kiosk.i18n.textwidth import pad
    from kiosk.store.certificate_checks import check_rows

    lang = args.lang or config.language
    since, until = _day(args.start, lang), _day(args.end, lang)
    if since and until and since > until:
        raise CommandError("checks.bad_day", f"{args.start} > {args.end}", lang)
    open_node(config)
    found = rule.figures(check_rows(since, until))
    if args.csv or args.output:
        write_csv(rule.to_csv(found), args.output)
        return 0
    if not found:
        print(t("check.figures.none", lang))
        return 0
    heads = [t(k, lang) for k in ("check.figures.week", "check.figures.field", "check.figures.checked",
                                  "check.figures.returned", "check.figures.rechecked", "check.figures.rate",
                                  "check.figures.why")]
    widths = (10, 22, 6, 6, 6, 7)
    print("  ".join([*(pad(h, w) for h, w in zip(heads, widths)), heads[-1]]))
    for f in found:
        field = field_name(f.field, lang) if f.field not in ("?", "*") else "—"
        cells = (f.week.isoformat(), field, str(f.checked), str(f.returned), str(f.rechecked),
                 f"{f.error_rate * 100:.1f}%")
        print("  ".join([*(pad(c, w, ">" if i > 1 else "<") for i, (c, w) in enumerate(zip(cells, widths))),
                         reasons_text(f.reasons, lang)]).rstrip())
    return 0


def register(sub) -> None:
    p = sub.add_parser("checks", help="证书核对: certificates checked at dispatch, returned and why, by lab field "
                                      "and week")
    p.add_argument("--from", dest="start", help="the first local day, YYYY-MM-DD (its week counts whole)")
    p.add_argument("--to", dest="end", help="the last local day, YYYY-MM-DD")
    p.add_argument("--csv", action="store_true", help="CSV: week, field, checked, returned, re-checked, error "
                                                      "rate (%%), and the times each point sent one back")
    p.add_argument("-o", "--output", help="write CSV to this file (UTF-8 with BOM, for Excel)")
    p.add_argument("--lang", choices=("zh", "en"))
    p.set_defaults(func=cmd_checks)
