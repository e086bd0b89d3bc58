"""`kiosk catalog import|export|search`: the fee catalogue."""

from __future__ import annotations

import sys
from pathlib import Path

from kiosk.cli.common import EXIT_ERROR, CommandError, open_node, write_csv
from kiosk.i18n import t
from kiosk.settings.config import Config


def cmd_catalog_import(args, config: Config) -> int:
    from kiosk.domain.catalog import CatalogError, decode_csv_bytes, parse_csv, untranslated
    from kiosk.store.catalog import import_rows

    path = Path(args.file)
    lang = config.language
    try:
        text = decode_csv_bytes(path.read_bytes())
    except FileNotFoundError:
        raise CommandError("cli.not_found", str(path), lang) from None
    except ValueError as e:
        raise CommandError("cli.bad_catalog", f"{path}: {e}", lang) from None
    try:
        rows = parse_csv(text, str(path))  # all rows checked before anything is written
        open_node(config)
        version = import_rows(rows, path.name)
    except CatalogError as e:
        raise CommandError("cli.bad_catalog", "\n" + str(e), lang) from None
    print(t("cli.imported", lang, version=version, rows=len(rows)))
    if names := untranslated(rows):
        print(t("cli.untranslated", lang, count=len(names), names="、".join(names)))
    return 0


def cmd_catalog_export(args, config: Config) -> int:
    from kiosk.store.catalog import export_csv

    open_node(config)
    try:
        text = export_csv(args.version)
    except LookupError as e:
        raise CommandError("cli.bad_request", str(e), config.language) from None
    write_csv(text, args.output)
    return 0


def cmd_catalog_search(args, config: Config) -> int:
    from kiosk.domain.search import SearchIndex
    from kiosk.i18n import money, name_of, service_name, spec_of
    from kiosk.i18n.textwidth import pad
    from kiosk.store.catalog import load_catalog, search_keys_for

    lang = args.lang or config.language
    open_node(config)
    catalog = load_catalog()
    hits = SearchIndex(catalog.rows, search_keys_for(catalog.rows)).search(args.query, limit=args.limit)
    if not hits:
        print(t("cli.no_match", lang), file=sys.stderr)
        return EXIT_ERROR
    for row in hits:
        print(" ".join([pad(row.code, 12), pad(name_of(row, lang), 22), pad(spec_of(row, lang), 26),
                        pad(service_name(row.service, lang), 12), pad(money(row.price_fen, lang), 11, ">")]).rstrip())
    return 0


def register(sub) -> None:
    catalog = sub.add_parser("catalog", help="the fee catalogue").add_subparsers(dest="catalog_command",
                                                                                  required=True)
    p = catalog.add_parser("import", help="import a fee table (CSV) as a new catalogue version")
    p.add_argument("file")
    p.set_defaults(func=cmd_catalog_import)
    p = catalog.add_parser("export", help="write the catalogue as CSV")
    p.add_argument("-o", "--output", help="file (default: stdout)")
    p.add_argument("--version", type=int)
    p.set_defaults(func=cmd_catalog_export)
    p = catalog.add_parser("search", help="search the catalogue as the kiosk does")
    p.add_argument("query")
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--lang", choices=("zh", "en"))
    p.set_defaults(func=cmd_catalog_search)
