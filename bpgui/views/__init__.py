"""Live views of the desktop trainer: reusable widgets that only draw the numpy arrays they are given."""

from bpgui.views.confusion_view import ConfusionView
from bpgui.views.criteria_view import CriteriaPanel
from bpgui.views.decision_view import DecisionView
from bpgui.views.gradient_view import GradientView
from bpgui.views.heatmap import LayerHeatmaps, MatrixHeatmap
from bpgui.views.loss_plot import LossPlot
from bpgui.views.network_view import NetworkDiagram
from bpgui.views.palette import class_colours
from bpgui.views.scatter_view import DataScatter

__all__ = [
    "ConfusionView",
    "CriteriaPanel",
    "DataScatter",
    "DecisionView",
    "GradientView",
    "LayerHeatmaps",
    "LossPlot",
    "MatrixHeatmap",
    "NetworkDiagram",
    "class_colours",
]
