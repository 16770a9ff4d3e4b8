"""The ticker and worker run beside `reflex run`'s development backend only, once per app."""

from __future__ import annotations

from hookboard.cli.dev_engine import DevEngine, engine_beside_backend


class AppSeen:
    """The two lifespan methods of rx.App the plugin calls."""

    def __init__(self):
        self.tasks: list = []

    def get_lifespan_tasks(self) -> tuple:
        return tuple(self.tasks)

    def register_lifespan_task(self, task) -> None:
        self.tasks.append(task)


def test_it_starts_the_engine_with_the_development_backend(monkeypatch):
    monkeypatch.setenv("REFLEX_ENV_MODE", "dev")
    app = AppSeen()
    DevEngine().post_compile(app=app)
    assert app.tasks == [engine_beside_backend]


def test_it_registers_the_engine_once_however_often_the_app_compiles(monkeypatch):
    monkeypatch.setenv("REFLEX_ENV_MODE", "dev")
    app = AppSeen()
    DevEngine().post_compile(app=app)
    DevEngine().post_compile(app=app)
    assert app.tasks == [engine_beside_backend]


def test_it_leaves_production_to_the_launcher(monkeypatch):
    monkeypatch.setenv("REFLEX_ENV_MODE", "prod")
    app = AppSeen()
    DevEngine().post_compile(app=app)
    assert app.tasks == []
