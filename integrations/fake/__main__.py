"""`python -m integrations.fake --port 8765`: serve the fake upstreams on loopback until Ctrl-C."""

import argparse
import sys

from integrations.fake.companies import trigger_cnpj
from integrations.fake.server import FakeServer
from integrations.fake.state import check_rate


def rate(text: str) -> tuple[str, tuple[int, float]]:
    """`brasilapi=1200/60` -> ("brasilapi", (1200, 60)): at most 1200 requests in any 60 seconds."""
    provider, _, limit = text.partition("=")
    requests, _, seconds = limit.partition("/")
    try:
        count, window = int(requests), float(seconds)
        return provider.strip(), check_rate(provider.strip(), (count, int(window) if window.is_integer() else window))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r}: {exc} (expected PROVIDER=REQUESTS/SECONDS)") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m integrations.fake", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--slow-seconds", type=float, default=3.0, help="delay of the slow-answer CNPJs")
    parser.add_argument("--retry-after", type=int, default=2, help="Retry-After of the 429 answers")
    parser.add_argument(
        "--rate",
        type=rate,
        action="append",
        default=[],
        metavar="PROVIDER=REQUESTS/SECONDS",
        help="limit a provider (brasilapi, receitaws, cnpja, pipefy), e.g. brasilapi=1200/60; repeatable",
    )
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)

    server = FakeServer(
        host=args.host,
        port=args.port,
        slow_seconds=args.slow_seconds,
        retry_after=args.retry_after,
        rates=dict(args.rate),
        verbose=args.verbose,
    )
    print(f"Fake upstreams on {server.url}; point the project at them with:", flush=True)
    for name, value in server.settings().items():
        print(f"  export {name}={value}")
    print("  export PIPEFY_TOKEN=fake-token PIPEFY_PIPE_ID=1 PIPEFY_AUTO_PUSH=true")
    print(
        "Trigger CNPJs (every provider): "
        + ", ".join(
            f"{label} {trigger_cnpj(prefix)}"
            for label, prefix in (("404", "404"), ("429", "429"), ("500", "500"), ("malformed", "200"), ("slow", "408"))
        ),
        flush=True,
    )
    limits = server.state.current_rates()
    print(
        "Rate limits: "
        + (", ".join(f"{name} {n}/{seconds}s" for name, (n, seconds) in limits.items()) or "none")
        + f" (change them with POST {server.url}/_fake/rates)",
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
