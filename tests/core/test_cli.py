import pytest
from click.testing import CliRunner
from sqlmodel import select

from core.cli import main
from core.db import make_database
from core.models import District, RoleGrant, User


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("SHAAR_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.delenv("SHAAR_ENV", raising=False)
    return tmp_path


@pytest.mark.parametrize("command", ["serve", "migrate", "create-admin", "seed-demo", "tally"])
def test_every_command_explains_itself(command: str) -> None:
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output and "--help" in result.output


def test_serve_offers_host_port_and_workers() -> None:
    output = CliRunner().invoke(main, ["serve", "--help"]).output
    assert "--host" in output and "--port" in output and "--workers" in output


def test_migrate_then_seed_the_demo_city_once(env) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["migrate"]).exit_code == 0
    first = runner.invoke(main, ["seed-demo", "--if-empty"])
    assert first.exit_code == 0, first.output
    assert "admin@demo.shaar.kg" in first.output and "demo-admin-pass" in first.output
    second = runner.invoke(main, ["seed-demo", "--if-empty"])
    assert second.exit_code == 0 and "not seeded" in second.output
    refused = runner.invoke(main, ["seed-demo"])
    assert refused.exit_code != 0
    db = make_database(f"sqlite:///{env / 'cli.db'}")
    with db.session() as s:
        assert len(s.exec(select(District)).all()) == 4
    db.dispose()


def test_seed_demo_refuses_in_production(env, monkeypatch) -> None:
    monkeypatch.setenv("SHAAR_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    result = CliRunner().invoke(main, ["seed-demo"])
    assert result.exit_code != 0 and "production" in result.output


def test_create_admin_makes_an_administrator(env) -> None:
    runner = CliRunner()
    runner.invoke(main, ["migrate"])
    result = runner.invoke(main, ["create-admin", "--email", "Chief@City.kg",
                                  "--password", "a long enough password"])
    assert result.exit_code == 0, result.output
    again = runner.invoke(main, ["create-admin", "--email", "chief@city.kg",
                                 "--password", "a long enough password"])
    assert again.exit_code == 0
    db = make_database(f"sqlite:///{env / 'cli.db'}")
    with db.session() as s:
        user = s.exec(select(User)).one()
        assert user.email == "chief@city.kg"
        assert s.exec(select(RoleGrant.role)).all() == ["admin"]
    db.dispose()


def test_create_admin_refuses_a_short_password(env) -> None:
    runner = CliRunner()
    runner.invoke(main, ["migrate"])
    result = runner.invoke(main, ["create-admin", "--email", "a@b.kg", "--password", "short"])
    assert result.exit_code != 0 and "10 characters" in result.output


def test_a_malformed_setting_stops_with_a_readable_message(env, monkeypatch) -> None:
    monkeypatch.setenv("SMTP_PORT", "abc")
    result = CliRunner().invoke(main, ["migrate"])
    assert result.exit_code != 0 and "SMTP_PORT" in result.output
