"""``python -m bpcore …``: the command line of bpcore.cli (also what torchrun -m bpcore runs)."""

import sys

try:  # importing torch takes seconds: a Ctrl+C then is an interrupted start-up, one line and 130
    from bpcore.cli import main  # 130 below is bpcore.cli.EXIT_INTERRUPTED, which may not be imported yet
except KeyboardInterrupt:
    print("bpcore: interrupted", file=sys.stderr)
    raise SystemExit(130) from None

raise SystemExit(main())
