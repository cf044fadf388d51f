"""The dashboard's pages, one Streamlit script each (``st.navigation`` runs them).

Each module defines ``render()`` and calls it only when streamlit runs the file as a page,
so tests and other modules can import its helpers.
"""
