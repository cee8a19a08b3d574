"""CoalescedTransport: the writes of one event-loop turn reach the transport as one write, in
order; close writes what is held first, abort drops it, a closing transport gets nothing."""

from __future__ import annotations

import asyncio

from gateway.http.ws_writes import CoalescedTransport


class Recording(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closing = False
        self.aborted = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True

    def abort(self) -> None:
        self.aborted = self.closing = True

    def get_write_buffer_size(self) -> int:
        return 0


async def _turns(n: int) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


def test_one_turns_writes_go_out_as_one_in_order() -> None:
    async def run() -> tuple[list[bytes], list[bytes], int]:
        real = Recording()
        coalesced = CoalescedTransport(real, asyncio.get_running_loop())
        for i in range(20):
            coalesced.write(b"frame%d;" % i)
        held = coalesced.get_write_buffer_size()
        before = list(real.writes)
        await _turns(1)
        coalesced.write(b"next")
        await _turns(1)
        return before, real.writes, held

    before, writes, held = asyncio.run(run())
    assert before == []
    assert writes == [b"".join(b"frame%d;" % i for i in range(20)), b"next"]
    assert held == len(writes[0])


def test_close_writes_what_is_held_then_closes_and_abort_drops_it() -> None:
    async def run() -> tuple[Recording, Recording]:
        loop = asyncio.get_running_loop()
        closed, aborted = Recording(), Recording()
        first, second = CoalescedTransport(closed, loop), CoalescedTransport(aborted, loop)
        first.write(b"close frame")
        first.close()
        second.write(b"lost")
        second.abort()
        await _turns(2)
        return closed, aborted

    closed, aborted = asyncio.run(run())
    assert (closed.writes, closed.closing) == ([b"close frame"], True)
    assert (aborted.writes, aborted.aborted) == ([], True)


def test_a_closing_transport_gets_nothing_and_the_rest_is_delegated() -> None:
    async def run() -> tuple[list[bytes], bool]:
        real = Recording()
        coalesced = CoalescedTransport(real, asyncio.get_running_loop())
        coalesced.write(b"too late")
        real.closing = True
        await _turns(1)
        return real.writes, coalesced.is_closing()

    assert asyncio.run(run()) == ([], True)
