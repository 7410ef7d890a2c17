"""A local stand-in for the outside world: BrasilAPI, ReceitaWS, CNPJá and Pipefy's GraphQL.

Run it with `python -m integrations.fake --port 8765 [--rate brasilapi=1200/60 ...]`; see
`integrations.fake.companies` for the CNPJs that make it misbehave on purpose, and
`integrations.fake.server` for its rate limits, scripted answers and outcome counts.
"""

from integrations.fake.server import FakeServer

__all__ = ["FakeServer"]
