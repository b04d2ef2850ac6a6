"""who may vote on paper: a round's paper_voters rule (census only so far)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 20:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('roundvoting') as batch:
        batch.add_column(sa.Column('paper_voters', sqlmodel.sql.sqltypes.AutoString(length=10),
                                   server_default='census', nullable=False))
        batch.create_check_constraint('round_voting_paper_voters_known',
                                      "paper_voters IN ('census')")


def downgrade() -> None:
    with op.batch_alter_table('roundvoting') as batch:
        batch.drop_constraint('round_voting_paper_voters_known', type_='check')
        batch.drop_column('paper_voters')
