"""`python -m integrations.fake --port 8765`: serve the fake upstreams on loopback until Ctrl-C."""

import argparse
import sys

from integrations.fake.companies import trigger_cnpj
from integrations.fake.server import FakeServer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m integrations.fake", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--slow-seconds", type=float, default=3.0, help="delay of the slow-answer CNPJs")
    parser.add_argument("--retry-after", type=int, default=2, help="Retry-After of the 429 answers")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)

    server = FakeServer(
        host=args.host,
        port=args.port,
        slow_seconds=args.slow_seconds,
        retry_after=args.retry_after,
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
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
