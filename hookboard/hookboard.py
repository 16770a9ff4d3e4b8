"""The Reflex app: the dashboard, with the REST API mounted beside it."""

import reflex as rx

from hookboard.api.app import create_api
from hookboard.ui.pages import index

app = rx.App(api_transformer=create_api())
app.add_page(index.page, route="/", title="Hookboard")
