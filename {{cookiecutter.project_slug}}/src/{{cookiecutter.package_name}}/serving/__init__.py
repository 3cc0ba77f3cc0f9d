"""Online prediction over HTTP with the current champion (``app.py``)."""
