"""alert cooldowns

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 08:16:48.180252
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alert_cooldowns",
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column(
            "last_sent_ts", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column(
            "count_suppressed",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_alert_cooldowns")),
    )


def downgrade() -> None:
    op.drop_table("alert_cooldowns")
