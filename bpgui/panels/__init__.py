"""Settings panels of the desktop trainer: data source and split, CSV import, network architecture, and the
training settings the toolbar has no room for."""

from bpgui.panels.arch_editor import ArchitectureEditor
from bpgui.panels.csv_dialog import CsvImportDialog
from bpgui.panels.data_panel import DataPanel
from bpgui.panels.training_panel import TrainingDialog, TrainingPanel

__all__ = ["ArchitectureEditor", "CsvImportDialog", "DataPanel", "TrainingDialog", "TrainingPanel"]
