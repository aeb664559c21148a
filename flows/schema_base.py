"""What every model of the flows.yaml language shares: strict keys and the wording of common fields."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

TARGET = ("Where to go: `state`, `flow.state`, `@menu`, `@start`, `@stay` (re-prompt), `@return` (back to the "
          "caller of a shared flow) or `@<state>` of the user's own flow.")
SET = "Context values to set, by name; a value that is only `{{ expr }}` keeps its native type."


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
