"""The `shaar` command."""

from __future__ import annotations

import os
import sys

import click

from core.settings import Settings, SettingsError


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group(help="Shaar: a city platform for idea contests and participatory budgeting.")
def main() -> None:
    pass


@main.command(help="Serve the web app.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(0, 64),
              help="Worker processes; 0: two per core (use PostgreSQL for more than one on a "
                   "busy site).")
@click.option("--access-log/--no-access-log", default=False, show_default=True,
              help="Log every request (nginx usually does that already).")
@click.option("--reload", is_flag=True, help="Restart on code changes (development).")
def serve(host: str, port: int, workers: int, access_log: bool, reload: bool) -> None:
    import importlib.util

    import uvicorn

    # Without BASE_URL, links in mails point at the address this server answers on (not at
    # port 8000 when it serves elsewhere). The workers read it from the environment. A
    # server bound to every interface has no one address; 127.0.0.1 stands in for it.
    if not os.environ.get("BASE_URL"):
        shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104
        shown = f"[{shown}]" if ":" in shown else shown
        os.environ["BASE_URL"] = f"http://{shown}:{port}"
    _settings()  # fail early with a readable message
    if workers == 0:
        workers = 2 * (os.cpu_count() or 1)
    # uvloop's event loop and the httptools parser (both dependencies) where they install.
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    uvicorn.run("core.asgi:app", host=host, port=port, workers=workers, reload=reload,
                proxy_headers=False, server_header=False, access_log=access_log, loop=loop,
                http=http)


@main.command(help="Bring the database schema up to date.")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
def migrate(revision: str) -> None:
    from core.migrate import upgrade

    settings = _settings()
    upgrade(settings.database_url, revision)
    click.echo("database is up to date")


@main.command(help="Deliver the mail outbox: receipts, sign-in links and notifications. Every "
                   "server process does this already unless MAIL_POLL_SECONDS is 0; run this "
                   "when you prefer a separate process. Several may run at once.")
@click.option("--once", is_flag=True,
              help="Send what is due now, print how it went and exit (status 1 if a send "
                   "failed).")
@click.option("--interval", type=click.FloatRange(min=0.1), default=None,
              help="Seconds between looks at the outbox [default: MAIL_POLL_SECONDS, or 2 "
                   "when that is 0].")
def worker(once: bool, interval: float | None) -> None:
    import logging

    import anyio

    from core.db import make_database
    from core.outbox import deliver_all, run_delivery

    logging.basicConfig(level=logging.INFO)
    settings = _settings()
    database = make_database(settings.database_url)
    try:
        if once:
            report = deliver_all(database, settings)
            click.echo(f"{report.sent} sent, {report.retrying} to retry later, "
                       f"{report.given_up} given up")
            if report.retrying or report.given_up:
                raise SystemExit(1)
            return
        seconds = interval or settings.mail_poll_seconds or 2
        click.echo(f"delivering mail every {seconds:g} s; Ctrl-C stops")
        try:
            anyio.run(run_delivery, database, settings, seconds)
        except KeyboardInterrupt:
            pass
    finally:
        database.dispose()


@main.command("create-admin", help="Create an administrator, or make an account one.")
@click.option("--email", prompt=True, help="E-mail address to sign in with.")
@click.option("--name", default="Administrator", show_default=True, help="Display name.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="Password (at least 10 characters); prompted when omitted.")
def create_admin(email: str, name: str, password: str) -> None:
    from sqlmodel import select

    from core.accounts.passwords import MIN_LENGTH, hash_password
    from core.accounts.services import find_by_email, normalise_email
    from core.db import make_database
    from core.models import Role, RoleGrant, User, utcnow

    if len(password) < MIN_LENGTH:
        raise click.ClickException(f"the password needs at least {MIN_LENGTH} characters")
    database = make_database(_settings().database_url)
    now = utcnow()
    with database.session(write=True) as db:
        user = find_by_email(db, email)
        if user is None:
            user = User(email=normalise_email(email), display_name=name, created_at=now,
                        email_confirmed_at=now, password_hash=hash_password(password))
            db.add(user)
            db.flush()
        has = db.exec(select(RoleGrant).where(RoleGrant.user_id == user.id,
                                              RoleGrant.role == Role.ADMIN)).first()
        if has is None:
            assert user.id is not None
            db.add(RoleGrant(user_id=user.id, role=Role.ADMIN, granted_at=now))
    click.echo(f"{normalise_email(email)} is an administrator")


@main.command("seed-demo", help="Fill an empty database with the demo city.")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database has data.")
def seed_demo(if_empty: bool) -> None:
    from core.db import make_database
    from core.demo import CENSUS, DemoRefused, is_empty, seed
    from core.models import utcnow

    settings = _settings()
    if settings.is_production:
        raise click.ClickException("seed-demo refuses to run when SHAAR_ENV=production")
    database = make_database(settings.database_url)
    with database.session(write=True) as db:
        if if_empty and not is_empty(db):
            click.echo("the database has data; demo not seeded")
            return
        try:
            people = seed(db, utcnow(), upload_dir=settings.upload_dir,
                          census_salt=settings.census_salt)
        except DemoRefused as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo("Demo city created. Sign in as:")
    for role, email, password in people:
        click.echo(f"  {role:<10} {email:<28} {password}")
    click.echo("ID numbers on the demo census list (Account > verify): "
               + ", ".join(number for number, _district in CENSUS))


def _register_domain_commands() -> None:
    """The one place the command line reaches into domains, as the app factory does."""
    from results.cli import verify_results
    from voting.cli import verify_log
    from voting.tally.cli import tally

    main.add_command(tally)
    main.add_command(verify_log)
    main.add_command(verify_results)


_register_domain_commands()

if __name__ == "__main__":
    sys.exit(main())
