"""The receipt at the kiosk: printed after the ticket is stored, and when the printer
fails the screen says so in plain words, keeps the QR, and offers to print again."""

import socket
import threading
from dataclasses import replace

from db.models import PrintJob, Ticket
from screens.ticket import TicketScreen

from .kiosk_pilot import make_app, register_one, screen_text, settle
from .printer_peers import ALL_OK, StatusAnswerer


async def _register(pilot) -> None:
    await register_one(pilot)
    assert isinstance(pilot.app.screen, TicketScreen)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens there once it is closed


class NetworkPrinter:
    """A printer on tcp://127.0.0.1:PORT that takes whatever it is sent and says all is well
    when asked (DLE EOT): it has the receipt."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.received = bytearray()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        with self.server:
            conn, _ = self.server.accept()
            with conn:
                answerer = StatusAnswerer(ALL_OK)
                while chunk := conn.recv(65536):
                    self.received += chunk
                    conn.sendall(answerer.feed(chunk))


async def test_the_receipt_prints_after_the_ticket_is_stored():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await _register(pilot)
        assert "受理单已打印，请取走。" in screen_text(app)
        ticket = Ticket.get()
        job = PrintJob.get(PrintJob.ticket == ticket.id)
        assert job.state == "printed" and job.lang == "zh"
        previews = sorted(p.name for p in (app.config.data_dir / "receipts").iterdir())
        assert previews == [f"{ticket.number}-{job.id}.{s}" for s in ("bin", "png", "txt")]
        assert not app.screen.query_one("#retry").display


async def test_a_printer_that_is_off_is_named_the_qr_stays_and_print_again_works():
    app = make_app(printer_uri=f"tcp://127.0.0.1:{_closed_port()}?timeout=1")
    async with app.run_test(size=(120, 40)) as pilot:
        await _register(pilot)
        shown = screen_text(app)
        assert "打印机未开机或未连接，受理单没有打印出来" in shown and "请拍下屏幕上的二维码" in shown
        assert "█" in str(app.screen.query_one("#qr").render())  # the code is still there to scan
        assert app.screen.query_one("#retry").display
        ticket = Ticket.get()
        assert PrintJob.get(PrintJob.ticket == ticket.id).state == "failed"

        printer = NetworkPrinter()  # the clerk switches the printer on
        app.config = replace(app.config, printer_uri=f"tcp://127.0.0.1:{printer.port}?timeout=2")
        await pilot.click("#retry")
        await settle(pilot)
        assert "受理单已打印，请取走。" in screen_text(app)
        assert not app.screen.query_one("#retry").display
        printer.thread.join(timeout=5)
        assert ticket.number.encode() in printer.received


async def test_an_english_customer_gets_an_english_receipt_and_status():
    app = make_app(language="en")
    async with app.run_test(size=(120, 40)) as pilot:
        await _register(pilot)
        assert "Your ticket has printed; please take it." in screen_text(app)
        job = PrintJob.get()
        text = (app.config.data_dir / "receipts" / f"{Ticket.get().number}-{job.id}.txt").read_text("utf-8")
        assert "Instrument reception ticket" in text and job.lang == "en"
