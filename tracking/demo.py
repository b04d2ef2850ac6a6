"""Demo data: the finished demo round's winners, on their way to being built."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from tracking import queries, services
from tracking.forms import Report
from tracking.models import ProjectStatus

#: Per winner's title: (days ago, status, progress, update text), oldest first.
PLANS = {
    "Освещение двора на Ахунбаева 98": (
        (40, ProjectStatus.IN_PROGRESS, 30, "Подрядчик выбран, опоры для фонарей установлены."),
        (6, ProjectStatus.DONE, 100, "Двенадцать фонарей работают. Работы приняты комиссией "
                                     "с участием жителей двора.")),
    "Детская площадка в 6 микрорайоне": (
        (20, ProjectStatus.IN_PROGRESS, 60, "Качели и горка установлены, осталось мягкое "
                                            "покрытие."),),
    "Скамейки на остановках": (
        (10, ProjectStatus.PLANNED, 0, "Проект передан в мэрию; тендер объявят в следующем "
                                       "месяце."),),
    "Бесплатный Wi-Fi в парках": (
        (12, ProjectStatus.IN_PROGRESS, 15, "Согласованы места точек доступа в трёх парках "
                                            "из пяти."),),
}


def seed_tracking(db: Session, round_id: int, now: datetime) -> None:
    """Give the round's published winners a status, progress and dated updates."""
    for winner in queries.winners(db):
        if winner.round.id != round_id:
            continue
        for days, status, progress, body in PLANS.get(winner.idea.title, ()):
            current = queries.winner_of(db, winner.idea)
            assert current is not None
            services.save_report(db, current, Report(status, progress, "", body, []), [],
                                 current.tracking.version, None, now - timedelta(days=days))
