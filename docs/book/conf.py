"""Sphinx configuration of the book: the tutorials as executed notebooks, beside the API reference.

Built by ``python -m nnkit.book``, which stages this folder with the executed notebooks and runs
Sphinx on the copy; Sphinx never executes anything itself (``nb_execution_mode = "off"``).
"""

project = "nnkit"
author = "the nnkit authors"
copyright = "the nnkit authors; the digits: E. Alpaydin and C. Kaynak (1998), CC BY 4.0"
extensions = ["myst_nb", "sphinx.ext.autodoc", "sphinx.ext.autosummary"]
nb_execution_mode = "off"  # nnkit.notebooks ran them: the cells `nnkit tutorial` runs, in a real kernel
exclude_patterns = ["_build", "**/.ipynb_checkpoints"]
html_theme = "alabaster"
html_title = "nnkit — the book"
html_theme_options = {"page_width": "1240px", "sidebar_width": "260px", "code_font_size": "0.8em"}  # code lines of ~120 characters fit
autosummary_generate = True
autodoc_member_order = "bysource"
autodoc_default_options = {"members": True, "show-inheritance": True}
