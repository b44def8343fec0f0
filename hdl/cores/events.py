"""Walking a timestep's input spike list, one entry after another (the map and flatten cores)."""

from amaranth import Array, Cat, Const, Signal
from amaranth.lib.wiring import Out

from ..layouts import spike_entry_layout
from ..result_buffer import result_write_signature
from ..spike_buffer import spike_read_signature, spike_write_signature

__all__ = ["lowest_set", "walk_events", "event_core_members"]


def event_core_members(plan, in_banks: int, in_depth: int, result=None) -> dict:
    """The members of a core that reads one spike list and writes the next: `i_spikes`,
    `o_spikes` (``plan.out_banks`` banks of ``plan.out_depth`` entries) or, as the last layer
    (`result`: the result format), `o_result` (``plan.out_depth`` words of
    ``plan.out_banks`` values), `busy`, `done`."""
    members = {
        "i_spikes": Out(spike_read_signature(
            in_banks, in_depth, spike_entry_layout(plan.in_index_bits, plan.in_value.bits))),
        "busy": Out(1),
        "done": Out(1),
    }
    if result is None:
        members["o_spikes"] = Out(spike_write_signature(
            plan.out_banks, plan.out_depth,
            spike_entry_layout(plan.out_index_bits, plan.spike.bits)))
    else:
        members["o_result"] = Out(result_write_signature(plan.out_banks, plan.out_depth, result))
    return members


def lowest_set(m, mask, width: int, name: str):
    """(index, found): the lowest set bit of `mask` (combinational priority encoder)."""
    index = Signal(range(width), name=f"{name}_index")
    found = Signal(name=f"{name}_found")
    for i in reversed(range(width)):
        with m.If(mask[i]):
            m.d.comb += [index.eq(i), found.eq(1)]
    return index, found


def walk_events(m, src, banks: int, *, start, advance, name: str = "walk"):
    """Present the entries of the spike list `src` (a ``spike_read_signature`` port of `banks`
    banks) one by one; returns `valid`: ``src.data`` holds an entry in this cycle.

    `start` (the core's start cycle) points at the first entry, whose data arrives in the next
    cycle; `advance` (combinational) moves on to the next entry at the end of a cycle. The read
    address is driven with the position of the next cycle, so a held entry stays on
    ``src.data`` however long the consumer stalls. After the last entry `valid` stays low until
    the next `start`.
    """
    bank = Signal(range(banks), name=f"{name}_bank")
    entry = Signal(len(src.entry), name=f"{name}_entry")
    valid = Signal(name=f"{name}_valid")
    nonempty = Signal(banks, name=f"{name}_nonempty")
    m.d.comb += nonempty.eq(Cat(*(count != 0 for count in src.counts)))
    first_bank, any_bank = lowest_set(m, nonempty, banks, f"{name}_first")
    after = Signal(banks, name=f"{name}_after")
    m.d.comb += after.eq(nonempty & ~((Const(2, banks + 1) << bank) - 1))
    next_bank, more_banks = lowest_set(m, after, banks, f"{name}_more")
    n_bank, n_entry, n_valid = Signal.like(bank), Signal.like(entry), Signal()
    m.d.comb += [n_bank.eq(bank), n_entry.eq(entry), n_valid.eq(valid)]
    with m.If(start):
        m.d.comb += [n_bank.eq(first_bank), n_entry.eq(0), n_valid.eq(any_bank)]
    with m.Elif(advance & valid):
        with m.If(entry + 1 < Array(src.counts)[bank]):
            m.d.comb += n_entry.eq(entry + 1)
        with m.Elif(more_banks):
            m.d.comb += [n_bank.eq(next_bank), n_entry.eq(0)]
        with m.Else():
            m.d.comb += n_valid.eq(0)
    m.d.sync += [bank.eq(n_bank), entry.eq(n_entry), valid.eq(n_valid)]
    m.d.comb += [src.bank.eq(n_bank), src.entry.eq(n_entry)]
    return valid
