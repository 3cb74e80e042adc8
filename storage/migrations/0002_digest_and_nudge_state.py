from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Bet',
            name='unanswered_nudges',
            field=fields.IntField(default=0),
        ),
        ops.AddField(
            model_name='Channel',
            name='last_digest_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Channel',
            name='last_digest_on',
            field=fields.CharField(null=True, max_length=10),
        ),
    ]
