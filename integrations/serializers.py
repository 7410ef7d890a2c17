"""The registry record as the API shows it (the raw upstream payload left out)."""

from rest_framework import serializers

from integrations.cnpj.types import RegistrationStatus


class ActivitySerializer(serializers.Serializer):
    code = serializers.CharField(help_text="CNAE, 7 digits")
    description = serializers.CharField()


class PartnerSerializer(serializers.Serializer):
    name = serializers.CharField()
    role = serializers.CharField()
    since = serializers.DateField(allow_null=True)


class AddressSerializer(serializers.Serializer):
    street = serializers.CharField()
    number = serializers.CharField()
    complement = serializers.CharField()
    district = serializers.CharField()
    city = serializers.CharField()
    state = serializers.CharField(help_text="UF")
    zip_code = serializers.CharField(help_text="CEP, 8 digits")
    ibge_code = serializers.CharField()


class RegistryRecordSerializer(serializers.Serializer):
    cnpj = serializers.CharField()
    legal_name = serializers.CharField()
    trade_name = serializers.CharField()
    registration_status = serializers.ChoiceField(choices=[s.value for s in RegistrationStatus])
    status_date = serializers.DateField(allow_null=True)
    opened_on = serializers.DateField(allow_null=True)
    legal_nature = serializers.CharField()
    size = serializers.CharField()
    share_capital = serializers.DecimalField(max_digits=20, decimal_places=2, allow_null=True, coerce_to_string=True)
    main_activity = ActivitySerializer(allow_null=True)
    secondary_activities = ActivitySerializer(many=True)
    partners = PartnerSerializer(many=True)
    address = AddressSerializer()
    email = serializers.CharField()
    phone = serializers.CharField()
    source = serializers.CharField(help_text="The provider that answered: brasilapi, receitaws or cnpja.")
    fetched_at = serializers.DateTimeField(help_text="When the provider was asked (answers are cached).")
