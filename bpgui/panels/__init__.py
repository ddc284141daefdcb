"""Settings panels of the desktop trainer: data source and split, CSV import, network architecture."""

from bpgui.panels.arch_editor import ArchitectureEditor
from bpgui.panels.csv_dialog import CsvImportDialog
from bpgui.panels.data_panel import DataPanel

__all__ = ["ArchitectureEditor", "CsvImportDialog", "DataPanel"]
