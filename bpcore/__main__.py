"""``python -m bpcore …``: the command line of bpcore.cli (also what torchrun -m bpcore runs)."""

from bpcore.cli import main

raise SystemExit(main())
