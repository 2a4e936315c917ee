"""`flask mail send`: the worker that delivers the outbox; `flask mail requeue`: retry given-up rows."""

from __future__ import annotations

import logging
import signal
import time
from types import FrameType

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.exc import SQLAlchemyError

from eventmgr.extensions import db
from eventmgr.mail import service

mail_cli = AppGroup("mail", help="Deliver the email outbox.")


def _log_to_stderr() -> None:
    """Show the worker's INFO messages (and the log backend's emails) unless logging is set up."""
    mail_logger = logging.getLogger("eventmgr.mail")
    if not logging.getLogger().handlers and not mail_logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        mail_logger.addHandler(handler)
    mail_logger.setLevel(logging.INFO)


@mail_cli.command("send")
@click.option(
    "--loop", is_flag=True, help="Keep running, checking the outbox every INTERVAL seconds."
)
@click.option(
    "--interval",
    type=click.FloatRange(min=0.1),
    default=None,
    help="Seconds between checks with --loop (default MAIL_SEND_INTERVAL).",
)
def send_command(loop: bool, interval: float | None) -> None:
    """Send the pending emails over SMTP (or to the log in development), retrying failures."""
    _log_to_stderr()
    interval = interval or current_app.config["MAIL_SEND_INTERVAL"]
    if not loop:
        click.echo(f"Outbox: {service.deliver_pending()}.")
        return

    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    # Finish the message in hand on SIGTERM (systemd, docker stop) rather than dying mid-send.
    previous = signal.signal(signal.SIGTERM, stop)
    click.echo(f"Delivering the outbox every {interval:g} s; Ctrl+C or SIGTERM stops.")
    try:
        while not stopping:
            try:
                report = service.deliver_pending()
            except SQLAlchemyError as error:
                # The database may be restarting; keep the worker alive and try again later.
                db.session.rollback()
                service.logger.error("Outbox unavailable: %s", error)
            else:
                if report.sent or report.failed or report.gave_up:
                    service.logger.info("Outbox: %s", report)
            deadline = time.monotonic() + interval
            while not stopping and time.monotonic() < deadline:
                time.sleep(min(0.5, interval))
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        db.session.remove()
    click.echo("Stopped.")


@mail_cli.command("requeue")
def requeue_command() -> None:
    """Give emails that ran out of attempts a fresh set of retries."""
    count = service.requeue_failed()
    db.session.commit()
    click.echo(f"Requeued {count} email{'' if count == 1 else 's'}.")
