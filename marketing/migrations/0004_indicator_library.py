"""The indicator library (考核指标库): indicators are rows, and a marketing task
measures one of them instead of one of four fixed choices.

The library starts with the four indicators tasks could measure until now, under
the codes tasks stored, computed exactly as before:

- wealth_sales: confirmed sales of the WEALTH category, amount;
- sales_amount: confirmed sales of any product, amount;
- new_gold_vips: customers upgraded from below gold to gold or above;
- new_payroll: customers with a first payroll-product sale in the period;

and a default library of the other kinds. Existing rows are never overwritten (an
installation that made its own keeps them). Every existing task then points to the
row of its old code. Values here are literals: the migration must not change when
the app's code does."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

ASSET_CATEGORIES = ["CUSTODY", "DEP_CUR", "DEP_TIME", "FUND", "INSURANCE", "WEALTH"]
LOAN_CATEGORIES = ["LOAN_BUSINESS", "LOAN_CONSUMER", "LOAN_MORTGAGE"]

# (code, name, kind, params, unit, direction, description)
LIBRARY = [
    # the four former task indicators, exactly as they were computed
    (
        "wealth_sales",
        "理财产品销售额",
        "sales_amount",
        {"categories": ["WEALTH"]},
        "cny",
        "higher",
        "核心系统确认的理财产品（WEALTH类）销售金额，按销售日的管户客户经理归属。",
    ),
    (
        "sales_amount",
        "产品销售额（全部产品）",
        "sales_amount",
        {},
        "cny",
        "higher",
        "核心系统确认的全部产品销售金额，按销售日的管户客户经理归属。",
    ),
    (
        "new_gold_vips",
        "新增金级及以上VIP客户",
        "new_vips",
        {"tier": "gold"},
        "count",
        "higher",
        "期内由金级以下（或无等级）升至金级及以上的客户数，按升级当日的管户客户经理归属。",
    ),
    (
        "new_payroll",
        "新增代发工资客户",
        "new_customers",
        {"payroll": True},
        "count",
        "higher",
        "期内首次购买代发工资产品、此前无代发账户的客户数。",
    ),
    # the default library of the other kinds
    ("deposit_avg", "存款日均余额", "balance_avg", {"figure": "deposit"}, "cny", "higher", ""),
    ("loan_avg", "贷款日均余额", "balance_avg", {"figure": "loan"}, "cny", "higher", ""),
    ("aum_avg", "AUM日均余额", "balance_avg", {"figure": "aum"}, "cny", "higher", ""),
    (
        "deposit_end",
        "存款时点余额",
        "balance_end",
        {"categories": ["DEP_CUR", "DEP_TIME"]},
        "cny",
        "higher",
        "期末最后一个已加载营业日的存款余额。",
    ),
    ("loan_end", "贷款时点余额", "balance_end", {"categories": LOAN_CATEGORIES}, "cny", "higher", ""),
    ("aum_end", "AUM时点余额", "balance_end", {"categories": ASSET_CATEGORIES}, "cny", "higher", ""),
    (
        "deposit_avg_increment",
        "存款日均较上期增量",
        "increment",
        {"figure": "deposit", "base": "previous_period"},
        "cny",
        "higher",
        "",
    ),
    (
        "aum_avg_increment_yoy",
        "AUM日均同比增量",
        "increment",
        {"figure": "aum", "base": "same_period_last_year"},
        "cny",
        "higher",
        "",
    ),
    (
        "contribution_liability",
        "负债业务FTP贡献",
        "contribution",
        {"figure": "liability"},
        "cny",
        "higher",
        "",
    ),
    ("contribution_asset", "资产业务FTP贡献", "contribution", {"figure": "asset"}, "cny", "higher", ""),
    (
        "contribution_intermediary",
        "中间业务贡献",
        "contribution",
        {"figure": "intermediary"},
        "cny",
        "higher",
        "",
    ),
    ("contribution_total", "综合贡献", "contribution", {"figure": "total"}, "cny", "higher", ""),
    ("intermediary_income", "中间业务收入", "intermediary_income", {}, "cny", "higher", ""),
    ("sales_count", "产品销售笔数", "sales_count", {}, "count", "higher", ""),
    (
        "product_types",
        "客户新购产品种类数",
        "sales_count",
        {"distinct_products_per_customer": True},
        "count",
        "higher",
        "每位客户期内新购的不同产品各计一次。",
    ),
    ("new_accounts", "新开账户数", "new_accounts", {}, "count", "higher", ""),
    ("new_customers", "新增客户数", "new_customers", {}, "count", "higher", "期内开立首个账户的客户数。"),
    ("tier_upgrades", "客户等级提升数", "tier_upgrades", {}, "count", "higher", ""),
    (
        "lost_gold_vips",
        "流失金级及以上VIP客户",
        "lost_vips",
        {"tier": "gold"},
        "count",
        "deduction",
        "期内由金级及以上降至金级以下的客户数（扣分项）。",
    ),
    ("contacts", "客户接触次数", "contacts", {}, "count", "higher", "走访、电话、短信、微信、邮件。"),
    ("campaign_conversions", "营销活动转化客户数", "campaign_conversions", {}, "count", "higher", ""),
]
FORMER_CHOICES = ["wealth_sales", "sales_amount", "new_gold_vips", "new_payroll"]


def _constraints_now(schema_editor):
    # PostgreSQL: the rows just updated carry deferred foreign-key checks; the
    # columns of the same table change next, which it refuses while checks wait.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def seed_and_convert(apps, schema_editor):
    Indicator = apps.get_model("marketing", "Indicator")
    MarketingTask = apps.get_model("marketing", "MarketingTask")
    for code, name, kind, params, unit, direction, description in LIBRARY:
        Indicator.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "kind": kind,
                "params": params,
                "unit": unit,
                "direction": direction,
                "description": description,
            },
        )
    unknown = sorted(
        set(MarketingTask.objects.exclude(indicator__in=FORMER_CHOICES).values_list("indicator", flat=True))
    )
    if unknown:
        raise RuntimeError(f"Marketing tasks with unknown indicators {unknown}: fix them before migrating.")
    for code in FORMER_CHOICES:
        MarketingTask.objects.filter(indicator=code).update(
            library_indicator=Indicator.objects.get(code=code)
        )
    _constraints_now(schema_editor)


def back_to_choices(apps, schema_editor):
    MarketingTask = apps.get_model("marketing", "MarketingTask")
    other = MarketingTask.objects.exclude(library_indicator__code__in=FORMER_CHOICES)
    if other.exists():
        raise RuntimeError("Some tasks measure indicators the former four choices cannot express.")
    for code in FORMER_CHOICES:
        MarketingTask.objects.filter(library_indicator__code=code).update(indicator=code)
    _constraints_now(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("marketing", "0003_approval_record"),
    ]

    operations = [
        migrations.CreateModel(
            name="Indicator",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("code", models.SlugField(max_length=40, unique=True, verbose_name="code")),
                ("name", models.CharField(max_length=100, verbose_name="name")),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("balance_end", "Period-end balance of account categories"),
                            ("balance_avg", "Daily average balance (deposit, loan or AUM)"),
                            ("contribution", "FTP contribution"),
                            ("increment", "Increment over a base period"),
                            ("sales_amount", "Sales amount"),
                            ("sales_count", "Sales count"),
                            ("new_accounts", "Newly opened accounts"),
                            ("intermediary_income", "Intermediary income"),
                            ("new_customers", "New customers"),
                            ("new_vips", "New VIPs"),
                            ("tier_upgrades", "Tier upgrades"),
                            ("lost_vips", "Lost VIPs"),
                            ("contacts", "Contacts made"),
                            ("campaign_conversions", "Campaign conversions"),
                            ("task_completion", "Marketing-task completion"),
                        ],
                        max_length=24,
                        verbose_name="kind",
                    ),
                ),
                ("params", models.JSONField(blank=True, default=dict, verbose_name="parameters")),
                (
                    "unit",
                    models.CharField(
                        choices=[("cny", "CNY"), ("count", "Count"), ("percent", "Percent")],
                        max_length=8,
                        verbose_name="unit",
                    ),
                ),
                (
                    "direction",
                    models.CharField(
                        choices=[("higher", "Higher is better"), ("deduction", "Deduction: lower is better")],
                        default="higher",
                        max_length=10,
                        verbose_name="direction",
                    ),
                ),
                ("description", models.TextField(blank=True, max_length=2000, verbose_name="description")),
                ("active", models.BooleanField(default=True, verbose_name="active")),
                (
                    "created_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, editable=False, verbose_name="created"
                    ),
                ),
                (
                    "updated_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, editable=False, verbose_name="updated"
                    ),
                ),
            ],
            options={
                "verbose_name": "indicator (考核指标)",
                "verbose_name_plural": "indicators",
                "ordering": ["code"],
            },
        ),
        migrations.AddField(
            model_name="marketingtask",
            name="library_indicator",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="marketing.indicator",
            ),
        ),
        migrations.RunPython(seed_and_convert, back_to_choices),
        # a default only so that going back can add the column to existing rows
        # (back_to_choices then writes each task's code)
        migrations.AlterField(
            model_name="marketingtask",
            name="indicator",
            field=models.CharField(
                choices=[
                    ("wealth_sales", "Wealth-product sales amount (CNY)"),
                    ("sales_amount", "Sales amount, all products (CNY)"),
                    ("new_gold_vips", "New gold-or-above VIPs"),
                    ("new_payroll", "New payroll customers"),
                ],
                default="",
                max_length=16,
                verbose_name="indicator",
            ),
        ),
        migrations.RemoveField(model_name="marketingtask", name="indicator"),
        migrations.RenameField(
            model_name="marketingtask", old_name="library_indicator", new_name="indicator"
        ),
        migrations.AlterField(
            model_name="marketingtask",
            name="indicator",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="tasks",
                to="marketing.indicator",
                verbose_name="indicator",
            ),
        ),
    ]
