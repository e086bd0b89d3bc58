"""`kiosk serve`: the same app in a browser, through textual-serve.

A touch panel running a browser in kiosk mode gets native touch and its input method. Each
browser connection (a websocket) starts its own `python -m kiosk ... run` (or `clerk`) as a
subprocess of this Python, with this configuration, database and data directory; that process
draws through Textual's web driver and the page's xterm.js shows it.

The app has no authentication of its own on this port: anyone who can reach it gets a
kiosk (or a clerk desk's lock screen). So it binds to the loopback interface unless told
otherwise, and binding anywhere else needs `--allow-remote` and says why that is risky.

textual-serve (and aiohttp) are imported here only, and only when `kiosk serve` runs.
"""

from __future__ import annotations

import ipaddress
import os
import shlex
import socket
import sys
from pathlib import Path
from urllib.parse import urlsplit

from kiosk.settings.config import Config

EXIT_ERROR = 1
TEMPLATE = Path(__file__).parent.parent / "data" / "serve_index.html"
FONTS = Path(__file__).parent.parent.parent / "printer" / "fonts"  # the bundled CJK font, served to the page

# zh first, en second, as everywhere; these few lines are only ever seen at a terminal.
MESSAGES = {
    "not_installed": ("未安装 textual-serve：pip install 'metrology-kiosk[serve]'",
                      "textual-serve is not installed: pip install 'metrology-kiosk[serve]'"),
    "not_loopback": (("{host} 不是本机回环地址：此端口没有任何身份验证，任何能访问它的人都能使用终端。"
                      "确需如此，请加 --allow-remote"),
                     ("{host} is not a loopback address: this port has no authentication, anyone who can "
                      "reach it gets the kiosk. Add --allow-remote if that is really meant")),
    "remote_warning": ("警告：在 {host}:{port} 上对外提供服务，没有身份验证；请用防火墙只允许触摸屏访问",
                       ("WARNING: serving on {host}:{port} without authentication; let only the touch panel "
                        "reach it (firewall)")),
    "bad_host": ("无法解析地址 {host}：{error}", "cannot resolve {host}: {error}"),
    "bad_port": ("端口必须在 1–65535 之间，不是 {port}", "the port must be 1–65535, not {port}"),
    "bind_failed": ("无法在 {host}:{port} 上提供服务：{error}", "cannot serve on {host}:{port}: {error}"),
    "serving": ("仪器送检自助终端：在浏览器中打开 {url}", "Instrument reception kiosk: open {url} in a browser"),
}


def say(key: str, lang: str, **values) -> str:
    zh, en = MESSAGES[key]
    return (zh if lang == "zh" else en).format(**values)


def is_loopback(host: str) -> bool:
    """True when every address the host name stands for is a loopback address."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    # An IPv4 or IPv6 address is text ("::1%lo" with its zone); typeshed also allows the
    # (int, bytes) address of other families, which TCP never answers with.
    addresses = [info[4][0] for info in infos]
    return bool(addresses) and all(isinstance(address, str) and ipaddress.ip_address(address.split("%")[0]).is_loopback
                                   for address in addresses)


def app_command(config: Config, *, desk: bool, pad: str | None = None) -> str:
    """The shell command each browser connection runs: this Python, this configuration and
    database (absolute: the server may be started from anywhere), the kiosk or the desk, or
    window `pad`'s rating pad (a tablet facing the customer, on the desk's machine and database)."""
    argv = [sys.executable, "-m", "kiosk"]
    if config.source is not None:
        argv += ["--config", str(Path(config.source).resolve())]
    argv += ["--db", str(Path(config.database).resolve())]
    argv += ["pad", "--counter", pad] if pad is not None else ["clerk" if desk else "run"]
    return shlex.join(argv)


def url_of(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def make_server(config: Config, *, host: str, port: int, desk: bool, title: str, pad: str | None = None):
    """A textual-serve Server for the kiosk: its own page (no web font fetched from the
    internet: the kiosk works offline; a bilingual 'session ended')."""
    import aiohttp_jinja2
    from textual_serve.server import Server

    class KioskServer(Server):
        def initialize_logging(self) -> None:
            super().initialize_logging()
            # aiohttp's access log: one line per request is noise at a kiosk's terminal.
            import logging

            logging.getLogger("aiohttp.access").setLevel(logging.WARNING)

        async def _make_app(self):
            app = await super()._make_app()
            app.router.add_static("/kiosk-fonts", FONTS, name="kiosk-fonts")
            return app

        @aiohttp_jinja2.template(TEMPLATE.name)
        async def handle_index(self, request):
            # Addresses as the browser reached this server (textual-serve's own are built from
            # the bind address, which is wrong for 0.0.0.0 or a name the panel knows us by).
            router, scheme = request.app.router, "wss" if request.scheme == "https" else "ws"
            font = next(FONTS.glob("*.otf"))
            try:
                font_size = int(request.query.get("fontsize", "16"))
            except ValueError:
                font_size = 16
            return {
                "font_size": font_size,
                "app_websocket_url": f"{scheme}://{request.host}{router['websocket'].url_for()}",
                "config": {"static": {"url": str(router["static"].url_for(filename="/")).rstrip("/") + "/"}},
                "application": {"name": self.title},
                "cjk_font_url": str(router["kiosk-fonts"].url_for(filename=font.name)),
            }

        async def handle_websocket(self, request):
            # Only the page served here may start an app: another site open in a browser on
            # this machine must not drive the kiosk through ws://127.0.0.1 (CSWSH).
            origin = request.headers.get("Origin")
            if origin is not None and urlsplit(origin).netloc != request.host:
                from aiohttp import web

                raise web.HTTPForbidden(text="cross-origin websocket refused")
            return await super().handle_websocket(request)

        async def on_startup(self, app) -> None:
            print(say("serving", config.language, url=self.public_url), flush=True)

    return KioskServer(app_command(config, desk=desk, pad=pad), host=host, port=port, title=title,
                       public_url=url_of(host, port), templates_path=TEMPLATE.parent)


def serve(args, config: Config) -> int:
    lang = config.language
    host, port = args.host, args.port
    if not 0 < port < 65536:
        print(say("bad_port", lang, port=port), file=sys.stderr)
        return EXIT_ERROR
    try:
        loopback = is_loopback(host)
    except OSError as e:
        print(say("bad_host", lang, host=host, error=e), file=sys.stderr)
        return EXIT_ERROR
    if not loopback:
        if not args.allow_remote:
            print(say("not_loopback", lang, host=host), file=sys.stderr)
            return EXIT_ERROR
        print(say("remote_warning", lang, host=host, port=port), file=sys.stderr, flush=True)
    try:
        import textual_serve  # noqa: F401
    except ImportError:
        print(say("not_installed", lang), file=sys.stderr)
        return EXIT_ERROR

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:  # before saying where to point the browser: is the port free, is the address ours?
        socket.create_server((host.strip("[]"), port), family=family).close()
    except OSError as e:
        print(say("bind_failed", lang, host=host, port=port, error=e), file=sys.stderr)
        return EXIT_ERROR

    # Every app process finds the same data directory (receipts, keys, logs) as this one.
    os.environ["KIOSK_DATA_DIR"] = str(Path(config.data_dir).resolve())
    # The web driver gives the app its size; values inherited from a shell would not fit the page.
    for name in ("LINES", "TEXTUAL_ALLOW_SIGNALS"):
        os.environ.pop(name, None)
    from kiosk.i18n import t

    pad = getattr(args, "pad", None)
    title = t("pad.title" if pad is not None else "desk.title" if args.desk else "app.title", lang)
    server = make_server(config, host=host, port=port, desk=args.desk, title=title, pad=pad)
    try:
        server.serve()
    except OSError as e:  # taken meanwhile
        print(say("bind_failed", lang, host=host, port=port, error=e), file=sys.stderr)
        return EXIT_ERROR
    return 0
