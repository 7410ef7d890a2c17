"""The JSON parser every view uses: DRF's, with nesting too deep for the decoder as a 400."""

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            # A small body of nested brackets exhausts Python's recursion limit in the decoder.
            raise ParseError("JSON parse error - the document is nested too deeply.") from None
