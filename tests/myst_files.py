"""Made-up tutorials for the tests: MyST markdown files in the tutorials' own format."""

HEADER = "---\njupytext:\n  text_representation:\n    extension: .md\n    format_name: myst\nkernelspec:\n  display_name: Python 3\n  name: python3\n---\n"


def myst(*cells: str, prose: str = "Some prose.", title: str = "A tutorial") -> str:
    """A MyST notebook: a heading, then each code cell after a paragraph of ``prose``."""
    body = "".join(f"{prose}\n\n```{{code-cell}} ipython3\n{code}\n```\n\n" for code in cells)
    return f"{HEADER}\n# {title}\n\n{body}"
