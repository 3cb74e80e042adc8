from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

# Slack's limits are the workspace's, not the process's: one replica sends a workspace's
# messages at a time, under a lease; the HTTP API's per-token rate is a row every replica
# updates.


class Migration(migrations.Migration):
    dependencies = [('models', '0007_boards')]

    initial = False

    operations = [
        ops.CreateModel(
            name='SenderLease',
            fields=[
                ('team_id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=32)),
                ('owner', fields.CharField(max_length=96)),
                ('lease_until', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('taken_over', fields.BooleanField(default=False)),
            ],
            options={'table': 'sender_leases', 'app': 'models', 'pk_attr': 'team_id', 'table_description': "Which replica sends a workspace's messages now: one at a time, so that its pace under\n    Slack's limits holds whatever the number of replicas (a lapsed lease is taken over)."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Pace',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('team_id', fields.CharField(max_length=32)),
                ('key', fields.CharField(max_length=96)),
                ('tat', fields.FloatField()),
                ('ok', fields.BooleanField(default=True)),
            ],
            options={'table': 'paces', 'app': 'models', 'unique_together': (('team_id', 'key'),), 'pk_attr': 'id', 'table_description': 'A rate limit every replica shares, kept as a generic cell rate: the instant (epoch\n    seconds) the next call would find the bucket full, and whether the last call may go.'},
            bases=['Model'],
        ),
    ]
