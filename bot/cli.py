"""`overview-bot`: run the bot and look after its database from the shell."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from bot.run import StartupError, serve, socket
from bot.settings import Settings, SettingsError, configure_logging, load_settings
from store import access
from store.db import Database
from store.errors import OverviewError
from store.migrate import current_revision, head_revision, upgrade

EPILOG = """\
examples:
  overview-bot start                      # Socket Mode, or the sandbox when no tokens are set
  overview-bot sandbox                    # try it in a browser: no Slack, demo data
  overview-bot serve                      # HTTP mode on HOST:PORT (POST /slack/events)
  overview-bot socket                     # Socket Mode, no public URL needed
  overview-bot import console-export.csv  # upsert customers from the console's CSV
  overview-bot access grant U0123ABCD operator
  overview-bot audit export --format csv --since 2026-12-01 > audit.csv
  overview-bot digest run --force          # post today's digests now
  overview-bot lmp sync                    # upsert customers from Trend's LMP now
  overview-bot sync --company Acme         # pull Acme's risk figures from Vision One now
  overview-bot secret-key                  # print a new BOT_SECRET_KEY
  overview-bot db upgrade

Settings come from the environment and .env: SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET,
SLACK_APP_TOKEN, DATABASE_URL (default sqlite+aiosqlite:///overview.db), HOST, PORT,
BOT_ADMINS, DEFAULT_ROLE, LOG_LEVEL, SLACK_API_URL, BOT_SECRET_KEY, VISION_ONE_BASE_URL,
SYNC_INTERVAL_MINUTES, SYNC_CONCURRENCY, SYNC_REQUESTS_PER_MINUTE, LMPI_URL,
LMPI_ACCESS_TOKEN, LMPI_SECRET_KEY, LMP_SYNC_INTERVAL_MINUTES.
"""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="overview-bot",
        description="Customer Overview for Slack: your Vision One customers and their risk, in Slack.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)
    sub.add_parser("serve", help="run in HTTP mode (needs a public URL and SLACK_SIGNING_SECRET)")
    sub.add_parser("socket", help="run in Socket Mode (needs SLACK_APP_TOKEN)")
    sub.add_parser(
        "start",
        help="Socket Mode when SLACK_BOT_TOKEN or SLACK_APP_TOKEN is set, else the sandbox",
    )
    box = sub.add_parser(
        "sandbox",
        help="try the bot in a browser, with no Slack workspace: a page that plays Slack",
        description="Serve a page on 127.0.0.1 that looks and behaves like a Slack channel, "
        "driving the real bot with signed requests, on a generated demo portfolio. "
        "Needs no tokens: Vision One is played by a demo API on 127.0.0.1 that takes any API "
        "token. The database is a fresh SQLite file unless --database is given.",
    )
    box.add_argument("--port", type=_port, default=3000, help="port on 127.0.0.1 (default 3000)")
    box.add_argument(
        "--database",
        type=Path,
        metavar="FILE",
        help="keep the sandbox's SQLite database in FILE, and the key sealing its API tokens "
        "in FILE.key (default: a fresh database each start)",
    )

    db = sub.add_parser("db", help="database schema").add_subparsers(
        dest="db_command", metavar="ACTION", required=True
    )
    db.add_parser("upgrade", help="apply migrations (also done at start)")
    db.add_parser("current", help="show the schema revision")

    imp = sub.add_parser("import", help="upsert customers from the console's CSV or a JSON file")
    imp.add_argument("file", type=Path, help="a .csv exported from Customer Overview, or .json")

    acc = sub.add_parser("access", help="who may use the bot, and as what").add_subparsers(
        dest="access_command", metavar="ACTION", required=True
    )
    grant = acc.add_parser("grant", help="give a Slack user a role")
    grant.add_argument("user", help="Slack user ID, such as U0123ABCD")
    grant.add_argument("role", help="viewer, operator, approver or admin")
    revoke = acc.add_parser("revoke", help="take a user's role away (back to DEFAULT_ROLE)")
    revoke.add_argument("user", help="Slack user ID")
    acc.add_parser("list", help="list granted roles")

    dig = sub.add_parser("digest", help="daily risk digests").add_subparsers(
        dest="digest_command", metavar="ACTION", required=True
    )
    run = dig.add_parser("run", help="post the digests that are due now, then exit")
    run.add_argument("--channel", metavar="C0123ABCD", help="only this channel's digest")
    run.add_argument("--force", action="store_true", help="post today's even if already posted")
    dig.add_parser("list", help="list subscribed channels")

    lmp = sub.add_parser(
        "lmp",
        help="Trend's Licensing Management Platform (needs LMPI_ACCESS_TOKEN, LMPI_SECRET_KEY)",
    ).add_subparsers(dest="lmp_command", metavar="ACTION", required=True)
    lmp.add_parser(
        "sync",
        help="upsert every LMP customer now; ones LMP no longer lists are kept and reported",
        description="Upsert every customer LMP lists; ones it no longer lists are kept, "
        "marked and reported. One sync at a time across every bot process on the database: "
        "while another runs, this exits 3 and does nothing.",
    )
    syn = sub.add_parser(
        "sync",
        help="pull risk figures from Vision One now (every connected customer, or one)",
        description="Pull each connected customer's Cyber Risk Index, exposure, security "
        "configuration, attack level and top risk events from its Vision One console. Tries "
        "every customer; exits 1 if any failed, 2 if it cannot start (or another sync of "
        "every customer is running, in the bot or elsewhere).",
    )
    syn.add_argument("--company", metavar="NAME", help="only this customer (name or unique part)")
    sub.add_parser("secret-key", help="print a new random BOT_SECRET_KEY (for sealing API tokens)")

    aud = sub.add_parser("audit", help="the audit log").add_subparsers(
        dest="audit_command", metavar="ACTION", required=True
    )
    exp = aud.add_parser("export", help="write every audit entry, oldest first")
    exp.add_argument("--format", choices=("csv", "json"), default="csv")
    exp.add_argument("--since", type=_date, metavar="YYYY-MM-DD", help="entries from this day on")
    return p


def _port(text: str) -> int:
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"'{text}' is not a port number from 0 to 65535")
    return int(text)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date like 2026-12-01") from None


async def _with_db(settings: Settings, work: Callable[[Database], Awaitable[int]]) -> int:
    db = Database(settings.database_url)
    try:
        try:
            await upgrade(db)
        except Exception as e:
            print(f"DATABASE_URL: cannot open or migrate the database: {e}", file=sys.stderr)
            return 2
        return await work(db)
    finally:
        await db.close()


async def _db_current(db: Database) -> int:
    print(f"schema revision {await current_revision(db)} (latest {head_revision()})")
    return 0


async def _access(db: Database, args: argparse.Namespace, settings: Settings) -> int:
    if args.access_command == "list":
        async with db.session() as s:
            grants = await access.list_grants(s, None)
        default = settings.default_role
        admins = ", ".join(sorted(settings.bot_admins)) or "none"
        print(f"BOT_ADMINS: {admins}; everyone else in the workspace: {default}")
        for g in grants:
            print(
                f"{g.user_id}\t{g.role.value}\tgranted by {g.granted_by} on {g.granted_at:%Y-%m-%d}"
            )
        if not grants:
            print("no roles granted")
        return 0
    async with db.transaction() as s:
        if args.access_command == "grant":
            role = access.parse_role(args.role)
            await access.grant(s, None, args.user, role, granted_by="cli")
            print(f"{args.user.strip()} is now {role.value}")
        elif await access.revoke(s, None, args.user):
            print(f"{args.user.strip()}'s role was removed (default: {settings.default_role})")
        else:
            print(f"{args.user.strip()} had no role granted (default: {settings.default_role})")
    return 0


async def _digest(db: Database, args: argparse.Namespace, settings: Settings) -> int:
    from bot.digests import DigestPoster, digest_client
    from store.digests import Digests
    from store.schedule import describe_days

    digests = Digests(db)
    if args.digest_command == "list":
        subs = await digests.subscriptions()
        for s in subs:
            days = describe_days(s.weekdays)
            print(f"{s.channel_id}\t{s.at_time:%H:%M} {s.tz}\t{days}\t{s.filters or '-'}")
        if not subs:
            print("no channel gets the digest")
        return 0
    settings.require("SLACK_BOT_TOKEN")
    client = digest_client(settings.slack_bot_token, settings.slack_api_url)
    poster = DigestPoster(db, digests, client)
    report = await poster.run(
        channel=args.channel, force=args.force, progress=lambda line: print(line, file=sys.stderr)
    )
    print(report.line())
    return 1 if report.failed else 0


async def _import(db: Database, path: Path) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from bot.import_cli import run_import

    try:
        return await run_import(db, path, out=sys.stdout, err=sys.stderr)
    except SQLAlchemyError as e:
        # e.g. another process inserted the same company meanwhile; the transaction rolled back
        reason = str(getattr(e, "orig", None) or e).splitlines()[0]
        print(f"Import failed in the database ({reason}); nothing was written.", file=sys.stderr)
        return 1


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "secret-key":  # needs no settings: it is how one gets made
        from store.secrets import new_key

        print(new_key())
        return 0
    try:
        settings = load_settings()
    except SettingsError as e:
        for line in e.lines:
            print(line, file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    try:
        if args.command == "start":
            tokens = settings.slack_bot_token or settings.slack_app_token
            args.command = "socket" if tokens else "sandbox"
            args.port, args.database = settings.port, None
        if args.command == "sandbox":
            from bot.sandbox.run import run_sandbox

            asyncio.run(run_sandbox(settings, args.port, args.database))
        elif args.command == "serve":
            asyncio.run(serve(settings))
        elif args.command == "socket":
            asyncio.run(socket(settings))
        elif args.command == "db":
            if args.db_command == "upgrade":
                code = asyncio.run(_with_db(settings, lambda db: _ok()))
                if code == 0:
                    print(f"database is at revision {head_revision()}")
                return code
            return asyncio.run(_with_db(settings, _db_current))
        elif args.command == "import":
            return asyncio.run(_with_db(settings, lambda db: _import(db, args.file)))
        elif args.command == "digest":
            return asyncio.run(_with_db(settings, lambda db: _digest(db, args, settings)))
        elif args.command == "sync":
            from bot.sync_cli import run_sync

            return asyncio.run(
                _with_db(
                    settings,
                    lambda db: run_sync(db, settings, args.company, out=sys.stdout, err=sys.stderr),
                )
            )
        elif args.command == "audit":
            from bot.audit_cli import export_audit

            return asyncio.run(
                _with_db(settings, lambda db: export_audit(db, args.format, args.since, sys.stdout))
            )
        elif args.command == "lmp":
            from bot.lmp import run_sync as lmp_sync

            return asyncio.run(_with_db(settings, lambda db: lmp_sync(db, settings)))
        elif args.command == "access":
            return asyncio.run(_with_db(settings, lambda db: _access(db, args, settings)))
    except (SettingsError, StartupError) as e:
        print(str(e), file=sys.stderr)
        return 2
    except OverviewError as e:
        print(e.message, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


async def _ok() -> int:
    return 0


if __name__ == "__main__":
    sys.exit(main())
