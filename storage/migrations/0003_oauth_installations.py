from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0002_digest_and_nudge_state')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Installation',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('team_id', fields.CharField(max_length=32)),
                ('enterprise_id', fields.CharField(default='', max_length=32)),
                ('team_name', fields.CharField(default='', max_length=255)),
                ('app_id', fields.CharField(default='', max_length=32)),
                ('bot_token_sealed', fields.TextField(unique=False)),
                ('bot_id', fields.CharField(max_length=32)),
                ('bot_user_id', fields.CharField(max_length=32)),
                ('bot_scopes', fields.TextField(default='', unique=False)),
                ('installer_user_id', fields.CharField(null=True, max_length=32)),
                ('installed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'installations', 'app': 'models', 'unique_together': (('team_id', 'enterprise_id'),), 'pk_attr': 'id', 'table_description': "Hypobot's bot in one workspace, installed through OAuth (/slack/install)."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OAuthState',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('state', fields.CharField(unique=True, max_length=64)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'oauth_states', 'app': 'models', 'pk_attr': 'id', 'table_description': 'The state handed to a browser that starts an install: good once, until it expires.'},
            bases=['Model'],
        ),
    ]
