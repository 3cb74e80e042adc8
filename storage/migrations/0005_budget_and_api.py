from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
# Tortoise's own JSON codec (orjson when installed, the standard library otherwise).
from tortoise.fields.data import JSON_DUMPS, JSON_LOADS

# A channel's nudge budget (`settings nudges-per-day N`), where API evidence came from, and
# the HTTP API's tokens (hashed) and idempotent requests.


class Migration(migrations.Migration):
    dependencies = [('models', '0004_time_rules')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Channel',
            name='nudges_per_day',
            field=fields.IntField(default=5, db_default=5),
        ),
        ops.AddField(
            model_name='Evidence',
            name='source_name',
            field=fields.CharField(default='', db_default='', max_length=64),
        ),
        ops.CreateModel(
            name='ApiToken',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('team_id', fields.CharField(max_length=32)),
                ('name', fields.CharField(max_length=64)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('last_used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'api_tokens', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A token for the HTTP API: belongs to one workspace, stored as a SHA-256 hash only.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ApiRequest',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('team_id', fields.CharField(max_length=32)),
                ('idempotency_key', fields.CharField(max_length=255)),
                ('token_id', fields.IntField()),
                ('method', fields.CharField(max_length=8)),
                ('path', fields.CharField(max_length=255)),
                ('status', fields.IntField()),
                ('response', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=JSON_LOADS)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'api_requests', 'app': 'models', 'unique_together': (('team_id', 'idempotency_key'),), 'pk_attr': 'id', 'table_description': 'An API call made with an Idempotency-Key: the same key again gets the same answer.'},
            bases=['Model'],
        ),
    ]
