from starlette.testclient import TestClient

from core.demo import seed
from core.models import utcnow


def test_home_page_lists_the_demo_contest(client: TestClient, database) -> None:
    with database.session(write=True) as db:
        seed(db, utcnow())
    page = client.get("/")
    assert page.status_code == 200
    assert "Бюджет инициатив Бишкека" in page.text
    assert 'lang="ru"' in page.text
