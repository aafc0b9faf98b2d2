"""``loopcrm``: run the whole platform locally (``up``) and create topics (``topics``)."""

from __future__ import annotations

import argparse
import asyncio
import sys

from shared.messaging.topics import ensure_topics


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="loopcrm", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    up = commands.add_parser("up", help="start the broker and the five services; Ctrl-C stops all")
    up.add_argument("--var-dir", default="var", help="databases and logs (default: var/)")
    up.add_argument("--ready-timeout", type=float, default=60.0, help="seconds to wait for /readyz")

    topics = commands.add_parser("topics", help="create every catalogue topic and its .dlq")
    topics.add_argument("--bootstrap", default=None, help="default: LOOPCRM_KAFKA_BOOTSTRAP")
    topics.add_argument("--partitions", type=int, default=3)

    args = parser.parse_args(argv)
    if args.command == "up":
        from shared.launcher import Launcher

        return Launcher(var_dir=args.var_dir, ready_timeout=args.ready_timeout).run()
    if args.command == "topics":
        from shared.settings import ServiceSettings

        bootstrap = args.bootstrap or ServiceSettings().kafka_bootstrap
        created = asyncio.run(ensure_topics(bootstrap, partitions=args.partitions))
        print(f"{len(created)} topics created on {bootstrap}")
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
