"""Work-arounds for Textual bugs that a kiosk, running for months, would feel.

Each one checks that the bug is still there before it patches, so upgrading Textual to a
release that fixes it turns the patch off by itself.
"""

from __future__ import annotations

from functools import lru_cache

from textual._styles_cache import StylesCache


def fix_styles_cache_leak() -> None:
    """Textual 8.2.8 decorates the *instance* method `StylesCache.get_inner_outer` with
    `lru_cache(1024)`, so the cache key holds `self`: the styles caches of the last 1,024
    removed widgets stay alive with every strip they rendered (Textual issue #6665). A
    kiosk builds ~16 widgets per customer, so after ~64 customers ~40 MB is pinned for
    good. The method does not use `self`: cache on the two colours alone."""
    method = StylesCache.__dict__.get("get_inner_outer")
    if method is None or not hasattr(method, "cache_info"):
        return  # fixed upstream (or renamed): nothing to do
    original = method.__wrapped__

    @lru_cache(1024)
    def colours_only(base_background, background):
        return original(None, base_background, background)

    def get_inner_outer(self, base_background, background):
        return colours_only(base_background, background)

    # the patch: a plain method for Textual's lru_cache-wrapped one
    StylesCache.get_inner_outer = get_inner_outer  # type: ignore[method-assign, assignment]


def skip_styling_unmounted() -> None:
    """Textual 8.2.8 restyles a widget at once whenever a class or pseudo-class of it changes, even
    before it is mounted: a Button styles itself three times in its constructor (its variant, `flat`,
    `compact`), and `labelled()` adds a class, each time against the whole style sheet, for styles
    that are thrown away: mounting a widget styles it whole (`App._register`). Before the first frame
    that is a tenth of the kiosk's start-up work. A node not in the DOM is left unstyled until it is."""
    from textual.dom import DOMNode

    update_node_styles = DOMNode.update_node_styles
    if getattr(update_node_styles, "skips_unmounted", False):
        return

    def update_mounted_node_styles(self, animate: bool = True) -> None:
        if self.is_attached:
            update_node_styles(self, animate=animate)

    update_mounted_node_styles.skips_unmounted = True  # type: ignore[attr-defined]
    DOMNode.update_node_styles = update_mounted_node_styles  # type: ignore[method-assign]


def skip_same_size_layout() -> None:
    """Textual 8.2.8 lays a screen out whole, and repaints it whole, for every Resize event it gets,
    even one of the size it already has: at start-up the app sends the first screen the terminal's
    size up to three times (as the driver reports it, on the first idle, and once the screen is laid
    out), and a screen that is ready by then (the kiosk's welcome screen) is laid out and painted
    three times more before its first frame, a fifth of that frame's work (bench/startup.py). A
    layout a widget asks for is still done (the screen's update timer); a Resize of another size
    too. A screen not yet laid out (size 0) is laid out at once, as before."""
    from textual.screen import Screen

    resized = Screen._screen_resized
    if getattr(resized, "skips_same_size", False) or "_size" in resized.__code__.co_names:
        return  # patched already, or Textual compares the size itself now

    def screen_resized(self, size) -> None:
        if size != self._size or not self._size:
            resized(self, size)

    screen_resized.skips_same_size = True  # type: ignore[attr-defined]
    Screen._screen_resized = screen_resized  # type: ignore[method-assign]


def skip_repaint_after_first_layout() -> None:
    """Textual 8.2.8 asks for a repaint of the whole screen at the end of every ScreenResume, also
    the first, right after laying the screen out for the first time, which paints all of it (the
    compositor has nothing on screen before). That repaint is a third full rendering of the first
    frame, some 15-20 M instructions of the welcome screen's (bench/startup.py). A screen shown again
    (resumed after another) is not laid out anew and keeps its repaint: the terminal shows the other one."""
    from textual.screen import Screen

    resume = Screen._on_screen_resume
    if getattr(resume, "skips_first_repaint", False) or "refresh" not in resume.__code__.co_names:
        return  # patched already, or Textual no longer repaints there

    def on_screen_resume(self, event) -> None:
        first = not self._size  # never laid out: the layout in `resume` paints the whole screen
        resume(self, event)
        if first and self._size:
            self._repaint_required = False

    on_screen_resume.skips_first_repaint = True  # type: ignore[attr-defined]
    on_screen_resume.__wrapped__ = resume  # type: ignore[attr-defined]  # Textual's, for the next patch's check
    Screen._on_screen_resume = on_screen_resume  # type: ignore[method-assign]


def skip_restyle_of_first_screen() -> None:
    """Textual 8.2.8 restyles the whole screen at every ScreenResume that asks for it, also the first
    screen's first, which comes right after that screen and all it composed were styled as they were
    mounted (`App._register`, with every style sheet they bring already added), and before anything
    else could change: a class or pseudo-class that changes later (focus, hover, a breakpoint, the app's
    focus or theme) restyles its node itself. That second styling of every widget of the first frame is
    some 15 M instructions of the welcome screen's start (bench/startup.py --instructions). The app's
    first screen only, the first time (never laid out): a screen pushed later, or shown again, keeps it."""
    from textual.screen import Screen

    resume = textual = Screen._on_screen_resume
    while hasattr(textual, "__wrapped__"):  # Textual's own, under skip_repaint_after_first_layout's
        textual = textual.__wrapped__
    if getattr(resume, "skips_first_restyle", False) or "refresh_styles" not in textual.__code__.co_names:
        return  # patched already, or Textual no longer restyles there

    def on_screen_resume(self, event) -> None:
        if event.refresh_styles and not self._size and self.app.screen_stack[:1] == [self]:
            event.refresh_styles = False  # this event is this screen's own (App._init_mode posts it)
        resume(self, event)

    on_screen_resume.skips_first_restyle = True  # type: ignore[attr-defined]
    Screen._on_screen_resume = on_screen_resume  # type: ignore[method-assign]


PASTE_TIMEOUT = 0.5  # seconds without a byte that end a bracketed paste whose end never came


def fix_unended_paste() -> None:
    """Textual 8.2.8's input parser (`XTermParser.parse`) waits for the end of a bracketed
    paste (`ESC [201~`) with no timeout: a lone `ESC [200~`, from a glitching scanner or
    cable, makes every later key part of a paste that never ends, and the kiosk stops
    answering for good. End such a paste after PASTE_TIMEOUT without a byte: the parser is
    handed the missing end, so what came is delivered as one Paste, as if it had ended, and
    keys are keys again. A whole paste (a terminal's, a scanner's) arrives at once and is
    never cut. The parser keeps its state in locals; `bracketed_paste` tells a paste.
    `Parser.tick` arms a read's timeout only when bytes come (`feed`), so a paste whose last
    byte was a lone ESC (ended by the escape timeout, in `tick`) has it armed there too."""
    from textual import _parser
    from textual._parser import ParseEOF, ParseTimeout
    from textual._xterm_parser import BRACKETED_PASTE_END, BRACKETED_PASTE_START, XTermParser

    if not _waits_forever_in_a_paste(XTermParser(), BRACKETED_PASTE_START):
        return  # fixed upstream (or the parser changed shape): nothing to do
    parse = XTermParser.parse

    def parse_ending_pastes(self, token_callback):
        inner = parse(self, token_callback)
        try:
            awaiting = next(inner)
            while True:
                ending = awaiting.timeout is None and _in_paste(inner)
                try:
                    character = yield awaiting._replace(timeout=PASTE_TIMEOUT) if ending else awaiting
                except ParseTimeout:
                    if not ending:
                        awaiting = inner.throw(ParseTimeout())
                        continue
                    for character in BRACKETED_PASTE_END:
                        awaiting = inner.send(character)
                    continue
                except ParseEOF:
                    inner.throw(ParseEOF())
                    return
                awaiting = inner.send(character)
        except StopIteration:
            return

    tick = XTermParser.tick

    def tick_arming_the_paste_timeout(self):
        yield from tick(self)
        if self._timeout_time is None and self._awaiting.timeout is not None:
            self._timeout_time = _parser.get_time() + self._awaiting.timeout

    XTermParser.parse = parse_ending_pastes  # type: ignore[method-assign]
    XTermParser.tick = tick_arming_the_paste_timeout  # type: ignore[method-assign]


def _in_paste(parser_generator) -> bool:
    frame = parser_generator.gi_frame
    return frame is not None and frame.f_locals.get("bracketed_paste") is True


def _waits_forever_in_a_paste(parser, paste_start: str) -> bool:
    """After a paste's start the parser waits for the next byte with no timeout, and says
    (in its locals) that it is in a paste."""
    for _ in parser.feed(paste_start + "x"):
        pass
    return parser._awaiting.timeout is None and _in_paste(parser._gen)
