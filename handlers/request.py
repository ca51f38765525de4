"""A parsed `/customers` invocation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slack_bolt.context.async_context import AsyncBoltContext

from handlers.deps import Deps, actor_for
from store.access import Actor


def unescape(text: str) -> str:
    """Undo Slack's escaping of &, < and > in command text (mentions stay as <@U…>)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


# Who may do what, and who did what, is not for the whole channel: `public` is ignored.
PRIVATE = frozenset({"audit", "access", "channels", "digest"})


@dataclass(frozen=True)
class CommandRequest:
    deps: Deps
    context: AsyncBoltContext
    body: dict[str, Any]
    sub: str  # the subcommand word, lower case ("list" when none was given)
    rest: str  # everything after it, unescaped
    public: bool  # `public` was the last word: post in the channel

    @classmethod
    def parse(cls, deps: Deps, context: AsyncBoltContext, body: dict[str, Any]) -> CommandRequest:
        words = unescape(str(body.get("text") or "")).split()
        public = bool(words) and words[-1].lower() == "public"
        if public:
            words.pop()
        sub = words[0].lower() if words else "list"
        if sub in PRIVATE:
            public = False
        return cls(deps, context, body, sub, " ".join(words[1:]), public)

    async def actor(self, session: Any) -> Actor:
        return await actor_for(self.deps, session, self.context, self.body)
