"""Start the Backprop Lab desktop trainer: `python main.py`."""

from bpgui.app import main

if __name__ == "__main__":
    raise SystemExit(main())
