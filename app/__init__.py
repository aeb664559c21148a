"""The composition root: the only package that imports every adapter and builds each kind of process.

`runtime` builds the shared parts from Settings; `web` the Starlette app `serve` runs; `jobs` and
`inprocess` the arq worker's context; `chat` the terminal channel; `admin` and `reload` the staff routes
and the flows.yaml hot reload a running service needs. `main.py` only parses the command line.
"""
