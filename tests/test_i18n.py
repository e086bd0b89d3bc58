"""The wording. Every key the code asks for is in the catalogue, in both languages, with the values
its placeholders need; no key is put together at run time (tables of literal keys in kiosk/i18n/keys.py
pick one by value, and each covers its set); and a missing key or value shows instead of raising.

The code is read, not run: every module of kiosk/, screens/ and central/ is parsed (ast), so a key
on a path no test drives is checked all the same."""

from __future__ import annotations

import ast
import logging
import re
import unicodedata
from collections import Counter
from functools import cache
from pathlib import Path

import pytest

import kiosk.i18n
from kiosk.i18n import MESSAGES, keys, t
from kiosk.i18n.keys import MessageKeys

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("kiosk", "screens", "central")
CATALOGUE = ROOT / "kiosk" / "i18n" / "messages"
PLACEHOLDER = re.compile(r"{(\w+)}")
DOTTED = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+")
NAMESPACES = {key.split(".")[0] for key in MESSAGES if "." in key}
# Dotted words in the code that are not message keys though they share a namespace with some.
NOT_MESSAGES = {
    "feedback.given", "ticket.registered", "ticket.received", "ticket.ready", "ticket.picked_up",  # event kinds
    "ticket.event",  # the change feed of ticket steps
    "ticket.code",  # a scanned code set aside (kiosk/store/desk.py set_aside)
    "ticket.certificate_name",  # a field: TextRefused.where
    "sync.cursor",  # a setting
    "app.toggle_language",  # a Textual action
}
FILES = (".tcss", ".csv", ".py", ".json", ".toml", ".html")
# f-strings whose shape a key could take but which build something else.
NOT_KEYS = {
    "{}.item", "{}.metres", "{}.ac_dc", "{}.quantity", "{}.use", "{}.service", "{}.points", "{}.ranges",  # fields
    "{}.extra_data",
    "customer.{}",  # a field: TextRefused.where
    "{}_device", "{}_clerk",  # columns: received_device, picked_up_clerk
    "ticket.{}",  # an event kind: ticket.received, ticket.ready, ticket.picked_up
}


@cache
def modules() -> dict[Path, ast.Module]:
    return {path.relative_to(ROOT): ast.parse(path.read_text("utf-8"))
            for source in SOURCES for path in sorted((ROOT / source).rglob("*.py"))}


def names_of_t(path: Path, tree: ast.Module) -> set[str]:
    """The names kiosk.i18n.t goes by in a module (`from kiosk.i18n import t as kiosk_t`)."""
    names = {"t"} if path == Path("kiosk/i18n/__init__.py") else set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "kiosk.i18n":
            names |= {alias.asname or alias.name for alias in node.names if alias.name == "t"}
    return names


def calls_of_t() -> list[tuple[str, ast.Call]]:
    found = []
    for path, tree in modules().items():
        names = names_of_t(path, tree)
        found += [(f"{path}:{node.lineno}", node) for node in ast.walk(tree)
                  if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in names]
    return found


def literal_keys(node: ast.expr) -> list[str] | None:
    """The keys a t() argument can be when written in the call: a literal, or a choice of literals."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        body, orelse = literal_keys(node.body), literal_keys(node.orelse)
        return None if body is None or orelse is None else body + orelse
    return None


def passed_through(node: ast.expr) -> bool:
    """A key that reached this call in a variable, an attribute or a table of literal keys (those
    literals are checked where they are written: test_every_dotted_literal_in_the_code_is_a_message)."""
    return isinstance(node, (ast.Name, ast.Attribute, ast.Subscript))


def template(node: ast.JoinedStr) -> str:
    return "".join(part.value if isinstance(part, ast.Constant) else "{}" for part in node.values)


def could_be_a_key(shape: str) -> bool:
    """Whether an f-string's shape ("print.reason.{}", "{}_waiting") can spell a key. A shape with no
    word of its own ("{}.{}": a path, an amount) is left to the t() check."""
    if "{}" not in shape or not re.search("[a-z]", shape.replace("{}", "")):
        return False
    # Keys are made of whole words: a word glued to a value ("{}ms", "l{}_{}", prefix + "code", a form
    # field's name) is not a key being spelled.
    parts = re.split(r"({})", shape)
    for i, part in enumerate(parts):
        if part == "{}" and ((i > 0 and parts[i - 1] and not parts[i - 1].endswith((".", "_")))
                             or (i + 1 < len(parts) and parts[i + 1] and not parts[i + 1].startswith((".", "_")))):
            return False
    pattern = "".join("[a-z0-9_.]+" if part == "{}" else re.escape(part) for part in re.split(r"({})", shape))
    return any(re.fullmatch(pattern, key) for key in MESSAGES)


# ---- the catalogue ------------------------------------------------------------------------------


@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_every_message_has_zh_and_en_with_the_same_placeholders(key):
    zh, en = MESSAGES[key]
    assert zh.strip() and en.strip()
    assert set(PLACEHOLDER.findall(zh)) == set(PLACEHOLDER.findall(en))
    given = {name: "x" for name in PLACEHOLDER.findall(zh)}
    assert "{" not in zh.format(**given) + en.format(**given)  # no stray brace, no {0} or {count:d}


@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_chinese_text_avoids_ambiguous_width_punctuation(key):
    # Textual counts “ ” … · — as one cell; a CJK terminal may draw two: columns would drift.
    zh = MESSAGES[key][0]
    ambiguous = [ch for ch in zh if unicodedata.east_asian_width(ch) == "A"]
    assert ambiguous == [], f"{key}: use full-width punctuation instead of {ambiguous}"


def test_no_key_is_written_twice():
    """A dict keeps the last of two equal keys without a word, and so does the merge of the feature
    modules: the first text would be lost."""
    written = Counter()
    for path in sorted(CATALOGUE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Dict):
                written.update(k.value for k in node.keys if isinstance(k, ast.Constant))
    assert [key for key, n in written.items() if n > 1] == []
    assert set(written) == set(MESSAGES)


# ---- the code's keys ----------------------------------------------------------------------------


def test_every_key_written_in_a_call_is_a_message_given_the_values_it_needs():
    calls = calls_of_t()
    assert len(calls) > 250  # the reading finds the calls (an import written another way would hide them)
    problems = []
    for where, call in calls:
        if not call.args:
            continue
        values = {k.arg for k in call.keywords}
        for key in literal_keys(call.args[0]) or ():
            if key not in MESSAGES:
                problems.append(f"{where}: no message {key!r}")
            elif None not in values:  # no **values: every placeholder must be given by name
                wanted = set(PLACEHOLDER.findall(MESSAGES[key][0]))
                if wanted - values:
                    problems.append(f"{where}: {key} needs {sorted(wanted - values)}")
    assert problems == []


def test_no_key_is_put_together_at_run_time():
    """A t() key is a literal, a choice of literals, or a key passed along; never an f-string or a sum.
    Nor does any f-string or sum elsewhere take the shape of a key (a key made, then passed along)."""
    problems = [f"{where}: {ast.unparse(call.args[0])}" for where, call in calls_of_t()
                if call.args and literal_keys(call.args[0]) is None and not passed_through(call.args[0])]
    for path, tree in modules().items():
        for node in ast.walk(tree):
            if isinstance(node, ast.JoinedStr):
                shape = template(node)
            elif (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add)
                  and (isinstance(node.left, ast.Constant) and isinstance(node.left.value, str)
                       or isinstance(node.right, ast.Constant) and isinstance(node.right.value, str))):
                left = node.left.value if isinstance(node.left, ast.Constant) else "{}"
                right = node.right.value if isinstance(node.right, ast.Constant) else "{}"
                shape = f"{left}{right}"
            else:
                continue
            if shape not in NOT_KEYS and could_be_a_key(shape):
                problems.append(f"{path}:{node.lineno}: {ast.unparse(node)}")
    assert problems == []


def test_every_dotted_literal_in_the_code_is_a_message():
    """Keys kept in tables, tuples, class attributes and (key, values) pairs: any string in the code
    shaped like a key of a known namespace (desk.status.ready, feedback.level.basic) must be one."""
    problems = []
    for path, tree in modules().items():
        if path.is_relative_to("kiosk/i18n/messages"):
            continue
        for node in ast.walk(tree):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str) and DOTTED.fullmatch(node.value)
                    and node.value.split(".")[0] in NAMESPACES and node.value not in MESSAGES
                    and node.value not in NOT_MESSAGES and not node.value.endswith(FILES)):
                problems.append(f"{path}:{node.lineno}: {node.value!r}")
    assert problems == []


def test_every_table_of_keys_covers_its_set():
    from kiosk.domain import catalog, feedback, ticketcode
    from kiosk.i18n import due_text, satisfaction_text

    assert set(keys.USES) == set(keys.USE_CHOICES) == set(catalog.USES)
    assert set(keys.TICKET_CODE_ERRORS) == set(ticketcode.KINDS)
    assert set(keys.FEEDBACK_LEVELS) == set(feedback.LEVELS.values())
    assert set(keys.FEEDBACK_REASONS) == set(feedback.REASONS)
    assert set(keys.FEEDBACK_HEARTS) == set(feedback.HEARTS)
    assert set(keys.SATISFACTION_VIEWS) == set(keys.SATISFACTION_GROUPS) == set(satisfaction_text.VIEWS)
    assert set(keys.DUE_COLUMNS) == set(due_text.COLUMNS)
    # where no list of the set exists in the code, the catalogue's family is the list: a table has
    # every message of its family (a printer fault worded but not reachable would be a table's gap)
    for table, family in ((keys.PRINT_REASONS, "print.reason."), (keys.TICKET_STATUSES, "desk.status."),
                          (keys.DESK_STEPS, "desk.step."), (keys.DESK_DONE, "desk.done."),
                          (keys.PROGRESS_ERRORS, "progress.error."), (keys.DATABASE_PROBLEMS, "dbproblem."),
                          (keys.BACKUP_PROBLEMS, "backup.why."),
                          (keys.URGENT_NOTES, "urgent.urgent_"), (keys.FREE_REASONS, "free."),
                          (keys.CHARGE_REASONS, "charge.")):
        assert set(table.values()) == {key for key in MESSAGES if key.startswith(family)}, family
    tables = {name: table for name, table in vars(keys).items() if isinstance(table, MessageKeys)}
    for name, table in tables.items():
        assert set(table.values()) <= set(MESSAGES), name


# ---- a missing word in front of a customer ------------------------------------------------------


@pytest.fixture
def fresh_reports(monkeypatch):
    monkeypatch.setattr(kiosk.i18n, "_reported", set())


def test_a_missing_key_shows_in_brackets_and_is_logged_once(fresh_reports, caplog):
    with caplog.at_level(logging.WARNING, logger="kiosk.i18n"):
        assert t("no.such.key", "zh") == "[no.such.key]"
        assert t("no.such.key", "en", count=3) == "[no.such.key]"
    assert [r.getMessage() for r in caplog.records] == ["message no.such.key: no such message"]


def test_a_missing_value_shows_its_placeholder_in_brackets(fresh_reports, caplog):
    with caplog.at_level(logging.WARNING, logger="kiosk.i18n"):
        assert t("desk.locked", "en") == "Too many wrong PINs; locked until [time]"
        assert t("admin.empty", "zh", first="2026-11-01") == "2026-11-01至[last]还没有评价"
    assert len(caplog.records) == 2 and "13800138000" not in caplog.text


def test_a_value_no_table_has_shows_which_table_lacks_it(fresh_reports):
    assert keys.PRINT_REASONS["paper_jam"] == "print.reason:paper_jam"
    assert t(keys.PRINT_REASONS["paper_jam"], "en") == "[print.reason:paper_jam]"
    assert t(keys.PRINT_REASONS["paper_out"], "en") == "The printer is out of paper"


def test_strict_mode_raises_for_tests(monkeypatch, fresh_reports):
    monkeypatch.setattr(kiosk.i18n, "strict", True)
    with pytest.raises(KeyError):
        t("no.such.key")
    with pytest.raises(KeyError):
        t("desk.locked", "en")
    assert t("desk.locked", "en", time="12:00") == "Too many wrong PINs; locked until 12:00"
