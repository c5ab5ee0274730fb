"""The ceiling: a hello-world Starlette app on exactly the uvicorn settings `roost serve` uses.

taskset -c 0 .venv/bin/python bench/foundation_hello.py PORT
"""

from __future__ import annotations

import sys

import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from roost.config import Settings
from roost.server import uvicorn_options


async def hello(request) -> JSONResponse:
    return JSONResponse({"hello": "world"})


app = Starlette(routes=[Route("/", hello)])


def main() -> None:
    settings = Settings.from_env({}, port=int(sys.argv[1]))
    uvicorn.run(app, **uvicorn_options(settings))


if __name__ == "__main__":
    main()
