from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

# A channel's board: the canvas Hypobot keeps its bets in (`/hypothesis board`).


class Migration(migrations.Migration):
    dependencies = [('models', '0006_forecasts')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Board',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('team_id', fields.CharField(max_length=32)),
                ('channel_id', fields.CharField(max_length=32)),
                ('canvas_id', fields.CharField(max_length=32)),
                ('channel_canvas', fields.BooleanField()),
                ('enabled', fields.BooleanField(default=True)),
                ('owner_id', fields.CharField(max_length=32)),
                ('refreshed_on', fields.CharField(null=True, max_length=10)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'boards', 'app': 'models', 'unique_together': (('team_id', 'channel_id'),), 'pk_attr': 'id', 'table_description': "A channel's board: the canvas Hypobot keeps its bets in (`/hypothesis board`)."},
            bases=['Model'],
        ),
    ]
