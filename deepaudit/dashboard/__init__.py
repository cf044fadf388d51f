"""The Streamlit dashboard: explore saved audits interactively, offline.

Start it with ``deepaudit dashboard [RUN_DIR ...]``. Pages render bundles through
:mod:`deepaudit.reports.views` only, so they show the numbers the HTML report shows; the
fairness threshold slider recomputes through the fairness audit's own function.
"""

from pathlib import Path

#: The script ``streamlit run`` starts.
APP_PATH = Path(__file__).with_name("app.py")

__all__ = ["APP_PATH"]
