"""Start the Backprop Lab desktop trainer: `python main.py` (options: `python main.py --help`)."""

import sys

if __name__ == "__main__":
    try:  # Qt and torch take seconds to import: a Ctrl+C then ends the start-up with one line, not a traceback
        from bpgui.app import main

        code = main()
    except KeyboardInterrupt:
        print("bpgui: interrupted", file=sys.stderr)
        code = 130
    raise SystemExit(code)
