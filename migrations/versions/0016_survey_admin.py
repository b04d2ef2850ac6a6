"""survey admin: which screened text answers of a response are published

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-03 12:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0016'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('surveyresponse', schema=None) as batch_op:
        batch_op.add_column(sa.Column('text_published', sa.JSON(), nullable=False,
                                      server_default='[]'))


def downgrade() -> None:
    with op.batch_alter_table('surveyresponse', schema=None) as batch_op:
        batch_op.drop_column('text_published')
