"""``doctor``: what lstmcli runs on, and what is missing."""

from __future__ import annotations

from lstmcli.cli.app import JsonFlag, command, fail
from lstmcli.core.errors import EXIT_RUNTIME
from lstmcli.render.console import print_json, stdout


@command("doctor")
def doctor_cmd(as_json: JsonFlag = False) -> None:
    """Exits 1 when something is missing or broken (it says what).

    Example: lstmcli doctor --json
    """
    from lstmcli.backend.environment import gather
    from lstmcli.data.locations import data_locations
    from lstmcli.render.doctor import render_doctor

    env = gather()
    env.data = data_locations()
    doc = env.to_dict()
    if as_json:
        print_json(stdout(), doc)
    else:
        render_doctor(stdout(), doc)
    if env.problems:
        raise fail(f"{len(env.problems)} problem(s) found: {env.problems[0]}", EXIT_RUNTIME)
