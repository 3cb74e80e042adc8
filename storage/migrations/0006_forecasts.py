from datetime import UTC, datetime

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

# Forecasts that count every bet (docs/rules.md, F6): each bet's 85 % forecast is recorded
# when it ships, and a channel's track record starts when recording began, which for a
# channel that existed before this release is the upgrade (bets shipped before have none).
# The nudge sweep's escalations are one kind everywhere: "escalation", as the outbox calls
# them (claims and events written as "escalate" before are renamed, so no run is redone).


async def _forecasts_from_now(apps, schema_editor) -> None:
    moment = fields.DatetimeField(null=True).to_db_value(datetime.now(UTC), None)
    placeholder = "$1" if schema_editor.client.capabilities.dialect == "postgres" else "?"
    await schema_editor.client.execute_query(
        f"UPDATE channels SET forecasts_since = {placeholder} WHERE forecasts_since IS NULL",
        [moment],
    )


class Migration(migrations.Migration):
    dependencies = [('models', '0005_budget_and_api')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Bet',
            name='forecast_at_ship',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Channel',
            name='forecasts_since',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.RunPython(_forecasts_from_now, ops.RunPython.noop),
        ops.RunSQL(
            [
                "UPDATE claims SET job = 'escalation' WHERE job = 'escalate'",
                "UPDATE events SET kind = 'escalation' WHERE kind = 'escalate'",
            ],
            reverse_sql=[],
        ),
    ]
