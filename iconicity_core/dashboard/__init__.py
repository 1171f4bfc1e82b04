"""The dashboard's library side (pages in ``pages/`` only arrange widgets and call these):
``state`` URL state (pure) · ``databases`` which files may be opened, demo first start ·
``context`` the page context · ``widgets`` sidebar and pickers · ``cache`` cached data."""
from .context import Context, page

__all__ = ["Context", "page"]
