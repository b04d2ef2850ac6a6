"""voting: settings, ballot items, participation, ballots, the ballot log, drafts, paper

Only new tables: nothing here touches `idea`, so 0002's FTS5 triggers on SQLite stay as they are.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('ballotlogentry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('commitment', sa.String(length=64), nullable=False),
    sa.Column('entry_hash', sa.String(length=64), nullable=False),
    sa.Column('hour', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('supersedes', sa.Integer(), nullable=True),
    sa.CheckConstraint('seq >= 1', name='ballot_log_seq_positive'),
    sa.CheckConstraint('supersedes IS NULL OR (supersedes >= 1 AND supersedes < seq)', name='ballot_log_supersedes_earlier'),
    sa.ForeignKeyConstraint(['round_id'], ['round.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('entry_hash'),
    sa.UniqueConstraint('round_id', 'seq')
    )
    with op.batch_alter_table('ballotlogentry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ballotlogentry_round_id'), ['round_id'], unique=False)

    op.create_table('papersheet',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('serial', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('receipt', sa.String(length=64), nullable=True),
    sa.Column('resolved_by_id', sa.Integer(), nullable=True),
    sa.Column('resolved_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.CheckConstraint("status IN ('pending', 'counted', 'mismatch', 'void')", name='paper_sheet_status_known'),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['account.id'], ),
    sa.ForeignKeyConstraint(['round_id'], ['round.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('round_id', 'serial')
    )
    with op.batch_alter_table('papersheet', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_papersheet_round_id'), ['round_id'], unique=False)

    op.create_table('participation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('id_hash', sa.String(length=64), nullable=True),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.CheckConstraint("channel IN ('online', 'paper')", name='participation_channel_known'),
    sa.CheckConstraint('person_id IS NOT NULL OR id_hash IS NOT NULL', name='participation_names_someone'),
    sa.ForeignKeyConstraint(['person_id'], ['account.id'], ),
    sa.ForeignKeyConstraint(['round_id'], ['round.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('round_id', 'id_hash'),
    sa.UniqueConstraint('round_id', 'person_id')
    )
    with op.batch_alter_table('participation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_participation_round_id'), ['round_id'], unique=False)

    op.create_table('roundvoting',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('verified_only', sa.Boolean(), nullable=False),
    sa.Column('min_age', sa.Integer(), nullable=True),
    sa.Column('rule', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('rule_options', sa.Text(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.CheckConstraint("rule IN ('greedy', 'mes')", name='round_voting_rule_known'),
    sa.CheckConstraint('min_age IS NULL OR (min_age >= 0 AND min_age <= 120)', name='round_voting_min_age_range'),
    sa.ForeignKeyConstraint(['round_id'], ['round.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('round_id')
    )
    op.create_table('ballot',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('pot_id', sa.Integer(), nullable=False),
    sa.Column('pseudonym', sa.String(length=64), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('salt', sa.String(length=32), nullable=False),
    sa.Column('log_seq', sa.Integer(), nullable=False),
    sa.Column('cast_hour', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('is_current', sa.Boolean(), nullable=True),
    sa.Column('superseded_hour', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.CheckConstraint("channel IN ('online', 'paper')", name='ballot_channel_known'),
    sa.CheckConstraint('is_current IS NULL OR is_current', name='ballot_current_true_or_null'),
    sa.ForeignKeyConstraint(['pot_id'], ['roundpot.id'], ),
    sa.ForeignKeyConstraint(['round_id'], ['round.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('round_id', 'pot_id', 'pseudonym', 'is_current')
    )
    with op.batch_alter_table('ballot', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ballot_pot_id'), ['pot_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ballot_round_id'), ['round_id'], unique=False)

    op.create_table('ballotdraft',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('pot_id', sa.Integer(), nullable=False),
    sa.Column('pseudonym', sa.String(length=64), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['pot_id'], ['roundpot.id'], ),
    sa.ForeignKeyConstraint(['round_id'], ['round.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('round_id', 'pot_id', 'pseudonym')
    )
    with op.batch_alter_table('ballotdraft', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ballotdraft_round_id'), ['round_id'], unique=False)

    op.create_table('ballotitem',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('pot_id', sa.Integer(), nullable=False),
    sa.Column('idea_id', sa.Integer(), nullable=False),
    sa.Column('cost', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.CheckConstraint('cost >= 0', name='ballot_item_cost_not_negative'),
    sa.ForeignKeyConstraint(['idea_id'], ['idea.id'], ),
    sa.ForeignKeyConstraint(['pot_id'], ['roundpot.id'], ),
    sa.ForeignKeyConstraint(['round_id'], ['round.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('round_id', 'idea_id')
    )
    with op.batch_alter_table('ballotitem', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ballotitem_idea_id'), ['idea_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ballotitem_pot_id'), ['pot_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ballotitem_round_id'), ['round_id'], unique=False)

    op.create_table('paperentry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sheet_id', sa.Integer(), nullable=False),
    sa.Column('clerk_id', sa.Integer(), nullable=False),
    sa.Column('pot_id', sa.Integer(), nullable=False),
    sa.Column('id_hash', sa.String(length=64), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('entered_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['clerk_id'], ['account.id'], ),
    sa.ForeignKeyConstraint(['pot_id'], ['roundpot.id'], ),
    sa.ForeignKeyConstraint(['sheet_id'], ['papersheet.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('sheet_id', 'clerk_id')
    )
    with op.batch_alter_table('paperentry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_paperentry_sheet_id'), ['sheet_id'], unique=False)

    op.create_table('potvoting',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('pot_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('max_choices', sa.Integer(), nullable=False),
    sa.Column('min_choices', sa.Integer(), nullable=False),
    sa.Column('points_total', sa.Integer(), nullable=False),
    sa.Column('max_points_per_project', sa.Integer(), nullable=False),
    sa.Column('min_spend_percent', sa.Integer(), nullable=False),
    sa.CheckConstraint("kind IN ('approval', 'knapsack', 'cumulative', 'ordinal')", name='pot_voting_kind_known'),
    sa.CheckConstraint('max_choices = 0 OR min_choices <= max_choices', name='pot_voting_min_not_above_max'),
    sa.CheckConstraint('max_choices >= 0 AND min_choices >= 0', name='pot_voting_counts_not_negative'),
    sa.CheckConstraint('min_spend_percent >= 0 AND min_spend_percent <= 100', name='pot_voting_min_spend_percent'),
    sa.CheckConstraint('points_total >= 0 AND max_points_per_project >= 0', name='pot_voting_points_not_negative'),
    sa.ForeignKeyConstraint(['pot_id'], ['roundpot.id'], ),
    sa.ForeignKeyConstraint(['round_id'], ['round.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('pot_id')
    )
    with op.batch_alter_table('potvoting', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_potvoting_round_id'), ['round_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('potvoting', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_potvoting_round_id'))

    op.drop_table('potvoting')
    with op.batch_alter_table('paperentry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_paperentry_sheet_id'))

    op.drop_table('paperentry')
    with op.batch_alter_table('ballotitem', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ballotitem_round_id'))
        batch_op.drop_index(batch_op.f('ix_ballotitem_pot_id'))
        batch_op.drop_index(batch_op.f('ix_ballotitem_idea_id'))

    op.drop_table('ballotitem')
    with op.batch_alter_table('ballotdraft', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ballotdraft_round_id'))

    op.drop_table('ballotdraft')
    with op.batch_alter_table('ballot', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ballot_round_id'))
        batch_op.drop_index(batch_op.f('ix_ballot_pot_id'))

    op.drop_table('ballot')
    op.drop_table('roundvoting')
    with op.batch_alter_table('participation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_participation_round_id'))

    op.drop_table('participation')
    with op.batch_alter_table('papersheet', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_papersheet_round_id'))

    op.drop_table('papersheet')
    with op.batch_alter_table('ballotlogentry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ballotlogentry_round_id'))

    op.drop_table('ballotlogentry')
