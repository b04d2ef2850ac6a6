"""The audit log: append-only. This module only ever inserts."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlmodel import Session

from core.models import AuditEntry


def record(db: Session, actor_id: int | None, action: str, target_type: str,
           target_id: int | str, now: datetime, **details: Any) -> None:
    db.add(AuditEntry(at=now, actor_id=actor_id, action=action, target_type=target_type,
                      target_id=str(target_id),
                      details=json.dumps(details, ensure_ascii=False, sort_keys=True)))
