from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

# "Within N" of a signal is kept as a duration and counts from shipping (T1); time to
# feedback ends at the posted time of the first decisive evidence after shipping (T5), and
# "killed without evidence" needs the first decisive evidence at any time (T9). Both
# moments are recomputed from the evidence already recorded, so upgraded bets read the same
# as new ones.
DECISIVE = "('supports', 'refutes')"


class Migration(migrations.Migration):
    dependencies = [('models', '0003_oauth_installations')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Bet',
            name='expect_within_s',
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name='Bet',
            name='first_decisive_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.RunSQL(
            [
                "UPDATE bets SET first_decisive_at = (SELECT MIN(e.at) FROM evidence e "
                f"WHERE e.bet_id = bets.id AND e.verdict IN {DECISIVE})",
                "UPDATE bets SET first_feedback_at = (SELECT MIN(e.at) FROM evidence e "
                f"WHERE e.bet_id = bets.id AND e.verdict IN {DECISIVE} "
                "AND bets.shipped_at IS NOT NULL AND e.at >= bets.shipped_at)",
            ],
            reverse_sql=[],
        ),
    ]
