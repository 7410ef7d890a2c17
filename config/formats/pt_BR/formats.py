"""The back office's Brazilian formats: Django's pt_BR ones, with dates as dd/mm/aaaa (Django's
write the month's name: "15 de Março de 2024")."""

DATE_FORMAT = "d/m/Y"
DATETIME_FORMAT = "d/m/Y H:i"
