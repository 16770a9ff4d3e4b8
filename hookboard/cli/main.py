"""The `hookboard` command (`python -m hookboard ...`): operate an installation.

    migrate                          apply database migrations
    create-user EMAIL                a new account (password prompted, or --password-stdin)
    create-api-key EMAIL --name N    an API key for that account, printed once
    reset-2fa EMAIL                  turn two-factor login off for a locked-out user
    worker | ticker                  run one engine process
    export EMAIL [-o FILE]           the account's schedules as JSON
    import EMAIL FILE [--dry-run]    create or update schedules from such JSON
    doctor                           check settings, database, Redis, workers, clock
    rotate-encryption-key            re-encrypt stored secrets with ENCRYPTION_KEY

Every command reads the same settings as the web app (environment or .env).
Errors are one line on stderr, `hookboard: error: ...`, and exit code 1.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TextIO

from redis.exceptions import RedisError
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, select

from hookboard.core.db import get_engine
from hookboard.settings import Settings, SettingsError, get_settings

IMPORT_ACTIONS = ("create", "update", "unchanged")
ROTATION_BATCH_SIZE = 500
MAX_ROTATION_BATCH_SIZE = 10_000


class CliError(Exception):
    """A failure to report in one line."""


def say(message: str, stream: TextIO | None = None) -> None:
    print(message, file=stream or sys.stdout, flush=True)


def _session() -> Session:
    return Session(get_engine(), expire_on_commit=False)


# --------------------------------------------------------------------------- commands


def cmd_migrate(_args, settings: Settings) -> None:
    from hookboard.core.migrate import upgrade_to_head
    from hookboard.core.startup import exit_on_wrong_encryption_key

    upgrade_to_head(settings.effective_database_url)
    say("hookboard: database is at the newest schema")
    exit_on_wrong_encryption_key(get_engine(), settings)


def cmd_rotate_encryption_key(args, settings: Settings) -> None:
    from hookboard.core.crypto import ENCRYPTED_COLUMNS, keyring_of
    from hookboard.core.crypto_rows import rotate_column
    from hookboard.domain.crypto import DecryptionError

    keyring = keyring_of(settings)
    for spec in ENCRYPTED_COLUMNS:
        try:
            counts = rotate_column(get_engine(), spec, keyring, args.batch_size)
        except DecryptionError as error:
            raise CliError(
                f"ENCRYPTION_KEY_PREVIOUS: {error} in {spec.context}; add the key it was"
                " written with (rows done so far stay done: run the command again)"
            ) from None
        say(f"{spec.context}: {counts.changed} re-encrypted of {counts.examined} rows")
    say(f"every stored secret is under key {keyring.primary_id}; older keys can be dropped")


def _read_password(args) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise CliError("password: the two entries differ")
    return first


def cmd_create_user(args, _settings: Settings) -> None:
    from hookboard.services import accounts, crud

    try:
        email = accounts.validate_email(args.email)
        password = accounts.validate_new_password(_read_password(args))
    except accounts.InvalidInputError as error:
        raise CliError(f"{error.field}: {error}") from None
    with _session() as session:
        try:
            user = crud.create_user(session, email=email, password=password)
            session.commit()
        except IntegrityError:
            raise CliError(f"email: an account for {email} already exists") from None
        say(f"created user {user.id} <{email}>")


def _access(session: Session, args, action):
    """The account's access in --workspace (default: its personal one), checked
    against the permission table as the API checks a request."""
    from hookboard.services import NotFound, credentials
    from hookboard.services.workspaces import permissions

    user_id = _user_id(session, args.email)
    try:
        access = credentials.member_access(
            session.connection(), user_id=user_id, workspace_id=args.workspace
        )
        permissions.check(access, action)
    except NotFound:
        raise CliError(
            f"workspace: {args.email} is not a member of workspace {args.workspace}"
        ) from None
    except permissions.Forbidden as error:
        raise CliError(f"workspace: {error.message}") from None
    return access


def _user_id(session: Session, email: str) -> int:
    from hookboard.models import User
    from hookboard.services.accounts import normalise_email

    user_id = session.exec(select(User.id).where(User.email == normalise_email(email))).first()
    if user_id is None:
        raise CliError(f"email: no account for {email}")
    return user_id


def cmd_create_api_key(args, _settings: Settings) -> None:
    from hookboard.services import accounts
    from hookboard.services.workspaces.permissions import Action

    with _session() as session:
        access = _access(session, args, Action.manage)
        created = accounts.create_api_key(session, access=access, name=args.name, scope=args.scope)
    # The key itself on stdout alone, so that `KEY=$(hookboard create-api-key ...)` works.
    say(f"API key {created.api_key.id} ({args.scope}) for {args.email}; shown once:", sys.stderr)
    say(created.key)


def cmd_reset_2fa(args, _settings: Settings) -> None:
    from hookboard.services.accounts import two_factor

    with _session() as session:
        user_id = _user_id(session, args.email)
        was_on = two_factor.reset(session, user_id=user_id)
    if was_on:
        say(f"two-factor login is off for {args.email}; they log in with the password alone")
    else:
        say(f"two-factor login was not on for {args.email}; nothing changed")


def cmd_worker(_args, _settings: Settings) -> None:
    from hookboard.engine.worker import main

    main()


def cmd_ticker(_args, _settings: Settings) -> None:
    from hookboard.engine.ticker import main

    main()


def cmd_export(args, _settings: Settings) -> None:
    from hookboard.services.transfer import export_document
    from hookboard.services.workspaces.permissions import Action

    with _session() as session:
        access = _access(
            session, args, Action.export_secrets if args.include_secrets else Action.read
        )
        document = export_document(
            session, workspace_id=access.workspace_id, include_secrets=args.include_secrets
        )
    text = document.model_dump_json(indent=2) + "\n"
    if args.output in (None, "-"):
        sys.stdout.write(text)
        return
    with open(args.output, "w", encoding="utf-8") as file:
        file.write(text)
    say(
        f"exported {len(document.schedules)} schedules, {len(document.targets)} targets", sys.stderr
    )


def _load_json(path: str):
    try:
        if path == "-":
            return json.load(sys.stdin)
        with open(path, encoding="utf-8") as file:
            return json.load(file)
    except OSError as error:
        raise CliError(f"{path}: {error.strerror}") from None
    except json.JSONDecodeError as error:
        raise CliError(f"{path}: not JSON ({error})") from None


def cmd_import(args, settings: Settings) -> None:
    from hookboard import services as service
    from hookboard.core.redis_client import get_redis
    from hookboard.engine.queueing import wake_tickers
    from hookboard.services.transfer import run_import
    from hookboard.services.workspaces.permissions import Action

    document = _load_json(args.file)
    with _session() as session:
        access = _access(session, args, Action.write)
        try:
            report = run_import(
                session,
                access=access,
                document=document,
                dry_run=args.dry_run,
                now=datetime.now(UTC),
                config=service.ServiceConfig.from_settings(settings),
            )
        except service.InvalidInput as error:
            raise CliError(f"{error.field or 'document'}: {error.message}") from None
        except service.Conflict as error:
            raise CliError(f"{error.field or 'document'}: {error.message}") from None
    for item in report.items:
        changes = f" ({', '.join(item.changes)})" if item.changes else ""
        say(f"{item.action:9} {item.type:8} {item.name}{changes}")
    summary = ", ".join(f"{report.count(action)} {action}" for action in IMPORT_ACTIONS)
    if args.dry_run:
        say(f"dry run: {summary}; nothing was written")
        return
    say(summary)
    try:
        wake_tickers(get_redis(), settings.queue_name)
    except RedisError:
        say("hookboard: tickers not woken (Redis down); they notice within their idle limit")


def cmd_doctor(_args, settings: Settings) -> None:
    from hookboard.cli.doctor import run_checks
    from hookboard.core.db import make_engine
    from hookboard.core.redis_client import make_redis

    engine = make_engine(settings.effective_database_url)
    try:
        checks = list(run_checks(settings, engine, make_redis(settings.redis_url)))
    finally:
        engine.dispose()
    for check in checks:
        say(f"{check.status:4}  {check.name:17} {check.detail}")
    failed = [check for check in checks if check.status == "fail"]
    if failed:
        raise CliError(f"{len(failed)} check(s) failed: {', '.join(c.name for c in failed)}")


# --------------------------------------------------------------------------- parsing


def _batch_size(text: str) -> int:
    size = int(text)
    if not 1 <= size <= MAX_ROTATION_BATCH_SIZE:
        raise argparse.ArgumentTypeError(f"must be 1 to {MAX_ROTATION_BATCH_SIZE}")
    return size


def _workspace_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--workspace",
        type=int,
        default=None,
        metavar="ID",
        help="the workspace to act in (default: the account's personal one)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hookboard", description="Operate Hookboard.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    commands.add_parser("migrate", help="apply database migrations").set_defaults(run=cmd_migrate)

    user = commands.add_parser("create-user", help="create an account")
    user.add_argument("email")
    user.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    user.set_defaults(run=cmd_create_user)

    key = commands.add_parser("create-api-key", help="create an API key (printed once)")
    key.add_argument("email")
    key.add_argument("--name", required=True)
    key.add_argument("--scope", choices=("read", "write"), default="write")
    _workspace_option(key)
    key.set_defaults(run=cmd_create_api_key)

    reset = commands.add_parser("reset-2fa", help="turn two-factor login off for an account")
    reset.add_argument("email")
    reset.set_defaults(run=cmd_reset_2fa)

    commands.add_parser("worker", help="run a worker").set_defaults(run=cmd_worker)
    commands.add_parser("ticker", help="run a ticker").set_defaults(run=cmd_ticker)

    export = commands.add_parser("export", help="export an account's schedules as JSON")
    export.add_argument("email")
    export.add_argument("-o", "--output", help="file to write (default: stdout)")
    _workspace_option(export)
    export.add_argument(
        "--include-secrets", action="store_true", help="secret header values unmasked (backups)"
    )
    export.set_defaults(run=cmd_export)

    imp = commands.add_parser("import", help="create or update schedules from an export")
    imp.add_argument("email")
    imp.add_argument("file", help="JSON file, or - for stdin")
    imp.add_argument("--dry-run", action="store_true", help="report what would change only")
    _workspace_option(imp)
    imp.set_defaults(run=cmd_import)

    rotate = commands.add_parser(
        "rotate-encryption-key", help="re-encrypt stored secrets with ENCRYPTION_KEY"
    )
    rotate.add_argument(
        "--batch-size", type=_batch_size, default=ROTATION_BATCH_SIZE, help="rows per transaction"
    )
    rotate.set_defaults(run=cmd_rotate_encryption_key)

    doctor = commands.add_parser("doctor", help="check settings, database, Redis, workers, clock")
    doctor.set_defaults(run=cmd_doctor)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = get_settings()
        args.run(args, settings)
    except (SettingsError, CliError) as error:
        say(f"hookboard: error: {error}", sys.stderr)
        return 1
    except OperationalError as error:
        reason = str(error.orig).splitlines()[0]
        say(f"hookboard: error: DATABASE_URL: cannot use the database ({reason})", sys.stderr)
        return 1
    except RedisError as error:
        say(f"hookboard: error: REDIS_URL: {type(error).__name__}: {error}", sys.stderr)
        return 1
    return 0
