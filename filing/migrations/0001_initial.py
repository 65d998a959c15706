"""The filing app takes over the ACE opportunity, credit applications and commission from matching
(matching 0010 let them go) without touching a table: the models keep their matching_* tables
(Meta.db_table). Django's content types of the six models are relabelled matching -> filing, so
their permissions (and every group's and login's grant of them) and the admin's log entries
follow the models instead of being orphaned and recreated empty."""

import django.core.validators
import django.db.models.deletion
import filing.models.filings
import uuid
from decimal import Decimal
from django.conf import settings
from django.db import migrations, models


MOVED_MODELS = [
    "aceopportunity", "acestatuschange", "commission", "commissionentry", "creditapplication",
    "creditapplicationstatuschange",
]


def _relabel(apps, schema_editor, old: str, new: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    types = ContentType.objects.using(schema_editor.connection.alias)
    for model in MOVED_MODELS:
        if not types.filter(app_label=old, model=model).exists():
            continue  # a new database: post_migrate makes the new label's row
        # A row under the new label can only be an empty one post_migrate made earlier: the old
        # row carries the grants and log entries, so it is the one kept.
        types.filter(app_label=new, model=model).delete()
        types.filter(app_label=old, model=model).update(app_label=new)
    from django.contrib.contenttypes.models import ContentType as LiveContentType

    LiveContentType.objects.clear_cache()


def content_types_to_filing(apps, schema_editor):
    _relabel(apps, schema_editor, "matching", "filing")


def content_types_to_matching(apps, schema_editor):
    _relabel(apps, schema_editor, "filing", "matching")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('matching', '0010_filing_models_moved_to_filing_app'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ('contenttypes', '0002_remove_content_type_name'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # Tables already exist (made by matching 0003 and 0009, named matching_*): state only.
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='AceOpportunity',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('uuid', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                        ('catalog', models.CharField(help_text='Partner Central catalog: Sandbox or AWS.', max_length=20)),
                        ('partner_central_id', models.CharField(blank=True, db_index=True, help_text='e.g. O1234567', max_length=25, verbose_name='Partner Central opportunity id')),
                        ('partner_central_arn', models.CharField(blank=True, max_length=300)),
                        ('partner_central_modified_at', models.DateTimeField(blank=True, null=True)),
                        ('company_name', models.CharField(max_length=120)),
                        ('website_url', models.CharField(blank=True, max_length=255)),
                        ('industry', models.CharField(blank=True, choices=[('Aerospace', 'Aerospace'), ('Agriculture', 'Agriculture'), ('Automotive', 'Automotive'), ('Computers and Electronics', 'Computers and Electronics'), ('Consumer Goods', 'Consumer Goods'), ('Education', 'Education'), ('Energy - Oil and Gas', 'Energy - Oil and Gas'), ('Energy - Power and Utilities', 'Energy - Power and Utilities'), ('Financial Services', 'Financial Services'), ('Gaming', 'Gaming'), ('Government', 'Government'), ('Healthcare', 'Healthcare'), ('Hospitality', 'Hospitality'), ('Life Sciences', 'Life Sciences'), ('Manufacturing', 'Manufacturing'), ('Marketing and Advertising', 'Marketing and Advertising'), ('Media and Entertainment', 'Media and Entertainment'), ('Mining', 'Mining'), ('Non-Profit Organization', 'Non-Profit Organization'), ('Professional Services', 'Professional Services'), ('Real Estate and Construction', 'Real Estate and Construction'), ('Retail', 'Retail'), ('Software and Internet', 'Software and Internet'), ('Telecommunications', 'Telecommunications'), ('Transportation and Logistics', 'Transportation and Logistics'), ('Travel', 'Travel'), ('Wholesale and Distribution', 'Wholesale and Distribution'), ('Other', 'Other')], max_length=40)),
                        ('other_industry', models.CharField(blank=True, help_text='Required when industry is Other.', max_length=255)),
                        ('country_code', models.CharField(help_text='ISO 3166-1 alpha-2, e.g. US.', max_length=2)),
                        ('postal_code', models.CharField(blank=True, max_length=20)),
                        ('aws_account_id', models.CharField(blank=True, max_length=12)),
                        ('contact_first_name', models.CharField(blank=True, max_length=80)),
                        ('contact_last_name', models.CharField(blank=True, max_length=80)),
                        ('contact_email', models.CharField(blank=True, max_length=80)),
                        ('contact_phone', models.CharField(blank=True, help_text='E.164, e.g. +14155550100.', max_length=16)),
                        ('contact_title', models.CharField(blank=True, max_length=80)),
                        ('title', models.CharField(max_length=255)),
                        ('customer_business_problem', models.TextField(help_text='20 to 2000 characters.')),
                        ('customer_use_case', models.CharField(blank=True, max_length=255)),
                        ('delivery_models', models.JSONField(blank=True, default=filing.models.filings._list_default, help_text='DeliveryModel values.')),
                        ('primary_needs', models.JSONField(blank=True, default=filing.models.filings._list_default, help_text='PrimaryNeedFromAws values.')),
                        ('sales_activities', models.JSONField(blank=True, default=filing.models.filings._list_default, help_text='SalesActivity values.')),
                        ('competitor_name', models.CharField(blank=True, choices=[('Oracle Cloud', 'Oracle Cloud'), ('On-Prem', 'On-Prem'), ('Co-location', 'Co-location'), ('Akamai', 'Akamai'), ('AliCloud', 'AliCloud'), ('Google Cloud Platform', 'Google Cloud Platform'), ('IBM Softlayer', 'IBM Softlayer'), ('Microsoft Azure', 'Microsoft Azure'), ('Other- Cost Optimization', 'Other- Cost Optimization'), ('No Competition', 'No Competition'), ('*Other', '*Other')], max_length=40)),
                        ('other_competitor_names', models.CharField(blank=True, max_length=255)),
                        ('expected_monthly_spend', models.DecimalField(decimal_places=2, default=Decimal('0'), max_digits=14, validators=[django.core.validators.MinValueValidator(0)])),
                        ('currency', models.CharField(default='USD', max_length=3)),
                        ('target_close_date', models.DateField(blank=True, null=True)),
                        ('additional_comments', models.CharField(blank=True, max_length=255)),
                        ('origin', models.CharField(choices=[('AWS Referral', 'AWS Referral'), ('Partner Referral', 'Partner Referral')], default='Partner Referral', max_length=20)),
                        ('opportunity_type', models.CharField(choices=[('Net New Business', 'Net New Business'), ('Flat Renewal', 'Flat Renewal'), ('Expansion', 'Expansion')], default='Net New Business', max_length=20)),
                        ('involvement_type', models.CharField(choices=[('For Visibility Only', 'For Visibility Only'), ('Co-Sell', 'Co-Sell')], default='Co-Sell', max_length=20)),
                        ('visibility', models.CharField(choices=[('Full', 'Full'), ('Limited', 'Limited')], default='Full', max_length=10)),
                        ('stage', models.CharField(choices=[('Prospect', 'Prospect'), ('Qualified', 'Qualified'), ('Technical Validation', 'Technical Validation'), ('Business Validation', 'Business Validation'), ('Committed', 'Committed'), ('Launched', 'Launched'), ('Closed Lost', 'Closed Lost')], default='Prospect', max_length=25)),
                        ('closed_lost_reason', models.CharField(blank=True, choices=[('Customer Deficiency', 'Customer Deficiency'), ('Delay / Cancellation of Project', 'Delay / Cancellation of Project'), ('Legal / Tax / Regulatory', 'Legal / Tax / Regulatory'), ('Lost to Competitor - Google', 'Lost to Competitor - Google'), ('Lost to Competitor - Microsoft', 'Lost to Competitor - Microsoft'), ('Lost to Competitor - SoftLayer', 'Lost to Competitor - SoftLayer'), ('Lost to Competitor - VMWare', 'Lost to Competitor - VMWare'), ('Lost to Competitor - Other', 'Lost to Competitor - Other'), ('No Opportunity', 'No Opportunity'), ('On Premises Deployment', 'On Premises Deployment'), ('Partner Gap', 'Partner Gap'), ('Price', 'Price'), ('Security / Compliance', 'Security / Compliance'), ('Technical Limitations', 'Technical Limitations'), ('Customer Experience', 'Customer Experience'), ('Other', 'Other'), ('People/Relationship/Governance', 'People/Relationship/Governance'), ('Product/Technology', 'Product/Technology'), ('Financial/Commercial', 'Financial/Commercial')], max_length=40)),
                        ('next_steps', models.CharField(blank=True, max_length=255)),
                        ('review_status', models.CharField(choices=[('Pending Submission', 'Pending Submission'), ('Submitted', 'Submitted'), ('In review', 'In review'), ('Approved', 'Approved'), ('Rejected', 'Rejected'), ('Action Required', 'Action Required')], default='Pending Submission', max_length=20)),
                        ('review_comments', models.TextField(blank=True)),
                        ('review_status_reason', models.TextField(blank=True)),
                        ('last_error', models.TextField(blank=True)),
                        ('last_error_at', models.DateTimeField(blank=True, null=True)),
                        ('submitted_at', models.DateTimeField(blank=True, null=True)),
                        ('last_synced_at', models.DateTimeField(blank=True, null=True)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('engagement', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='ace_opportunity', to='matching.engagement')),
                    ],
                    options={
                        'verbose_name': 'ACE opportunity',
                        'verbose_name_plural': 'ACE opportunities',
                        'db_table': 'matching_aceopportunity',
                        'ordering': ['-created_at'],
                    },
                ),
                migrations.CreateModel(
                    name='AceStatusChange',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('field', models.CharField(choices=[('stage', 'Stage'), ('review_status', 'Review status')], max_length=20)),
                        ('from_value', models.CharField(blank=True, max_length=40)),
                        ('to_value', models.CharField(max_length=40)),
                        ('comment', models.TextField(blank=True, help_text='Review comments or closed-lost reason at the time.')),
                        ('source', models.CharField(choices=[('partner_central', 'Read back from Partner Central'), ('manual', 'Recorded by hand'), ('filing', 'Filed through CloudRoute')], max_length=20)),
                        ('changed_at', models.DateTimeField(auto_now_add=True)),
                        ('changed_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, to=settings.AUTH_USER_MODEL)),
                        ('opportunity', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='history', to='filing.aceopportunity')),
                    ],
                    options={
                        'db_table': 'matching_acestatuschange',
                        'ordering': ['changed_at', 'id'],
                    },
                ),
                migrations.CreateModel(
                    name='Commission',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('rate', models.DecimalField(decimal_places=4, help_text="The partner's rate when it accrued.", max_digits=5)),
                        ('currency', models.CharField(default='USD', max_length=3)),
                        ('status', models.CharField(choices=[('accrued', 'Accrued'), ('invoiced', 'Invoiced'), ('paid', 'Paid'), ('written_off', 'Written off')], default='accrued', max_length=20)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('partner', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='commissions', to='matching.partner')),
                    ],
                    options={
                        'db_table': 'matching_commission',
                        'ordering': ['-created_at'],
                    },
                ),
                migrations.CreateModel(
                    name='CommissionEntry',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('accrual', 'Accrual'), ('correction', 'Correction'), ('invoiced', 'Invoiced'), ('paid', 'Paid'), ('written_off', 'Written off')], max_length=20)),
                        ('amount', models.DecimalField(decimal_places=2, default=Decimal('0.00'), max_digits=12)),
                        ('base_amount', models.DecimalField(blank=True, decimal_places=2, help_text='Approved amount the money entry is on.', max_digits=12, null=True)),
                        ('note', models.TextField(blank=True)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('commission', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='entries', to='filing.commission')),
                        ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'verbose_name_plural': 'commission entries',
                        'db_table': 'matching_commissionentry',
                        'ordering': ['created_at', 'id'],
                    },
                ),
                migrations.CreateModel(
                    name='CreditApplication',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('uuid', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                        ('catalog', models.CharField(blank=True, max_length=20)),
                        ('benefit_application_id', models.CharField(blank=True, db_index=True, help_text='benappl-…', max_length=30)),
                        ('benefit_application_arn', models.CharField(blank=True, max_length=300)),
                        ('currency', models.CharField(default='USD', max_length=3)),
                        ('amount_requested', models.DecimalField(decimal_places=2, max_digits=12, validators=[django.core.validators.MinValueValidator(0)])),
                        ('amount_approved', models.DecimalField(blank=True, decimal_places=2, max_digits=12, null=True, validators=[django.core.validators.MinValueValidator(0)])),
                        ('status', models.CharField(choices=[('PENDING_SUBMISSION', 'Pending submission'), ('IN_REVIEW', 'In review'), ('ACTION_REQUIRED', 'Action required'), ('APPROVED', 'Approved'), ('REJECTED', 'Rejected'), ('CANCELED', 'Canceled')], default='PENDING_SUBMISSION', max_length=20)),
                        ('status_reason', models.TextField(blank=True)),
                        ('submitted_at', models.DateTimeField(blank=True, null=True)),
                        ('decided_at', models.DateTimeField(blank=True, help_text='When it was approved, rejected or canceled.', null=True)),
                        ('expires_on', models.DateField(blank=True, help_text='When the approved credits expire.', null=True)),
                        ('last_error', models.TextField(blank=True)),
                        ('last_error_at', models.DateTimeField(blank=True, null=True)),
                        ('last_synced_at', models.DateTimeField(blank=True, null=True)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('engagement', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='credit_applications', to='matching.engagement')),
                        ('pool', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='credit_applications', to='matching.creditpool')),
                    ],
                    options={
                        'db_table': 'matching_creditapplication',
                        'ordering': ['-created_at'],
                    },
                ),
                migrations.AddField(
                    model_name='commission',
                    name='credit_application',
                    field=models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='commission', to='filing.creditapplication'),
                ),
                migrations.CreateModel(
                    name='CreditApplicationStatusChange',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('from_status', models.CharField(blank=True, choices=[('PENDING_SUBMISSION', 'Pending submission'), ('IN_REVIEW', 'In review'), ('ACTION_REQUIRED', 'Action required'), ('APPROVED', 'Approved'), ('REJECTED', 'Rejected'), ('CANCELED', 'Canceled')], max_length=20)),
                        ('to_status', models.CharField(choices=[('PENDING_SUBMISSION', 'Pending submission'), ('IN_REVIEW', 'In review'), ('ACTION_REQUIRED', 'Action required'), ('APPROVED', 'Approved'), ('REJECTED', 'Rejected'), ('CANCELED', 'Canceled')], max_length=20)),
                        ('reason', models.TextField(blank=True)),
                        ('source', models.CharField(choices=[('partner_central', 'Read back from Partner Central'), ('manual', 'Recorded by hand'), ('filing', 'Filed through CloudRoute')], max_length=20)),
                        ('changed_at', models.DateTimeField(auto_now_add=True)),
                        ('application', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='history', to='filing.creditapplication')),
                        ('changed_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'matching_creditapplicationstatuschange',
                        'ordering': ['changed_at', 'id'],
                    },
                ),
                migrations.AddConstraint(
                    model_name='aceopportunity',
                    constraint=models.UniqueConstraint(condition=models.Q(('partner_central_id', ''), _negated=True), fields=('partner_central_id',), name='ace_opportunity_partner_central_id_once'),
                ),
                migrations.AddIndex(
                    model_name='acestatuschange',
                    index=models.Index(fields=['field', 'to_value', 'changed_at'], name='matching_ac_field_dfebff_idx'),
                ),
                migrations.AddConstraint(
                    model_name='creditapplication',
                    constraint=models.UniqueConstraint(fields=('engagement', 'pool'), name='one_credit_application_per_pool'),
                ),
                migrations.AddIndex(
                    model_name='creditapplicationstatuschange',
                    index=models.Index(fields=['to_status', 'changed_at'], name='matching_cr_to_stat_971341_idx'),
                ),
            ],
        ),
        migrations.RunPython(content_types_to_filing, content_types_to_matching),
    ]
