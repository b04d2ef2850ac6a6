"""No code path of the application updates or deletes the audit log or decisions."""

import ast
from pathlib import Path

from core.settings import ROOT

GUARDED = {"AuditEntry", "Decision"}
PACKAGES = ("core", "contests", "ideas", "moderation", "voting")


def offending_calls(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
                node.func.id in ("update", "delete") and node.args:
            target = node.args[0]
            if isinstance(target, ast.Name) and target.id in GUARDED:
                found.append(f"{path}:{node.lineno} {node.func.id}({target.id})")
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            lowered = node.value.lower()
            for table in ("auditentry", "decision"):
                if (f"update {table}" in lowered or f"delete from {table}" in lowered) and \
                        "trigger" not in lowered:
                    found.append(f"{path}:{node.lineno} SQL on {table}")
    return found


def test_no_update_or_delete_of_guarded_tables_anywhere() -> None:
    files = [p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")]
    assert len(files) > 40
    problems = [hit for f in files for hit in offending_calls(f)]
    assert problems == []


def test_audit_and_decision_rows_are_only_ever_added() -> None:
    # Services write these rows only through session.add of new objects; a session.delete of
    # a loaded row would not show up as update()/delete(), so look for it by name too.
    for pkg in PACKAGES:
        for path in (ROOT / pkg).rglob("*.py"):
            source = path.read_text()
            for name in ("entry", "decision"):
                assert f".delete({name})" not in source, path
