"""URL path converter: `<cnpj:cnpj>` matches 14 compact characters and yields the stored form."""

from companies import cnpj as cnpj_value


class CNPJConverter:
    # Letters in any case; the value is upper-cased and validated in to_python. Anything that is
    # not a valid CNPJ makes Django try the next pattern and, finding none, answer 404.
    regex = "[0-9A-Za-z]{14}"

    def to_python(self, value: str) -> str:
        try:
            return cnpj_value.normalize(value)
        except cnpj_value.InvalidCNPJ as exc:
            raise ValueError(str(exc)) from exc

    def to_url(self, value: str) -> str:
        return cnpj_value.compact(value)
