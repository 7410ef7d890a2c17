"""No index on the history table's copy of the CNPJ (nor its pattern index): the history is read by
company id (the API, the admin), never by CNPJ, and the two random-key indexes were a large share
of the cost of inserting companies in bulk."""

from django.db import migrations, models

import companies.cnpj


class Migration(migrations.Migration):

    dependencies = [
        ('companies', '0003_fewer_write_indexes'),
    ]

    operations = [
        migrations.AlterField(
            model_name='historicalcompany',
            name='cnpj',
            field=models.CharField(help_text='14 characters, compact upper-case form; immutable.', max_length=14, validators=[companies.cnpj.validate_cnpj], verbose_name='CNPJ'),
        ),
    ]
