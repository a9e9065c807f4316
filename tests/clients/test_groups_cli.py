"""`commerce-gateway groups …` and `tail … --group` against a real core."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import Counter
from pathlib import Path

import grpc
import pytest
from commercegateway import CoreClient, CoreError, Delivery
from commercegateway.v1 import events_pb2
from google.protobuf import json_format

from launcher import cli
from tests.clients.events import inventory_event, order_event, publish
from tests.clients.test_groups import settled
from tests.clients.test_resume import publish_when_up
from tests.clients.test_tail import interrupt, read_line, start_tail
from tests.support.core import running_core
from tests.support.processes import start_core_process
from tests.support.waiting import wait_for


async def groups(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Runs `commerce-gateway groups ARGV` (in a thread: it runs its own event loop); returns
    the exit code, stdout and stderr."""
    capsys.readouterr()
    code = await asyncio.to_thread(cli.main, ["groups", *argv])
    out, err = capsys.readouterr()
    return code, out, err


async def test_groups_list_show_parked_redrive_seek_and_delete(
    client: CoreClient, capsys: pytest.CaptureFixture[str]
) -> None:
    results = await publish(client.target, [inventory_event(f"ops-{n}") for n in range(3)])
    sequences = [result.sequence for result in results]
    poison = sequences[1]
    handled: Counter[int] = Counter()
    redriven = asyncio.Event()

    async def answer(delivery: Delivery) -> None:
        if delivery.event.sequence == poison and not redriven.is_set():
            await delivery.nack("poison: cannot parse", delay=1)
        else:
            handled[delivery.event.sequence] += 1
            await delivery.ack()

    async def member() -> None:
        async with client.consume("ops", start_after=0) as consumer:
            async for delivery in consumer:
                await answer(delivery)

    running = asyncio.create_task(member())
    try:
        await wait_for(
            lambda: _parked(client, "ops"), timeout=30, message="the poison event to be parked"
        )
        code, out, _ = await groups(capsys, "list", "--core", client.target, "--json")
        assert code == 0
        (listed,) = json.loads(out)
        assert (listed["name"], listed["parked"], listed["lag"]) == ("ops", "1", "0")
        code, out, _ = await groups(capsys, "show", "ops", "--core", client.target)
        assert code == 0
        assert "parked: 1 (after 5 attempts)" in out
        assert "members: 1" in out

        code, out, _ = await groups(capsys, "parked", "ops", "--core", client.target, "--json")
        assert code == 0
        (parked,) = json.loads(out)["events"]
        assert (parked["event"]["sequence"], parked["attempts"]) == (str(poison), 5)
        assert parked["last_error"] == "poison: cannot parse"
        code, out, _ = await groups(capsys, "parked", "ops", "--core", client.target)
        assert out.startswith(f"#{poison} inventory_updated")
        assert "attempts 5" in out and "poison: cannot parse" in out

        redriven.set()
        code, out, _ = await groups(
            capsys, "redrive", "ops", "--id", str(poison), "--core", client.target
        )
        assert (code, out) == (0, "redriven: 1\n")
        await wait_for(lambda: handled[poison] == 1, message="the re-driven event")
        await wait_for(lambda: settled(client, "ops"), message="the re-driven event acked")

        code, out, _ = await groups(
            capsys, "seek", "ops", "--to", str(sequences[0]), "--core", client.target, "--json"
        )
        assert code == 0
        assert json.loads(out)["acked_through_sequence"] == str(sequences[0])
        await wait_for(
            lambda: handled == Counter({sequences[0]: 1, poison: 2, sequences[2]: 2}),
            message="the events after the seek delivered again",
        )
        code, out, _ = await groups(
            capsys, "seek", "ops", "--to", "2000-01-01T00:00:00Z", "--core", client.target
        )
        assert code == 0
        assert out.startswith("group ops now at #")
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running

    code, _, err = await groups(capsys, "delete", "ops", "--core", client.target)
    assert code == 2
    assert "--yes" in err
    code, out, _ = await groups(capsys, "delete", "ops", "--yes", "--core", client.target)
    assert (code, out) == (0, "deleted group ops\n")
    code, out, _ = await groups(capsys, "list", "--core", client.target)
    assert (code, out) == (0, "no groups\n")
    code, out, err = await groups(capsys, "show", "ops", "--core", client.target)
    assert code == 1
    assert err.startswith("groups: not_found")


async def _parked(client: CoreClient, group: str) -> bool:
    try:
        return (await client.get_group(group)).parked == 1
    except CoreError as error:  # the member has not created the group yet
        if error.status != grpc.StatusCode.NOT_FOUND:
            raise
        return False


async def test_groups_management_needs_the_publisher_token(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with running_core(tmp_path, subscriber_token="sub", publisher_token="pub") as core:
        code, out, _ = await groups(capsys, "list", "--core", core.address, "--token", "sub")
        assert (code, out) == (0, "no groups\n")
        code, _, err = await groups(
            capsys, "seek", "g", "--to", "0", "--core", core.address, "--token", "sub"
        )
        assert code == 1
        assert err.startswith("groups: permission_denied")


async def test_tail_group_prints_each_event_then_acknowledges_it(
    client: CoreClient,
) -> None:
    results = await publish(client.target, [inventory_event("tg-1"), inventory_event("tg-2")])
    tail = await start_tail(
        "events", "--group", "tailers", "--after", "0", "--json", "--core", client.target
    )
    lines = [await read_line(tail), await read_line(tail)]
    await wait_for(lambda: settled(client, "tailers"), message="tail to acknowledge")
    code, stderr = await interrupt(tail)
    printed = [json_format.Parse(line, events_pb2.Event()).sequence for line in lines]
    assert sorted(printed) == [result.sequence for result in results]
    assert (await client.get_group("tailers")).acked_through_sequence == results[1].sequence
    assert code == 0
    assert "member of group tailers" in stderr
    assert "Traceback" not in stderr


async def test_tail_orders_group_consumes_order_events_only(client: CoreClient) -> None:
    results = await publish(client.target, [inventory_event("skip-me"), order_event("5005")])
    tail = await start_tail("orders", "--group", "orders", "--after", "0", "--core", client.target)
    line = await read_line(tail)
    code, _ = await interrupt(tail)
    assert line.startswith(f"#{results[1].sequence} order_created shopify ")
    assert "order 5005 COMPLETED" in line
    state = await client.get_group("orders")
    assert list(state.kinds) == [
        events_pb2.EVENT_KIND_ORDER_CREATED,
        events_pb2.EVENT_KIND_CHECKOUT_COMPLETED,
    ]
    assert code == 0


def test_tail_group_with_a_cursor_file_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["tail", "events", "--group", "g", "--cursor-file", "c.cursor"]) == 2
    assert "--cursor-file does not apply with --group" in capsys.readouterr().err


async def test_tail_group_rejoins_after_a_core_restart_and_says_so(tmp_path: Path) -> None:
    with start_core_process(tmp_path / "core") as core:
        target = core.endpoint("grpc")
        first = await publish_when_up(target, [inventory_event("tr-1")])
        tail = await start_tail("events", "--group", "rejoin", "--after", "0", "--core", target)
        lines = [await read_line(tail)]
        async with CoreClient(target) as client:
            await wait_for(lambda: settled(client, "rejoin"), message="the first ack")
        core.kill()
        with start_core_process(tmp_path / "core", listen=target):
            later = await publish_when_up(target, [inventory_event("tr-2")])
            lines.append(await read_line(tail))
            code, stderr = await interrupt(tail)
    assert [line.split()[0] for line in lines] == [f"#{first[0]}", f"#{later[0]}"]
    assert "rejoining group rejoin" in stderr
    assert f"tail: reconnected to {target}, rejoined group rejoin" in stderr
    assert code == 0
    assert "Traceback" not in stderr
