"""The pricing policy this node charges: the one its configuration names (`[pricing] policy`),
else the built-in one. One fact for every path that prices: the lobby app, the desk app, a
desk pricing a ticket again (kiosk/store/tickets.py price_again), `kiosk estimate` and
`kiosk register`. The file is read and checked once, when the configuration is loaded
(kiosk/settings/config.py load_config), so a typo stops the start, not a registration.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the fee engine loads when a policy is first read, not with the configuration
    from kiosk.domain.fees import Policy

_configured: Policy | None = None  # this process's, from its configuration; None: the built-in one


def read_policy(path: Path) -> Policy:
    """A policy file, checked. PolicyError names the file and what is wrong."""
    import json

    from kiosk.domain.fees import PolicyError, policy_from_dict

    try:
        return policy_from_dict(json.loads(path.read_text("utf-8")))
    except (OSError, ValueError) as e:  # PolicyError and json's errors are ValueErrors
        raise PolicyError(f"{path}: {e}") from None


def use_policy_file(path: Path | None) -> Policy:
    """Make the policy of `path` (None: the built-in one) this process's; it is returned."""
    global _configured
    _configured = None if path is None else read_policy(path)
    return configured_policy()


def use_built_in_policy() -> None:
    """Make the built-in policy this process's, without reading it yet (configured_policy does)."""
    global _configured
    _configured = None


def configured_policy() -> Policy:
    """The policy this node charges."""
    from kiosk.domain.fees import default_policy

    return _configured or default_policy()
