"""``carecal reminders send|log`` against a real SMTP server, and ``carecal daysheet``."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

from carecal.services.session import open_session
from tests.cli.conftest import Run
from tests.services.smtp_server import Inbox, free_port, start_smtp


def _configure(data_dir: Path, port: int) -> None:
    with open_session(data_dir, actor="test") as s:
        s.repo.save_settings(
            replace(
                s.repo.settings(),
                email_reminders_enabled=True,
                smtp_host="127.0.0.1",
                smtp_port=port,
                smtp_security="none",
                smtp_from="desk@practice.test",
            ),
            actor="test",
        )


def test_reminders_send_and_log(run: Run, data_dir: Path) -> None:
    assert (
        run("patients", "add", "--first", "Anna", "--last", "Nowak", "--email", "a@x.test").code
        == 0
    )
    soon = (datetime.now() + timedelta(hours=12)).strftime("%Y-%m-%d %H:%M")
    assert (
        run(
            "events",
            "add",
            "--title",
            "Visit",
            "--start",
            soon,
            "--duration",
            "50",
            "--patient",
            "Anna Nowak",
        ).code
        == 0
    )
    port = free_port()
    _configure(data_dir, port)
    offline = run("reminders", "send")
    assert offline.code == 1 and "waiting for the server" in offline.out
    box = Inbox()
    server = start_smtp(port, box)
    try:
        sent = run("reminders", "send", "--format", "json")
        assert sent.code == 0 and sent.json()["sent"] == 1  # type: ignore[index]
        assert run("reminders", "send").out.strip() == "E-mail reminders: nothing to send"
    finally:
        server.stop()
    assert len(box.received) == 1
    log = run("reminders", "log")
    assert log.code == 0
    first = log.out.splitlines()[1]
    assert " sent " in first and "Anna N." in first and "a@x.test" not in log.out


def test_daysheet_pdf(run: Run, tmp_path: Path) -> None:
    target = tmp_path / "sheet.pdf"
    result = run("daysheet", "--date", date.today().isoformat(), "-o", str(target))
    assert result.code == 0 and "(0 visits)" in result.out
    assert target.read_bytes().startswith(b"%PDF-")
