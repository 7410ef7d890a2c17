"""A local stand-in for the outside world: BrasilAPI, ReceitaWS, CNPJá and Pipefy's GraphQL.

Run it with `python -m integrations.fake --port 8765`; see `integrations.fake.companies` for the
CNPJs that make it misbehave on purpose.
"""

from integrations.fake.server import FakeServer

__all__ = ["FakeServer"]
