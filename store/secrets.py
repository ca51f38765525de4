"""API tokens at rest: sealed with Fernet (AES-128-CBC + HMAC) under BOT_SECRET_KEY.

A token is read back only to make a request; it is never shown, logged or audited.
"""

from __future__ import annotations

import binascii
import re

from cryptography.fernet import Fernet, InvalidToken

from store.errors import InvalidInput

# Vision One API keys are JWTs: long, printable, no spaces.
TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9\-_.~+/=]+$")
MIN_TOKEN, MAX_TOKEN = 20, 3000
NO_KEY = (
    "API tokens cannot be stored: the bot has no BOT_SECRET_KEY. Ask whoever runs the bot to "
    "set one (`overview-bot secret-key` prints a new key); nothing was changed."
)


# A word someone pasted that is surely a token, not a company name: a JWT ("eyJ…" and a
# dot), or 40+ token characters in one word with a digit in it.
_PASTED = re.compile(r"^(eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_.-]+|(?=.*\d)[A-Za-z0-9\-_.~+/=]{40,})$")


def holds_token(text: str | None) -> bool:
    """Whether free text (a slash command, say) holds what looks like an API token."""
    return any(_PASTED.match(word) for word in (text or "").split())


class TokenUnreadable(Exception):
    """The sealed token does not open with this key (BOT_SECRET_KEY changed)."""


def new_key() -> str:
    return Fernet.generate_key().decode()


def check_key(key: str) -> str:
    """The key as given, or ValueError saying what is wrong (never echoing it)."""
    try:
        Fernet(key.strip().encode())
    except (ValueError, binascii.Error):
        raise ValueError(
            "is not a key of 32 random bytes in URL-safe base64 (44 characters)"
        ) from None
    return key.strip()


def check_token(raw: str | None) -> str:
    """A plausible API token, or InvalidInput that does not repeat what was typed."""
    token = (raw or "").strip()
    if not token:
        raise InvalidInput("Paste the customer's Vision One API token.")
    if not (MIN_TOKEN <= len(token) <= MAX_TOKEN) or not TOKEN_SHAPE.match(token):
        raise InvalidInput(
            "That does not look like a Vision One API token (a long string without spaces, "
            "from Administration → API Keys in the customer's console)."
        )
    return token


class TokenVault:
    def __init__(self, key: str) -> None:
        self._fernet = Fernet(check_key(key).encode())

    def __repr__(self) -> str:
        return "TokenVault(<key hidden>)"

    def seal(self, token: str) -> str:
        return self._fernet.encrypt(token.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except (InvalidToken, ValueError):
            raise TokenUnreadable(
                "the stored API token cannot be read with the current BOT_SECRET_KEY"
            ) from None
