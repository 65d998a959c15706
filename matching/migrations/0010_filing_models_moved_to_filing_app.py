"""The filing models leave matching's state; their tables and rows stay where they are."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('matching', '0009_ace_opportunity_id_once'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # The ACE opportunity, credit applications and commission now belong to the filing app
            # (filing 0001 takes them over). Their tables stay as they are, named matching_*: nothing
            # in the database changes, only which app Django says owns them.
            database_operations=[],
            state_operations=[
                migrations.RemoveField(
                    model_name='acestatuschange',
                    name='opportunity',
                ),
                migrations.RemoveField(
                    model_name='acestatuschange',
                    name='changed_by',
                ),
                migrations.RemoveField(
                    model_name='commission',
                    name='credit_application',
                ),
                migrations.RemoveField(
                    model_name='commission',
                    name='partner',
                ),
                migrations.RemoveField(
                    model_name='commissionentry',
                    name='commission',
                ),
                migrations.RemoveField(
                    model_name='commissionentry',
                    name='created_by',
                ),
                migrations.RemoveField(
                    model_name='creditapplication',
                    name='engagement',
                ),
                migrations.RemoveField(
                    model_name='creditapplication',
                    name='pool',
                ),
                migrations.RemoveField(
                    model_name='creditapplicationstatuschange',
                    name='application',
                ),
                migrations.RemoveField(
                    model_name='creditapplicationstatuschange',
                    name='changed_by',
                ),
                migrations.DeleteModel(
                    name='AceOpportunity',
                ),
                migrations.DeleteModel(
                    name='AceStatusChange',
                ),
                migrations.DeleteModel(
                    name='Commission',
                ),
                migrations.DeleteModel(
                    name='CommissionEntry',
                ),
                migrations.DeleteModel(
                    name='CreditApplication',
                ),
                migrations.DeleteModel(
                    name='CreditApplicationStatusChange',
                ),
            ],
        ),
    ]
