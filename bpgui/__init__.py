"""bpgui — the Backprop Lab desktop trainer (PySide6 + pyqtgraph): a view on bpcore.train."""
