"""indexes for the public idea list and an idea's duplicates

The idea list sorted every public idea to show twenty (a temporary B-tree over 10,000 rows
took 15-20 ms on SQLite) and counted them row by row. These indexes lead with hidden_at
(the list shows only ideas that are not hidden) followed by the sort column, so a page is
read in order and the scan stops after it; (hidden_at, status) answers the count from the
index alone. They lead with hidden_at rather than being partial indexes because SQLite's
planner, without ANALYZE statistics, prefers them to ix_idea_status only in this form; the
list orders by hidden_at first (NULL for every listed idea) so that PostgreSQL, which does
not treat `hidden_at IS NULL` as fixing the first column, reads the order from them too.

Every idea page also asks which ideas duplicate it; without an index on duplicate_of_id that
read the whole table (11 ms at 10,000 ideas on SQLite).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 18:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("ix_idea_hidden_published", ["hidden_at", "published_at"]),
    ("ix_idea_hidden_supports", ["hidden_at", "support_count"]),
    ("ix_idea_hidden_cost", ["hidden_at", "estimated_cost"]),
    ("ix_idea_hidden_status", ["hidden_at", "status"]),
    ("ix_idea_duplicate_of_id", ["duplicate_of_id"]),
)


def upgrade() -> None:
    for name, columns in INDEXES:
        op.create_index(name, "idea", columns, unique=False)


def downgrade() -> None:
    for name, _columns in reversed(INDEXES):
        op.drop_index(name, table_name="idea")
