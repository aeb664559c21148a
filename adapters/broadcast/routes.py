"""`POST /api/v1/admin/broadcast` and `GET /api/v1/admin/broadcast/{id}`, behind ADMIN_TOKEN.

A dry run answers 200 with the counts; otherwise the broadcast is stored and queued for the worker: 202 with
its id. Progress: queued, sent, failed and the failures by Meta error code.
"""

from __future__ import annotations

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters.bearer import bearer_protected
from adapters.broadcast.service import BroadcastRequest, BroadcastService


class BroadcastCount(BaseModel):
    dry_run: bool
    audience: int
    inside_window: int
    outside_window: int
    unreachable: int


class BroadcastStarted(BaseModel):
    id: str
    status: str
    total: int


class BroadcastProgress(BaseModel):
    id: str
    status: str
    total: int
    queued: int
    claimed: int
    sent: int
    failed: int
    failures_by_code: dict[str, int]
    audience: dict


def broadcast_routes(service: BroadcastService, admin_token: str) -> list[Route]:
    protected = bearer_protected(admin_token, setting="ADMIN_TOKEN")

    @protected
    async def create(request: Request) -> Response:
        try:
            body = BroadcastRequest.model_validate_json(await request.body())
        except ValidationError as exc:
            fields = [{"field": ".".join(str(p) for p in e["loc"]) or "body", "message": e["msg"]}
                      for e in exc.errors()]
            return JSONResponse({"error": "validation", "fields": fields}, status_code=422)
        if body.dry_run:
            return JSONResponse(await service.count(body))
        return JSONResponse(await service.start(body), status_code=202)

    @protected
    async def progress(request: Request) -> Response:
        try:
            return JSONResponse(await service.store.progress(request.path_params["broadcast_id"]))
        except KeyError:
            return JSONResponse({"error": "no such broadcast"}, status_code=404)

    return [
        Route("/api/v1/admin/broadcast", create, methods=["POST"]),
        Route("/api/v1/admin/broadcast/{broadcast_id}", progress, methods=["GET"]),
    ]
