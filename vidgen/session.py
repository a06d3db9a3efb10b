"""What one command shares across its work: the workspace, its settings and the warm service."""

from __future__ import annotations

from dataclasses import dataclass

from .service import RenderService
from .settings import Settings
from .workspace import Workspace


@dataclass
class Session:
    workspace: Workspace
    settings: Settings
    service: RenderService

    @classmethod
    def open(cls, workspace: Workspace, settings: Settings) -> Session:
        workspace.require_node_modules()
        return cls(workspace, settings, RenderService(workspace, settings.render))

    def close(self) -> None:
        self.service.stop()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
