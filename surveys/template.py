"""The ready survey "City services and trust": satisfaction with named municipal services,
overall satisfaction, trust in city hall and the five OECD trust drivers, in ru, ky and en."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from surveys.models import Audience, QuestionType, Survey, SurveyQuestion, SurveyWave


def T(ru: str, ky: str, en: str) -> dict[str, str]:  # noqa: N802 - reads as a literal
    return {"ru": ru, "ky": ky, "en": en}


SATISFIED_LOW = T("Совсем не удовлетворён(а)", "Такыр канааттанбайм", "Not at all satisfied")
SATISFIED_HIGH = T("Полностью удовлетворён(а)", "Толугу менен канааттанам", "Fully satisfied")
AGREE_LOW = T("Совсем не согласен(на)", "Такыр макул эмесмин", "Strongly disagree")
AGREE_HIGH = T("Полностью согласен(на)", "Толугу менен макулмун", "Strongly agree")
TRUST_LOW = T("Совсем не доверяю", "Такыр ишенбейм", "Do not trust at all")
TRUST_HIGH = T("Полностью доверяю", "Толук ишенем", "Trust completely")

SERVICES = [
    ("transport", T("Общественный транспорт", "Коомдук транспорт", "Public transport")),
    ("roads", T("Дороги", "Жолдор", "Roads")),
    ("lighting", T("Уличное освещение", "Көчө жарыгы", "Street lighting")),
    ("waste", T("Вывоз мусора", "Таштанды чыгаруу", "Waste collection")),
    ("parks", T("Парки и скверы", "Парктар жана скверлер", "Parks")),
    ("water", T("Водоснабжение", "Суу менен камсыздоо", "Water supply")),
    ("certificates", T("Справки и услуги мэрии", "Мэриянын маалымкаттары жана кызматтары",
                       "City-hall certificates and services")),
]

DRIVERS = [
    ("reliability", T("Мэрия выполняет то, что обещает.",
                      "Мэрия убада кылганын аткарат.",
                      "City hall does what it promises."),
     T("Надёжность", "Ишенимдүүлүк", "Reliability")),
    ("responsiveness", T("Если жители жалуются, мэрия исправляет проблему.",
                         "Тургундар арызданса, мэрия көйгөйдү оңдойт.",
                         "If residents complain, city hall fixes the problem."),
     T("Отзывчивость", "Көңүл буруу", "Responsiveness")),
    ("integrity", T("Сотрудники мэрии не берут взяток.",
                    "Мэриянын кызматкерлери пара алышпайт.",
                    "City-hall staff do not take bribes."),
     T("Честность", "Ак ниеттүүлүк", "Integrity")),
    ("fairness", T("Мэрия относится ко всем жителям одинаково.",
                   "Мэрия бардык тургундарга бирдей мамиле кылат.",
                   "City hall treats all residents equally."),
     T("Справедливость", "Адилеттүүлүк", "Fairness")),
    ("openness", T("Мэрия открыто объясняет свои решения.",
                   "Мэрия өз чечимдерин ачык түшүндүрөт.",
                   "City hall explains its decisions openly."),
     T("Открытость", "Ачыктык", "Openness")),
]

SECTION_SERVICES = T("Городские услуги", "Шаардык кызматтар", "City services")
SECTION_TRUST = T("Доверие", "Ишеним", "Trust")
SECTION_MORE = T("О вас и ваших идеях", "Сиз жана сиздин идеяларыңыз жөнүндө",
                 "About you and your ideas")


def questions() -> list[dict[str, Any]]:
    """The template's questions as column values (keys stable across waves)."""
    out: list[dict[str, Any]] = []
    for key, name in SERVICES:
        out.append(dict(
            key=f"sat_{key}", kind=QuestionType.RATING5, section=SECTION_SERVICES,
            text=T(f"Насколько вы удовлетворены: {name['ru'].lower()}?",
                   f"Канчалык канааттанасыз: {name['ky'].lower()}?",
                   f"How satisfied are you with {name['en'].lower()}?"),
            scale_low=SATISFIED_LOW, scale_high=SATISFIED_HIGH, service=True, required=True))
    out.append(dict(
        key="sat_overall", kind=QuestionType.RATING10, section=SECTION_SERVICES,
        text=T("В целом, насколько вы удовлетворены работой города?",
               "Жалпысынан шаардын иши сизди канчалык канааттандырат?",
               "Overall, how satisfied are you with how the city is run?"),
        scale_low=SATISFIED_LOW, scale_high=SATISFIED_HIGH, required=True))
    out.append(dict(
        key="trust_city_hall", kind=QuestionType.RATING5, section=SECTION_TRUST,
        text=T("Насколько вы доверяете мэрии?", "Мэрияга канчалык ишенесиз?",
               "How much do you trust city hall?"),
        scale_low=TRUST_LOW, scale_high=TRUST_HIGH, trust=True, required=True))
    out.append(dict(
        key="drivers", kind=QuestionType.MATRIX, section=SECTION_TRUST,
        text=T("Насколько вы согласны с утверждениями?",
               "Бул пикирлерге канчалык макулсуз?",
               "How far do you agree with these statements?"),
        rows=[{"value": key, "label": statement, "driver": driver}
              for key, statement, driver in DRIVERS],
        scale_low=AGREE_LOW, scale_high=AGREE_HIGH, required=False))
    out.append(dict(
        key="improve", kind=QuestionType.MULTIPLE, section=SECTION_MORE, allow_other=True,
        text=T("Что городу улучшить в первую очередь?",
               "Шаар эмнени биринчи кезекте жакшыртышы керек?",
               "What should the city improve first?"),
        options=[{"value": key, "label": name} for key, name in SERVICES]))
    out.append(dict(
        key="improve_why", kind=QuestionType.LONG, section=SECTION_MORE,
        text=T("Почему именно это?", "Эмне үчүн дал ушул?", "Why this?"),
        show_if={"key": "improve", "includes": "transport"}))
    return out


def create_city_services_survey(s: Session, slug: str, first_wave: tuple[datetime, datetime],
                                audience: str = Audience.ACCOUNTS,
                                label: str = "") -> tuple[Survey, SurveyWave]:
    survey = Survey(
        slug=slug[:60], audience=audience,
        title=T("Городские услуги и доверие", "Шаардык кызматтар жана ишеним",
                "City services and trust"),
        intro=T("Несколько минут: оцените городские услуги и скажите, доверяете ли вы мэрии. "
                "Город не видит, кто что ответил.",
                "Бир нече мүнөт: шаардык кызматтарга баа бериңиз жана мэрияга ишенесизби, "
                "айтыңыз. Шаар ким эмне деп жооп бергенин көрбөйт.",
                "A few minutes: rate the city's services and say whether you trust city "
                "hall. The city cannot see who answered what."))
    s.add(survey)
    s.flush()
    wave = SurveyWave(survey_id=survey.id or 0, number=1, label=label,
                      opens_at=first_wave[0], closes_at=first_wave[1])
    s.add(wave)
    s.flush()
    for i, data in enumerate(questions()):
        s.add(SurveyQuestion(wave_id=wave.id or 0, position=i, **data))
    s.flush()
    return survey, wave
